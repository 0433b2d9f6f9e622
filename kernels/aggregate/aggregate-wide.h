// The row loop of the wide sums (the peer benchmark's y = x + sum_j x_j at F = 64): int8 or packed int4 rows
// of more than 2 * kLanes columns, sum with self weight 0 or 1.0, no bias, a rescale with the 32-bit form
// (PairRequant::high). WideSum<V, Rows, kOutBits> is the loop; Rows says how a gathered row becomes words:
// - WideInt8Rows (int8 -> int8, aggregate_rows in aggregate-body.h calls it, handing it the rows it does not
//   take to SpmmTwin::reduce_tiles);
// - WideInt4Rows (int4 -> int4 or int8, called from files of its own: aggregate-wide4.h says why).
//
// Why a loop of its own: on Cora (2,708 rows, 3.9 neighbours each, all in L2) the generic tile loop spent
// ~160 instructions per row outside the gathers (a column-tile loop, mode / shape / self-weight tests,
// spilled constants) against 11 per gathered row; here a row costs a few scalar instructions besides the
// tile's vector work (docs/runtime.md, "The wide int8 sum").
//
// Each row is summed as whole biased words (Rows::load): int8 rows x ^ 0x80, so word i is (element 2i + 128)
// + 256 * (element 2i + 1 + 128); int4 rows load-widened to words and XORed with 0x88, so word i is (element
// 2i + 8) + 16 * (element 2i + 1 + 8). total = sum of the words (wrapping), high = sum of their high parts
// (Rows::high: the odd elements, biased, exact); the even elements' sum is total - 256 (or 16) * high modulo
// 2^16 (Rows::low), exact since at most kMaxRows rows of parts <= 255 are summed. Four (int8) or five (int4)
// operations per gathered row where the even / odd split takes one more; two neighbours per step. The sums
// are widened by unpacks (V::widen16_unpacked), requantized with the offset folded into the round term
// (PairRequant::apply_folded) and stored by V::store_s8_unpacked_tile (one in-lane shuffle) or
// V::store_s4_unpacked_tile (saturating packs, a clamp in bytes, one byte per pair): lane by lane the values
// of SpmmTwin::reduce_tiles, so the bytes are the reference's. Padding each row's neighbours to groups of 4
// (conditional moves to a row of biased zeros, so the loop exit would not depend on the degree) measured
// slower: Cora 30 against 23 us, the padded slots' loads and adds cost more than the mispredicted exits
// they remove.
#ifndef QGNN_KERNELS_AGGREGATE_AGGREGATE_WIDE_H_
#define QGNN_KERNELS_AGGREGATE_AGGREGATE_WIDE_H_

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "qgnn/kernels/numerics.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

/// Whether the traits have the whole-word loads of the wide sums (x86; NEON keeps the generic loop).
template <class V, class = void>
struct HasWideSums {
  static constexpr bool value = false;
};
template <class V>
struct HasWideSums<V, std::enable_if_t<V::kWideSums>> {
  static constexpr bool value = true;
};

/// int8 rows: a tile of 4 * kLanes columns is one load of as many bytes.
template <class V>
struct WideInt8Rows {
  static constexpr int kBits = 8;
  static constexpr int32_t kBias = 128;  ///< added to each element by the load's XOR
  static size_t byte_of(int32_t col) { return static_cast<size_t>(col); }
  /// The words of n (n <= 4 * kLanes) columns at p; a full tile's count is a constant, so a plain load.
  template <bool kFull>
  __attribute__((always_inline)) static typename V::U16 load(const uint8_t* p, int32_t n) {
    return V::load_words_biased(p, kFull ? 4 * V::kLanes : n);
  }
  static typename V::U16 high(typename V::U16 w) { return V::high_bytes16(w); }
  static typename V::U16 low(typename V::U16 total, typename V::U16 high) {
    return V::low_bytes16(total, high);
  }
};

/// Packed int4 rows: a tile of 4 * kLanes columns is one load-widen of half as many bytes.
template <class V>
struct WideInt4Rows {
  static constexpr int kBits = 4;
  static constexpr int32_t kBias = 8;
  static size_t byte_of(int32_t col) { return static_cast<size_t>(col) / 2; }  ///< col is even (a tile's)
  template <bool kFull>
  __attribute__((always_inline)) static typename V::U16 load(const uint8_t* p, int32_t n) {
    return V::load_nibble_words_biased(p, kFull ? 2 * V::kLanes : (n + 1) / 2);
  }
  static typename V::U16 high(typename V::U16 w) { return V::high_nibbles16(w); }
  static typename V::U16 low(typename V::U16 total, typename V::U16 high) {
    return V::low_nibbles16(total, high);
  }
};

