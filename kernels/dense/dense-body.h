// The ONE body of the x86 dense() twins with output channels in vector lanes (simd-avx512.h: vpdpbusd on 4
// int8 per lane; simd-avx2.h: vpmaddwd on 2 int16 per lane). Include after the traits, from a file compiled
// with the ISA's flags.
//
// Per block of kVecs * kLanes channels the weights are packed ONCE into a stack buffer, k-group major:
//   packed[g][c][j] = w[c][g * kGroup + j]   (zero for channels / k past the matrix),
// so one vector load gives kGroup weights of every channel of a vector and one broadcast gives kGroup
// activations of a row: a tile of up to kRows rows x kVecs vectors stays in registers for the whole k loop
// and no horizontal sum is needed. Activation rows are copied (int4 unpacked, +128 for vpdpbusd) into a
// small tile buffer per row tile. A matrix whose packed block would not fit the stack buffer falls back to
// dense_tiled() (large K: there the per-channel horizontal sums are amortized over K).
//
// Requantization is vectorized and exact (see requantize()): the bytes equal reference dense()'s.
#ifndef QGNN_KERNELS_DENSE_DENSE_BODY_H_
#define QGNN_KERNELS_DENSE_DENSE_BODY_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "twins.h"

namespace qgnn {
namespace kernels {
namespace {

/// Bytes of packed weights one operand may use. With the activation tile, a DenseTwin takes 80 KiB (AVX-512)
/// to 96 KiB (AVX2) of stack: fine on the host threads these twins run on, and no heap in invoke.
constexpr size_t kDensePackBytes = 32 * 1024;
/// Rows of a register tile.
constexpr int kDenseRows = 8;
/// Largest in_cols the activation tile buffer holds (an operand with more always falls back).
constexpr int32_t kDenseMaxCols = 2048;

/// Sign-extended element `index` of a contiguously packed int4 matrix (numerics.h's load_int4 is not
/// called from ISA-flagged code: dispatch/twins.h).
inline int32_t dense_int4_at(const uint8_t* packed, uint64_t index) {
  const uint8_t byte = packed[index >> 1];
  const int32_t nibble = (index & 1u) ? (byte >> 4) : (byte & 0x0F);
  return nibble >= 8 ? nibble - 16 : nibble;
}

/// One operand (main or extra) of a dense update, packed for one channel block.
template <class V, int kVecs>
struct DenseOperandBlock {
  static constexpr int kL = V::kLanes;
  static constexpr int kChannels = kVecs * kL;
  /// Bytes of one k group of every channel of the block.
  static constexpr size_t kGroupBytes =
      static_cast<size_t>(kChannels) * V::kGroup * sizeof(typename V::PackedW);

  const twins::GemmOperand* op;
  int32_t groups;      ///< ceil(in_cols / kGroup)
  size_t x_stride;     ///< bytes of one row of the activation tile (whole X vectors)
  int32_t correction;  ///< kXOffset + zx: the accumulator is sum (x + kXOffset) w - correction * sum w
  const int32_t* bias;
  ChannelRescale rq;
  uint8_t* packed;
  int32_t weight_sum[kChannels];

  static bool fits(int32_t in_cols, size_t budget) {
    const size_t groups = (static_cast<size_t>(in_cols) + V::kGroup - 1) / V::kGroup;
    return in_cols <= kDenseMaxCols && groups * kGroupBytes <= budget;
  }

  void init(const twins::GemmOperand& operand, const int32_t* operand_bias, ChannelRescale operand_rq,
            uint8_t* buffer) {
    op = &operand;
    groups = (operand.in_cols + V::kGroup - 1) / V::kGroup;
    const size_t x_vector_bytes = static_cast<size_t>(V::kStep) * V::kXBytes;
    x_stride = (static_cast<size_t>(operand.in_cols) + V::kStep - 1) / V::kStep * x_vector_bytes;
    correction = V::kXOffset + operand.in.zero_point;
    bias = operand_bias;
    rq = operand_rq;
    packed = buffer;
  }

