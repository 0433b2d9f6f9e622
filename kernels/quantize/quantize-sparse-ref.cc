// Sparse float rows quantized into dense activation rows: the zero point everywhere but at the non-zeros.
// Used where a sparse input must be read by a Dense that has no sparse twin (the root term of a
// transform-first SAGEConv's output step, an extra operand of dense()); not a hot path.
#include <cstring>

#include "packed-rows.h"
#include "qgnn/kernels/numerics.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

// Every element is the zero point but the non-zeros, so a row is a fill of the zero point's pattern and a
// scatter of the non-zeros (a per-element loop over the ~98 % zeros of bag-of-words rows cost more than the
// GEMM that follows).
template <int kOutBits>
void quantize_sparse_rows_impl(SparseRows in, int32_t cols, InputQuantization q, QActivation out,
                               int32_t row_begin, int32_t row_end) {
  const int32_t zx = q.zero_point;
  const size_t stride = row_bytes(static_cast<size_t>(cols), kOutBits);
  const uint8_t nibble = static_cast<uint8_t>(zx & 0xF);
  const uint8_t fill = kOutBits == 8 ? static_cast<uint8_t>(static_cast<int8_t>(zx))
                                     : static_cast<uint8_t>(nibble | (nibble << 4));
  for (int32_t row = row_begin; row < row_end; ++row) {
    uint8_t* out_row = static_cast<uint8_t*>(out.data) + static_cast<size_t>(row) * stride;
    if (stride != 0) std::memset(out_row, fill, stride);
    // The pad nibble of an odd-length int4 row stays 0, as every writer of activations leaves it.
    if (kOutBits == 4 && (cols & 1) != 0)
      detail::PackedElement<4>::store(out_row, static_cast<size_t>(cols), 0);
    for (int32_t e = in.row_ptr[row]; e < in.row_ptr[row + 1]; ++e) {
      const int32_t col = in.col_idx[e];
      const float s = q.column_scales != nullptr ? q.column_scales[col] : q.scale;
      detail::PackedElement<kOutBits>::store(out_row, static_cast<size_t>(col),
                                             quantize_float(in.values[e], s, zx, kOutBits));
    }
  }
}

}  // namespace

void quantize_sparse_rows(SparseRows in, int32_t cols, InputQuantization q, QActivation out,
                          int32_t row_begin, int32_t row_end) {
  detail::dispatch_bits(out.bits, [&](auto out_bits) {
    quantize_sparse_rows_impl<decltype(out_bits)::value>(in, cols, q, out, row_begin, row_end);
  });
}

}  // namespace kernels
}  // namespace qgnn
