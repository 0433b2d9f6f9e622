// Dense update of sparse float rows (bag-of-words node features), quantized on the fly: only the non-zeros
// contribute, since a zero quantizes to the zero point exactly. The definition of reference.h sparse_dense.
#include "packed-rows.h"
#include "qgnn/kernels/numerics.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

template <int kWeightBits, int kOutBits>
void sparse_dense_impl(SparseRows in, int32_t in_cols, InputQuantization q, QWeights weights,
                       const int32_t* bias, ChannelRescale rq, bool relu, QActivation out, int32_t out_cols,
                       int32_t row_begin, int32_t row_end) {
  const detail::WeightReader<kWeightBits> w(weights.data, in_cols);
  detail::ActivationWriter<kOutBits> writer(out.data, out_cols);
  const int32_t zo = out.zero_point;
  const int32_t lo = relu ? (zo > qmin(kOutBits) ? zo : qmin(kOutBits)) : qmin(kOutBits);
  const int32_t hi = qmax(kOutBits);
  for (int32_t row = row_begin; row < row_end; ++row) {
    writer.begin_row(row);
    for (int32_t c = 0; c < out_cols; ++c) {
      // The bound of dense(): at most in_cols terms of |x - zx| * |w| <= 255 * 128, plus |bias| < 2^30.
      int32_t acc = bias != nullptr ? bias[c] : 0;
      for (int32_t e = in.row_ptr[row]; e < in.row_ptr[row + 1]; ++e) {
        const int32_t k = in.col_idx[e];
        const float scale = q.column_scales != nullptr ? q.column_scales[k] : q.scale;
        acc += (quantize_float(in.values[e], scale, q.zero_point, q.bits) - q.zero_point) * w.at(c, k);
      }
      writer.store(row, c, clamp_i64(zo + rescale(acc, rq.multiplier[c], rq.shift[c]), lo, hi));
    }
  }
}

}  // namespace

void sparse_dense(SparseRows in, int32_t in_cols, InputQuantization q, QWeights weights, const int32_t* bias,
                  ChannelRescale rq, bool relu, QActivation out, int32_t out_cols, int32_t row_begin,
                  int32_t row_end) {
  detail::dispatch_bits(weights.bits, [&](auto weight_bits) {
    detail::dispatch_bits(out.bits, [&](auto out_bits) {
      sparse_dense_impl<decltype(weight_bits)::value, decltype(out_bits)::value>(
          in, in_cols, q, weights, bias, rq, relu, out, out_cols, row_begin, row_end);
    });
  });
}

}  // namespace kernels
}  // namespace qgnn
