// The ONE body of the x86 dense() twins with output channels in vector lanes (simd-avx512.h: vpdpbusd on 4
// int8 per lane; simd-avx2.h: vpmaddwd on 2 int16 per lane), over a PACKED operand. Include after the traits,
// from a file compiled with the ISA's flags.
//
// Packing (dense_pack_twin, once per operand, at interpreter creation, into memory the caller owns; layout
// in dispatch/twins.h, DensePackLayout): a header (what the operand was made from), then per block of
// kVecs * kLanes output channels
//   * the per-channel constants (DensePackedConsts): rescale multiplier / rounding / shift laid out as the
//     int64 lanes that read them, the weight sums, and bias - kXOffset * weight_sum,
//   * the weights, k-group major: packed[g][c][j] = w[c][g * kGroup + j] (zero past the matrix; int4
//     widened to the traits' PackedW, so int4 layers run the int8 inner loop),
// so one vector load gives kGroup weights of every channel of a vector and one broadcast gives kGroup
// activations of a row: a tile of up to kDenseRows rows x kVecs vectors stays in registers for the k loop
// and no horizontal sum is needed. Activation rows are copied (int4 unpacked, +128 for vpdpbusd) into a small
// tile buffer, kDenseTileRowBytes per row: wider layers (Cora: 1433 inputs) run k in chunks, the partial
// sums going through the int32 accumulator tile. A dense call therefore needs about 10 KiB of stack, at any
// width.
//
// Requantization is vectorized and exact (see DensePackedConsts::apply): the bytes equal reference dense()'s.
#ifndef QGNN_KERNELS_DENSE_DENSE_BODY_H_
#define QGNN_KERNELS_DENSE_DENSE_BODY_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "twins.h"

namespace qgnn {
namespace kernels {
namespace {

/// Rows of a register tile.
constexpr int kDenseRows = 8;
/// Bytes of one row of the activation tile: k runs in chunks of kDenseTileRowBytes / kXBytes inputs.
constexpr size_t kDenseTileRowBytes = 512;

/// Sign-extended element `index` of a contiguously packed int4 matrix (numerics.h's load_int4 is not
/// called from ISA-flagged code: dispatch/twins.h).
inline int32_t dense_int4_at(const uint8_t* packed, uint64_t index) {
  const uint8_t byte = packed[index >> 1];
  const int32_t nibble = (index & 1u) ? (byte >> 4) : (byte & 0x0F);
  return nibble >= 8 ? nibble - 16 : nibble;
}

/// Per-channel constants of one packed block, laid out as the lanes that read them: lane i of the "even"
/// int64 vector v is channel v * kLanes + 2i, of the "odd" vector channel v * kLanes + 2i + 1.
template <class V, int kVecs>
struct DensePackedConsts {
  static constexpr int kL = V::kLanes;
  static constexpr int kHalf = kL / 2;
  static constexpr int kChannels = kVecs * kL;
  int64_t round[2][kVecs * kHalf];  ///< 2^(shift-1) - 2^31 * multiplier, [even/odd][lane]
  int64_t shift[2][kVecs * kHalf];
  int32_t multiplier[kChannels];  ///< low 32 bits of the unsigned multiplier, one per channel
  /// bias - kXOffset * weight_sum + INT32_MIN per channel, in wrapping int32: with zx * weight_sum
  /// subtracted per call (the input zero point is a call argument), everything that turns a raw dot-product
  /// sum into apply()'s biased accumulator.
  int32_t base[kChannels];
  int32_t weight_sum[kChannels];

  void init(ChannelRescale rq, const int32_t* bias_values, const int32_t* sums, int32_t channel_begin,
            int32_t channels) {
    for (int32_t c = 0; c < kChannels; ++c) {
      const bool real = c < channels;
      const int32_t ch = channel_begin + c;
      const uint32_t m = real ? static_cast<uint32_t>(rq.multiplier[ch]) : 0u;
      const int s = real ? rq.shift[ch] : 1;
      multiplier[c] = static_cast<int32_t>(m);
      const int vec = c / kL, lane = c % kL;
      const int slot = vec * kHalf + lane / 2;
      // Wrapping uint64 arithmetic: the int64 value of the difference is what apply() adds.
      round[lane & 1][slot] =
          static_cast<int64_t>((uint64_t{1} << (s - 1)) - (static_cast<uint64_t>(m) << 31));
      shift[lane & 1][slot] = s;
      const uint32_t bias = real && bias_values != nullptr ? static_cast<uint32_t>(bias_values[ch]) : 0u;
      weight_sum[c] = real ? sums[c] : 0;
      base[c] = static_cast<int32_t>(
          bias - static_cast<uint32_t>(V::kXOffset) * static_cast<uint32_t>(sums[c]) + 0x80000000u);
    }
  }

