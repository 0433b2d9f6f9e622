// NEON twin of aggregate() for int4 inputs (int8 or int4 outputs), built from aggregate-body.h: the loops
// that prefetch their gathers, for inputs larger than the caches (aggregate-prefetch.h); x4-aggregate-neon.cc
// calls it. Compiled with -march=armv8-a only (kernels/CMakeLists.txt), so it runs on every arm64 core.
#include "aggregate-body.h"
#include "simd-neon.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {

void aggregate_prefetch_x4_neon(const CsrGraph& graph, const AggregateParams& params, QActivationConst in,
                                int32_t cols, QActivation out, int32_t row_begin, int32_t row_end) {
  aggregate_twin<Neon, 4, true>(graph, params, in, cols, out, row_begin, row_end);
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
