// The ONE body of the sparse_dense() twins (a Dense of sparse float rows quantized on the fly), written
// against a vector-traits type V (simd-avx2.h, simd-avx512.h, simd-neon.h). Include after the traits, from
// a file compiled with the ISA's flags.
//
// The packed operand (dispatch/twins.h, SparseDenseShape; written once by sparse_dense_pack_for) holds the
// weights transposed as int16, [k / G][channel][k % G] with G = V::kSparseGroup, so a non-zero (k, v) adds
// d * W^T[k][0..out) to the row's int32 accumulators, d = quantize_float(v) - zx, with contiguous vector
// loads and no horizontal sum: x86 multiplies int16 pairs (vpmaddwd / vpdpwssd, G = 2) and broadcasts
// (d, 0) or (0, d) by k's parity, or (d_k, d_k+1) when the row holds both columns of a pair; NEON
// multiply-adds d into 4 channels (smlal, G = 1). |d| <= 255 and |w| <= 128 fit int16 and every product
// and pair sum is exact in int32; the sum is the reference's (integer addition is associative and no
// partial sum can overflow: the reference's bound, docs/quantization.md "Accumulator widths").
//
// The non-zeros of the call's rows are quantized kSparseChunk at a time with the quantize twins' exact
// vector rounding (quantize-body.h states why V::round_quotient equals quantize_float for every non-NaN
// value) and turned, in the same vectors, into (weight offset, broadcast word) terms (V::sparse_terms): on
// x86 every non-zero gets a word of its own, (d, 0) or (0, d) by k's parity. (Folding the rare adjacent
// column pairs of a bag-of-words row into one word, as this body first did, needed a scalar parity test
// and a look-ahead per non-zero inside the multiply loop: ~2 ns per non-zero on Cora against ~0.8 with the
// terms computed in vectors.) The multiply loop then only loads a term, broadcasts its word and issues one
// multiply-add per vector of channels, into kSets interleaved sets of accumulators (a Cora row is ~18
// non-zeros into one vector of 16 channels: kSets dependency chains instead of one). Output
// channels run in blocks of up to kSparseVecs vectors, blocks outer and rows inner, so a block's
// requantization constants are built once per call; a layer wider than one block requantizes its inputs
// once per block (Cora's 16 channels are one block on every ISA).
//
// Requantization: clamp(zo + rescale(acc + bias, m, s)) per channel in int64 lanes, exactly as numerics.h:
// b = acc + bias + 2^31 (wrapping) read as uint32 is acc + bias biased into [0, 2^32), so mulu_lo32 forms
// b * m < 2^64 exactly and adding round = 2^(s-1) - 2^31 m (mod 2^64) leaves (acc + bias) * m + 2^(s-1),
// which lies in (-2^62, 2^62 + 2^61) (|acc * m| < 2^62), so the arithmetic shift floors it exactly.
// A row holding a NaN goes to the reference whole (the runtime rejects non-finite features first).
#ifndef QGNN_KERNELS_DENSE_SPARSE_DENSE_BODY_H_
#define QGNN_KERNELS_DENSE_SPARSE_DENSE_BODY_H_

#include <cstddef>
#include <cstdint>

#include "qgnn/kernels/reference.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace {

/// Non-zeros quantized per step (a multiple of every ISA's lanes).
constexpr int32_t kSparseChunk = 256;
/// Vectors of output channels per block: the accumulators (every set) must stay in registers.
constexpr int kSparseVecs = 4;
/// Interleaved accumulator sets of a block of kVecs vectors: four independent chains for narrow blocks
/// (Cora's 16 channels: one AVX-512 or two AVX2 vectors), two where four would not fit the registers.
constexpr int sparse_sets(int vecs) { return vecs <= 2 ? 4 : 2; }

/// Per-channel requantization constants of one block, in channel order (read with widen_lo / widen_hi).
template <class V>
struct SparseBlockConsts {
  static constexpr int kChannels = kSparseVecs * V::kLanes;
  int32_t bias[kChannels];  ///< bias + 2^31, wrapping
  int64_t multiplier[kChannels];
  int64_t round[kChannels];  ///< 2^(s-1) - 2^31 * m, wrapping
  int64_t shift[kChannels];