  /// Vector v's constants in registers, for a call whose input zero point is zx: loaded once per block
  /// and reused for every row (the output is stored as bytes, which may alias these tables, so the
  /// compiler could not keep them in registers across rows itself).
  struct Vec {
    typename V::I32 offset;          ///< base - zx * weight_sum: the call's offset (wrapping)
    typename V::I32 multiplier;      ///< even channels' multipliers in the low dwords of the int64 lanes
    typename V::I32 multiplier_odd;  ///< odd channels' multipliers, likewise
    typename V::I64 round[2], shift[2];
  };
  /// With kFoldZo, round also carries zo * 2^shift (zo64: the output zero point in every lane), so
  /// apply() yields zo + rescale(acc) instead of rescale(acc); see DensePackedRun for when that is exact.
  template <bool kFoldZo>
  Vec load(int v, typename V::I32 zx, typename V::I64 zo64) const {
    Vec c;
    c.offset = V::sub(V::load_i32(base + v * kL), V::mullo(zx, V::load_i32(weight_sum + v * kL)));
    c.multiplier = V::load_i32(multiplier + v * kL);
    c.multiplier_odd = V::shr32(c.multiplier);
    for (int k = 0; k < 2; ++k) {
      c.round[k] = V::load_i64(round[k] + v * kHalf);
      c.shift[k] = V::load_i64(shift[k] + v * kHalf);
      if constexpr (kFoldZo) c.round[k] = V::add64(c.round[k], V::sllv64(zo64, c.shift[k]));
    }
    return c;
  }

  /// rescale(acc, m, s) = (acc * m + 2^(s-1)) >> s, acc = sum + c.offset, for the
  /// raw dot-product sums `sum` of vector v, as two int64 vectors (even channels, odd channels). Exact: acc
  /// = sum + bias - (kXOffset + zx) * weight_sum fits int32 (docs/quantization.md), so the wrapping
  /// sum + offset is b = acc + 2^31,
  /// acc's value biased into [0, 2^32), so mul_epu32 forms b * m < 2^64 exactly; adding round = 2^(s-1) -
  /// 2^31 m modulo 2^64 leaves acc * m + 2^(s-1) modulo 2^64, and that value lies in (-2^62, 2^62 + 2^61)
  /// (|acc * m| < 2^62, s <= 62), so its int64 reading is exact and the arithmetic shift floors it exactly
  /// as numerics.h's rescale() does.
  static void apply(typename V::I32 sum, const Vec& c, typename V::I64* even, typename V::I64* odd) {
    const typename V::I32 biased = V::add(sum, c.offset);
    const typename V::I64 pe = V::mulu_lo32(biased, c.multiplier);
    const typename V::I64 po = V::mulu_lo32(V::shr32(biased), c.multiplier_odd);
    *even = V::srav64(V::add64(pe, c.round[0]), c.shift[0]);
    *odd = V::srav64(V::add64(po, c.round[1]), c.shift[1]);
  }
};

/// The packed form of one operand, as dense_pack_twin writes it and DensePackedRun reads it.
template <class V, int kVecs>
struct DensePackedView {
  using Consts = DensePackedConsts<V, kVecs>;
  static constexpr int kChannels = kVecs * V::kLanes;
  /// Bytes of one k group of every channel of a block.
  static constexpr size_t kGroupBytes =
      static_cast<size_t>(kChannels) * V::kGroup * sizeof(typename V::PackedW);

  const uint8_t* base;  ///< the header
  twins::DensePackLayout layout;

  const Consts& consts(int32_t block) const { return *reinterpret_cast<const Consts*>(block_start(block)); }
  int32_t max_shift() const { return reinterpret_cast<const twins::DensePackHeader*>(base)->max_shift; }
  const uint8_t* weights(int32_t block) const { return block_start(block) + layout.consts_bytes; }

