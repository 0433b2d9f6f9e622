// AVX2 twin of aggregate_f32() (FP32 aggregation), built from f32-aggregate-body.h: identical to the
// reference bit for bit. Compiled with the AVX2 flags and -ffp-contract=off only (kernels/CMakeLists.txt).
#include "f32-aggregate-body.h"
#include "simd-avx2.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {

void aggregate_f32_avx2(const CsrGraph& graph, AggregateMode mode, const float* in, int32_t cols,
                        float self_weight, float* out, int32_t row_begin, int32_t row_end) {
  aggregate_f32_twin<Avx2>(graph, mode, in, cols, self_weight, out, row_begin, row_end);
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
