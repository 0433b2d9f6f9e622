// NEON dot-product (sdot) accumulators of dense() for int8 weights (int8 or int4 activations), built from
// gemm-body.h. Compiled with -march=armv8.2-a+dotprod only (kernels/CMakeLists.txt) and selected only when
// the CPU reports the extension.
#include "arm-kernels.h"
#include "gemm-body.h"
#include "simd-neondot.h"

namespace qgnn {
namespace kernels {
namespace arm {

void gemm_acc_qs8_neondot(const x86::GemmOperand& op, int32_t row_begin, int32_t rows, int32_t channel_begin,
                          int32_t channels, int32_t* acc) {
  gemm_acc_twin<NeonDot, 8>(op, row_begin, rows, channel_begin, channels, acc);
}

}  // namespace arm
}  // namespace kernels
}  // namespace qgnn
