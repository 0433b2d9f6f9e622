// AVX-512 twin of quantize_rows() (quantize-body.h). Compiled with the AVX-512 flags only.
#include "quantize-body.h"
#include "simd-avx512.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {

void quantize_rows_avx512(const float* in, int32_t cols, float scale, const float* column_scales,
                          QActivation out, int32_t row_begin, int32_t row_end) {
  quantize_rows_twin<Avx512>(in, cols, scale, column_scales, out, row_begin, row_end);
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
