#include "workloads.h"

#include <cmath>
#include <utility>

#include "qgnn/converter/layer_kind.h"
#include "qgnn/converter/model_builder.h"
#include "qgnn/converter/quantizer.h"
#include "random_graphs.h"

namespace qgnn {
namespace bench {
namespace {

using converter::DenseDesc;
using converter::GraphBatch;
using converter::LayerDesc;
using converter::LayerKind;
using converter::ModelDesc;

constexpr int32_t kCoraNodes = 2708;
constexpr int32_t kCoraUndirectedEdges = 5278;
constexpr int32_t kCoraFeatures = 1433;
constexpr int32_t kCoraWordsPerNode = 18;
constexpr int32_t kCoraHidden = 16;
constexpr int32_t kCoraClasses = 7;

constexpr int32_t kMutagNodes = 18;
constexpr int32_t kMutagBonds = 20;
constexpr int32_t kMutagFeatures = 7;
constexpr int32_t kMutagHidden = 32;
constexpr int32_t kMutagLayers = 3;
constexpr int32_t kMutagClasses = 2;

/// Weights and bias ~ U(-1/sqrt(in), 1/sqrt(in)) (PyTorch's default init).
DenseDesc float_dense(int32_t out, int32_t in, Rng& rng) {
  const float bound = 1.0f / std::sqrt(static_cast<float>(in));
  DenseDesc d;
  d.out_features = out;
  d.in_features = in;
  d.weight.resize(static_cast<size_t>(out) * static_cast<size_t>(in));
  for (float& w : d.weight) w = rng.uniform(-bound, bound);
  d.bias.resize(static_cast<size_t>(out));
  for (float& b : d.bias) b = rng.uniform(-bound, bound);
  return d;
}

LayerDesc gcn_layer(int32_t in, int32_t out, bool relu, Rng& rng) {
  LayerDesc l;
  l.kind = LayerKind::kGcnConv;
  l.name = "gcn";
  l.relu = relu;
  l.dense = float_dense(out, in, rng);
  return l;
}

LayerDesc gin_layer(int32_t in, int32_t hidden, Rng& rng) {
  LayerDesc l;
  l.kind = LayerKind::kGinConv;
  l.name = "gin";
  l.relu = true;
  l.eps = 0.0f;
  l.mlp.push_back(float_dense(hidden, in, rng));
  l.mlp.back().relu = true;
  l.mlp.push_back(float_dense(hidden, hidden, rng));
  return l;
}

GraphBatch to_batch(const CsrData& g, int32_t feature_dim) {
  GraphBatch b;
  b.num_nodes = static_cast<uint32_t>(g.num_nodes);
  b.num_edges = static_cast<uint32_t>(g.num_edges());
  b.num_graphs = static_cast<uint32_t>(g.num_graphs());
  b.feature_dim = feature_dim;
  b.row_ptr = g.row_ptr;
  b.col_idx = g.col_idx;
  b.graph_ptr = g.graph_ptr;
  b.features.assign(static_cast<size_t>(g.num_nodes) * static_cast<size_t>(feature_dim), 0.0f);
  return b;
}

ModelSet make_gcn_cora_models() {
  Rng rng(1433);
  ModelDesc m;
  m.name = "gcn-cora-random";
  m.task = converter::Task::kNodeClassification;
  m.input_dim = kCoraFeatures;
  m.layers.push_back(gcn_layer(kCoraFeatures, kCoraHidden, /*relu=*/true, rng));
  m.layers.push_back(gcn_layer(kCoraHidden, kCoraClasses, /*relu=*/false, rng));
  // The order qgnn-convert's default (--order auto) picks, as users get it: transform-first where the Dense
  // narrows the features (both layers here).
  for (LayerDesc& layer : m.layers) layer.order = converter::cheaper_order(layer);
  return build_variants(m, {cora_sized_input(101), cora_sized_input(102)});
}

ModelSet make_gin_mutag_models() {
  Rng rng(188);
  ModelDesc m;
  m.name = "gin-mutag-random";
  m.task = converter::Task::kGraphClassification;
  m.input_dim = kMutagFeatures;
  for (int32_t k = 0; k < kMutagLayers; ++k) {
    m.layers.push_back(gin_layer(k == 0 ? kMutagFeatures : kMutagHidden, kMutagHidden, rng));
  }
  LayerDesc pool;
  pool.kind = LayerKind::kGlobalPool;
  pool.name = "pool";
  pool.reduce = converter::Reduce::kSum;
  m.layers.push_back(pool);
  LayerDesc head;
  head.kind = LayerKind::kLinear;
  head.name = "head";
  head.dense = float_dense(kMutagClasses, kMutagHidden, rng);
  m.layers.push_back(head);
  std::vector<GraphBatch> calibration;
  for (uint32_t k = 0; k < 4; ++k) calibration.push_back(mutag_like_input(32, 201 + k));
  return build_variants(m, calibration);
}

}  // namespace

ModelSet build_variants(const ModelDesc& float_model, const std::vector<GraphBatch>& calibration) {
  ModelSet set;
  auto bytes = converter::serialize_model(float_model);
  if (!bytes.ok()) {
    set.error = float_model.name + " (f32): " + bytes.error;
    return set;
  }
  set.bytes[static_cast<int>(Precision::kF32)] = std::move(bytes.value);

  // Calibrate once, quantize three ways.
  const auto ranges = converter::calibrate(float_model, calibration);
  if (!ranges.ok()) {
    set.error = float_model.name + " calibration: " + ranges.error;
    return set;
  }
  const struct {
    Precision precision;
    int weights, activations;
  } variants[] = {{Precision::kW8A8, 8, 8}, {Precision::kW4A8, 4, 8}, {Precision::kW4A4, 4, 4}};
  for (const auto& v : variants) {
    converter::QuantizerConfig config;
    config.input_bits = 8;
    config.default_bits = converter::ComponentBits{v.weights, v.activations, v.activations};
    config.int8_logits = true;
    const auto quantized = converter::quantize_model(float_model, ranges.value, config);
    if (!quantized.ok()) {
      set.error = float_model.name + " (" + precision_name(v.precision) + "): " + quantized.error;
      return set;
    }
    bytes = converter::serialize_model(quantized.value);
    if (!bytes.ok()) {
      set.error = float_model.name + " (" + precision_name(v.precision) + "): " + bytes.error;
      return set;
    }
    set.bytes[static_cast<int>(v.precision)] = std::move(bytes.value);
  }
  return set;
}

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::kF32:
      return "f32";
    case Precision::kW8A8:
      return "w8a8";
    case Precision::kW4A8:
      return "w4a8";
    case Precision::kW4A4:
      return "w4a4";
  }
  return "?";
}

