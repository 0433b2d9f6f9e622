// The row loop of the wide int4 sum (the peer benchmark's INT4 y = x + sum_j x_j at F = 64): packed int4
// rows of more than 2 * kLanes columns, int4 or int8 output, sum with self weight 0 or 1.0, no bias, a
// rescale with the 32-bit form (PairRequant::high), an input small enough for the loops without prefetch.
// Compiled in files of its own (x4-aggregate-wide-<isa>.cc), called by the x86 tables before the generic int4
// twin: inside aggregate_rows it changed how the compiler inlined the generic loops, and the narrow int4 sum
// and max (Cora's 16-column messages) ran 2x slower. aggregate_wide_x4 hands the rows it does not take (hubs)
// to SpmmTwin::reduce, and returns false for any call it does not take at all.
//
// Why a loop of its own: the wide int8 sum's (aggregate-wide8.h) — the generic loop spends most of a
// Cora row outside the gathers (the column-tile loop, tests of mode, shape and self weight per row), and
// int4 rows, which move half the bytes, ran at ~0.5x the speed of int8 ones once int8 had its own loop.
//
// Each gathered row is one load-widen of its packed bytes to words and an XOR (V::load_nibble_words_biased:
// word i = (element 2i + 8) + 16 * (element 2i + 1 + 8) in [0, 255]), summed whole: total = sum of the
// words, high = sum of their high nibbles (the odd elements + 8); the even elements' sum is total - 16 *
// high (V::low_nibbles16), all exact in 16 bits while at most kMaxRows rows are summed (257 * 255 < 2^16).
// Five vector operations per gathered row where the generic loop's even / odd split takes six. The word
// order is the wide int8 sum's (word i holds elements 2i and 2i + 1), so the same unpacks widen it
// (V::widen16_unpacked), the same folded requantization rescales it, and int8 output takes the same store
// (V::store_s8_unpacked_tile); int4 output takes the same saturating packs, a clamp in bytes and one byte
// per pair (V::store_s4_unpacked_tile). Lane by lane the values are SpmmTwin::reduce_tiles', so the bytes are
// the reference's.
#ifndef QGNN_KERNELS_AGGREGATE_AGGREGATE_WIDE4_H_
#define QGNN_KERNELS_AGGREGATE_AGGREGATE_WIDE4_H_

#include <cstddef>
#include <cstdint>

#include "aggregate-body.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

template <class V, int kOutBits>
class WideInt4Sum {
 public:
  static constexpr int32_t kTile = 4 * V::kLanes;  ///< columns per tile: one vector of nibble-pair words
  /// Rows (self included) whose biased nibble pairs (<= 255) may be summed in 16 bits: 257 * 255 < 2^16.
  static constexpr int32_t kMaxRows = 257;

  WideInt4Sum(const uint8_t* in, int32_t in_zero_point, int32_t cols, uint8_t* out, int32_t out_lo)
      : in_(in),
        out_(out),
        in_stride_((static_cast<size_t>(cols) + 1) / 2),
        out_stride_(kOutBits == 8 ? static_cast<size_t>(cols) : (static_cast<size_t>(cols) + 1) / 2),
        cols_(cols),
        zx_(in_zero_point),
        out_lo_(static_cast<int8_t>(out_lo)) {}

