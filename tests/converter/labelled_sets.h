// Small models with data sets labelled by the float model itself, for tests that score accuracy: the float
// model is (nearly) always right, and a quantized model loses accuracy exactly where quantization changes a
// prediction.
#ifndef QGNN_TESTS_CONVERTER_LABELLED_SETS_H_
#define QGNN_TESTS_CONVERTER_LABELLED_SETS_H_

#include <cstdint>
#include <random>

#include "qgnn/converter/dataset.h"
#include "qgnn/converter/model_builder.h"

namespace qgnn {
namespace converter {
namespace testing {

/// GIN(8 -> 16) -> GCN(16 -> 16) -> GlobalPool(mean) -> Linear(16 -> 3), float, graph classification.
ModelDesc small_graph_model(std::mt19937& rng);
/// GCN(8 -> 16) -> SAGE(mean, 16 -> 3), float, node classification.
ModelDesc small_node_model(std::mt19937& rng);
/// GAT(8 -> 2 heads x 4, concat, ReLU) "g1" -> GAT(8 -> 1 head x 3) "g2", float, node classification.
ModelDesc small_gat_model(std::mt19937& rng);

/// `graphs` random graphs of 3..14 nodes (graph task) or one graph of `nodes` nodes (node task) with 8
/// features, labelled with the float model's argmax. First the last layer's bias is shifted by minus the mean
/// logit of each class over the set: a random model otherwise predicts one class for every input. train = the
/// first half, val = the second half (of the graphs or nodes).
GraphSetDesc labelled_set(ModelDesc* float_model, int32_t graphs, int32_t nodes, std::mt19937& rng);

}  // namespace testing
}  // namespace converter
}  // namespace qgnn

#endif  // QGNN_TESTS_CONVERTER_LABELLED_SETS_H_