template <class V, class Rows, int kOutBits>
class WideSum {
 public:
  static constexpr int32_t kTile = 4 * V::kLanes;  ///< columns per tile: one vector of words
  /// Rows (self included) whose biased parts (<= 255) may be summed in 16 bits: 257 * 255 < 2^16.
  static constexpr int32_t kMaxRows = 257;

  WideSum(const uint8_t* in, int32_t in_zero_point, int32_t cols, uint8_t* out, int32_t out_lo)
      : in_(in),
        out_(out),
        in_stride_(row_bytes(static_cast<size_t>(cols), Rows::kBits)),
        out_stride_(row_bytes(static_cast<size_t>(cols), kOutBits)),
        cols_(cols),
        zx_(in_zero_point),
        out_lo_(static_cast<int8_t>(out_lo)) {}

  /// Rows [row_begin, row_end); rows this loop cannot take (degree + self > kMaxRows: hubs, whose sums the
  /// generic loop flushes to int32) go to fallback(node). kSelf: the self row is summed too (self weight
  /// 1.0). rq: a PairRequant<V> with the 32-bit form (rq.high), clamping to the output's range.
  template <bool kSelf, class Rq, class Fallback>
  __attribute__((always_inline)) void run(const CsrGraph& graph, const Rq& rq, int32_t row_begin,
                                          int32_t row_end, Fallback&& fallback) {
    const int32_t max_count = kMaxRows - (kSelf ? 1 : 0);
    const int32_t full_tiles = cols_ / kTile, rest = cols_ % kTile;
    for (int32_t node = row_begin; node < row_end; ++node) {
      const int32_t first = graph.row_ptr[node], end = graph.row_ptr[node + 1];
      const int32_t count = end - first;
      if (count > max_count) {
        fallback(node);
        continue;
      }
      const int32_t* idx = graph.col_idx + first;
      const typename V::I64 round = rq.folded_round((count + (kSelf ? 1 : 0)) * (Rows::kBias + zx_));
      uint8_t* out = out_ + static_cast<size_t>(node) * out_stride_;
      for (int32_t t = 0; t < full_tiles; ++t) {
        tile<kSelf, true>(idx, count, node, t * kTile, kTile, rq, round, out);
      }
      if (rest != 0) tile<kSelf, false>(idx, count, node, full_tiles * kTile, rest, rq, round, out);
    }
  }

 private:
  /// Columns [col, col + n) of output row `node` (col is a multiple of kTile).
  template <bool kSelf, bool kFull, class Rq>
  __attribute__((always_inline)) void tile(const int32_t* idx, int32_t count, int32_t node, int32_t col,
                                           int32_t n, const Rq& rq, typename V::I64 round,
                                           uint8_t* out) const {
    const uint8_t* base = in_ + Rows::byte_of(col);
    typename V::U16 total = V::zero16(), high = V::zero16();
    if constexpr (kSelf) {
      total = Rows::template load<kFull>(base + static_cast<size_t>(node) * in_stride_, n);
      high = Rows::high(total);
    }
    // Two neighbours per step (two independent sums before they join the accumulators), one left over.
    int32_t k = 0;
    for (; k + 1 < count; k += 2) {
      const typename V::U16 w0 =
          Rows::template load<kFull>(base + static_cast<size_t>(idx[k]) * in_stride_, n);
      const typename V::U16 w1 =
          Rows::template load<kFull>(base + static_cast<size_t>(idx[k + 1]) * in_stride_, n);
      total = V::add16(total, V::add16(w0, w1));
      high = V::add16(high, V::add16(Rows::high(w0), Rows::high(w1)));
    }
    if (k < count) {
      const typename V::U16 w =
          Rows::template load<kFull>(base + static_cast<size_t>(idx[k]) * in_stride_, n);
      total = V::add16(total, w);
      high = V::add16(high, Rows::high(w));
    }
    typename V::I32 acc[4];
    V::widen16_unpacked(Rows::low(total, high), high, acc);
    const typename V::I32 e0 = rq.template apply_folded<false>(acc[0], round),
                          e1 = rq.template apply_folded<false>(acc[1], round),
                          o0 = rq.template apply_folded<false>(acc[2], round),
                          o1 = rq.template apply_folded<false>(acc[3], round);
    if constexpr (kOutBits == 8) {
      V::store_s8_unpacked_tile(out + col, e0, e1, o0, o1, out_lo_, n);
    } else {
      V::store_s4_unpacked_tile(out + col / 2, e0, e1, o0, o1, out_lo_, n);
    }
  }

  const uint8_t* in_;
  uint8_t* out_;
  size_t in_stride_, out_stride_;
  int32_t cols_, zx_;
  int8_t out_lo_;
};

/// The wide int8 sum (aggregate_rows).
template <class V>
using WideInt8Sum = WideSum<V, WideInt8Rows<V>, 8>;

}  // namespace
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_AGGREGATE_AGGREGATE_WIDE_H_
