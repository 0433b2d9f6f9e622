// Float (FP32) dense update: dense()'s semantics with float arithmetic, products added in index order.
#include <cstddef>

#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

const float* row_of(const float* base, int32_t row, int32_t cols) {
  return base + static_cast<size_t>(row) * static_cast<size_t>(cols);
}
float* row_of(float* base, int32_t row, int32_t cols) {
  return base + static_cast<size_t>(row) * static_cast<size_t>(cols);
}

}  // namespace

void dense_f32(const float* in, int32_t in_cols, const float* weights, const float* bias,
               const DenseExtraInputF32* extra, bool relu, float* out, int32_t out_cols, int32_t row_begin,
               int32_t row_end) {
  for (int32_t row = row_begin; row < row_end; ++row) {
    const float* x = row_of(in, row, in_cols);
    float* y = row_of(out, row, out_cols);
    for (int32_t c = 0; c < out_cols; ++c) {
      const float* w = row_of(weights, c, in_cols);
      float acc = bias != nullptr ? bias[c] : 0.0f;
      for (int32_t k = 0; k < in_cols; ++k) acc += x[k] * w[k];
      if (extra != nullptr) {
        const float* extra_x = row_of(extra->in, row, extra->in_cols);
        const float* extra_w = row_of(extra->weights, c, extra->in_cols);
        float extra_acc = extra->bias != nullptr ? extra->bias[c] : 0.0f;
        for (int32_t k = 0; k < extra->in_cols; ++k) extra_acc += extra_x[k] * extra_w[k];
        acc += extra_acc;
      }
      y[c] = (relu && acc < 0.0f) ? 0.0f : acc;
    }
  }
}

}  // namespace kernels
}  // namespace qgnn
