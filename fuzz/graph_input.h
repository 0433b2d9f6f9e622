// The byte layout fuzz_graph_invoke.cc decodes into a qgnn_graph, and make_seeds.py writes (little-endian):
//
//   u8  model       which bundled model (index modulo the number loaded)
//   u8  flags       bit 0: pass graph_ptr (else NULL); bit 1: int8 features even for a float-input model;
//                   bit 2: sparse float features (qgnn_interpreter_setup_sparse) instead of dense ones
//   u16 num_nodes, u16 num_edges, u16 num_graphs  (capped at 1024, 4096 and 1024)
//   u16 nnz         (if bit 2; capped at 4096)
//   i32 row_ptr[num_nodes + 1], i32 col_idx[num_edges], i32 graph_ptr[num_graphs + 1] (if bit 0),
//   i32 feature_row_ptr[num_nodes + 1], i32 feature_col_idx[nnz], f32 feature_values[nnz] (if bit 2),
//   f32 features[num_nodes * input_dim]
//
// Arrays are filled from the remaining bytes in that order and zero-padded when the input is short, so
// every input decodes; each array is its own exact-size allocation so ASan catches any read past one.
#ifndef QGNN_FUZZ_GRAPH_INPUT_H_
#define QGNN_FUZZ_GRAPH_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "qgnn/qgnn.h"

namespace qgnn {
namespace fuzz {

struct GraphInput {
  uint8_t model = 0;
  uint8_t flags = 0;
  uint32_t num_nodes = 0, num_edges = 0, num_graphs = 0;
  std::vector<int32_t> row_ptr, col_idx, graph_ptr;
  std::vector<float> features_f32;
  std::vector<int8_t> features_i8;
  uint32_t nnz = 0;
  std::vector<int32_t> feature_row_ptr, feature_col_idx;  ///< flags bit 2
  std::vector<float> feature_values;

  bool sparse() const { return (flags & 4) != 0; }
  /// The C view for a model taking `int8` features (or the other kind when flags bit 1 asks for it); with
  /// sparse features, no dense ones (what qgnn_interpreter_setup_sparse expects).
  qgnn_graph view(bool int8) const;
  /// The sparse features' C view (flags bit 2).
  qgnn_sparse_features sparse_view() const;
};

/// Decodes `data` for a model with `input_dim` features per node.
GraphInput decode_graph(const uint8_t* data, size_t size, uint32_t input_dim);

}  // namespace fuzz
}  // namespace qgnn

#endif  // QGNN_FUZZ_GRAPH_INPUT_H_
