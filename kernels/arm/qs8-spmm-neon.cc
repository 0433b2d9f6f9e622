// NEON twins of aggregate() and global_pool() for int8 inputs (int8 or int4 outputs), built from
// spmm-body.h. Compiled with -march=armv8-a only (kernels/CMakeLists.txt), so they run on every arm64 core.
#include "arm-kernels.h"
#include "simd-neon.h"
#include "spmm-body.h"

namespace qgnn {
namespace kernels {
namespace arm {

void aggregate_qs8_neon(const CsrGraph& graph, AggregateMode mode, QActivationConst in, int32_t cols,
                        Rescale rq, int32_t self_weight_q16, const int32_t* norm_q15, QActivation out,
                        int32_t row_begin, int32_t row_end) {
  aggregate_twin<Neon, 8>(graph, mode, in, cols, rq, self_weight_q16, norm_q15, out, row_begin, row_end);
}

void global_pool_qs8_neon(const int32_t* graph_ptr, AggregateMode mode, QActivationConst in, int32_t cols,
                          Rescale rq, QActivation out, int32_t graph_begin, int32_t graph_end) {
  pool_twin<Neon, 8>(graph_ptr, mode, in, cols, rq, out, graph_begin, graph_end);
}

}  // namespace arm
}  // namespace kernels
}  // namespace qgnn
