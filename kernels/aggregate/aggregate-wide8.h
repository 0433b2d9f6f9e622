// The row loop of the wide int8 sum (the peer benchmark's y = x + sum_j x_j at F = 64): int8 rows of more
// than 2 * kLanes columns, int8 output, sum with self weight 0 or 1.0, no bias, a rescale with the 32-bit
// form (PairRequant::high). Included by aggregate-body.h, which calls it from aggregate_rows and hands it
// the rows it does not take (SpmmTwin::reduce_tiles).
//
// Why a loop of its own: on Cora (2,708 rows, 3.9 neighbours each, all in L2) the generic tile loop spent
// ~160 instructions per row outside the gathers (a column-tile loop, mode / shape / self-weight tests,
// spilled constants) against 11 per gathered row; here a row costs a few scalar instructions besides the
// tile's vector work (docs/runtime.md, "The wide int8 sum").
//
// Each row is summed as whole biased words (V::load_words_biased, x ^ 0x80): total = sum of the words
// (wrapping), high = sum of their high bytes (the odd elements + 128, exact); the even elements' sum is
// total - 256 * high modulo 2^16 (V::low_bytes16), exact since at most kMaxRows rows of bytes <= 255 are
// summed. Four operations per gathered row (load + xor, shift, two adds) where the even / odd split takes
// five; two neighbours per step. The sums are widened by unpacks (V::widen16_unpacked), requantized with
// the offset folded into the round term (PairRequant::apply_folded) and stored by one in-lane shuffle
// (V::store_s8_unpacked_tile): lane by lane the values of SpmmTwin::reduce_tiles, so the bytes are the
// reference's. Padding each row's neighbours to groups of 4 (conditional moves to a row of biased zeros, so
// the loop exit would not depend on the degree) measured slower: Cora 30 against 23 us, the padded slots'
// loads and adds cost more than the mispredicted exits they remove.
#ifndef QGNN_KERNELS_AGGREGATE_AGGREGATE_WIDE8_H_
#define QGNN_KERNELS_AGGREGATE_AGGREGATE_WIDE8_H_

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

/// Whether the traits have the whole-word loads of the wide int8 sum (x86; NEON keeps the generic loop).
template <class V, class = void>
struct HasWideSums {
  static constexpr bool value = false;
};
template <class V>
struct HasWideSums<V, std::enable_if_t<V::kWideSums>> {
  static constexpr bool value = true;
};

template <class V>
class WideInt8Sum {
 public:
  static constexpr int32_t kTile = 4 * V::kLanes;  ///< columns per tile: one vector of words
  /// Rows (self included) whose biased bytes (<= 255) may be summed in 16 bits: 257 * 255 < 2^16.
  static constexpr int32_t kMaxRows = 257;

  WideInt8Sum(const uint8_t* in, int32_t in_zero_point, int32_t cols, uint8_t* out, int32_t out_lo)
      : in_(in), out_(out), cols_(cols), zx_(in_zero_point), out_lo_(static_cast<int8_t>(out_lo)) {}

  /// Rows [row_begin, row_end); rows this loop cannot take (degree + self > kMaxRows: hubs, whose sums the
  /// generic loop flushes to int32 every 256 rows) go to fallback(node). kSelf: the self row is summed
  /// too (self weight 1.0). rq: a PairRequant<V> with the 32-bit form (rq.high).
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
      const typename V::I64 round = rq.folded_round((count + (kSelf ? 1 : 0)) * (128 + zx_));
      uint8_t* out = out_ + static_cast<size_t>(node) * static_cast<size_t>(cols_);
      for (int32_t t = 0; t < full_tiles; ++t) {
        tile<kSelf, true>(idx, count, node, t * kTile, kTile, rq, round, out);
      }
      if (rest != 0) tile<kSelf, false>(idx, count, node, full_tiles * kTile, rest, rq, round, out);
    }
  }

 private:
  template <bool kFull>
  __attribute__((always_inline)) static typename V::U16 load(const uint8_t* p, int32_t n) {
    return V::load_words_biased(p, kFull ? kTile : n);
  }

  /// Columns [col, col + n) of output row `node`.
  template <bool kSelf, bool kFull, class Rq>
  __attribute__((always_inline)) void tile(const int32_t* idx, int32_t count, int32_t node, int32_t col,
                                           int32_t n, const Rq& rq, typename V::I64 round,
                                           uint8_t* out) const {
    const size_t stride = static_cast<size_t>(cols_);
    const uint8_t* base = in_ + col;
    typename V::U16 total = V::zero16(), high = V::zero16();
    if constexpr (kSelf) {
      total = load<kFull>(base + static_cast<size_t>(node) * stride, n);
      high = V::high_bytes16(total);
    }
    // Two neighbours per step (two independent sums before they join the accumulators), one left over.
    int32_t k = 0;
    for (; k + 1 < count; k += 2) {
      const typename V::U16 w0 = load<kFull>(base + static_cast<size_t>(idx[k]) * stride, n);
      const typename V::U16 w1 = load<kFull>(base + static_cast<size_t>(idx[k + 1]) * stride, n);
      total = V::add16(total, V::add16(w0, w1));
      high = V::add16(high, V::add16(V::high_bytes16(w0), V::high_bytes16(w1)));
    }
    if (k < count) {
      const typename V::U16 w = load<kFull>(base + static_cast<size_t>(idx[k]) * stride, n);
      total = V::add16(total, w);
      high = V::add16(high, V::high_bytes16(w));
    }
    typename V::I32 acc[4];
    V::widen16_unpacked(V::low_bytes16(total, high), high, acc);
    V::store_s8_unpacked_tile(out + col, rq.template apply_folded<false>(acc[0], round),
                              rq.template apply_folded<false>(acc[1], round),
                              rq.template apply_folded<false>(acc[2], round),
                              rq.template apply_folded<false>(acc[3], round), out_lo_, n);
  }

  const uint8_t* in_;
  uint8_t* out_;
  int32_t cols_, zx_;
  int8_t out_lo_;
};

}  // namespace
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_AGGREGATE_AGGREGATE_WIDE8_H_
