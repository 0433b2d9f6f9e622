// Node reordering utilities (qgnn_graph_reorder, qgnn_graph_permute, ...): the checks both halves share.
// Host-side helpers outside the interpreter: they touch no arena and allocate nothing.
#ifndef QGNN_RUNTIME_REORDER_H_
#define QGNN_RUNTIME_REORDER_H_

#include <cstdint>

#include "error_reporter.h"
#include "qgnn/qgnn.h"

namespace qgnn {
namespace runtime {

/// `graph` non-NULL, within the runtime's caps (QGNN_GRAPH_TOO_LARGE) and structurally valid
/// (ValidateGraphStructure: row_ptr, col_idx, graph_ptr, edges inside their graph).
qgnn_status ValidateReorderGraph(const qgnn_graph* graph, ErrorReporter& reporter);

/// `perm` is a bijection of [0, num_nodes) mapping every graph's node range onto itself
/// (QGNN_INVALID_ARGUMENT naming the first bad entry). `marks` (num_nodes + 1 entries, the caller's output
/// row_ptr) is the record of taken targets: on success marks[perm[i] + 1] = 0 for every i.
qgnn_status CheckPermutation(const qgnn_graph& graph, const int32_t* perm, int32_t* marks,
                             ErrorReporter& reporter);

/// Node range [*begin, *end) of graph k (graph_ptr may be NULL for a single graph).
inline void GraphRange(const qgnn_graph& g, uint32_t k, int32_t* begin, int32_t* end) {
  *begin = g.graph_ptr != nullptr ? g.graph_ptr[k] : 0;
  *end = g.graph_ptr != nullptr ? g.graph_ptr[k + 1] : static_cast<int32_t>(g.num_nodes);
}

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_REORDER_H_