  /// Packs channels [channel_begin, channel_begin + channels) (the rest of the block is zero). Per call,
  /// so its cost is paid once per row range: only the real channels are visited and the int8 loop has no
  /// per-element branch (graph-classification models run Dense on a few rows, where packing dominates).
  void pack(int32_t channel_begin, int32_t channels) {
    using PW = typename V::PackedW;
    PW* out = reinterpret_cast<PW*>(packed);
    std::memset(packed, 0, static_cast<size_t>(groups) * kGroupBytes);
    std::memset(weight_sum, 0, sizeof weight_sum);
    const int32_t in_cols = op->in_cols;
    const uint8_t* w = static_cast<const uint8_t*>(op->weights.data);
    constexpr size_t kGroupStride = static_cast<size_t>(kChannels) * V::kGroup;  // PW per k group
    for (int32_t c = 0; c < channels; ++c) {
      const uint64_t row = static_cast<uint64_t>(channel_begin + c) * static_cast<uint64_t>(in_cols);
      PW* dst = out + static_cast<size_t>(c) * V::kGroup;
      int32_t sum = 0;
      if (op->weights.bits == 8 && sizeof(PW) == 1) {
        // vpdpbusd packing: a k group is kGroup consecutive bytes of the row, moved as one word.
        const int8_t* src = reinterpret_cast<const int8_t*>(w + row);
        const int32_t full = in_cols / V::kGroup;
        for (int32_t g = 0; g < full; ++g) {
          std::memcpy(dst + static_cast<size_t>(g) * kGroupStride, src + g * V::kGroup, V::kGroup);
        }
        for (int32_t k = full * V::kGroup; k < in_cols; ++k) {
          dst[static_cast<size_t>(full) * kGroupStride + k % V::kGroup] = static_cast<PW>(src[k]);
        }
        for (int32_t k = 0; k < in_cols; ++k) sum += src[k];
      } else {
        const bool int4 = op->weights.bits == 4;
        for (int32_t k = 0; k < in_cols; ++k) {
          const uint64_t index = row + static_cast<uint64_t>(k);
          const int32_t value = int4 ? dense_int4_at(w, index) : static_cast<int8_t>(w[index]);
          dst[static_cast<size_t>(k / V::kGroup) * kGroupStride + k % V::kGroup] = static_cast<PW>(value);
          sum += value;
        }
      }
      weight_sum[c] = sum;
    }
  }

  /// Rows [row, row + rows) of the activations as X vectors (tail lanes of the last vector are the
  /// traits' padding; their weights are zero).
  void load_rows(int32_t row, int rows, uint8_t* tile) const {
    const int32_t in_cols = op->in_cols;
    const size_t in_stride =
        op->in.bits == 8 ? static_cast<size_t>(in_cols) : (static_cast<size_t>(in_cols) + 1) / 2;
    const uint8_t* x = static_cast<const uint8_t*>(op->in.data);
    for (int r = 0; r < rows; ++r) {
      const uint8_t* src = x + static_cast<size_t>(row + r) * in_stride;
      uint8_t* dst = tile + static_cast<size_t>(r) * x_stride;
      for (int32_t k = 0; k < in_cols; k += V::kStep) {
        const int n = in_cols - k < V::kStep ? in_cols - k : V::kStep;
        V::store_x(dst + static_cast<size_t>(k) * V::kXBytes,
                   op->in.bits == 8 ? V::load_x_s8(src + k, n) : V::load_x_s4(src + k / 2, n));
      }
    }
  }
};

/// acc[r][v * kLanes + lane] = sum over the packed k of x_tile[r] * w for kRows rows.
template <class V, int kRows, int kVecs>
void dense_micro_tile(const uint8_t* tile, size_t x_stride, const uint8_t* packed, int32_t groups,
                      int32_t* acc) {
  using Acc = typename V::Acc;
  constexpr size_t kGroupBytes = DenseOperandBlock<V, kVecs>::kGroupBytes;
  constexpr size_t kVecBytes = kGroupBytes / kVecs;
  Acc sums[kRows][kVecs];
  for (int r = 0; r < kRows; ++r) {
    for (int v = 0; v < kVecs; ++v) sums[r][v] = V::acc_zero();
  }
  for (int32_t g = 0; g < groups; ++g) {
    const uint8_t* wp = packed + static_cast<size_t>(g) * kGroupBytes;
    Acc w[kVecs];
    for (int v = 0; v < kVecs; ++v) w[v] = V::load_acc(wp + v * kVecBytes);
    const size_t x_offset = static_cast<size_t>(g) * 4;  // kGroup activations are 4 bytes in both traits
    for (int r = 0; r < kRows; ++r) {
      const uint8_t* xp = tile + static_cast<size_t>(r) * x_stride + x_offset;
      for (int v = 0; v < kVecs; ++v) sums[r][v] = V::dot_bcast(sums[r][v], xp, w[v]);
    }
  }
  for (int r = 0; r < kRows; ++r) {
    for (int v = 0; v < kVecs; ++v) V::store_acc(acc + (r * kVecs + v) * V::kLanes, sums[r][v]);
  }
}

template <class V, int kVecs>
void dense_micro(int rows, const uint8_t* tile, size_t x_stride, const uint8_t* packed, int32_t groups,
                 int32_t* acc) {
  static_assert(kDenseRows == 8, "dense_micro dispatches 1..8 rows");
  switch (rows) {
    case 1:
      return dense_micro_tile<V, 1, kVecs>(tile, x_stride, packed, groups, acc);
    case 2:
      return dense_micro_tile<V, 2, kVecs>(tile, x_stride, packed, groups, acc);
    case 3:
      return dense_micro_tile<V, 3, kVecs>(tile, x_stride, packed, groups, acc);
    case 4:
      return dense_micro_tile<V, 4, kVecs>(tile, x_stride, packed, groups, acc);
    case 5:
      return dense_micro_tile<V, 5, kVecs>(tile, x_stride, packed, groups, acc);
    case 6:
      return dense_micro_tile<V, 6, kVecs>(tile, x_stride, packed, groups, acc);
    case 7:
      return dense_micro_tile<V, 7, kVecs>(tile, x_stride, packed, groups, acc);
    default:
      return dense_micro_tile<V, 8, kVecs>(tile, x_stride, packed, groups, acc);
  }
}

/// Per-channel rescale constants of one block, laid out as the int64 lanes that read them: lane i of the
/// "even" vector v is channel v * kLanes + 2i, of the "odd" vector channel v * kLanes + 2i + 1.
template <class V, int kVecs>
struct DenseRescaleBlock {
  static constexpr int kL = V::kLanes;
  static constexpr int kHalf = kL / 2;
  int32_t multiplier[kVecs * kL];   ///< low 32 bits of the unsigned multiplier, one per channel
  int64_t round[2][kVecs * kHalf];  ///< 2^(shift-1) - 2^31 * multiplier, [even/odd][lane]
  int64_t shift[2][kVecs * kHalf];
  /// bias - correction * weight_sum + INT32_MIN per channel, in wrapping int32: everything that turns a raw
  /// dot-product sum into apply()'s biased accumulator, folded into one add (constant per block).
  int32_t offset[kVecs * kL];

