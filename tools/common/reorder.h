// --reorder none|rcm|degree of qgnn-run and qgnn-bench: a batch renumbered once at setup with the C API's
// node reordering (qgnn_graph_reorder, qgnn_graph_permute, qgnn_sparse_features_permute), so the aggregation
// gathers neighbour rows that lie closer together; per-node outputs are brought back with
// qgnn_rows_unpermute (docs/runtime.md, "Node reordering").
#ifndef QGNN_TOOLS_COMMON_REORDER_H_
#define QGNN_TOOLS_COMMON_REORDER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "qgnn/converter/dataset.h"
#include "qgnn/qgnn.h"

namespace qgnn {
namespace tools {

/// The names --reorder takes, in the order of qgnn_reorder_method.
const std::vector<std::string>& reorder_names();
/// "none", "rcm", "degree".
const char* reorder_name(qgnn_reorder_method method);
/// false (and `error`) for a name reorder_names() does not list.
bool parse_reorder(const std::string& name, qgnn_reorder_method* method, std::string* error);

/// Time spent reordering, summed over batches.
struct ReorderTiming {
  double permutation_us = 0;  ///< qgnn_graph_reorder
  double apply_us = 0;        ///< qgnn_graph_permute (+ qgnn_sparse_features_permute) and the copy back
};

/// Renumbers `batch`'s nodes with `method`: its CSR and its features (dense or sparse) are replaced by the
/// permuted ones; labels stay in the original order. `perm` receives perm[i] = the new index of original node
/// i. Graph ranges (graph_ptr) are unchanged. Adds the time taken to `timing`. false with `error` set when
/// the runtime refuses the batch.
bool reorder_batch(converter::GraphBatch* batch, qgnn_reorder_method method, std::vector<int32_t>* perm,
                   ReorderTiming* timing, std::string* error);

}  // namespace tools
}  // namespace qgnn

#endif  // QGNN_TOOLS_COMMON_REORDER_H_