  void init(const int32_t* bias_values, ChannelRescale rq, int32_t channel_begin, int32_t channels) {
    for (int32_t c = 0; c < kChannels; ++c) {
      const bool real = c < channels;
      const int32_t ch = channel_begin + c;
      const uint32_t b = real && bias_values != nullptr ? static_cast<uint32_t>(bias_values[ch]) : 0u;
      bias[c] = static_cast<int32_t>(b + 0x80000000u);
      const uint32_t m = real ? static_cast<uint32_t>(rq.multiplier[ch]) : 0u;
      const int s = real ? rq.shift[ch] : 1;
      multiplier[c] = m;
      round[c] = static_cast<int64_t>((uint64_t{1} << (s - 1)) - (static_cast<uint64_t>(m) << 31));
      shift[c] = s;
    }
  }
};

template <class V, int kOutBits>
class SparseDenseRun {
 public:
  static constexpr int kL = V::kLanes;
  static constexpr int kG = V::kSparseGroup;
  static constexpr int32_t kOutMin = kOutBits == 8 ? -128 : -8;
  static constexpr int32_t kOutMax = kOutBits == 8 ? 127 : 7;
  static_assert(kSparseChunk % kL == 0, "whole vectors of non-zeros per chunk");
  static_assert(kG == 1 || kG == 2, "k per 32-bit lane");

  SparseDenseRun(SparseRows in, int32_t in_cols, InputQuantization q, QWeights weights, const int32_t* bias,
                 ChannelRescale rq, bool relu, QActivation out, int32_t out_cols,
                 const twins::SparseDensePackHeader& header)
      : in_(in),
        in_cols_(in_cols),
        q_(q),
        weights_(weights),
        bias_(bias),
        rq_(rq),
        relu_(relu),
        out_(out),
        out_cols_(out_cols),
        packed_(reinterpret_cast<const int16_t*>(static_cast<const uint8_t*>(weights.packed) +
                                                 twins::kDensePackHeaderBytes)),
        group_stride_(static_cast<size_t>(header.padded_cols) * kG),
        q_min_(-(1 << (q.bits - 1))),
        q_max_((1 << (q.bits - 1)) - 1) {}

  void run(int32_t row_begin, int32_t row_end) {
    constexpr int32_t kBlock = kSparseVecs * kL;
    for (int32_t channel = 0; channel < out_cols_; channel += kBlock) {
      const int32_t channels = out_cols_ - channel < kBlock ? out_cols_ - channel : kBlock;
      switch ((channels + kL - 1) / kL) {
        case 1:
          run_block<1>(channel, channels, row_begin, row_end);
          break;
        case 2:
          run_block<2>(channel, channels, row_begin, row_end);
          break;
        case 3:
          run_block<3>(channel, channels, row_begin, row_end);
          break;
        default:
          run_block<4>(channel, channels, row_begin, row_end);
          break;
      }
    }
  }

 private:
  using I32 = typename V::I32;
  using I64 = typename V::I64;