  void init(ChannelRescale rq, const int32_t* bias_values, int32_t correction, const int32_t* weight_sum,
            int32_t channel_begin, int32_t channels) {
    for (int32_t c = 0; c < kVecs * kL; ++c) {
      const bool real = c < channels;
      const int32_t ch = channel_begin + c;
      const uint32_t m = real ? static_cast<uint32_t>(rq.multiplier[ch]) : 0u;
      const int s = real ? rq.shift[ch] : 1;
      multiplier[c] = static_cast<int32_t>(m);
      const int vec = c / kL, lane = c % kL;
      const int slot = vec * kHalf + lane / 2;
      // Wrapping uint64 arithmetic: the int64 value of the difference is what requantize() adds.
      round[lane & 1][slot] =
          static_cast<int64_t>((uint64_t{1} << (s - 1)) - (static_cast<uint64_t>(m) << 31));
      shift[lane & 1][slot] = s;
      const uint32_t bias = real && bias_values != nullptr ? static_cast<uint32_t>(bias_values[ch]) : 0u;
      offset[c] = static_cast<int32_t>(
          bias - static_cast<uint32_t>(correction) * static_cast<uint32_t>(weight_sum[c]) + 0x80000000u);
    }
  }

  /// rescale(acc, m, s) = (acc * m + 2^(s-1)) >> s, acc = sum + bias - correction * weight_sum, for the raw
  /// dot-product sums `sum` of vector v, as two int64 vectors (even channels, odd channels). Exact: acc fits
  /// int32 (docs/quantization.md), so the wrapping sum + offset is b = acc + 2^31, acc's
  /// value biased into [0, 2^32), so mul_epu32 forms b * m < 2^64 exactly; adding round = 2^(s-1) - 2^31 m
  /// modulo 2^64 leaves acc * m + 2^(s-1) modulo 2^64, and that value lies in (-2^62, 2^62 + 2^61)
  /// (|acc * m| < 2^62, s <= 62), so its int64 reading is exact and the arithmetic shift floors it exactly
  /// as numerics.h's rescale() does.
  void apply(typename V::I32 sum, int v, typename V::I64* even, typename V::I64* odd) const {
    const typename V::I32 biased = V::add(sum, V::load_i32(offset + v * kL));
    const typename V::I32 m = V::load_i32(multiplier + v * kL);
    const typename V::I64 pe = V::mulu_lo32(biased, m);
    const typename V::I64 po = V::mulu_lo32(V::shr32(biased), V::shr32(m));
    *even = V::srav64(V::add64(pe, V::load_i64(round[0] + v * kHalf)), V::load_i64(shift[0] + v * kHalf));
    *odd = V::srav64(V::add64(po, V::load_i64(round[1] + v * kHalf)), V::load_i64(shift[1] + v * kHalf));
  }
};

/// Packs the low nibbles of 8 int8 bytes (little-endian in `bytes`) into 4 bytes, element 2i in the low
/// nibble of byte i.
inline uint32_t dense_pack_nibbles(uint64_t bytes) {
  uint64_t t = bytes & 0x0F0F0F0F0F0F0F0Full;
  t = (t | (t >> 4)) & 0x00FF00FF00FF00FFull;
  t = (t | (t >> 8)) & 0x0000FFFF0000FFFFull;
  return static_cast<uint32_t>(t | (t >> 16));
}

template <class V, int kVecs, int kOutBits>
class DenseTwin {
 public:
  static constexpr int kL = V::kLanes;
  static constexpr int kChannels = kVecs * kL;