const ModelSet& gcn_cora_models() {
  static const ModelSet set = make_gcn_cora_models();
  return set;
}

const ModelSet& gin_mutag_models() {
  static const ModelSet set = make_gin_mutag_models();
  return set;
}

GraphBatch cora_sized_input(uint32_t seed) {
  GraphBatch b = to_batch(random_undirected_graph(kCoraNodes, kCoraUndirectedEdges, seed), kCoraFeatures);
  Rng rng(seed ^ 0xF00Du);
  for (int32_t i = 0; i < kCoraNodes; ++i) {
    float* row = b.features.data() + static_cast<size_t>(i) * kCoraFeatures;
    for (int32_t w = 0; w < kCoraWordsPerNode; ++w) row[rng.below(kCoraFeatures)] = 1.0f;
  }
  return b;
}

GraphBatch mutag_like_input(int32_t graphs, uint32_t seed) {
  GraphBatch b = to_batch(molecule_batch(graphs, kMutagNodes, kMutagBonds, seed), kMutagFeatures);
  Rng rng(seed ^ 0xA70Du);
  for (uint32_t i = 0; i < b.num_nodes; ++i) {
    b.features[static_cast<size_t>(i) * kMutagFeatures + rng.below(kMutagFeatures)] = 1.0f;
  }
  return b;
}

}  // namespace bench
}  // namespace qgnn
