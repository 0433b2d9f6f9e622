// Random model descriptions and graphs shared by the converter tests.
#ifndef QGNN_TESTS_CONVERTER_TEST_MODELS_H_
#define QGNN_TESTS_CONVERTER_TEST_MODELS_H_

#include <cstdint>
#include <random>
#include <vector>

#include "qgnn/converter/dataset.h"
#include "qgnn/converter/model_builder.h"

namespace qgnn {
namespace converter {
namespace testing {

/// Float Dense with weights ~ U(-1/sqrt(in), 1/sqrt(in)) (PyTorch's default init) and a small bias.
DenseDesc random_float_dense(int32_t out, int32_t in, std::mt19937& rng, bool with_bias = true);

/// Float layers of each kind consuming `in` features.
LayerDesc gcn_layer(int32_t in, int32_t out, bool relu, std::mt19937& rng);
LayerDesc sage_layer(int32_t in, int32_t out, Reduce reduce, bool root, bool relu, std::mt19937& rng);
LayerDesc gin_layer(int32_t in, int32_t hidden, int32_t out, float eps, bool relu, std::mt19937& rng);
LayerDesc linear_layer(int32_t in, int32_t out, bool relu, std::mt19937& rng);
/// GATConv of `heads` x `head_dim` (concatenated or averaged), attention vectors of norm about 2, a bias.
LayerDesc gat_layer(int32_t in, int32_t heads, int32_t head_dim, bool concat, bool relu, std::mt19937& rng);
LayerDesc pool_layer(Reduce reduce);

/// A float graph classification model using every layer kind, with odd feature sizes:
/// GCN -> SAGE(mean, root) -> SAGE(max) -> GIN(2 Dense) -> GlobalPool(mean) -> Linear.
ModelDesc all_kinds_float_model(std::mt19937& rng);

/// A float graph classification model with skip connections (LayerDesc::inputs), every kind reading one:
/// gcn(5 -> 8); sage(max, root) reading the model input (5 -> 6, an output nothing reads); gin reading gcn
/// (8 -> 9 -> 7); pool(mean) listing gin, its previous layer; linear (7 -> 3) with no list.
ModelDesc skip_connection_float_model(std::mt19937& rng);

/// Turns a float description into a quantized one with random but valid parameters (not a real
/// quantization: for format tests only).
ModelDesc random_quantized_copy(const ModelDesc& float_model, int weight_bits, std::mt19937& rng);

/// Models that together hold every layer kind in every form a file can take: float, and quantized by
/// quantize_model at 8 and 4 bits; each message-passing order (GCNConv and MEAN SAGEConv also
/// transform-first); GATConv with concatenated and averaged heads; the layers of a model have distinct names.
/// For tests that must cover whatever kinds the traits list (a new kind adds its layer here). Fails only if
/// quantize_model does.
Result<std::vector<ModelDesc>> every_kind_models(std::mt19937& rng);

/// A batch of random graphs as one block-diagonal CSR (row i lists the in-neighbours of i).
struct RandomGraphs {
  int32_t num_nodes = 0;
  std::vector<int32_t> row_ptr{0};
  std::vector<int32_t> col_idx;
  std::vector<int32_t> graph_ptr{0};
  std::vector<float> features;
};
/// `graphs` graphs of [min_nodes, max_nodes] nodes, each node with [0, max_degree] random in-neighbours
/// of the same graph (some nodes isolated), features ~ N(0, 1).
RandomGraphs random_graphs(int32_t graphs, int32_t min_nodes, int32_t max_nodes, int32_t max_degree,
                           int32_t feature_dim, std::mt19937& rng);

/// The same graphs as a GraphBatch (what the float forward pass and calibration consume).
GraphBatch to_batch(const RandomGraphs& g, int32_t feature_dim);

}  // namespace testing
}  // namespace converter
}  // namespace qgnn

#endif  // QGNN_TESTS_CONVERTER_TEST_MODELS_H_
