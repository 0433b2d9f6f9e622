// AVX2 (vpmaddwd) accumulators of dense() for int8 weights (int8 or int4 activations), built from
// gemm-body.h (kernels/dense). Compiled with the AVX2 flags only (kernels/CMakeLists.txt).
#include "gemm-body.h"
#include "simd-avx2.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {

void gemm_acc_w8_avx2(const GemmOperand& op, int32_t row_begin, int32_t rows, int32_t channel_begin,
                      int32_t channels, int32_t* acc) {
  gemm_acc_twin<Avx2, 8>(op, row_begin, rows, channel_begin, channels, acc);
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