  DenseTwin(const twins::GemmOperand& main, const int32_t* bias, ChannelRescale rq,
            const twins::GemmOperand* extra, const DenseExtraInput* extra_input, bool relu, QActivation out,
            int32_t out_cols)
      : out_(static_cast<uint8_t*>(out.data)),
        out_stride_(kOutBits == 8 ? static_cast<size_t>(out_cols) : (static_cast<size_t>(out_cols) + 1) / 2),
        out_cols_(out_cols),
        zo_(out.zero_point),
        lo_(relu ? (out.zero_point > kOutMin ? out.zero_point : kOutMin) : kOutMin),
        has_extra_(extra != nullptr) {
    main_.init(main, bias, rq, pack_);
    if (has_extra_) extra_.init(*extra, extra_input->bias, extra_input->rq, pack_ + kDensePackBytes);
  }

  void run(int32_t row_begin, int32_t row_end) {
    for (int32_t channel = 0; channel < out_cols_; channel += kChannels) {
      const int32_t channels = out_cols_ - channel < kChannels ? out_cols_ - channel : kChannels;
      main_.pack(channel, channels);
      main_rq_.init(main_.rq, main_.bias, main_.correction, main_.weight_sum, channel, channels);
      if (has_extra_) {
        extra_.pack(channel, channels);
        extra_rq_.init(extra_.rq, extra_.bias, extra_.correction, extra_.weight_sum, channel, channels);
      }
      for (int32_t row = row_begin; row < row_end; row += kDenseRows) {
        const int rows = row_end - row < kDenseRows ? static_cast<int>(row_end - row) : kDenseRows;
        accumulate(main_, row, rows, acc_main_);
        if (has_extra_) accumulate(extra_, row, rows, acc_extra_);
        for (int r = 0; r < rows; ++r) store_row(row + r, r, channel, channels);
      }
    }
  }

  static bool fits(const twins::GemmOperand& main, const twins::GemmOperand* extra) {
    return DenseOperandBlock<V, kVecs>::fits(main.in_cols, kDensePackBytes) &&
           (extra == nullptr || DenseOperandBlock<V, kVecs>::fits(extra->in_cols, kDensePackBytes));
  }

 private:
  static constexpr int32_t kOutMin = kOutBits == 8 ? -128 : -8;
  static constexpr int32_t kOutMax = kOutBits == 8 ? 127 : 7;

  void accumulate(const DenseOperandBlock<V, kVecs>& block, int32_t row, int rows, int32_t* acc) {
    if (block.groups > 0) block.load_rows(row, rows, tile_);
    dense_micro<V, kVecs>(rows, tile_, block.x_stride, block.packed, block.groups, acc);
  }

