// AVX2 twin of aggregate() for int4 inputs (int8 or int4 outputs), built from aggregate-body.h: the loops
// that prefetch their gathers, for inputs larger than the caches (aggregate-prefetch.h); x4-aggregate-avx2.cc
// calls it. Compiled with the AVX2 flags only (kernels/CMakeLists.txt).
#include "aggregate-body.h"
#include "simd-avx2.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {

void aggregate_prefetch_x4_avx2(const CsrGraph& graph, const AggregateParams& params, QActivationConst in,
                                int32_t cols, QActivation out, int32_t row_begin, int32_t row_end) {
  aggregate_twin<Avx2, 4, true>(graph, params, in, cols, out, row_begin, row_end);
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
