// Row-wise argmax of the final activation (class prediction), quantized and float. Comparing quantized
// values directly is exact: dequantization is monotonic because every activation scale is > 0.
#include "packed-rows.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

/// Index of the first maximum of row `row` of `values` (anything with at(row, col)); -1 when cols == 0.
template <typename RowValues>
int32_t first_max_index(const RowValues& values, int32_t row, int32_t cols) {
  if (cols <= 0) return -1;
  int32_t best = 0;
  for (int32_t col = 1; col < cols; ++col) {
    // Strictly greater: a tie keeps the earlier index.
    if (values.at(row, col) > values.at(row, best)) best = col;
  }
  return best;
}

class FloatRows {
 public:
  FloatRows(const float* data, int32_t cols) : data_(data), cols_(cols) {}
  float at(int32_t row, int32_t col) const {
    return data_[static_cast<size_t>(row) * static_cast<size_t>(cols_) + static_cast<size_t>(col)];
  }

 private:
  const float* data_;
  int32_t cols_;
};

}  // namespace

void argmax_rows(QActivationConst in, int32_t cols, int32_t* out, int32_t row_begin, int32_t row_end) {
  detail::dispatch_bits(in.bits, [&](auto in_bits) {
    const detail::ActivationReader<decltype(in_bits)::value> reader(in.data, cols);
    for (int32_t row = row_begin; row < row_end; ++row) out[row] = first_max_index(reader, row, cols);
  });
}

void argmax_rows_f32(const float* in, int32_t cols, int32_t* out, int32_t row_begin, int32_t row_end) {
  const FloatRows rows(in, cols);
  for (int32_t row = row_begin; row < row_end; ++row) out[row] = first_max_index(rows, row, cols);
}

}  // namespace kernels
}  // namespace qgnn