  /// Rows [row_begin, row_end); rows of degree + self > kMaxRows (hubs, whose sums the generic loop
  /// flushes to int32 every 4096 rows) go to fallback(node). kSelf: the self row is summed too (self
  /// weight 1.0). rq: a PairRequant<V> with the 32-bit form (rq.high), clamping to the output's range.
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
      const typename V::I64 round = rq.folded_round((count + (kSelf ? 1 : 0)) * (8 + zx_));
      uint8_t* out = out_ + static_cast<size_t>(node) * out_stride_;
      for (int32_t t = 0; t < full_tiles; ++t) {
        tile<kSelf, true>(idx, count, node, t * kTile, kTile, rq, round, out);
      }
      if (rest != 0) tile<kSelf, false>(idx, count, node, full_tiles * kTile, rest, rq, round, out);
    }
  }

 private:
  /// The packed bytes of a tile (a full one: a constant, so the load is a plain one).
  template <bool kFull>
  __attribute__((always_inline)) static typename V::U16 load(const uint8_t* p, int32_t n) {
    return V::load_nibble_words_biased(p, kFull ? kTile / 2 : (n + 1) / 2);
  }

  /// Columns [col, col + n) of output row `node` (col is a multiple of kTile, so even).
  template <bool kSelf, bool kFull, class Rq>
  __attribute__((always_inline)) void tile(const int32_t* idx, int32_t count, int32_t node, int32_t col,
                                           int32_t n, const Rq& rq, typename V::I64 round,
                                           uint8_t* out) const {
    const uint8_t* base = in_ + col / 2;
    typename V::U16 total = V::zero16(), high = V::zero16();
    if constexpr (kSelf) {
      total = load<kFull>(base + static_cast<size_t>(node) * in_stride_, n);
      high = V::high_nibbles16(total);
    }
    // Two neighbours per step (two independent sums before they join the accumulators), one left over.
    int32_t k = 0;
    for (; k + 1 < count; k += 2) {
      const typename V::U16 w0 = load<kFull>(base + static_cast<size_t>(idx[k]) * in_stride_, n);
      const typename V::U16 w1 = load<kFull>(base + static_cast<size_t>(idx[k + 1]) * in_stride_, n);
      total = V::add16(total, V::add16(w0, w1));
      high = V::add16(high, V::add16(V::high_nibbles16(w0), V::high_nibbles16(w1)));
    }
    if (k < count) {
      const typename V::U16 w = load<kFull>(base + static_cast<size_t>(idx[k]) * in_stride_, n);
      total = V::add16(total, w);
      high = V::add16(high, V::high_nibbles16(w));
    }
    typename V::I32 acc[4];
    V::widen16_unpacked(V::low_nibbles16(total, high), high, acc);
    if constexpr (kOutBits == 8) {
      V::store_s8_unpacked_tile(out + col, rq.template apply_folded<false>(acc[0], round),
                                rq.template apply_folded<false>(acc[1], round),
                                rq.template apply_folded<false>(acc[2], round),
                                rq.template apply_folded<false>(acc[3], round), out_lo_, n);
    } else {
      V::store_s4_unpacked_tile(out + col / 2, rq.template apply_folded<false>(acc[0], round),
                                rq.template apply_folded<false>(acc[1], round),
                                rq.template apply_folded<false>(acc[2], round),
                                rq.template apply_folded<false>(acc[3], round), out_lo_, n);
    }
  }

  const uint8_t* in_;
  uint8_t* out_;
  size_t in_stride_, out_stride_;
  int32_t cols_, zx_;
  int8_t out_lo_;
};


/// The call, in WideInt4Sum, when it is one (header): true when done, false when the generic twin must run.
template <class V, int kOutBits>
bool aggregate_wide_x4_rows(const CsrGraph& graph, const AggregateParams& params, QActivationConst in,
                            int32_t cols, QActivation out, int32_t row_begin, int32_t row_end) {
  using Twin = SpmmTwin<V, 4, kOutBits, false, false>;
  Twin twin(in.data, in.zero_point, cols, out.data, out.zero_point, nullptr, params.relu);
  const int32_t self_weight = params.self_weight_q16;
  const PairRequant<V> fixed = twin.pair_requant(twins::aggregate_row_rescale(params.mode, params.rq, 0));
  if (!fixed.high) return false;
  const auto rest = [&](int32_t node) {
    const int32_t first = graph.row_ptr[node];
    const SourceRows src{graph.col_idx + first, 0, graph.row_ptr[node + 1] - first};
    twin.reduce(params.mode, src, node, self_weight, fixed, node);
  };
  WideInt4Sum<V, kOutBits> wide(static_cast<const uint8_t*>(in.data), in.zero_point, cols,
                                static_cast<uint8_t*>(out.data),
                                params.relu && out.zero_point > Twin::kOutMin ? out.zero_point : Twin::kOutMin);
  if (self_weight != 0) {
    wide.template run<true>(graph, fixed, row_begin, row_end, rest);
  } else {
    wide.template run<false>(graph, fixed, row_begin, row_end, rest);
  }
  return true;
}

template <class V>
bool aggregate_wide_x4(const CsrGraph& graph, const AggregateParams& params, QActivationConst in, int32_t cols,
                       QActivation out, int32_t row_begin, int32_t row_end) {
  constexpr int32_t kSelfWeightOne = 1 << 16;
  if (params.mode != AggregateMode::kSum || params.bias != nullptr || cols <= 2 * V::kLanes ||
      (params.self_weight_q16 != 0 && params.self_weight_q16 != kSelfWeightOne) ||
      prefetch_gathers(graph, cols, 4)) {
    return false;
  }
  return out.bits == 4 ? aggregate_wide_x4_rows<V, 4>(graph, params, in, cols, out, row_begin, row_end)
                       : aggregate_wide_x4_rows<V, 8>(graph, params, in, cols, out, row_begin, row_end);
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_AGGREGATE_AGGREGATE_WIDE4_H_