  template <int kVecs>
  void run_block(int32_t channel_begin, int32_t channels, int32_t row_begin, int32_t row_end) {
    SparseBlockConsts<V> consts;
    consts.init(bias_, rq_, channel_begin, channels);
    const int16_t* w = packed_ + static_cast<size_t>(channel_begin) * kG;
    const int32_t zo = out_.zero_point;
    const int32_t lo = relu_ && zo > kOutMin ? zo : kOutMin;
    const I64 lo64 = V::set1_64(int64_t{lo} - zo), hi64 = V::set1_64(int64_t{kOutMax} - zo);
    const I32 zo32 = V::set1(zo);
    const size_t out_stride =
        kOutBits == 8 ? static_cast<size_t>(out_cols_) : (static_cast<size_t>(out_cols_) + 1) / 2;
    // offset_ / word_ hold the terms of non-zeros [chunk_begin, chunk_end) of the range's CSR stream (rows
    // are contiguous in it, so a chunk spans rows: whole vectors even for ~18 non-zeros per row).
    constexpr int kSets = sparse_sets(kVecs);
    const int32_t stream_end = in_.row_ptr[row_end];
    int32_t chunk_begin = in_.row_ptr[row_begin], chunk_end = chunk_begin;
    bool chunk_nan = false;
    for (int32_t row = row_begin; row < row_end; ++row) {
      I32 acc[kSets][kVecs];
      for (int s = 0; s < kSets; ++s) {
        for (int v = 0; v < kVecs; ++v) acc[s][v] = V::zero();
      }
      bool nan = false;
      for (int32_t e = in_.row_ptr[row], end = in_.row_ptr[row + 1]; e < end;) {
        if (e >= chunk_end) {
          chunk_begin = e;
          chunk_end = stream_end - e < kSparseChunk ? stream_end : e + kSparseChunk;
          chunk_nan = !quantize_chunk(chunk_begin, chunk_end - chunk_begin);
        }
        const int32_t stop = end < chunk_end ? end : chunk_end;
        nan |= chunk_nan;
        accumulate<kVecs, kSets>(w, e - chunk_begin, stop - chunk_begin, acc);
        e = stop;
      }
      if (nan) {
        // A NaN's lanes were quantized to garbage (no undefined behaviour): the reference redoes the row.
        sparse_dense(in_, in_cols_, q_, weights_, bias_, rq_, relu_, out_, out_cols_, row, row + 1);
        continue;
      }
      uint8_t* out_row = static_cast<uint8_t*>(out_.data) + static_cast<size_t>(row) * out_stride;
      for (int v = 0; v < kVecs; ++v) {
        const int32_t first = v * kL;
        const int count = channels - first < kL ? static_cast<int>(channels - first) : kL;
        I32 sum = acc[0][v];
        for (int s = 1; s < kSets; ++s) sum = V::add(sum, acc[s][v]);
        const I32 biased = V::add(sum, V::load_i32(consts.bias + first));
        const I64 low = requant(V::widen_lo(biased), consts, first, lo64, hi64);
        const I64 high = requant(V::widen_hi(biased), consts, first + kL / 2, lo64, hi64);
        const I32 value = V::add(V::narrow(low, high), zo32);
        if constexpr (kOutBits == 8) {
          V::store_s8(out_row + channel_begin + first, value, count);
        } else {
          // channel_begin + first is a multiple of kLanes: the vector starts on a byte.
          V::store_s4(out_row + (channel_begin + first) / 2, value, count);
        }
      }
    }
  }

  /// clamp(rescale(b - 2^31), lo - zo, hi - zo) for the int64 lanes holding channels [first, first + kL/2)
  /// (only the low dword of each lane is read: the biased accumulator).
  static I64 requant(I64 biased, const SparseBlockConsts<V>& c, int32_t first, I64 lo, I64 hi) {
    const I64 product = V::mulu_lo32(biased, V::load_i64(c.multiplier + first));
    const I64 value =
        V::srav64(V::add64(product, V::load_i64(c.round + first)), V::load_i64(c.shift + first));
    return V::min64(V::max64(value, lo), hi);
  }

  /// The terms of non-zeros [e, e + n) (n <= kSparseChunk) in offset_ / word_, from
  /// d = quantize_float(values[e + i]) - zx; false when a value is NaN (its lane is garbage).
  bool quantize_chunk(int32_t e, int32_t n) {
    const float* values = in_.values + e;
    const int32_t* columns = in_.col_idx + e;
    const I32 zx = V::set1(q_.zero_point);
    const I32 stride = V::set1(static_cast<int32_t>(group_stride_));
    const typename V::F32 scale = V::set1_f32(q_.scale);
    bool finite = true;
    for (int32_t i = 0; i < n; i += kL) {
      const int m = n - i < kL ? static_cast<int>(n - i) : kL;
      const typename V::F32 x = V::load_f32(values + i, m);
      finite &= !V::any_nan(x);
      typename V::F32 divisor = scale;
      if (q_.column_scales != nullptr) {
        // Pad lanes divide by 1 (never 0 / 0), as quantize-body.h's column_divisors.
        float lanes[kL];
        for (int j = 0; j < kL; ++j) lanes[j] = j < m ? q_.column_scales[in_.col_idx[e + i + j]] : 1.0f;
        divisor = V::load_f32(lanes, kL);
      }
      const I32 quantized = V::clamp32(V::add(V::round_quotient(x, divisor), zx), q_min_, q_max_);
      I32 offset, word;
      V::sparse_terms(V::load_i32_partial(columns + i, m), V::sub(quantized, zx), stride, &offset, &word);
      V::store_acc(offset_ + i, offset);
      V::store_acc(word_ + i, word);
    }
    return finite;
  }

