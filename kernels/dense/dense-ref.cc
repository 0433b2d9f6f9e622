// Quantized dense update y = x W^T + b with per-output-channel requantization, optional fused ReLU and an
// optional second input (SAGEConv's root term) that has its own weights, bias and rescale.
#include "packed-rows.h"
#include "qgnn/kernels/numerics.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

/// bias[c] + sum_k (x[row][k] - zx) * w[c][k], int32: |x - zx| <= 255, |w| <= 128 and in_cols <= 2^15 keep
/// the sum below 2^30, and |bias| < 2^30 (docs/quantization.md, "Accumulator widths").
template <int kInBits, int kWeightBits>
int32_t dense_accumulator_impl(const QActivationConst& in, int32_t in_cols, const QWeights& weights,
                               const int32_t* bias, int32_t row, int32_t channel) {
  const detail::ActivationReader<kInBits> x(in.data, in_cols);
  const detail::WeightReader<kWeightBits> w(weights.data, in_cols);
  int32_t acc = bias != nullptr ? bias[channel] : 0;
  for (int32_t k = 0; k < in_cols; ++k) acc += (x.at(row, k) - in.zero_point) * w.at(channel, k);
  return acc;
}

/// One accumulator for every (input bits, weight bits) pair; shared by the main and the extra input.
int32_t dense_accumulator(const QActivationConst& in, int32_t in_cols, const QWeights& weights,
                          const int32_t* bias, int32_t row, int32_t channel) {
  int32_t acc = 0;
  detail::dispatch_bits(in.bits, [&](auto in_bits) {
    detail::dispatch_bits(weights.bits, [&](auto weight_bits) {
      acc = dense_accumulator_impl<decltype(in_bits)::value, decltype(weight_bits)::value>(
          in, in_cols, weights, bias, row, channel);
    });
  });
  return acc;
}

template <int kOutBits>
void dense_impl(QActivationConst in, int32_t in_cols, QWeights weights, const int32_t* bias,
                ChannelRescale rq, const DenseExtraInput* extra, bool relu, QActivation out, int32_t out_cols,
                int32_t row_begin, int32_t row_end) {
  detail::ActivationWriter<kOutBits> writer(out.data, out_cols);
  const int32_t zo = out.zero_point;
  // Fused ReLU: real 0 is the zero point, so max(y, 0) is a clamp at zo.
  const int32_t lo = relu ? (zo > qmin(kOutBits) ? zo : qmin(kOutBits)) : qmin(kOutBits);
  const int32_t hi = qmax(kOutBits);

  for (int32_t row = row_begin; row < row_end; ++row) {
    writer.begin_row(row);
    for (int32_t c = 0; c < out_cols; ++c) {
      const int32_t acc = dense_accumulator(in, in_cols, weights, bias, row, c);
      int64_t value = zo + rescale(acc, rq.multiplier[c], rq.shift[c]);
      if (extra != nullptr) {
        // Rescaled separately: the two inputs have different scales, so their accumulators do not add.
        const int32_t extra_acc =
            dense_accumulator(extra->in, extra->in_cols, extra->weights, extra->bias, row, c);
        value += rescale(extra_acc, extra->rq.multiplier[c], extra->rq.shift[c]);
      }
      writer.store(row, c, clamp_i64(value, lo, hi));
    }
  }
}

}  // namespace

void dense(QActivationConst in, int32_t in_cols, QWeights weights, const int32_t* bias, ChannelRescale rq,
           const DenseExtraInput* extra, bool relu, QActivation out, int32_t out_cols, int32_t row_begin,
           int32_t row_end) {
  detail::dispatch_bits(out.bits, [&](auto out_bits) {
    dense_impl<decltype(out_bits)::value>(in, in_cols, weights, bias, rq, extra, relu, out, out_cols,
                                          row_begin, row_end);
  });
}

}  // namespace kernels
}  // namespace qgnn
