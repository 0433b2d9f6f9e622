// NEON twin of global_pool() for int4 inputs (int8 or int4 outputs), built from the row reduction of
// aggregate-body.h. Compiled with -march=armv8-a only (kernels/CMakeLists.txt), so it runs on every arm64
// core.
#include "aggregate-body.h"
#include "simd-neon.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {

void global_pool_x4_neon(const int32_t* graph_ptr, AggregateMode mode, QActivationConst in, int32_t cols,
                         Rescale rq, QActivation out, int32_t graph_begin, int32_t graph_end) {
  pool_twin<Neon, 4>(graph_ptr, mode, in, cols, rq, out, graph_begin, graph_end);
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
