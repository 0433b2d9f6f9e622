// The ONE body of the SIMD dense (GEMM) accumulator twins, written against a vector-traits type V
// (kernels/simd/: simd-avx2.h: vpmaddwd on int16 lanes; simd-avx512.h: vpdpbusd; simd-neon.h: smull + sadalp;
// simd-neondot.h: sdot). Include after the traits, from a file compiled with the ISA's flags.
// Requantization is not here: dense_tiled() (compiled without ISA flags) applies the reference's numerics to
// the int32 accumulators this body produces.
//
// Per output channel, the k loop runs V::kStep inputs at a time for up to kGemmRows rows at once, so each
// weight vector is loaded (and, for int4, unpacked in registers) once per row tile. The products are of
// x + kXOffset (vpdpbusd needs unsigned activations), so
//   sum_k (x_k - zx) w_k = sum_k (x_k + kXOffset) w_k - (kXOffset + zx) sum_k w_k,
// evaluated in wrapping 32-bit arithmetic: the true value fits int32 (docs/quantization.md), so the wrapped
// result is the same.
#ifndef QGNN_KERNELS_DENSE_GEMM_BODY_H_
#define QGNN_KERNELS_DENSE_GEMM_BODY_H_

#include <cstddef>
#include <cstdint>

#include "twins.h"

namespace qgnn {
namespace kernels {
namespace {

template <class V, int kWeightBits>
class GemmTwin {
 public:
  explicit GemmTwin(const twins::GemmOperand& op)
      : x_(static_cast<const uint8_t*>(op.in.data)),
        w_(static_cast<const uint8_t*>(op.weights.data)),
        in_cols_(op.in_cols),
        x_stride_(op.in.bits == 8 ? static_cast<size_t>(op.in_cols)
                                  : (static_cast<size_t>(op.in_cols) + 1) / 2),
        correction_(static_cast<uint32_t>(V::kXOffset + op.in.zero_point)),
        x_int4_(op.in.bits == 4) {}

  void run(int32_t row_begin, int32_t rows, int32_t channel_begin, int32_t channels, int32_t* acc) const {
    switch (rows) {
      case 1:
        tile<1>(row_begin, channel_begin, channels, acc);
        break;
      case 2:
        tile<2>(row_begin, channel_begin, channels, acc);
        break;
      case 3:
        tile<3>(row_begin, channel_begin, channels, acc);
        break;
      default:
        tile<4>(row_begin, channel_begin, channels, acc);
        break;
    }
  }

 private:
  static_assert(twins::kGemmRows == 4, "run() dispatches 1..4 rows");

  template <int kRows>
  void tile(int32_t row_begin, int32_t channel_begin, int32_t channels, int32_t* acc) const {
    const uint8_t* rows[kRows];
    for (int r = 0; r < kRows; ++r) rows[r] = x_ + static_cast<size_t>(row_begin + r) * x_stride_;
    for (int32_t c = 0; c < channels; ++c) {
      const uint64_t weight_index =
          static_cast<uint64_t>(channel_begin + c) * static_cast<uint64_t>(in_cols_);
      typename V::Acc sums[kRows];
      for (auto& s : sums) s = V::acc_zero();
      typename V::Acc weight_sum = V::acc_zero();
      for (int32_t k = 0; k < in_cols_; k += V::kStep) {
        const int n = in_cols_ - k < V::kStep ? in_cols_ - k : V::kStep;
        const typename V::W w = load_weights(weight_index + static_cast<uint64_t>(k), n);
        weight_sum = V::wsum(weight_sum, w);
        for (int r = 0; r < kRows; ++r) sums[r] = V::dot(sums[r], load_x(rows[r], k, n), w);
      }
      const uint32_t offset = correction_ * static_cast<uint32_t>(V::hsum(weight_sum));
      for (int r = 0; r < kRows; ++r) {
        acc[r * twins::kGemmChannels + c] =
            static_cast<int32_t>(static_cast<uint32_t>(V::hsum(sums[r])) - offset);
      }
    }
  }

  typename V::W load_weights(uint64_t index, int n) const {
    if (kWeightBits == 8) return V::load_w_s8(w_ + index, n);
    return V::load_w_s4(w_, index, n);
  }
  /// k is a multiple of kStep (even), so an int4 activation vector starts on a byte boundary.
  typename V::X load_x(const uint8_t* row, int32_t k, int n) const {
    return x_int4_ ? V::load_x_s4(row + k / 2, n) : V::load_x_s8(row + k, n);
  }

  const uint8_t* x_;
  const uint8_t* w_;
  int32_t in_cols_;
  size_t x_stride_;
  uint32_t correction_;
  bool x_int4_;
};

template <class V, int kWeightBits>
void gemm_acc_twin(const twins::GemmOperand& op, int32_t row_begin, int32_t rows, int32_t channel_begin,
                   int32_t channels, int32_t* acc) {
  GemmTwin<V, kWeightBits>(op).run(row_begin, rows, channel_begin, channels, acc);
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_DENSE_GEMM_BODY_H_
