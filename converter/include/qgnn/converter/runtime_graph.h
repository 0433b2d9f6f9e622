// A GraphBatch as the runtime's qgnn_graph view, for the programs that run converter data sets through
// qgnn::session (qgnn/session.hpp).
#ifndef QGNN_CONVERTER_RUNTIME_GRAPH_H_
#define QGNN_CONVERTER_RUNTIME_GRAPH_H_

#include <cstdint>

#include "qgnn/converter/dataset.h"
#include "qgnn/qgnn.h"

namespace qgnn {
namespace converter {

/// The view of `batch` (which must outlive it): float features, or `features_i8` (num_nodes * feature_dim
/// int8 values) for a model that takes int8 input. A batch with sparse features gets features_f32 NULL (what
/// qgnn_interpreter_setup_sparse expects beside sparse_features(batch)).
inline qgnn_graph runtime_graph(const GraphBatch& batch, const int8_t* features_i8 = nullptr) {
  qgnn_graph graph{};
  graph.num_nodes = batch.num_nodes;
  graph.num_edges = batch.num_edges;
  graph.num_graphs = batch.num_graphs;
  graph.row_ptr = batch.row_ptr.data();
  graph.col_idx = batch.col_idx.data();
  graph.graph_ptr = batch.graph_ptr.data();
  graph.features_f32 = features_i8 == nullptr && !batch.sparse_features() ? batch.features.data() : nullptr;
  graph.features_i8 = features_i8;
  return graph;
}

/// The runtime's view of a batch's sparse features (batch.sparse_features() must hold).
inline qgnn_sparse_features sparse_features(const GraphBatch& batch) {
  qgnn_sparse_features f{};
  f.nnz = static_cast<uint32_t>(batch.feature_values.size());
  f.row_ptr = batch.feature_row_ptr.data();
  f.col_idx = batch.feature_col_idx.data();
  f.values = batch.feature_values.data();
  return f;
}

}  // namespace converter
}  // namespace qgnn

#endif  // QGNN_CONVERTER_RUNTIME_GRAPH_H_
