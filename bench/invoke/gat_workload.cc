#include "gat_workload.h"

#include <cmath>
#include <utility>

#include "qgd_env.h"
#include "random_graphs.h"

namespace qgnn {
namespace bench {
namespace {

using converter::GraphBatch;
using converter::LayerDesc;
using converter::LayerKind;
using converter::ModelDesc;
using converter::Result;

constexpr int32_t kHeads = 8;
constexpr int32_t kHeadDim = 8;
constexpr uint32_t kSeed = 0x6A7C07A;

LayerDesc gat_layer(int32_t in, int32_t heads, int32_t head_dim, bool relu, Rng& rng) {
  LayerDesc l;
  l.kind = LayerKind::kGatConv;
  l.name = "gat";
  l.relu = relu;
  l.heads = heads;
  l.head_dim = head_dim;
  l.concat = true;
  const int32_t cols = heads * head_dim;
  const float w = 1.0f / std::sqrt(static_cast<float>(in));
  l.dense.out_features = cols;
  l.dense.in_features = in;
  l.dense.weight.resize(static_cast<size_t>(cols) * static_cast<size_t>(in));
  for (float& v : l.dense.weight) v = rng.uniform(-w, w);
  const float a = 1.0f / std::sqrt(static_cast<float>(head_dim));
  for (int32_t c = 0; c < cols; ++c) {
    l.att_src.push_back(rng.uniform(-a, a));
    l.att_dst.push_back(rng.uniform(-a, a));
  }
  for (int32_t c = 0; c < cols; ++c) l.output_bias.push_back(rng.uniform(-0.1f, 0.1f));
  return l;
}

ModelSet make_gat_cora_models() {
  const Result<NodeGraph>& cora = cora_graph_from_env();
  if (!cora.ok()) {
    ModelSet set;
    set.error = cora.error;
    return set;
  }
  GraphBatch calibration = cora.value.batch;
  converter::densify_features(&calibration);  // calibration runs the float forward, which takes dense rows
  return build_variants(gat_cora_float_model(calibration.feature_dim, cora.value.classes), {calibration});
}

}  // namespace

ModelDesc gat_cora_float_model(int32_t features, int32_t classes) {
  Rng rng(kSeed);
  ModelDesc m;
  m.name = "gat-cora-random";
  m.task = converter::Task::kNodeClassification;
  m.input_dim = features;
  m.layers.push_back(gat_layer(features, kHeads, kHeadDim, /*relu=*/true, rng));
  m.layers.push_back(gat_layer(kHeads * kHeadDim, 1, classes, /*relu=*/false, rng));
  m.layers.back().name = "gat_out";
  return m;
}

Result<NodeGraph> read_node_graph(const std::string& path) {
  auto bytes = converter::read_file(path);
  if (!bytes.ok()) return Result<NodeGraph>::failure(bytes.error);
  auto set = converter::load_graph_set(bytes.value);
  if (!set.ok()) return Result<NodeGraph>::failure(path + ": " + set.error);
  if (set.value.task != converter::Task::kNodeClassification) {
    return Result<NodeGraph>::failure(path + ": a graph-classification set (the GAT workload is one graph)");
  }
  auto all = converter::extract_all_graphs(set.value, converter::FeatureForm::kAsStored);
  if (!all.ok()) return Result<NodeGraph>::failure(path + ": " + all.error);
  Result<NodeGraph> out;
  out.value.batch = std::move(all.value);
  out.value.classes = set.value.num_classes;
  return out;
}

const Result<NodeGraph>& cora_graph_from_env() {
  static const Result<NodeGraph> graph = [] {
    const std::string path = qgd_path("cora");
    if (path.empty()) {
      return Result<NodeGraph>::failure(
          "QGNN_BENCH_QGD has no cora=PATH (the GAT benchmark runs on Cora's graph: python3 -m qgnn.data "
          "planetoid DIR cora -o cora.qgd)");
    }
    return read_node_graph(path);
  }();
  return graph;
}

const ModelSet& gat_cora_models() {
  static const ModelSet set = make_gat_cora_models();
  return set;
}

}  // namespace bench
}  // namespace qgnn
