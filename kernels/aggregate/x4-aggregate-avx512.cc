// AVX-512 twin of aggregate() for int4 inputs (int8 or int4 outputs), built from aggregate-body.h.
// Inputs larger than the caches run the prefetching loops of x4-aggregate-prefetch-avx512.cc instead.
// Compiled with the AVX-512 flags only (kernels/CMakeLists.txt).
#include "aggregate-body.h"
#include "simd-avx512.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {

void aggregate_x4_avx512(const CsrGraph& graph, const AggregateParams& params, QActivationConst in,
                         int32_t cols, QActivation out, int32_t row_begin, int32_t row_end) {
  if (prefetch_gathers(graph, cols, 4)) {
    aggregate_prefetch_x4_avx512(graph, params, in, cols, out, row_begin, row_end);
  } else {
    aggregate_twin<Avx512, 4, false>(graph, params, in, cols, out, row_begin, row_end);
  }
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
