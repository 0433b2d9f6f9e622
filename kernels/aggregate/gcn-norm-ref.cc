// Per-node GCN normalisation factors (Q15), computed once per graph before the GCN aggregation.
#include "packed-rows.h"
#include "qgnn/kernels/numerics.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {

void gcn_norm(const CsrGraph& graph, int32_t* norm_q15, int32_t row_begin, int32_t row_end) {
  for (int32_t node = row_begin; node < row_end; ++node) {
    // + 1: the self-loop GCN adds to every node.
    norm_q15[node] = gcn_norm_q15(static_cast<uint32_t>(detail::in_degree(graph, node)) + 1u);
  }
}

}  // namespace kernels
}  // namespace qgnn
