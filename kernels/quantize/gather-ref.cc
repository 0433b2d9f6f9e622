// gather_nonzeros_f32 (reference.h): the density probe's CSR of dense float rows, element by element.
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {

int64_t gather_nonzeros_f32(const float* in, int32_t cols, int32_t rows, int64_t max_nnz, int32_t* row_ptr,
                            int32_t* col_idx, float* values) {
  int64_t n = 0;
  row_ptr[0] = 0;
  for (int32_t r = 0; r < rows; ++r) {
    const float* x = in + static_cast<size_t>(r) * static_cast<size_t>(cols);
    for (int32_t k = 0; k < cols; ++k) {
      if (x[k] == 0.0f) continue;  // 0.0 and -0.0; a NaN compares unequal and is kept
      if (n == max_nnz) return -1;
      col_idx[n] = k;
      values[n] = x[k];
      ++n;
    }
    row_ptr[r + 1] = static_cast<int32_t>(n);
  }
  return n;
}

}  // namespace kernels
}  // namespace qgnn
