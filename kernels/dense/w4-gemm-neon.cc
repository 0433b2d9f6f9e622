// NEON (smull + sadalp) accumulators of dense() for int4 weights (int8 or int4 activations), built from
// gemm-body.h (kernels/dense). Compiled with -march=armv8-a only (kernels/CMakeLists.txt), so they run on
// every arm64 core.
#include "gemm-body.h"
#include "simd-neon.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {

void gemm_acc_w4_neon(const twins::GemmOperand& op, int32_t row_begin, int32_t rows, int32_t channel_begin,
                      int32_t channels, int32_t* acc) {
  gemm_acc_twin<Neon, 4>(op, row_begin, rows, channel_begin, channels, acc);
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
