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
/// int8 values) for a model that takes int8 input.
inline qgnn_graph runtime_graph(const GraphBatch& batch, const int8_t* features_i8 = nullptr) {
  qgnn_graph graph{};
  graph.num_nodes = batch.num_nodes;
  graph.num_edges = batch.num_edges;
  graph.num_graphs = batch.num_graphs;
  graph.row_ptr = batch.row_ptr.data();
  graph.col_idx = batch.col_idx.data();
  graph.graph_ptr = batch.graph_ptr.data();
  graph.features_f32 = features_i8 == nullptr ? batch.features.data() : nullptr;
  graph.features_i8 = features_i8;
  return graph;
}

}  // namespace converter
}  // namespace qgnn

#endif  // QGNN_CONVERTER_RUNTIME_GRAPH_H_