  /// acc += the products of the chunk's terms [i, end), term t into set t % kSets.
  template <int kVecs, int kSets>
  void accumulate(const int16_t* w, int32_t i, int32_t end, I32 (&acc)[kSets][kVecs]) const {
    constexpr int kVecStride = kL * kG;  // int16 weights per vector of channels
    for (; end - i >= kSets; i += kSets) {
      for (int s = 0; s < kSets; ++s) {
        const typename V::SWord word = V::sparse_word(word_[i + s]);
        const int16_t* row = w + offset_[i + s];
        for (int v = 0; v < kVecs; ++v) acc[s][v] = V::sparse_mac(acc[s][v], word, row + v * kVecStride);
      }
    }
    // The last < kSets terms, each set by a constant index: a run-time index would keep acc in memory.
    for (int s = 0; s < kSets - 1; ++s) {
      if (s < end - i) {
        const typename V::SWord word = V::sparse_word(word_[i + s]);
        const int16_t* row = w + offset_[i + s];
        for (int v = 0; v < kVecs; ++v) acc[s][v] = V::sparse_mac(acc[s][v], word, row + v * kVecStride);
      }
    }
  }

  SparseRows in_;
  int32_t in_cols_;
  InputQuantization q_;
  QWeights weights_;
  const int32_t* bias_;
  ChannelRescale rq_;
  bool relu_;
  QActivation out_;
  int32_t out_cols_;
  const int16_t* packed_;
  size_t group_stride_;  ///< int16 elements per k group (padded channels x G)
  int32_t q_min_, q_max_;
  alignas(64) int32_t offset_[kSparseChunk];  ///< int16 elements from the block's weights
  alignas(64) int32_t word_[kSparseChunk];    ///< V::sparse_word's argument
};

/// sparse_dense() of one ISA: the twin over the packed operand where the call matches it (this ISA's
/// sparse_dense_pack, from these very weights), else the reference (exact; it reads the plain weights).
template <class V>
void sparse_dense_twin(Isa isa, SparseRows in, int32_t in_cols, InputQuantization q, QWeights weights,
                       const int32_t* bias, ChannelRescale rq, bool relu, QActivation out, int32_t out_cols,
                       int32_t row_begin, int32_t row_end) {
  if (row_begin >= row_end || out_cols <= 0) return;
  const twins::SparseDensePackHeader* header =
      twins::sparse_dense_pack_match(weights, isa, in_cols, out_cols);
  // The terms hold int32 weight offsets: an operand of 2^31 int16 or more (4 GiB) goes to the reference.
  const int64_t groups = (int64_t{in_cols} + V::kSparseGroup - 1) / V::kSparseGroup;
  const bool offsets_fit =
      header != nullptr && groups * header->padded_cols * V::kSparseGroup <= int64_t{INT32_MAX};
  if (header == nullptr || !offsets_fit || (q.bits != 8 && q.bits != 4)) {
    sparse_dense(in, in_cols, q, weights, bias, rq, relu, out, out_cols, row_begin, row_end);
    return;
  }
  if (out.bits == 4) {
    SparseDenseRun<V, 4>(in, in_cols, q, weights, bias, rq, relu, out, out_cols, *header)
        .run(row_begin, row_end);
  } else {
    SparseDenseRun<V, 8>(in, in_cols, q, weights, bias, rq, relu, out, out_cols, *header)
        .run(row_begin, row_end);
  }
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_DENSE_SPARSE_DENSE_BODY_H_
