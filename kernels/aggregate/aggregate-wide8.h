// The row loop of the wide int8 sum (the peer benchmark's y = x + sum_j x_j at F = 64): int8 rows of more
// than 2 * kLanes columns, int8 output, sum with self weight 0 or 1.0, no bias, a rescale with the 32-bit
// form (PairRequant::high). Included by aggregate-body.h, which calls it from aggregate_rows and hands it
// the rows it does not take (SpmmTwin::reduce_tiles).
//
// Why a loop of its own: on Cora (2,708 rows, 3.9 neighbours each, all in L2) the generic tile loop spent
// ~160 instructions per row outside the gathers (a column-tile loop, mode and shape tests, spilled
// constants) against ~11 per gathered row; here a row is ~10 scalar instructions and the tile's vector work.
// The neighbours are read in groups of kGroup slots, the slots past the row's degree pointing at kPadRow
// (biased zero bytes), so a row of degree <= kGroup runs its neighbour loop exactly once: the loop exit no
// longer depends on the degree for most rows of a sparse graph (Cora: 74 % of degrees <= 4).
//
// Each row is summed as whole biased words (V::load_words_biased, x ^ 0x80): t = sum of the words
// (wrapping), o = sum of their high bytes (the odd elements + 128, exact); the even elements' sum is
// t - 256 * o modulo 2^16 (V::low_bytes16), exact since at most kMaxRows rows of bytes <= 255 are summed.
// Four operations per gathered row (load + xor, shift, two adds) where the pair split takes five. The sums
// are the pair-order tile of aggregate-body.h (even / odd elements + 128), requantized with the offset folded
// into the round term (PairRequant::apply_folded) and stored by V::store_s8_pair_tile: the same values as
// SpmmTwin::reduce_tiles, so the bytes are the reference's.
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

/// The slot rows past a row's degree: bytes 0x80 (int8 -128) are biased words of 0, which add nothing.
alignas(64) constexpr uint8_t kWidePadRow[64] = {
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80};

template <class V>
class WideInt8Sum {
 public:
  static constexpr int32_t kTile = 4 * V::kLanes;  ///< columns per tile: one vector of words
  static_assert(kTile <= static_cast<int32_t>(sizeof(kWidePadRow)), "a pad row covers a tile");
  /// Neighbour slots per step of the neighbour loop. 4 measured best on Cora / PubMed at F = 64 (AVX-512).
  static constexpr int32_t kGroup = 4;
  /// Rows (self included) whose biased bytes (<= 255) may be summed in 16 bits: 257 * 255 < 2^16.
  static constexpr int32_t kMaxRows = 257;

  WideInt8Sum(const uint8_t* in, int32_t in_zero_point, int32_t cols, uint8_t* out, int32_t out_lo)
      : in_(in), out_(out), cols_(cols), zx_(in_zero_point), out_lo_(static_cast<int8_t>(out_lo)) {}

  /// Rows [row_begin, row_end); rows this loop cannot take (degree + self > kMaxRows, or a neighbour group
  /// that would read col_idx past the graph's last edge) go to fallback(node). kSelf: the self row is summed
  /// too (self weight 1.0). rq: a PairRequant<V> with the 32-bit form (rq.high).
  template <bool kSelf, class Rq, class Fallback>
  __attribute__((always_inline)) void run(const CsrGraph& graph, const Rq& rq, int32_t row_begin,
                                          int32_t row_end, Fallback&& fallback) {
    // A row's last group reads col_idx up to kGroup - 1 entries past its end.
    const int32_t safe_end = graph.row_ptr[graph.num_nodes] - (kGroup - 1);
    const int32_t max_count = kMaxRows - (kSelf ? 1 : 0);
    const int32_t full_tiles = cols_ / kTile, rest = cols_ % kTile;
    for (int32_t node = row_begin; node < row_end; ++node) {
      const int32_t first = graph.row_ptr[node], end = graph.row_ptr[node + 1];
      const int32_t count = end - first;
      if (count > max_count || end > safe_end) {
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
    for (int32_t k = 0; k < count; k += kGroup) {
      const int32_t left = count - k;
      // The indices are read unconditionally (run() checked they exist), so the selects are conditional
      // moves, not branches on the degree.
      const uint8_t* p0 = base + static_cast<size_t>(idx[k]) * stride;
      const uint8_t* r1 = base + static_cast<size_t>(idx[k + 1]) * stride;
      const uint8_t* r2 = base + static_cast<size_t>(idx[k + 2]) * stride;
      const uint8_t* r3 = base + static_cast<size_t>(idx[k + 3]) * stride;
      const uint8_t* p1 = left > 1 ? r1 : kWidePadRow;
      const uint8_t* p2 = left > 2 ? r2 : kWidePadRow;
      const uint8_t* p3 = left > 3 ? r3 : kWidePadRow;
      const typename V::U16 w0 = load<kFull>(p0, n), w1 = load<kFull>(p1, n), w2 = load<kFull>(p2, n),
                            w3 = load<kFull>(p3, n);
      total = V::add16(total, V::add16(V::add16(w0, w1), V::add16(w2, w3)));
      high = V::add16(high, V::add16(V::add16(V::high_bytes16(w0), V::high_bytes16(w1)),
                                     V::add16(V::high_bytes16(w2), V::high_bytes16(w3))));
    }
    typename V::I32 acc[4];
    V::widen16_pairs(V::low_bytes16(total, high), high, acc);
    V::store_s8_pair_tile(out + col, rq.template apply_folded<false>(acc[0], round),
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
