// The ISA-independent dense driver of the SIMD twins (x86 and arm64), compiled WITHOUT ISA flags: it tiles
// rows x channels over an ISA's accumulator kernels and requantizes exactly as reference dense() does. It
// uses numerics.h's inline helpers, which must not be compiled with wider ISA flags (dispatch/twins.h).
#include "packed-rows.h"
#include "qgnn/kernels/numerics.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {
namespace {

void accumulate(const GemmKernels& kernels, const GemmOperand& op, int32_t row_begin, int32_t rows,
                int32_t channel_begin, int32_t channels, int32_t* acc) {
  const GemmAccFn fn = op.weights.bits == 4 ? kernels.w4 : kernels.w8;
  fn(op, row_begin, rows, channel_begin, channels, acc);
}

/// bias + sum, in wrapping arithmetic: the true value fits int32 (docs/quantization.md), so it is exact.
int32_t with_bias(int32_t sum, const int32_t* bias, int32_t channel) {
  if (bias == nullptr) return sum;
  return static_cast<int32_t>(static_cast<uint32_t>(sum) + static_cast<uint32_t>(bias[channel]));
}

template <int kOutBits>
void dense_tiled_impl(const GemmKernels& kernels, QActivationConst in, int32_t in_cols, QWeights weights,
                      const int32_t* bias, ChannelRescale rq, const DenseExtraInput* extra, bool relu,
                      QActivation out, int32_t out_cols, int32_t row_begin, int32_t row_end) {
  detail::ActivationWriter<kOutBits> writer(out.data, out_cols);
  const int32_t zo = out.zero_point;
  const int32_t lo = relu ? (zo > qmin(kOutBits) ? zo : qmin(kOutBits)) : qmin(kOutBits);
  const int32_t hi = qmax(kOutBits);
  const GemmOperand main_op{in, in_cols, weights};
  int32_t acc[kGemmRows * kGemmChannels];
  int32_t extra_acc[kGemmRows * kGemmChannels];

  for (int32_t row = row_begin; row < row_end; row += kGemmRows) {
    const int32_t rows = row_end - row < kGemmRows ? row_end - row : kGemmRows;
    for (int32_t r = 0; r < rows; ++r) writer.begin_row(row + r);
    for (int32_t channel = 0; channel < out_cols; channel += kGemmChannels) {
      const int32_t channels = out_cols - channel < kGemmChannels ? out_cols - channel : kGemmChannels;
      accumulate(kernels, main_op, row, rows, channel, channels, acc);
      if (extra != nullptr) {
        accumulate(kernels, GemmOperand{extra->in, extra->in_cols, extra->weights}, row, rows, channel,
                   channels, extra_acc);
      }
      for (int32_t r = 0; r < rows; ++r) {
        for (int32_t c = 0; c < channels; ++c) {
          const int32_t ch = channel + c;
          const int32_t main_sum = with_bias(acc[r * kGemmChannels + c], bias, ch);
          int64_t value = zo + rescale(main_sum, rq.multiplier[ch], rq.shift[ch]);
          if (extra != nullptr) {
            // Rescaled separately, as in the reference: the two accumulators are at different scales.
            const int32_t extra_sum = with_bias(extra_acc[r * kGemmChannels + c], extra->bias, ch);
            value += rescale(extra_sum, extra->rq.multiplier[ch], extra->rq.shift[ch]);
          }
          writer.store(row + r, ch, clamp_i64(value, lo, hi));
        }
      }
    }
  }
}

}  // namespace

void dense_tiled(const GemmKernels& kernels, QActivationConst in, int32_t in_cols, QWeights weights,
                 const int32_t* bias, ChannelRescale rq, const DenseExtraInput* extra, bool relu,
                 QActivation out, int32_t out_cols, int32_t row_begin, int32_t row_end) {
  if (out.bits == 4) {
    dense_tiled_impl<4>(kernels, in, in_cols, weights, bias, rq, extra, relu, out, out_cols, row_begin,
                        row_end);
  } else {
    dense_tiled_impl<8>(kernels, in, in_cols, weights, bias, rq, extra, relu, out, out_cols, row_begin,
                        row_end);
  }
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