 private:
  const uint8_t* block_start(int32_t block) const {
    return base + twins::kDensePackHeaderBytes + static_cast<size_t>(block) * layout.block_bytes;
  }
};

/// Writes the packed operand (header, then each block's constants and weights).
template <class V, int kVecs>
void dense_pack_blocks(Isa isa, const twins::DensePackLayout& layout, QWeights weights, int32_t in_cols,
                       int32_t out_cols, const int32_t* bias, ChannelRescale rq, uint8_t* packed) {
  using PW = typename V::PackedW;
  using Consts = DensePackedConsts<V, kVecs>;
  static_assert(sizeof(Consts) == Consts::kChannels * twins::kDensePackConstBytesPerChannel,
                "twins::dense_pack_layout() sizes the constants");
  constexpr int kChannels = Consts::kChannels;
  constexpr size_t kGroupStride = static_cast<size_t>(kChannels) * V::kGroup;  // PW per k group

  twins::DensePackHeader header{};
  header.magic = twins::kDensePackMagic;
  header.isa = static_cast<int32_t>(isa);
  header.in_cols = in_cols;
  header.out_cols = out_cols;
  header.weight_bits = weights.bits;
  header.vecs = kVecs;
  header.max_shift = 0;
  for (int32_t c = 0; c < out_cols; ++c) {
    if (rq.shift[c] > header.max_shift) header.max_shift = rq.shift[c];
  }
  header.weights = weights.data;
  header.bias = bias;
  header.multiplier = rq.multiplier;
  header.shift = rq.shift;
  std::memset(packed, 0, twins::kDensePackHeaderBytes);
  std::memcpy(packed, &header, sizeof header);

  const uint8_t* w = static_cast<const uint8_t*>(weights.data);
  for (int32_t block = 0; block < layout.blocks; ++block) {
    uint8_t* start = packed + twins::kDensePackHeaderBytes + static_cast<size_t>(block) * layout.block_bytes;
    std::memset(start, 0, layout.block_bytes);
    PW* out = reinterpret_cast<PW*>(start + layout.consts_bytes);
    const int32_t channel_begin = block * kChannels;
    const int32_t channels = out_cols - channel_begin < kChannels ? out_cols - channel_begin : kChannels;
    int32_t sums[kChannels] = {};
    for (int32_t c = 0; c < channels; ++c) {
      const uint64_t row = static_cast<uint64_t>(channel_begin + c) * static_cast<uint64_t>(in_cols);
      PW* dst = out + static_cast<size_t>(c) * V::kGroup;
      int32_t sum = 0;
      for (int32_t k = 0; k < in_cols; ++k) {
        const uint64_t index = row + static_cast<uint64_t>(k);
        const int32_t value = weights.bits == 4 ? dense_int4_at(w, index) : static_cast<int8_t>(w[index]);
        dst[static_cast<size_t>(k / V::kGroup) * kGroupStride + k % V::kGroup] = static_cast<PW>(value);
        sum += value;
      }
      sums[c] = sum;
    }
    Consts consts;
    consts.init(rq, bias, sums, channel_begin, channels);
    std::memcpy(start, &consts, sizeof consts);
  }
}

/// KernelTable::dense_pack of one ISA.
template <class V>
void dense_pack_twin(Isa isa, twins::DensePackShape shape, QWeights weights, int32_t in_cols,
                     int32_t out_cols, const int32_t* bias, ChannelRescale rq, void* packed) {
  static_assert(sizeof(typename V::PackedW) == 1 || sizeof(typename V::PackedW) == 2, "PackedW");
  const twins::DensePackLayout layout = twins::dense_pack_layout(shape, in_cols, out_cols, weights.bits);
  if (layout.total_bytes == 0) return;
  uint8_t* bytes = static_cast<uint8_t*>(packed);
  if (layout.vecs == 2) {
    if constexpr (V::kLanes == 16) {
      dense_pack_blocks<V, 2>(isa, layout, weights, in_cols, out_cols, bias, rq, bytes);
    }
  } else {
    dense_pack_blocks<V, 1>(isa, layout, weights, in_cols, out_cols, bias, rq, bytes);
  }
}

/// acc[r][v * kLanes + lane] (+)= sum over `groups` packed k groups of x_tile[r] * w, for kRows rows: the
/// first chunk of k starts from zero, later ones add to the partial sums in acc.
template <class V, int kRows, int kVecs>
void dense_micro_tile(const uint8_t* tile, size_t x_stride, const uint8_t* packed, int32_t groups, bool first,
                      int32_t* acc) {
  using Acc = typename V::Acc;
  constexpr size_t kGroupBytes = DensePackedView<V, kVecs>::kGroupBytes;
  constexpr size_t kVecBytes = kGroupBytes / kVecs;
  Acc sums[kRows][kVecs];
  for (int r = 0; r < kRows; ++r) {
    for (int v = 0; v < kVecs; ++v) {
      sums[r][v] = first ? V::acc_zero() : V::load_acc(acc + (r * kVecs + v) * V::kLanes);
    }
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
                 bool first, int32_t* acc) {
  static_assert(kDenseRows == 8, "dense_micro dispatches 1..8 rows");
  switch (rows) {
    case 1:
      return dense_micro_tile<V, 1, kVecs>(tile, x_stride, packed, groups, first, acc);
    case 2:
      return dense_micro_tile<V, 2, kVecs>(tile, x_stride, packed, groups, first, acc);
    case 3:
      return dense_micro_tile<V, 3, kVecs>(tile, x_stride, packed, groups, first, acc);
    case 4:
      return dense_micro_tile<V, 4, kVecs>(tile, x_stride, packed, groups, first, acc);
    case 5:
      return dense_micro_tile<V, 5, kVecs>(tile, x_stride, packed, groups, first, acc);
    case 6:
      return dense_micro_tile<V, 6, kVecs>(tile, x_stride, packed, groups, first, acc);
    case 7:
      return dense_micro_tile<V, 7, kVecs>(tile, x_stride, packed, groups, first, acc);
    default:
      return dense_micro_tile<V, 8, kVecs>(tile, x_stride, packed, groups, first, acc);
  }
}

/// One operand (main or extra) of a dense call over its packed form, with its own activation tile.
template <class V, int kVecs>
class DenseOperandRun {
 public:
  /// Inputs per chunk of k: a multiple of kStep (so int4 chunks start on a byte) and of kGroup.
  static constexpr int32_t kChunk = static_cast<int32_t>(kDenseTileRowBytes / V::kXBytes);
  static_assert(kChunk % V::kStep == 0 && kChunk % V::kGroup == 0, "chunk alignment");

  DenseOperandRun(QActivationConst in, int32_t in_cols, const DensePackedView<V, kVecs>& packed)
      : in_(in), in_cols_(in_cols), packed_(packed) {}

  /// acc = the raw dot-product sums of rows [row, row + rows) for the channels of `block`.
  void accumulate(int32_t row, int rows, int32_t block, int32_t* acc) {
    if (in_cols_ == 0) {
      std::memset(acc, 0, sizeof(int32_t) * static_cast<size_t>(kDenseRows) * kVecs * V::kLanes);
      return;
    }
    const uint8_t* weights = packed_.weights(block);
    for (int32_t k = 0; k < in_cols_; k += kChunk) {
      const int32_t count = in_cols_ - k < kChunk ? in_cols_ - k : kChunk;
      // One chunk (every layer up to kChunk inputs): the tile of a row tile serves every block.
      if (row != tile_row_ || rows != tile_rows_ || k != tile_k_) load_rows(row, rows, k, count);
      const int32_t groups = (count + V::kGroup - 1) / V::kGroup;
      dense_micro<V, kVecs>(
          rows, tile_, x_stride_,
          weights + static_cast<size_t>(k / V::kGroup) * DensePackedView<V, kVecs>::kGroupBytes, groups,
          k == 0, acc);
    }
  }

  const DensePackedConsts<V, kVecs>& consts(int32_t block) const { return packed_.consts(block); }
  int32_t zero_point() const { return in_.zero_point; }
  int32_t max_shift() const { return packed_.max_shift(); }

 private:
  /// Rows [row, row + rows), inputs [k, k + count), as X vectors (tail lanes of the last vector are the
  /// traits' padding; their weights are zero).
  void load_rows(int32_t row, int rows, int32_t k0, int32_t count) {
    const size_t in_stride =
        in_.bits == 8 ? static_cast<size_t>(in_cols_) : (static_cast<size_t>(in_cols_) + 1) / 2;
    const uint8_t* x = static_cast<const uint8_t*>(in_.data);
    x_stride_ = (static_cast<size_t>(count) + V::kStep - 1) / V::kStep * V::kStep * V::kXBytes;
    for (int r = 0; r < rows; ++r) {
      const uint8_t* src = x + static_cast<size_t>(row + r) * in_stride;
      uint8_t* dst = tile_ + static_cast<size_t>(r) * x_stride_;
      for (int32_t k = 0; k < count; k += V::kStep) {
        const int n = count - k < V::kStep ? count - k : V::kStep;
        const int32_t at = k0 + k;
        V::store_x(dst + static_cast<size_t>(k) * V::kXBytes,
                   in_.bits == 8 ? V::load_x_s8(src + at, n) : V::load_x_s4(src + at / 2, n));
      }
    }
    tile_row_ = row;
    tile_rows_ = rows;
    tile_k_ = k0;
  }

  QActivationConst in_;
  int32_t in_cols_;
  DensePackedView<V, kVecs> packed_;
  size_t x_stride_ = 0;
  int32_t tile_row_ = -1, tile_rows_ = 0, tile_k_ = -1;
  alignas(64) uint8_t tile_[kDenseRows * kDenseTileRowBytes];
};

/// The largest channel shift for which a call folds its output zero point into the rounding constants:
/// apply()'s value acc * m + 2^(s-1) lies in (-2^62, 2^62 + 2^61), and |zo| * 2^s <= 2^7 * 2^54 = 2^61
/// keeps the sum inside int64, where adding zo * 2^s before the floor shift adds exactly zo after it. Real
/// models' shifts are far below (about 30 to 45); a larger one takes the unfolded path.
constexpr int32_t kDenseFoldShiftMax = 54;

template <class V, int kVecs, int kOutBits>
class DensePackedRun {
 public:
  static constexpr int kL = V::kLanes;
  static constexpr int kChannels = kVecs * kL;

  DensePackedRun(DenseOperandRun<V, kVecs>* extra, bool relu, QActivation out, int32_t out_cols)
      : out_(static_cast<uint8_t*>(out.data)),
        out_stride_(kOutBits == 8 ? static_cast<size_t>(out_cols) : (static_cast<size_t>(out_cols) + 1) / 2),
        out_cols_(out_cols),
        zo_(out.zero_point),
        lo_(relu ? (out.zero_point > kOutMin ? out.zero_point : kOutMin) : kOutMin),
        extra_(extra) {}

  void run(DenseOperandRun<V, kVecs>& main, int32_t row_begin, int32_t row_end) {
    if (main.max_shift() <= kDenseFoldShiftMax) {
      run_rows<true>(main, row_begin, row_end);
    } else {
      run_rows<false>(main, row_begin, row_end);
    }
  }

 private:
  static constexpr int32_t kOutMin = kOutBits == 8 ? -128 : -8;
  static constexpr int32_t kOutMax = kOutBits == 8 ? 127 : 7;
  using Vec = typename DensePackedConsts<V, kVecs>::Vec;
  struct Output {
    uint8_t* data;
    size_t stride;
    typename V::I64 lo, hi;  ///< the output range, minus the zero point unless it is folded
    typename V::I64 zo64;
    typename V::I32 zo32;
  };

  /// kFoldZo: the main operand's rounding constants carry zo (kDenseFoldShiftMax), so the rescaled sums
  /// are final values, clamped to [lo, hi] as they are; else zo is added after the clamp to
  /// [lo - zo, hi - zo] (clamp(p + zo, lo, hi) = clamp(p, lo - zo, hi - zo) + zo).
  template <bool kFoldZo>
  void run_rows(DenseOperandRun<V, kVecs>& main, int32_t row_begin, int32_t row_end) {
    const typename V::I32 main_zx = V::set1(main.zero_point());
    const typename V::I32 extra_zx = V::set1(extra_ != nullptr ? extra_->zero_point() : 0);
    const int64_t unfolded = kFoldZo ? 0 : zo_;
    // Locals, not members: the byte stores may alias *this, so members would be reloaded every row.
    const Output output{out_,
                        out_stride_,
                        V::set1_64(int64_t{lo_} - unfolded),
                        V::set1_64(int64_t{kOutMax} - unfolded),
                        V::set1_64(zo_),
                        V::set1(zo_)};
    const typename V::I64 no_zo = V::set1_64(0);
    for (int32_t row = row_begin; row < row_end;) {
      // The fewest tiles of at most kDenseRows rows, of balanced heights (18 rows: 6 + 6 + 6, not
      // 8 + 8 + 2): every tile streams the block's weights once, and a short tile leaves the dot-product
      // units waiting on too few accumulator chains.
      const int32_t left = row_end - row;
      const int32_t tiles = (left + kDenseRows - 1) / kDenseRows;
      const int rows = static_cast<int>((left + tiles - 1) / tiles);
      for (int32_t channel = 0, block = 0; channel < out_cols_; channel += kChannels, ++block) {
        const int32_t channels = out_cols_ - channel < kChannels ? out_cols_ - channel : kChannels;
        main.accumulate(row, rows, block, acc_main_);
        Vec main_consts[kVecs], extra_consts[kVecs];
        for (int v = 0; v < kVecs; ++v)
          main_consts[v] = main.consts(block).template load<kFoldZo>(v, main_zx, output.zo64);
        if (extra_ != nullptr) {
          extra_->accumulate(row, rows, block, acc_extra_);
          for (int v = 0; v < kVecs; ++v)
            extra_consts[v] = extra_->consts(block).template load<false>(v, extra_zx, no_zo);
          for (int r = 0; r < rows; ++r)
            store_row<true, kFoldZo>(output, row + r, r, channel, channels, main_consts, extra_consts);
        } else {
          for (int r = 0; r < rows; ++r)
            store_row<false, kFoldZo>(output, row + r, r, channel, channels, main_consts, nullptr);
        }
      }
      row += rows;
    }
  }

  /// clamp(zo + rescaled main (+ rescaled extra), lo, hi), zo folded into the main rescale (kFoldZo) or
  /// added after the clamp.
  template <bool kExtra, bool kFoldZo>
  void store_row(const Output& output, int32_t row, int r, int32_t channel, int32_t channels,
                 const Vec* main_consts, const Vec* extra_consts) {
    uint8_t* out_row = output.data + static_cast<size_t>(row) * output.stride;
    typename V::I64 even[kVecs], odd[kVecs];
    for (int v = 0; v < kVecs && v * kL < channels; ++v) {
      DensePackedConsts<V, kVecs>::apply(V::load_i32(acc_main_ + r * kChannels + v * kL), main_consts[v],
                                         &even[v], &odd[v]);
      if constexpr (kExtra) {
        // Rescaled separately, as in the reference: the two accumulators are at different scales.
        typename V::I64 extra_even, extra_odd;
        DensePackedConsts<V, kVecs>::apply(V::load_i32(acc_extra_ + r * kChannels + v * kL), extra_consts[v],
                                           &extra_even, &extra_odd);
        even[v] = V::add64(even[v], extra_even);
        odd[v] = V::add64(odd[v], extra_odd);
      }
      even[v] = V::min64(V::max64(even[v], output.lo), output.hi);
      odd[v] = V::min64(V::max64(odd[v], output.lo), output.hi);
      const int32_t first = channel + v * kL;  // a multiple of kLanes, so even
      const int count = channels - v * kL < kL ? channels - v * kL : kL;
      if constexpr (kOutBits == 8) {
        const typename V::I32 joined = V::blend_odd(even[v], V::shl32(odd[v]));
        // Unfolded, the zero point is added once, to the joined int32 lanes.
        V::store_s8(out_row + first, kFoldZo ? joined : V::add(joined, output.zo32), count);
        continue;
      }
      if constexpr (!kFoldZo) {
        even[v] = V::add64(even[v], output.zo64);
        odd[v] = V::add64(odd[v], output.zo64);
      }
      if constexpr (kVecs == 1) {
        V::store_s4_pairs(out_row + first / 2, even[v], odd[v], count);
      }
    }
    if constexpr (kOutBits == 4 && kVecs == 2) {
      // 32 int4 channels are 16 bytes: one store (see load_stored32 in simd-avx512.h).
      if (channels > kL) {
        V::store_s4_quads(out_row + channel / 2, even[0], odd[0], even[1], odd[1], channels);
      } else {
        V::store_s4_pairs(out_row + channel / 2, even[0], odd[0], channels);
      }
    }
  }

  uint8_t* out_;
  size_t out_stride_;
  int32_t out_cols_, zo_, lo_;
  DenseOperandRun<V, kVecs>* extra_;
  alignas(64) int32_t acc_main_[kDenseRows * kChannels];
  alignas(64) int32_t acc_extra_[kDenseRows * kChannels];
};

template <class V, int kVecs>
void dense_packed(const twins::DensePackLayout& layout, const twins::DensePackLayout* extra_layout,
                  QActivationConst in, int32_t in_cols, QWeights weights, const DenseExtraInput* extra,
                  bool relu, QActivation out, int32_t out_cols, int32_t row_begin, int32_t row_end) {
  DenseOperandRun<V, kVecs> main(
      in, in_cols, DensePackedView<V, kVecs>{static_cast<const uint8_t*>(weights.packed), layout});
  if (extra != nullptr) {
    DenseOperandRun<V, kVecs> extra_run(
        extra->in, extra->in_cols,
        DensePackedView<V, kVecs>{static_cast<const uint8_t*>(extra->weights.packed), *extra_layout});
    if (out.bits == 4) {
      DensePackedRun<V, kVecs, 4>(&extra_run, relu, out, out_cols).run(main, row_begin, row_end);
    } else {
      DensePackedRun<V, kVecs, 8>(&extra_run, relu, out, out_cols).run(main, row_begin, row_end);
    }
  } else if (out.bits == 4) {
    DensePackedRun<V, kVecs, 4>(nullptr, relu, out, out_cols).run(main, row_begin, row_end);
  } else {
    DensePackedRun<V, kVecs, 8>(nullptr, relu, out, out_cols).run(main, row_begin, row_end);
  }
}

/// dense() of one ISA: the channels-in-lanes twin over the packed operands where the call matches them (the
/// main operand and, if any, the extra one, each from this ISA's dense_pack), else dense_tiled() on the ISA's
/// dot-product accumulators (exact too, but it rereads and re-sums the weights on every call).
template <class V>
void dense_twin(Isa isa, twins::DensePackShape shape, const twins::GemmKernels& fallback, QActivationConst in,
                int32_t in_cols, QWeights weights, const int32_t* bias, ChannelRescale rq,
                const DenseExtraInput* extra, bool relu, QActivation out, int32_t out_cols, int32_t row_begin,
                int32_t row_end) {
  static_assert(V::kLanes == 8 || V::kLanes == 16, "lanes");
  if (row_begin >= row_end || out_cols <= 0) return;
  const twins::DensePackHeader* main = twins::dense_pack_match(weights, isa, in_cols, out_cols, bias, rq);
  const twins::DensePackHeader* extra_header =
      extra != nullptr
          ? twins::dense_pack_match(extra->weights, isa, extra->in_cols, out_cols, extra->bias, extra->rq)
          : nullptr;
  if (main == nullptr || (extra != nullptr && extra_header == nullptr)) {
    twins::dense_tiled(fallback, in, in_cols, weights, bias, rq, extra, relu, out, out_cols, row_begin,
                       row_end);
    return;
  }
  const twins::DensePackLayout layout = twins::dense_pack_layout(shape, in_cols, out_cols, weights.bits);
  twins::DensePackLayout extra_layout{};
  if (extra != nullptr) {
    extra_layout = twins::dense_pack_layout(shape, extra->in_cols, out_cols, extra->weights.bits);
  }
  // Both layouts have the same vecs: it depends on out_cols only.
  if constexpr (V::kLanes == 16) {
    if (layout.vecs == 2) {
      dense_packed<V, 2>(layout, &extra_layout, in, in_cols, weights, extra, relu, out, out_cols, row_begin,
                         row_end);
      return;
    }
  }
  dense_packed<V, 1>(layout, &extra_layout, in, in_cols, weights, extra, relu, out, out_cols, row_begin,
                     row_end);
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_DENSE_DENSE_BODY_H_
