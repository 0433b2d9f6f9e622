// Validation of a caller's graph before it is bound for invoke (qgnn_interpreter_setup). Linear in nodes,
// edges and features; computes nothing the kernels need.
#ifndef QGNN_RUNTIME_GRAPH_VALIDATION_H_
#define QGNN_RUNTIME_GRAPH_VALIDATION_H_

#include <cstdint>

#include "error_reporter.h"
#include "qgnn/qgnn.h"

namespace qgnn {
namespace runtime {

struct GraphBounds {
  uint32_t max_nodes;   ///< the interpreter's plan
  uint32_t max_edges;   ///< the interpreter's plan
  uint32_t max_graphs;  ///< the interpreter's plan
  uint32_t max_degree;  ///< the model's effective limit
};

/// What the model expects as features.
struct FeatureSpec {
  uint32_t dim;
  bool int8;          ///< features_i8 (else features_f32)
  int32_t int8_bits;  ///< bits of the input quantization (int8 features must fit them)
  bool sparse;        ///< features come as qgnn_sparse_features: features_f32 and features_i8 must be NULL
};

/// QGNN_INVALID_ARGUMENT (NULL arrays, wrong feature pointer, int8 values outside the input bits),
/// QGNN_GRAPH_TOO_LARGE (beyond the plan, degree beyond max_degree), QGNN_INVALID_GRAPH (row_ptr,
/// col_idx, graph_ptr malformed, edges crossing graphs), QGNN_NON_FINITE_INPUT (NaN/Inf float features).
qgnn_status ValidateGraph(const qgnn_graph& graph, const GraphBounds& bounds, const FeatureSpec& features,
                          ErrorReporter& reporter);

/// The structure alone (features are not looked at; the node reordering utilities): the checks of
/// ValidateGraph on sizes, row_ptr, col_idx and graph_ptr, in the same order and with the same statuses.
qgnn_status ValidateGraphStructure(const qgnn_graph& graph, const GraphBounds& bounds,
                                   ErrorReporter& reporter);

/// Sparse features of `graph`'s nodes: QGNN_INVALID_ARGUMENT (NULL arrays), QGNN_INVALID_GRAPH (row_ptr not
/// starting at 0, decreasing or not ending at nnz; a column out of [0, dim) or not strictly increasing within
/// a node), QGNN_NON_FINITE_INPUT (a NaN / Inf value).
qgnn_status ValidateSparseFeatures(const qgnn_graph& graph, const qgnn_sparse_features& features,
                                   uint32_t dim, ErrorReporter& reporter);

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_GRAPH_VALIDATION_H_
