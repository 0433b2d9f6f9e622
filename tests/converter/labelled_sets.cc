#include "labelled_sets.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "qgnn/converter/quantizer.h"
#include "test_models.h"

namespace qgnn {
namespace converter {
namespace testing {

namespace {
constexpr int32_t kFeatures = 8;
constexpr int32_t kClasses = 3;
}  // namespace

ModelDesc small_graph_model(std::mt19937& rng) {
  ModelDesc m;
  m.name = "small-graph";
  m.task = Task::kGraphClassification;
  m.input_dim = kFeatures;
  m.layers = {gin_layer(kFeatures, 16, 16, 0.0f, true, rng), gcn_layer(16, 16, true, rng),
              pool_layer(Reduce::kMean), linear_layer(16, kClasses, false, rng)};
  m.layers[0].name = "gin1";
  m.layers[1].name = "gcn2";
  m.layers[3].name = "head";
  return m;
}

ModelDesc small_node_model(std::mt19937& rng) {
  ModelDesc m;
  m.name = "small-node";
  m.task = Task::kNodeClassification;
  m.input_dim = kFeatures;
  m.layers = {gcn_layer(kFeatures, 16, true, rng), sage_layer(16, kClasses, Reduce::kMean, true, false, rng)};
  return m;
}

ModelDesc small_gat_model(std::mt19937& rng) {
  ModelDesc m;
  m.name = "small-gat";
  m.task = Task::kNodeClassification;
  m.input_dim = kFeatures;
  m.layers = {gat_layer(kFeatures, 2, 4, true, true, rng), gat_layer(8, 1, kClasses, true, false, rng)};
  m.layers[0].name = "g1";
  m.layers[1].name = "g2";
  return m;
}

namespace {

std::vector<float> float_logits(const ModelDesc& model, const GraphSetDesc& set) {
  const Result<GraphBatch> all = extract_all_graphs(set);
  const Result<std::vector<float>> logits =
      all.ok() ? run_float_model(model, all.value) : Result<std::vector<float>>::failure(all.error);
  if (!logits.ok()) {
    std::fprintf(stderr, "labelled_set: %s\n", logits.error.c_str());
    std::abort();
  }
  return logits.value;
}

}  // namespace

GraphSetDesc labelled_set(ModelDesc* model, int32_t graphs, int32_t nodes, std::mt19937& rng) {
  const bool node_task = model->task == Task::kNodeClassification;
  const RandomGraphs g = node_task ? random_graphs(1, nodes, nodes, 4, kFeatures, rng)
                                   : random_graphs(graphs, 3, 14, 3, kFeatures, rng);
  GraphSetDesc set;
  set.name = "labelled";
  set.task = model->task;
  set.feature_dim = kFeatures;
  set.num_classes = kClasses;
  set.graph_ptr = g.graph_ptr;
  set.row_ptr = g.row_ptr;
  set.col_idx = g.col_idx;
  set.features = g.features;
  const size_t rows =
      node_task ? static_cast<size_t>(set.num_nodes()) : static_cast<size_t>(set.num_graphs());
  set.labels.assign(rows, 0);  // extract_all_graphs copies labels

  std::vector<float> logits = float_logits(*model, set);
  // A GATConv's bias follows its attention-weighted sum (output_bias); its Dense has none.
  LayerDesc& last = model->layers.back();
  std::vector<float>& bias = last.kind == LayerKind::kGatConv ? last.output_bias : last.dense.bias;
  for (size_t c = 0; c < kClasses; ++c) {
    double sum = 0.0;
    for (size_t r = 0; r < rows; ++r) sum += logits[r * kClasses + c];
    bias[c] -= static_cast<float>(sum / static_cast<double>(rows));
  }
  logits = float_logits(*model, set);
  for (size_t r = 0; r < rows; ++r) {
    const auto row = logits.begin() + static_cast<ptrdiff_t>(r * kClasses);
    set.labels[r] = static_cast<int32_t>(std::max_element(row, row + kClasses) - row);
  }
  for (uint32_t i = 0; i < rows; ++i) (i < rows / 2 ? set.train : set.val).push_back(i);
  return set;
}

}  // namespace testing
}  // namespace converter
}  // namespace qgnn