  void store_row(int32_t row, int r, int32_t channel, int32_t channels) {
    uint8_t* out_row = out_ + static_cast<size_t>(row) * out_stride_;
    const typename V::I64 zo = V::set1_64(zo_), lo = V::set1_64(lo_), hi = V::set1_64(kOutMax);
    for (int v = 0; v < kVecs && v * kL < channels; ++v) {
      typename V::I64 even, odd;
      main_rq_.apply(V::load_i32(acc_main_ + r * kChannels + v * kL), v, &even, &odd);
      even = V::add64(even, zo);
      odd = V::add64(odd, zo);
      if (has_extra_) {
        // Rescaled separately, as in the reference: the two accumulators are at different scales.
        typename V::I64 extra_even, extra_odd;
        extra_rq_.apply(V::load_i32(acc_extra_ + r * kChannels + v * kL), v, &extra_even, &extra_odd);
        even = V::add64(even, extra_even);
        odd = V::add64(odd, extra_odd);
      }
      even = V::min64(V::max64(even, lo), hi);
      odd = V::min64(V::max64(odd, lo), hi);
      const typename V::I32 values = V::blend_odd(even, V::shl32(odd));
      const int32_t first = channel + v * kL;
      const int count = channels - v * kL < kL ? channels - v * kL : kL;
      store(out_row, first, count, values);
    }
  }

  /// Lanes [0, count) of `values` (in range) at output channel `first` (a multiple of kLanes, so even).
  static void store(uint8_t* out_row, int32_t first, int count, typename V::I32 values) {
    if (kOutBits == 8) {
      V::store_s8(out_row + first, values, count);
      return;
    }
    uint8_t bytes[kL] = {};
    V::store_s8(bytes, values, count);  // bytes past count stay 0: an odd row's pad nibble is written 0
    uint8_t packed[kL / 2];
    for (int i = 0; i < kL; i += 8) {
      uint64_t eight;
      std::memcpy(&eight, bytes + i, sizeof eight);
      const uint32_t four = dense_pack_nibbles(eight);
      std::memcpy(packed + i / 2, &four, sizeof four);
    }
    std::memcpy(out_row + first / 2, packed, static_cast<size_t>(count + 1) / 2);
  }

  uint8_t* out_;
  size_t out_stride_;
  int32_t out_cols_, zo_, lo_;
  bool has_extra_;
  DenseOperandBlock<V, kVecs> main_, extra_;
  DenseRescaleBlock<V, kVecs> main_rq_, extra_rq_;
  alignas(64) int32_t acc_main_[kDenseRows * kChannels];
  alignas(64) int32_t acc_extra_[kDenseRows * kChannels];
  alignas(64) uint8_t tile_[kDenseRows * kDenseMaxCols * V::kXBytes];
  alignas(64) uint8_t pack_[2 * kDensePackBytes];  ///< main operand's block, then the extra one's
};

/// dense() of one ISA: the packed-weight twin where the operands fit, else dense_tiled() on the ISA's
/// dot-product accumulators.
template <class V>
void dense_twin(const twins::GemmKernels& fallback, QActivationConst in, int32_t in_cols, QWeights weights,
                const int32_t* bias, ChannelRescale rq, const DenseExtraInput* extra, bool relu,
                QActivation out, int32_t out_cols, int32_t row_begin, int32_t row_end) {
  if (row_begin >= row_end || out_cols <= 0) return;
  const twins::GemmOperand main{in, in_cols, weights};
  const twins::GemmOperand extra_op =
      extra != nullptr ? twins::GemmOperand{extra->in, extra->in_cols, extra->weights} : twins::GemmOperand{};
  const twins::GemmOperand* extra_ptr = extra != nullptr ? &extra_op : nullptr;
  // Two vectors of channels where the packed block fits (fewer broadcasts per multiply), else one. AVX2
  // has 16 registers: 8 rows x 2 vectors of accumulators would spill, so it always takes one.
  constexpr bool kTwoVectors = V::kLanes == 16;
  if (kTwoVectors && DenseTwin<V, 2, 8>::fits(main, extra_ptr)) {
    if (out.bits == 4) {
      DenseTwin<V, 2, 4>(main, bias, rq, extra_ptr, extra, relu, out, out_cols).run(row_begin, row_end);
    } else {
      DenseTwin<V, 2, 8>(main, bias, rq, extra_ptr, extra, relu, out, out_cols).run(row_begin, row_end);
    }
  } else if (DenseTwin<V, 1, 8>::fits(main, extra_ptr)) {
    if (out.bits == 4) {
      DenseTwin<V, 1, 4>(main, bias, rq, extra_ptr, extra, relu, out, out_cols).run(row_begin, row_end);
    } else {
      DenseTwin<V, 1, 8>(main, bias, rq, extra_ptr, extra, relu, out, out_cols).run(row_begin, row_end);
    }
  } else {
    twins::dense_tiled(fallback, in, in_cols, weights, bias, rq, extra, relu, out, out_cols, row_begin,
                       row_end);
  }
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_DENSE_DENSE_BODY_H_
