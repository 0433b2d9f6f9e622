// NEON dot-product (sdot) accumulators of dense() for int4 weights (int8 or int4 activations), built from
// gemm-body.h (kernels/dense). Compiled with -march=armv8.2-a+dotprod only (kernels/CMakeLists.txt) and
// selected only when the CPU reports the extension.
#include "gemm-body.h"
#include "simd-neondot.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {

void gemm_acc_w4_neondot(const twins::GemmOperand& op, int32_t row_begin, int32_t rows, int32_t channel_begin,
                         int32_t channels, int32_t* acc) {
  gemm_acc_twin<NeonDot, 4>(op, row_begin, rows, channel_begin, channels, acc);
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
