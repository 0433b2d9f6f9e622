// AVX2 twins of aggregate() and global_pool() for int4 inputs (int8 or int4 outputs), built from
// spmm-body.h. Compiled with the AVX2 flags only (kernels/CMakeLists.txt).
#include "simd-avx2.h"
#include "spmm-body.h"
#include "x86-kernels.h"

namespace qgnn {
namespace kernels {
namespace x86 {

void aggregate_qs4_avx2(const CsrGraph& graph, AggregateMode mode, QActivationConst in, int32_t cols,
                        Rescale rq, int32_t self_weight_q16, const int32_t* norm_q15, QActivation out,
                        int32_t row_begin, int32_t row_end) {
  aggregate_twin<Avx2, 4>(graph, mode, in, cols, rq, self_weight_q16, norm_q15, out, row_begin, row_end);
}

void global_pool_qs4_avx2(const int32_t* graph_ptr, AggregateMode mode, QActivationConst in, int32_t cols,
                          Rescale rq, QActivation out, int32_t graph_begin, int32_t graph_end) {
  pool_twin<Avx2, 4>(graph_ptr, mode, in, cols, rq, out, graph_begin, graph_end);
}

}  // namespace x86
}  // namespace kernels
}  // namespace qgnn
