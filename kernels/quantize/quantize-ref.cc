// Conversions at the model's edges: float or pre-quantized int8 features into the first activation, and
// the last activation back to float.
#include "packed-rows.h"
#include "qgnn/kernels/numerics.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

template <int kOutBits>
void quantize_rows_impl(const float* in, int32_t cols, float scale, const float* column_scales,
                        QActivation out, int32_t row_begin, int32_t row_end) {
  detail::ActivationWriter<kOutBits> writer(out.data, cols);
  for (int32_t row = row_begin; row < row_end; ++row) {
    writer.begin_row(row);
    const float* in_row = in + static_cast<size_t>(row) * static_cast<size_t>(cols);
    for (int32_t col = 0; col < cols; ++col) {
      const float s = column_scales != nullptr ? column_scales[col] : scale;
      writer.store(row, col, quantize_float(in_row[col], s, out.zero_point, kOutBits));
    }
  }
}

template <int kOutBits>
void pack_rows_int8_impl(const int8_t* in, int32_t cols, QActivation out, int32_t row_begin,
                         int32_t row_end) {
  detail::ActivationWriter<kOutBits> writer(out.data, cols);
  for (int32_t row = row_begin; row < row_end; ++row) {
    writer.begin_row(row);
    const int8_t* in_row = in + static_cast<size_t>(row) * static_cast<size_t>(cols);
    for (int32_t col = 0; col < cols; ++col) writer.store(row, col, in_row[col]);
  }
}

template <int kInBits>
void dequantize_rows_impl(QActivationConst in, int32_t cols, float scale, float* out, int32_t row_begin,
                          int32_t row_end) {
  const detail::ActivationReader<kInBits> reader(in.data, cols);
  for (int32_t row = row_begin; row < row_end; ++row) {
    float* out_row = out + static_cast<size_t>(row) * static_cast<size_t>(cols);
    for (int32_t col = 0; col < cols; ++col)
      out_row[col] = dequantize(reader.at(row, col), scale, in.zero_point);
  }
}

}  // namespace

void quantize_rows(const float* in, int32_t cols, float scale, const float* column_scales, QActivation out,
                   int32_t row_begin, int32_t row_end) {
  detail::dispatch_bits(out.bits, [&](auto out_bits) {
    quantize_rows_impl<decltype(out_bits)::value>(in, cols, scale, column_scales, out, row_begin, row_end);
  });
}

void pack_rows_int8(const int8_t* in, int32_t cols, QActivation out, int32_t row_begin, int32_t row_end) {
  detail::dispatch_bits(out.bits, [&](auto out_bits) {
    pack_rows_int8_impl<decltype(out_bits)::value>(in, cols, out, row_begin, row_end);
  });
}

void dequantize_rows(QActivationConst in, int32_t cols, float scale, float* out, int32_t row_begin,
                     int32_t row_end) {
  detail::dispatch_bits(in.bits, [&](auto in_bits) {
    dequantize_rows_impl<decltype(in_bits)::value>(in, cols, scale, out, row_begin, row_end);
  });
}

}  // namespace kernels
}  // namespace qgnn
