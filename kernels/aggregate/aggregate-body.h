// The ONE body of the SIMD aggregation (a sparse-dense product, SpMM) and pooling twins, written against a
// vector-traits type V (kernels/simd/: simd-avx2.h, simd-avx512.h, simd-neon.h). Include after the traits,
// from a file compiled with the ISA's flags.
//
// The reference walks neighbours column by column; this body walks the columns in tiles of kVecs vectors
// and, per tile, the neighbours row by row, so each neighbour row is read with contiguous vector loads.
// Every output element still sees the same accumulator value as in the reference (integer sums are
// associative and no partial sum can overflow: docs/quantization.md, "Accumulator widths"), followed by the
// same int64 rescale, so the bytes are identical.
//
// int4 rows are never unpacked element by element: the packed bytes are XORed with 0x88 (each nibble
// becomes x + 8 in [0, 15]) and split into even / odd elements in 16-bit lanes, a handful of operations per
// 4 * kLanes elements. Sum and max stay in those lanes (sum_j x_j = sum_j (x_j + 8) - 8 * count, max_j x_j =
// max_j (x_j + 8) - 8: the reference's values exactly); GCN multiplies them there too (gcn_sums_s4). They are
// never interleaved either: an int4 tile stays in "pair order" (V::widen16_pairs: even elements, odd
// elements, per 2 * kLanes) through the self term and the lane-wise requantization, and the stores put each
// even / odd pair back together (for int4 output, the pair is one output byte), which at small degrees
// halves the per-row work.
//
// A transform-first layer's per-column bias (AggregateParams::bias) is added to the finished int32
// accumulator tile right before the requantization, in the tile's own lane order: element order for int8
// input, pair order for int4 input (the bias is loaded as consecutive int32 and unzipped into its even / odd
// columns, V::unzip). |acc| < 2^30 (sum) or < 2^20 (GCN's t) and |bias| < 2^30, so the int32 lanes cannot
// overflow (docs/quantization.md, "Accumulator widths"). Its fused ReLU only raises the clamp's lower bound
// (RowRequant's lo) to max(qmin, zo): no work at all. Without a bias the tile loop is the same code as
// before the bias existed (SpmmTwin's kBias).
// Wide int8 rows (more than 2 * kLanes columns) are summed and maxed in pair order too, as biased bytes
// (x ^ 0x80 = x + 128 in [0, 255]): one load and an AND and a shift per 2 * kLanes elements, where element
// order sign-extends every kLanes bytes to int32 (docs/runtime.md, "Wide int8 rows and the 32-bit
// requantization"); GCN and narrower int8 rows keep element order.
//
// For int8 rows the tile shape (vectors used, half a vector for rows of at most kLanes / 2) is chosen once
// per call (aggregate_rows), never per row; int4 rows choose theirs per row (measured: see aggregate_rows).
//
// Memory-level parallelism: a gather from a graph larger than the caches is one miss per edge, and a row's
// own neighbours (~10 on average) are too few for the out-of-order window to overlap many. With kPrefetch,
// every neighbour loop prefetches the row SpmmTwin::kAhead edges ahead in the CSR, running on past the row's
// end into the next rows' neighbours (PrefetchState::edges_end), so ~kAhead misses are in flight whatever the
// degrees: the 1M-node power-law graph at F = 64 went 313 -> 73 ms (AVX-512 int8 sum). (An earlier try
// "gained nothing" because GCC 12 deleted the prefetches: see SpmmTwin::prefetch.) kPrefetch is a template
// parameter chosen once per call by the input's size (aggregate-prefetch.h): a graph in cache only pays for
// the prefetch, and even a run-time "off" measured Cora / PubMed int8 sum 20-32 % slower (the bounds test per
// edge and the registers it holds), so without kPrefetch the loops are the very code they were before it.
#ifndef QGNN_KERNELS_AGGREGATE_AGGREGATE_BODY_H_
#define QGNN_KERNELS_AGGREGATE_AGGREGATE_BODY_H_

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "aggregate-prefetch.h"
#include "aggregate-wide.h"
#include "qgnn/kernels/numerics.h"
#include "qgnn/kernels/reference.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace {

/// The rows an output row reduces over: CSR neighbours (indices) or a contiguous node range (pooling).
struct SourceRows {
  const int32_t* indices;  ///< nullptr: rows first, first + 1, ...
  int32_t first;
  int32_t count;
  int32_t at(int32_t k) const { return indices != nullptr ? indices[k] : first + k; }
};

/// Whether the traits join the used halves of a short pair-order tile (Avx512::join_half_pairs); the
/// other traits take the two-vector path.
template <class V, class = void>
struct HasHalfPairs {
  static constexpr bool value = false;
};
template <class V>
struct HasHalfPairs<V, std::enable_if_t<V::kHalfPairs>> {
  static constexpr bool value = true;
};

/// The 32-bit form of a requantization (RowRequant): (m, e) rescaled to (m', e') with the same value
/// m / 2^e = m' / 2^e' and 32 <= e' <= 54, when it exists and keeps acc * m' + 2^(e' - 1) + zo * 2^e' inside
/// int64 for every int32 acc and |zo| <= 2^7 (then fast is true). Doubling m while e < 32 is exact: the
/// rounding term 2^(e - 1) doubles with it.
struct HighRescale {
  bool fast = false;
  uint64_t multiplier = 0;  ///< m' < 2^32
  int shift = 0;            ///< e'
};
__attribute__((always_inline)) inline HighRescale high_rescale(MeanRescale r) {
  HighRescale h;
  uint64_t m = static_cast<uint64_t>(r.multiplier);
  int e = r.shift;
  if (e < 32) {
    // Double m while e < 32 and 2m < 2^32, in one shift (kMean builds one per row): m << k < 2^32 for
    // k <= clz(m) - 32.
    const int room = m == 0 ? 32 : __builtin_clzll(m) - 32;
    const int k = room < 32 - e ? room : 32 - e;
    if (k > 0) {
      m <<= k;
      e += k;
    }
  }
  if (e < 32 || e > 54) return h;
  // |acc| <= 2^31: |acc * m + 2^(e - 1) + zo * 2^e| <= 2^31 * m + 2^(e - 1) + 2^(e + 7), which must be
  // below 2^63 (no overflow here: m < 2^32 and e <= 54).
  if ((m << 31) + (uint64_t{1} << (e - 1)) + (uint64_t{1} << (e + 7)) >= (uint64_t{1} << 63)) return h;
  h.fast = true;
  h.multiplier = m;
  h.shift = e;
  return h;
}

/// The 64-bit requantization: pooling's narrow int8 rows, and PairRequant's rescales that have no 32-bit
/// form (PairRequant::wide).
template <class V>
struct RowRequant {
  typename V::I32 bias;        ///< 2^31: acc + 2^31 read as uint32 is acc biased into [0, 2^32)
  typename V::I64 multiplier;  ///< the (unsigned, < 2^32) multiplier in the low dwords
  typename V::I64 round;       ///< 2^(shift - 1) - 2^31 * multiplier, wrapping
  int shift;
  typename V::I64 lo, hi;  ///< the output range minus the zero point
  typename V::I32 zero_point;

  RowRequant(MeanRescale r, int32_t zo, int32_t lo_value, int32_t hi_value)
      : bias(V::set1(INT32_MIN)),
        multiplier(V::set1_64(r.multiplier)),
        round(V::set1_64(static_cast<int64_t>((uint64_t{1} << (r.shift - 1)) -
                                              (static_cast<uint64_t>(r.multiplier) << 31)))),
        shift(r.shift),
        lo(V::set1_64(int64_t{lo_value} - zo)),
        hi(V::set1_64(int64_t{hi_value} - zo)),
        zero_point(V::set1(zo)) {}
  /// Zero constants (PairRequant's unused wide form).
  RowRequant()
      : bias(V::zero()),
        multiplier(V::set1_64(0)),
        round(V::set1_64(0)),
        shift(0),
        lo(V::set1_64(0)),
        hi(V::set1_64(0)),
        zero_point(V::zero()) {}

  /// clamp(zo + rescale(acc, m, shift), lo, hi) per int32 lane, as dense-body.h's DensePackedConsts::apply:
  /// b = acc + 2^31 in [0, 2^32) makes mulu_lo32 form b * m < 2^64 exactly, and + round leaves
  /// acc * m + 2^(shift-1) modulo 2^64, a value in (-2^62, 2^62 + 2^61) (|acc * m| < 2^62), so its int64
  /// reading is exact and the arithmetic shift floors as rescale() does. clamp(p + zo, lo, hi) =
  /// clamp(p, lo - zo, hi - zo) + zo, so zo is added once, to the joined int32 lanes (in range).
  typename V::I32 apply(typename V::I32 acc) const {
    typename V::I64 a, b;
    V::split64(V::add(acc, bias), &a, &b);
    return V::add(V::join64(apply64(a), apply64(b)), zero_point);
  }
  /// apply() for the low kLanes / 2 lanes only (the others are garbage): one int64 vector instead of two,
  /// for rows of at most kLanes / 2 columns (a transform-first layer's 7 classes on AVX-512).
  typename V::I32 apply_low(typename V::I32 acc) const {
    return V::add(V::narrow(apply64(V::widen_lo(V::add(acc, bias))), V::set1_64(0)), zero_point);
  }

 private:
  typename V::I64 apply64(typename V::I64 biased) const {
    const typename V::I64 product = V::srai64(V::add64(V::mulu_lo32(biased, multiplier), round), shift);
    return V::min64(V::max64(product, lo), hi);
  }
};

/// The aggregation's requantization: the 32-bit form (high_rescale) where the rescale has one, else
/// RowRequant's. The narrow int8 rows of the aggregation use it too: their sums at 16 columns gain from the
/// 32-bit form (AVX-512 10 -> 9 us). Only the form in use is built (kMean builds one per row).
template <class V>
struct PairRequant {
  bool high;
  RowRequant<V> wide;                  ///< without the 32-bit form (zero constants with it)
  typename V::I32 bias;                ///< 2^31
  typename V::I64 high_multiplier;     ///< m'
  typename V::I64 high_round;          ///< 2^(e' - 1) + zo * 2^e' - 2^31 * m', wrapping
  int high_shift;                      ///< e' - 32
  typename V::I32 lo32, hi32;          ///< the output range
  uint64_t high_multiplier_value = 0;  ///< m'
  uint64_t high_round_value = 0;       ///< 2^(e' - 1) + zo * 2^e', wrapping

  __attribute__((always_inline)) PairRequant(MeanRescale r, int32_t zo, int32_t lo_value, int32_t hi_value)
      : bias(V::set1(INT32_MIN)) {
    const HighRescale h = high_rescale(r);
    high = h.fast;
    if (high) {
      high_multiplier = V::set1_64(static_cast<int64_t>(h.multiplier));
      high_shift = h.shift - 32;
      high_multiplier_value = h.multiplier;
      high_round_value =
          (uint64_t{1} << (h.shift - 1)) + static_cast<uint64_t>(int64_t{zo} * (int64_t{1} << h.shift));
      high_round = V::set1_64(static_cast<int64_t>(high_round_value - (h.multiplier << 31)));
      lo32 = V::set1(lo_value);
      hi32 = V::set1(hi_value);
    } else {
      wide = RowRequant<V>(r, zo, lo_value, hi_value);
      high_multiplier = high_round = V::set1_64(0);
      high_shift = 0;
      lo32 = hi32 = V::zero();
    }
  }

  /// With the 32-bit form: the round term of apply_folded for accumulators `offset` above the centred ones.
  __attribute__((always_inline)) typename V::I64 folded_round(int32_t offset) const {
    return V::set1_64(
        static_cast<int64_t>(high_round_value - static_cast<uint64_t>(offset) * high_multiplier_value));
  }
  /// apply(u - offset) for u in [0, 2^31) (biased pair-order sums or maxima, whose offset folded_round
  /// took): u is its own unsigned low dword, and u * m' + 2^(e' - 1) + zo * 2^e' - offset * m' is apply's v
  /// for acc = u - offset, modulo 2^64. No acc + 2^31 and no acc - offset per vector (9 operations on
  /// AVX-512). Only with the 32-bit form (high). Without kClamp the value is not clamped (an exact int32;
  /// V::store_s8_pair_tile's saturating packs clamp it).
  template <bool kClamp = true>
  __attribute__((always_inline)) typename V::I32 apply_folded(typename V::I32 u,
                                                              typename V::I64 round_offset) const {
    typename V::I64 a, b;
    V::split64(u, &a, &b);
    const typename V::I32 q = V::join_high64(V::add64(V::mulu_lo32(a, high_multiplier), round_offset),
                                             V::add64(V::mulu_lo32(b, high_multiplier), round_offset));
    if constexpr (!kClamp) return V::sra(q, high_shift);
    return V::min(V::max(V::sra(q, high_shift), lo32), hi32);
  }
  /// RowRequant::apply. With the 32-bit form (high): + high_round leaves v = acc * m' + 2^(e' - 1) +
  /// zo * 2^e' (in int64 by high_rescale's bound), its high dword is floor(v / 2^32), and the int32 shift
  /// by e' - 32 floors on to floor(v / 2^e') = zo + rescale(acc, m, e): the same value, clamped in the
  /// int32 lanes, with no int64 shift, clamp or zero-point add (11 operations per vector on AVX-512
  /// instead of 15). Without kClamp, the 32-bit form's value is not clamped (apply_folded); the 64-bit
  /// form's always is (its int64 lanes are narrowed to int32).
  template <bool kClamp = true>
  __attribute__((always_inline)) typename V::I32 apply(typename V::I32 acc) const {
    if (!high) return wide.apply(acc);
    typename V::I64 a, b;
    V::split64(V::add(acc, bias), &a, &b);
    const typename V::I32 q = V::join_high64(V::add64(V::mulu_lo32(a, high_multiplier), high_round),
                                             V::add64(V::mulu_lo32(b, high_multiplier), high_round));
    if constexpr (!kClamp) return V::sra(q, high_shift);
    return V::min(V::max(V::sra(q, high_shift), lo32), hi32);
  }
  /// RowRequant::apply_low (the 32-bit form does all lanes at the cost of half).
  __attribute__((always_inline)) typename V::I32 apply_low(typename V::I32 acc) const {
    return high ? apply(acc) : wide.apply_low(acc);
  }
};

/// What the prefetching twin keeps (SpmmTwin::ahead); without kPrefetch an empty base, so that twin is laid
/// out as it was before the prefetch.
template <bool kPrefetch>
struct PrefetchState {};
template <>
struct PrefetchState<true> {
  /// One past the call's last CSR edge: the first tile's prefetch runs on across row ends up to it (the
  /// neighbours of the call's later rows follow a row's in the CSR).
  const int32_t* edges_end = nullptr;
  int32_t head_span = 0;  ///< bytes of a row prefetched in its first tile: min(row bytes, kAheadBytes)
};

/// kBias: the rows get a per-column bias (AggregateParams::bias). A template parameter, not a run-time test,
/// so the tile loop without a bias is the very code it was before the bias existed (a run-time test per
/// tile measured +31 % instructions on the AVX2 int4 sum at 16 features: the compiler no longer kept the
/// tile in registers). kPrefetch: the neighbour loops prefetch (see the top of the file), for the same reason
/// a template parameter.
template <class V, int kInBits, int kOutBits, bool kBias = false, bool kPrefetch = false>
class SpmmTwin : private PrefetchState<kPrefetch> {
 public:
  static constexpr int kL = V::kLanes;
  static constexpr int kVecs = 4;  ///< vectors per column tile: 4 independent accumulator chains
  static constexpr int32_t kTile = kVecs * kL;
  /// GCN products are summed in int32 for at most this many rows, then flushed to int64:
  /// 128 * 255 * 32768 < 2^31.
  static constexpr int32_t kGcnBlock = 128;
  /// Pair-order rows (int4 rows, wide int8 rows) are read biased into [0, kPairMax]: x + kPairBias.
  static constexpr int32_t kPairBias = kInBits == 4 ? 8 : 128;
  static constexpr int32_t kPairMax = 2 * kPairBias - 1;
  /// Biased rows summed in 16-bit lanes before a flush to int32, the self row on top of the first block:
  /// (4096 + 1) * 15 and (256 + 1) * 255 < 2^16.
  static constexpr int32_t kPairBlock = kInBits == 4 ? 4096 : 256;
  static_assert((kPairBlock + 1) * kPairMax < (1 << 16), "16-bit pair sums");
  /// int4 GCN rows whose split products are summed in 16-bit lanes (gcn_sums_s4).
  static constexpr int32_t kGcnNibbleRows = 16;
  /// GIN's self weight 1.0 in Q16.
  static constexpr int32_t kSelfWeightOne = 1 << 16;
  /// Software prefetch: while summing neighbour k, the row of neighbour k + kAhead is prefetched (the first
  /// kAheadBytes of it in a row's first tile, which is where the next rows start too). 64 measured best on
  /// the 1M-node power-law graph at F = 64 (AVX-512 int8 sum, CPU ms: none 313, 8: 155, 16: 111, 32: 103,
  /// 64: 73, 128: 94, 256: 79): a miss to DRAM costs ~300 cycles, an edge ~5-10 in cache.
  static constexpr int32_t kAhead = 64;
  static constexpr int32_t kAheadBytes = 256;
  static_assert(kVecs == 4, "V::widen16_pairs yields a tile of 4 vectors");
  /// int4 input tiles are always in pair order (see the top of the file); int8 ones only in the sum / max
  /// of full-width rows (reduce_tiles' kPairOrder), element order otherwise (GCN, narrow rows).
  static constexpr bool kPairs = kInBits == 4;
  // Constants, not calls: a numerics.h inline function called from a file with ISA flags could be emitted
  // out of line and shared with callers on smaller CPUs (see dispatch/twins.h).
  static constexpr int32_t kOutMin = qmin(kOutBits);
  static constexpr int32_t kOutMax = qmax(kOutBits);

  /// bias: cols_ int32 added to every accumulator before the rescale (required with kBias, else unused);
  /// relu: clamp at max(qmin, zo) instead of qmin (reference.h, AggregateParams).
  SpmmTwin(const void* in, int32_t in_zero_point, int32_t cols, void* out, int32_t out_zero_point,
           const int32_t* bias = nullptr, bool relu = false)
      : in_(static_cast<const uint8_t*>(in)),
        out_(static_cast<uint8_t*>(out)),
        stride_(packed_bytes(cols, kInBits)),
        out_stride_(packed_bytes(cols, kOutBits)),
        cols_(cols),
        zx_(in_zero_point),
        zo_(out_zero_point),
        out_lo_(relu && out_zero_point > kOutMin ? out_zero_point : kOutMin),
        bias_(bias) {
    if constexpr (kPrefetch) {
      this->head_span =
          stride_ < static_cast<size_t>(kAheadBytes) ? static_cast<int32_t>(stride_) : kAheadBytes;
    }
  }

  /// kPrefetch: the prefetch of the neighbour rows may read col_idx up to `edges_end` (the call's last edge).
  void prefetch_until(const int32_t* edges_end) { this->edges_end = edges_end; }

  /// The requantization of rows rescaled by `rescale`: only kMean's varies by row (with the count), so the
  /// callers build it once per call otherwise. requant: the 64-bit form alone (pooling's narrow int8 rows);
  /// pair_requant: the aggregation's (pair-order tiles need it: apply_folded).
  RowRequant<V> requant(MeanRescale rescale) const { return RowRequant<V>(rescale, zo_, out_lo_, kOutMax); }
  __attribute__((always_inline)) PairRequant<V> pair_requant(MeanRescale rescale) const {
    return PairRequant<V>(rescale, zo_, out_lo_, kOutMax);
  }

  /// Sum / mean (self_weight_q16 ignored unless != 0) and max over `src` of int4 rows, written to output
  /// row `row`. count == 0 with kMean / kMax is real 0 (the caller's rescale then does not matter).
  __attribute__((always_inline)) void reduce(AggregateMode mode, const SourceRows& src, int32_t self_row,
                                             int32_t self_weight_q16, const PairRequant<V>& rq, int32_t row) {
    static_assert(kPairs, "int8 rows choose their tile shape per call (aggregate_shaped) or pool()");
    // An int4 row of at most 2 * kLanes elements (MUTAG: 7 and 32) is one tile whose pair-order sums
    // fill 2 of the 4 vectors: a fixed count, so the compiler keeps them in registers.
    if (cols_ <= 2 * kL) return reduce_tiles<2>(mode, src, self_row, self_weight_q16, rq, row);
    reduce_tiles<kVecs>(mode, src, self_row, self_weight_q16, rq, row);
  }
  /// A pooled graph (rows `src`), rescaled by `rescale`, written to output row `row`.
  void pool(AggregateMode mode, const SourceRows& src, MeanRescale rescale, int32_t row) {
    if constexpr (kPairs) {
      reduce(mode, src, 0, 0, pair_requant(rescale), row);
    } else {
      // Narrow int8 rows fill one vector, or half of one: a fixed count of vectors, so no per-row tests
      // of empty ones, and half the requantization.
      if (2 * cols_ <= kL) return reduce_tiles<1, true>(mode, src, 0, 0, requant(rescale), row);
      if (cols_ <= kL) return reduce_tiles<1>(mode, src, 0, 0, requant(rescale), row);
      if (cols_ <= 2 * kL) return reduce_tiles<2>(mode, src, 0, 0, requant(rescale), row);
      reduce_tiles<kVecs>(mode, src, 0, 0, pair_requant(rescale), row);
    }
  }

 public:
  /// reduce() with tiles whose elements lie in acc[0, kUsed) (kUsed < kVecs: int4 pair order, or int8 rows
  /// of at most kUsed * kLanes elements); kHalf: at most kLanes / 2 elements (int8, kUsed == 1).
  /// rq: PairRequant (pair-order tiles need it), or RowRequant for element-order ones (pooling).
  template <int kUsed, bool kHalf = false, class Rq>
  __attribute__((always_inline)) void reduce_tiles(AggregateMode mode, const SourceRows& src,
                                                   int32_t self_row, int32_t self_weight_q16, const Rq& rq,
                                                   int32_t row) {
    static_assert(kUsed == kVecs || kUsed == 2 || (!kPairs && kUsed == 1), "tile shapes");
    static_assert(!kHalf || (!kPairs && kUsed == 1), "half tiles are int8 rows of one vector");
    // Wide int8 rows are summed / maxed as biased bytes in 16-bit lanes, in pair order (see the top of
    // the file); narrower ones keep their element-order tiles of one or two vectors.
    constexpr bool kPairOrder = kPairs || kUsed == kVecs;
    const bool empty = src.count == 0 && (mode == AggregateMode::kMean || mode == AggregateMode::kMax);
    for (int32_t col = 0; col < cols_; col += kTile) {
      const int32_t n = cols_ - col < kTile ? cols_ - col : kTile;
      typename V::I32 acc[kVecs];
      if (empty) {
        store_tile_raw(row, col, n, V::set1(zo_));
        continue;
      }
      // Pair-order tiles hold biased sums / maxima u >= 0, `offset` above the centred values.
      int32_t offset = 0;
      if (mode == AggregateMode::kMax) {
        if constexpr (kPairOrder) {
          offset = max_tile_pairs<kUsed>(src, col, n, acc);
        } else {
          max_tile<kUsed>(src, col, n, acc);
        }
      } else {
        // GIN with eps = 0 (self weight 1.0): rounding_shift_right((x_i - zx) * 2^16, 16) = x_i - zx
        // exactly, so the self row is summed like one more neighbour (no widening or multiply of its own).
        const int32_t summed_self = self_weight_q16 == kSelfWeightOne ? self_row : -1;
        if constexpr (kPairOrder) {
          offset = sum_tile_pairs<kUsed>(src, summed_self, col, n, acc);
        } else {
          sum_tile<kUsed>(src, summed_self, col, n, acc);
        }
        if (self_weight_q16 != 0 && summed_self < 0) {
          subtract<kUsed>(offset, acc);
          offset = 0;
          add_self_term<kUsed, kPairOrder>(self_row, self_weight_q16, col, n, acc);
        }
      }
      if constexpr (kPairOrder && !kBias) {
        // The offset goes into the requantization's round term (RowRequant::apply_folded), not into
        // every vector; a bias could make the sums negative, so it keeps the subtraction.
        if (rq.high && offset != 0) {
          store_tile<kUsed, kHalf, kPairOrder, true>(row, col, n, acc, rq, rq.folded_round(offset));
          continue;
        }
      }
      subtract<kUsed>(offset, acc);
      store_tile<kUsed, kHalf, kPairOrder>(row, col, n, acc, rq);
    }
  }

 public:
  /// GCN: t = rounding_shift_right(norm_i * sum_{j in N(i) + self} (x_j - zx) * norm_j, 30).
  /// int4 rows (int8 rows choose their tile shape per call: aggregate_shaped).
  void gcn(const SourceRows& src, int32_t self_row, const int32_t* norm_q15, const PairRequant<V>& rq,
           int32_t row) {
    static_assert(kPairs, "int4 rows");
    gcn_tiles<kVecs>(src, self_row, norm_q15, rq, row);
  }

 public:
  /// gcn() with tiles whose elements lie in acc[0, kUsed) (kUsed < kVecs: int8 rows of at most kUsed * kL);
  /// kHalf: at most kLanes / 2 elements, whose int64 sums all lie in wide[0] (wide[1] is never formed).
  /// rq: PairRequant for int4 rows (pair-order tiles), RowRequant for int8 ones.
  template <int kUsed, bool kHalf = false, class Rq>
  __attribute__((always_inline)) void gcn_tiles(const SourceRows& src, int32_t self_row,
                                                const int32_t* norm_q15, const Rq& rq, int32_t row) {
    static_assert(kUsed == kVecs || !kPairs, "int4 GCN tiles use every vector");
    const typename V::I64 own_norm = V::set1_64(norm_q15[self_row]);
    const typename V::I64 round30 = V::set1_64(int64_t{1} << 29);
    for (int32_t col = 0; col < cols_; col += kTile) {
      const int32_t n = cols_ - col < kTile ? cols_ - col : kTile;
      typename V::I64 wide[2 * kVecs];
      for (int v = 0; v < 2 * kUsed; ++v) wide[v] = V::set1_64(0);
      if constexpr (kInBits == 4) {
        gcn_sums_s4(src, self_row, norm_q15, col, n, wide);
      } else {
        gcn_sums<kUsed, kHalf>(src, self_row, norm_q15, col, n, wide);
      }
      typename V::I32 acc[kVecs];
      if constexpr (kHalf) {
        acc[0] = V::narrow(scale_q30(wide[0], own_norm, round30), V::set1_64(0));
      } else {
        for (int v = 0; v < kUsed; ++v) {
          acc[v] = V::narrow(scale_q30(wide[2 * v], own_norm, round30),
                             scale_q30(wide[2 * v + 1], own_norm, round30));
        }
      }
      store_tile<kUsed, kHalf>(row, col, n, acc, rq);
    }
  }

 private:
  /// wide = sum over the self row and the neighbours of (x_j - zx) * norm_j, the self-loop term first; the
  /// int32 block is flushed to int64 every kGcnBlock rows. Vectors [kUsed, kVecs) are neither read nor
  /// written (nor wide[1] with kHalf).
  template <int kUsed, bool kHalf = false>
  void gcn_sums(const SourceRows& src, int32_t self_row, const int32_t* norm_q15, int32_t col, int32_t n,
                typename V::I64* wide) const {
    typename V::I32 block[kVecs], x[kVecs];
    centered_tile<kUsed>(self_row, col, n, x);
    for (int v = 0; v < kUsed; ++v) block[v] = V::mullo(x[v], V::set1(norm_q15[self_row]));
    int32_t in_block = 1;
    const Ahead a = ahead(src, col);
    for (int32_t k = 0; k < src.count; ++k) {
      prefetch_gcn(src, k, a, norm_q15);
      const int32_t source = src.at(k);
      const typename V::I32 factor = V::set1(norm_q15[source]);
      centered_tile<kUsed>(source, col, n, x);
      for (int v = 0; v < kUsed; ++v) block[v] = V::add(block[v], V::mullo(x[v], factor));
      if (++in_block == kGcnBlock) {
        flush<kUsed, kHalf>(block, wide);
        in_block = 0;
      }
    }
    flush<kUsed, kHalf>(block, wide);
  }

  /// gcn_sums for int4 rows without widening each row: with u = x + 8 in [0, 15], c = 8 + zx and
  /// norm = 256 * hi + lo (lo < 256, hi <= 128), u * lo < 3840 and u * hi <= 1920 are summed in 16-bit lanes
  /// for kGcnNibbleRows rows (16 * 3840 < 2^16), then block += sum u*lo + 256 * sum u*hi - c * sum norm,
  /// which is sum (x - zx) * norm over those rows exactly; the block bound is gcn_sums' (|u - c| <= 15).
  void gcn_sums_s4(const SourceRows& src, int32_t self_row, const int32_t* norm_q15, int32_t col, int32_t n,
                   typename V::I64* wide) const {
    static_assert(kGcnBlock % kGcnNibbleRows == 0, "int32 flushes fall on 16-bit flushes");
    const int bytes = (n + 1) / 2;
    const int32_t rows = src.count + 1;  // row 0 is the self row
    typename V::I32 block[kVecs];
    for (int v = 0; v < kVecs; ++v) block[v] = V::zero();
    int32_t in_block = 0;
    const Ahead a = ahead(src, col);
    for (int32_t k = 0; k < rows;) {
      const int32_t end = rows - k > kGcnNibbleRows ? k + kGcnNibbleRows : rows;
      typename V::U16 lo_even = V::zero16(), lo_odd = V::zero16(), hi_even = V::zero16(),
                      hi_odd = V::zero16();
      int32_t norm_sum = 0;
      in_block += end - k;
      for (; k < end; ++k) {
        prefetch_gcn(src, k, a, norm_q15);  // row k is neighbour k - 1: kAhead - 1 neighbours ahead
        const int32_t source = k == 0 ? self_row : src.at(k - 1);
        const int32_t norm = norm_q15[source];
        norm_sum += norm;
        typename V::U16 even, odd;
        V::load_nibbles_biased(tile_bytes(source, col), bytes, &even, &odd);
        const typename V::U16 lo = V::set1_16(static_cast<uint16_t>(norm & 0xFF));
        const typename V::U16 hi = V::set1_16(static_cast<uint16_t>(norm >> 8));
        lo_even = V::add16(lo_even, V::mullo16(even, lo));
        lo_odd = V::add16(lo_odd, V::mullo16(odd, lo));
        hi_even = V::add16(hi_even, V::mullo16(even, hi));
        hi_odd = V::add16(hi_odd, V::mullo16(odd, hi));
      }
      typename V::I32 low[kVecs], high[kVecs];
      V::widen16_pairs(lo_even, lo_odd, low);
      V::widen16_pairs(hi_even, hi_odd, high);
      const typename V::I32 correction = V::set1(norm_sum * (8 + zx_));  // <= 16 * 2^15 * 15
      const typename V::I32 by256 = V::set1(256);
      for (int v = 0; v < kVecs; ++v) {
        block[v] = V::add(block[v], V::sub(V::add(low[v], V::mullo(high[v], by256)), correction));
      }
      if (in_block == kGcnBlock) {
        flush(block, wide);
        in_block = 0;
      }
    }
    flush(block, wide);
  }

  /// What a tile's neighbour loop prefetches: for k < limit, bytes [offset, offset + span) of the row of
  /// neighbour k + kAhead.
  struct Ahead {
    int32_t limit, offset, span;
  };
  /// The first tile (col 0) prefetches each row's head across the row's end: the later rows of the call
  /// start with that tile, and a row's own neighbours are too few (~10 on average) to hide a miss. Later
  /// tiles prefetch their own bytes within the row only, and only past the head (the head is in cache).
  __attribute__((always_inline)) Ahead ahead(const SourceRows& src, int32_t col) const {
    if constexpr (kPrefetch) {
      if (src.indices == nullptr) return {0, 0, 0};
      if (col == 0) {
        return {static_cast<int32_t>(this->edges_end - src.indices) - kAhead, 0, this->head_span};
      }
      const int32_t offset = static_cast<int32_t>(static_cast<size_t>(col) * kInBits / 8);
      if (offset < this->head_span) return {0, 0, 0};
      const int32_t rest = static_cast<int32_t>(stride_) - offset, tile = kTile * kInBits / 8;
      return {src.count - kAhead, offset, rest < tile ? rest : tile};
    } else {
      return {0, 0, 0};
    }
  }
  /// Prefetches the lines of [offset, offset + span) of the row of neighbour k + kAhead when k < limit;
  /// the last byte is named on its own, since a row need not start on a line.
  /// Always inlined: GCC 12 at -O2 split it out (fnsplit), found the part without side effects
  /// (__builtin_prefetch has no virtual operands) and deleted every call as dead code.
  /// Without kPrefetch, nothing at all (not even the bounds test).
  __attribute__((always_inline)) void prefetch(const SourceRows& src, int32_t k, const Ahead& a) const {
    if constexpr (kPrefetch) {
      if (k >= a.limit) return;
      const uint8_t* p = in_ + static_cast<size_t>(src.indices[k + kAhead]) * stride_ + a.offset;
      for (int32_t b = 0; b < a.span; b += 64) __builtin_prefetch(p + b);
      __builtin_prefetch(p + a.span - 1);
    }
  }
  /// prefetch() and GCN's norm of the same neighbour (a 4-byte gather of its own).
  __attribute__((always_inline)) void prefetch_gcn(const SourceRows& src, int32_t k, const Ahead& a,
                                                   const int32_t* norm_q15) const {
    if constexpr (kPrefetch) {
      if (k >= a.limit) return;
      prefetch(src, k, a);
      __builtin_prefetch(norm_q15 + src.indices[k + kAhead]);
    }
  }

  static size_t packed_bytes(int32_t cols, int bits) {
    return bits == 8 ? static_cast<size_t>(cols) : (static_cast<size_t>(cols) + 1) / 2;
  }

  /// Vector v of the tile at `col` of int8 input row `row`, as int32 lanes (lanes past the row's end are 0).
  /// int4 rows are read by load_nibbles_biased only.
  typename V::I32 load(int32_t row, int32_t col, int32_t n, int v) const {
    static_assert(kInBits == 8, "int4 tiles are in pair order");
    const int32_t remaining = n - v * kL;
    if (remaining <= 0) return V::zero();
    const uint8_t* p = in_ + static_cast<size_t>(row) * stride_ + col + v * kL;
    return remaining >= kL ? V::load_s8(p) : V::load_s8_partial(p, remaining);
  }
  typename V::I32 centered(int32_t row, int32_t col, int32_t n, int v) const {
    return V::sub(load(row, col, n, v), V::set1(zx_));
  }
  /// The whole tile of `row` minus zx.
  template <int kUsed = kVecs>
  void centered_tile(int32_t row, int32_t col, int32_t n, typename V::I32* x) const {
    for (int v = 0; v < kUsed; ++v) x[v] = centered(row, col, n, v);
  }
  const uint8_t* tile_bytes(int32_t row, int32_t col) const {
    return in_ + static_cast<size_t>(row) * stride_ + static_cast<size_t>(col) * kInBits / 8;
  }
  /// The packed bytes of a tile of n elements.
  static int tile_byte_count(int32_t n) { return kInBits == 4 ? (n + 1) / 2 : n; }
  /// A pair-order tile of a row: `bytes` packed bytes at p as even / odd elements + kPairBias in 16-bit
  /// lanes.
  static void load_pairs(const uint8_t* p, int bytes, typename V::U16* even, typename V::U16* odd) {
    if constexpr (kInBits == 4) {
      V::load_nibbles_biased(p, bytes, even, odd);
    } else {
      V::load_bytes_biased(p, bytes, even, odd);
    }
  }

  /// acc = sum_j x_j - count * zx = sum_j (x_j - zx), over src and row `self` too when self >= 0:
  /// |sum_j x_j| <= 128 * (2^22 + 1) < 2^30.
  /// Vectors [kUsed, kVecs) are neither read nor written (int8 rows of at most kUsed * kLanes).
  template <int kUsed>
  void sum_tile(const SourceRows& src, int32_t self, int32_t col, int32_t n, typename V::I32* acc) const {
    for (int v = 0; v < kUsed; ++v) acc[v] = self >= 0 ? load(self, col, n, v) : V::zero();
    const Ahead a = ahead(src, col);
    for (int32_t k = 0; k < src.count; ++k) {
      prefetch(src, k, a);
      const int32_t source = src.at(k);
      for (int v = 0; v < kUsed; ++v) acc[v] = V::add(acc[v], load(source, col, n, v));
    }
    const typename V::I32 offset = V::set1((src.count + (self >= 0 ? 1 : 0)) * zx_);
    for (int v = 0; v < kUsed; ++v) acc[v] = V::sub(acc[v], offset);
  }

  /// sum_tile in pair order: biased rows (nibbles, or bytes) summed in 16-bit lanes, flushed to int32
  /// every kPairBlock rows; acc = sum_j (x_j + kPairBias) < 2^30, and returns the offset
  /// count * (kPairBias + zx) that acc minus it is sum_j (x_j - zx) (reduce_tiles). Lanes past n hold
  /// pad values and are never stored. Row `self` (if >= 0) starts the first block (see kPairBlock).
  /// An int8 row is one load and three operations per 2 * kLanes elements here (element order: two
  /// sign-extending loads and two adds), and a row of sums is widened to int32 once, not once per edge.
  template <int kUsed>
  __attribute__((always_inline)) int32_t sum_tile_pairs(const SourceRows& src, int32_t self, int32_t col,
                                                        int32_t n, typename V::I32* acc) const {
    const int bytes = tile_byte_count(n);
    typename V::U16 even = V::zero16(), odd = V::zero16();
    if (self >= 0) load_pairs(tile_bytes(self, col), bytes, &even, &odd);
    // The first block (the self row alone when count == 0) sets acc, later ones add to it.
    int32_t k = sum_pair_block(src, col, bytes, 0, &even, &odd);
    widen_pairs<kUsed>(even, odd, acc);
    while (k < src.count) {
      even = V::zero16();
      odd = V::zero16();
      k = sum_pair_block(src, col, bytes, k, &even, &odd);
      typename V::I32 part[kVecs];
      widen_pairs<kUsed>(even, odd, part);
      for (int v = 0; v < kUsed; ++v) acc[v] = V::add(acc[v], part[v]);
    }
    return (src.count + (self >= 0 ? 1 : 0)) * (kPairBias + zx_);
  }
  /// Adds the biased rows [k, k + kPairBlock) of src (or to its end) to even / odd; returns where it
  /// stopped.
  int32_t sum_pair_block(const SourceRows& src, int32_t col, int bytes, int32_t k, typename V::U16* even,
                         typename V::U16* odd) const {
    const int32_t block_end = src.count - k > kPairBlock ? k + kPairBlock : src.count;
    const Ahead a = ahead(src, col);
    for (; k < block_end; ++k) {
      prefetch(src, k, a);
      typename V::U16 lo, hi;
      load_pairs(tile_bytes(src.at(k), col), bytes, &lo, &hi);
      *even = V::add16(*even, lo);
      *odd = V::add16(*odd, hi);
    }
    return k;
  }
  /// V::widen16_pairs into acc[0, kUsed): kUsed == 2 for tiles of at most 2 * kLanes elements, whose
  /// elements are all in acc[0] (even) and acc[1] (odd); acc[2] / acc[3] are then neither written nor read.
  template <int kUsed>
  __attribute__((always_inline)) static void widen_pairs(typename V::U16 even, typename V::U16 odd,
                                                         typename V::I32* acc) {
    if constexpr (kUsed == 2) {
      V::widen16_pairs_low(even, odd, acc);
    } else {
      V::widen16_pairs(even, odd, acc);
    }
  }

  /// GIN: + rounding_shift_right((x_i - zx) * w, 16). |x_i - zx| * w + 2^15 <= 255 * (2^23 - 1) + 2^15 <
  /// 2^31, so the product and the rounding fit int32 lanes.
  /// A pair-order self row is read biased, like the neighbours.
  template <int kUsed, bool kPairOrder = kPairs>
  void add_self_term(int32_t self_row, int32_t weight, int32_t col, int32_t n, typename V::I32* acc) const {
    const typename V::I32 w = V::set1(weight), half = V::set1(1 << 15);
    typename V::I32 x[kVecs];
    if constexpr (kPairOrder) {
      typename V::U16 even, odd;
      load_pairs(tile_bytes(self_row, col), tile_byte_count(n), &even, &odd);
      widen_pairs<kUsed>(even, odd, x);
      const typename V::I32 offset = V::set1(kPairBias + zx_);
      for (int v = 0; v < kUsed; ++v) {
        acc[v] = V::add(acc[v], V::srai16(V::add(V::mullo(V::sub(x[v], offset), w), half)));
      }
    } else {
      centered_tile<kUsed>(self_row, col, n, x);
      for (int v = 0; v < kUsed; ++v) acc[v] = V::add(acc[v], V::srai16(V::add(V::mullo(x[v], w), half)));
    }
  }

  /// acc = max_j x_j - zx; count >= 1. Vectors [kUsed, kVecs) are neither read nor written.
  template <int kUsed>
  void max_tile(const SourceRows& src, int32_t col, int32_t n, typename V::I32* acc) const {
    const int32_t first = src.at(0);
    for (int v = 0; v < kUsed; ++v) acc[v] = load(first, col, n, v);
    const Ahead a = ahead(src, col);
    for (int32_t k = 1; k < src.count; ++k) {
      prefetch(src, k, a);
      const int32_t source = src.at(k);
      for (int v = 0; v < kUsed; ++v) acc[v] = V::max(acc[v], load(source, col, n, v));
    }
    const typename V::I32 zx = V::set1(zx_);
    for (int v = 0; v < kUsed; ++v) acc[v] = V::sub(acc[v], zx);
  }

  /// max_tile in pair order, on biased rows: acc = max_j (x_j + kPairBias) and returns the offset
  /// kPairBias + zx (acc minus it is max_j x_j - zx); count >= 1.
  template <int kUsed>
  __attribute__((always_inline)) int32_t max_tile_pairs(const SourceRows& src, int32_t col, int32_t n,
                                                        typename V::I32* acc) const {
    const int bytes = tile_byte_count(n);
    typename V::U16 even, odd;
    load_pairs(tile_bytes(src.at(0), col), bytes, &even, &odd);
    const Ahead a = ahead(src, col);
    for (int32_t k = 1; k < src.count; ++k) {
      prefetch(src, k, a);
      typename V::U16 lo, hi;
      load_pairs(tile_bytes(src.at(k), col), bytes, &lo, &hi);
      even = V::max16(even, lo);
      odd = V::max16(odd, hi);
    }
    widen_pairs<kUsed>(even, odd, acc);
    return kPairBias + zx_;
  }
  /// acc[0, kUsed) -= offset (nothing for 0).
  template <int kUsed>
  static void subtract(int32_t offset, typename V::I32* acc) {
    if (offset == 0) return;
    const typename V::I32 o = V::set1(offset);
    for (int v = 0; v < kUsed; ++v) acc[v] = V::sub(acc[v], o);
  }

  template <int kUsed = kVecs, bool kHalf = false>
  static void flush(typename V::I32* block, typename V::I64* wide) {
    for (int v = 0; v < kUsed; ++v) {
      wide[2 * v] = V::add64(wide[2 * v], V::widen_lo(block[v]));
      if (!kHalf) wide[2 * v + 1] = V::add64(wide[2 * v + 1], V::widen_hi(block[v]));
      block[v] = V::zero();
    }
  }

  /// (acc64 * norm + 2^29) >> 30 with |acc64| < 2^45 and norm in [1, 2^15]: the 64 x 15-bit product is
  /// formed from the low (unsigned) and high (signed) dwords of acc64; it is < 2^60, so exact.
  static typename V::I64 scale_q30(typename V::I64 acc, typename V::I64 norm, typename V::I64 round) {
    const typename V::I64 low = V::mulu_lo32(acc, norm);
    const typename V::I64 high = V::shl32(V::mul_lo32(V::shr32(acc), norm));
    return V::srai64(V::add64(V::add64(low, high), round), 30);
  }

  /// acc += the bias of columns [col, col + n), in the tile's lane order; reads only those n bias entries.
  /// acc[kUsed, kVecs) are not touched.
  template <int kUsed, bool kPairOrder = kPairs>
  void add_bias(int32_t col, int32_t n, typename V::I32* acc) const {
    const int32_t* bias = bias_ + col;
    if constexpr (kPairOrder) {
      for (int h = 0; h < kUsed / 2 && h * 2 * kL < n; ++h) {
        const int32_t count = n - h * 2 * kL < 2 * kL ? n - h * 2 * kL : 2 * kL;
        const int32_t* p = bias + h * 2 * kL;
        const typename V::I32 first = V::load_i32_partial(p, count < kL ? count : kL);
        const typename V::I32 second = count > kL ? V::load_i32_partial(p + kL, count - kL) : V::zero();
        typename V::I32 even, odd;
        V::unzip(first, second, &even, &odd);
        acc[2 * h] = V::add(acc[2 * h], even);
        acc[2 * h + 1] = V::add(acc[2 * h + 1], odd);
      }
    } else {
      for (int v = 0; v < kUsed && v * kL < n; ++v) {
        acc[v] = V::add(acc[v], V::load_i32_partial(bias + v * kL, n - v * kL < kL ? n - v * kL : kL));
      }
    }
  }

  /// Adds the bias (kBias), requantizes and stores a tile (element or pair order); vectors wholly past n
  /// are skipped. acc[kUsed, kVecs) are not read (see reduce_tiles).
  /// kFolded: acc holds biased values u >= 0 whose offset is in `folded` (PairRequant::apply_folded).
  /// rq: PairRequant in pair order, RowRequant in element order.
  template <int kUsed = kVecs, bool kHalf = false, bool kPairOrder = kPairs, bool kFolded = false, class Rq>
  __attribute__((always_inline)) void store_tile(int32_t row, int32_t col, int32_t n, typename V::I32* acc,
                                                 const Rq& rq, typename V::I64 folded = V::set1_64(0)) {
    if constexpr (kBias) add_bias<kUsed, kPairOrder>(col, n, acc);
    const auto requant = [&rq, folded](typename V::I32 v) {
      if constexpr (kFolded) {
        return rq.apply_folded(v, folded);
      } else {
        return rq.apply(v);
      }
    };
    if constexpr (kPairOrder) {
      uint8_t* p = out_ + static_cast<size_t>(row) * out_stride_;
      if constexpr (HasHalfPairs<V>::value) {
        // A tile of <= kL elements (MUTAG's 7 input features) fills only half of each pair vector: one
        // requantization of the joined halves instead of two (int8 rows of that width need one too).
        if (n <= kL) {
          const typename V::I32 v = requant(V::join_half_pairs(acc[0], acc[1]));
          if (kOutBits == 8) {
            V::store_s8_half_pairs(p + col, v, n);
          } else {
            V::store_s4_half_pairs(p + col / 2, v, n);
          }
          return;
        }
      }
      if constexpr (kOutBits == 8 && kUsed == kVecs) {
        // The whole tile in one store, clamped by saturating packs (V::store_s8_pair_tile): the 4 * kLanes
        // outputs of a wide int8 row in 7 operations instead of 8 clamps and two 6-operation stores.
        const auto requant_unclamped = [&rq, folded](typename V::I32 v) {
          if constexpr (kFolded) {
            return rq.template apply_folded<false>(v, folded);
          } else {
            return rq.template apply<false>(v);
          }
        };
        V::store_s8_pair_tile(p + col, requant_unclamped(acc[0]), requant_unclamped(acc[1]),
                              requant_unclamped(acc[2]), requant_unclamped(acc[3]),
                              static_cast<int8_t>(out_lo_), n);
        return;
      }
      for (int h = 0; h < kUsed / 2 && h * 2 * kL < n; ++h) {
        const int32_t first = col + h * 2 * kL;  // a multiple of 2 * kLanes, so even
        const int count = n - h * 2 * kL < 2 * kL ? n - h * 2 * kL : 2 * kL;
        const typename V::I32 even = requant(acc[2 * h]), odd = requant(acc[2 * h + 1]);
        if (kOutBits == 8) {
          V::store_s8_interleaved(p + first, even, odd, count);
        } else {
          V::store_s4_interleaved(p + first / 2, even, odd, count);
        }
      }
    } else if constexpr (kHalf) {
      store_vector(row, col, n, rq.apply_low(acc[0]));
    } else {
      for (int v = 0; v < kUsed && v * kL < n; ++v)
        store_vector(row, col + v * kL, n - v * kL, requant(acc[v]));
    }
  }
  /// `value` lanes are final outputs (already in range).
  void store_tile_raw(int32_t row, int32_t col, int32_t n, typename V::I32 value) {
    for (int v = 0; v < kVecs && v * kL < n; ++v) store_vector(row, col + v * kL, n - v * kL, value);
  }
  void store_vector(int32_t row, int32_t first, int32_t remaining, typename V::I32 value) {
    const int count = remaining < kL ? remaining : kL;
    uint8_t* p = out_ + static_cast<size_t>(row) * out_stride_;
    if (kOutBits == 8) {
      V::store_s8(p + first, value, count);
    } else {
      V::store_s4(p + first / 2, value, count);  // first is a multiple of kLanes (even)
    }
  }

  const uint8_t* in_;
  uint8_t* out_;
  size_t stride_, out_stride_;
  int32_t cols_, zx_, zo_;
  int32_t out_lo_;  ///< the clamp's lower bound: qmin, or max(qmin, zo) with the fused ReLU
  const int32_t* bias_;
};

/// The row loop of int8 rows of one tile shape (SpmmTwin::reduce_tiles / gcn_tiles<kUsed, kHalf>), chosen
/// once per call by aggregate_rows: choosing it per row (SpmmTwin::reduce / gcn) measured up to 2x the time
/// of a Cora-sized int8 aggregation at 7 or 16 columns, the compiler no longer inlining the row's work into
/// the loop. Each mode has its own loop for the same reason: one loop over all modes (a mode test per row)
/// measured AVX2 int8 GCN at 16 columns 45 -> 65 us (Cora-sized, BM_Aggregate).
template <int kUsed, bool kHalf, class V, class Twin>
__attribute__((always_inline)) inline void aggregate_shaped(Twin& twin, const CsrGraph& graph,
                                                            AggregateMode mode, Rescale rq,
                                                            int32_t self_weight, const int32_t* norm_q15,
                                                            int32_t row_begin, int32_t row_end) {
  // Every mode but kMean rescales all rows alike (aggregate_row_rescale ignores the count).
  const MeanRescale common = twins::aggregate_row_rescale(mode, rq, 0);
  const auto neighbours = [&graph](int32_t node) {
    const int32_t first = graph.row_ptr[node];
    return SourceRows{graph.col_idx + first, 0, graph.row_ptr[node + 1] - first};
  };
  if (mode == AggregateMode::kGcn) {
    const PairRequant<V> fixed = twin.pair_requant(common);
    for (int32_t node = row_begin; node < row_end; ++node) {
      twin.template gcn_tiles<kUsed, kHalf>(neighbours(node), node, norm_q15, fixed, node);
    }
  } else if (mode == AggregateMode::kMean) {
    // The only mode whose rescale varies by row (with the count).
    for (int32_t node = row_begin; node < row_end; ++node) {
      const SourceRows src = neighbours(node);
      twin.template reduce_tiles<kUsed, kHalf>(
          mode, src, node, 0, twin.pair_requant(twins::aggregate_row_rescale(mode, rq, src.count)), node);
    }
  } else {
    const PairRequant<V> fixed = twin.pair_requant(common);
    for (int32_t node = row_begin; node < row_end; ++node) {
      twin.template reduce_tiles<kUsed, kHalf>(mode, neighbours(node), node, self_weight, fixed, node);
    }
  }
}

template <class V, int kInBits, int kOutBits, bool kBias, bool kPrefetch>
void aggregate_rows(const CsrGraph& graph, AggregateMode mode, QActivationConst in, int32_t cols, Rescale rq,
                    int32_t self_weight_q16, const int32_t* norm_q15, const int32_t* bias, bool relu,
                    QActivation out, int32_t row_begin, int32_t row_end) {
  using Twin = SpmmTwin<V, kInBits, kOutBits, kBias, kPrefetch>;
  constexpr int kL = V::kLanes;
  Twin twin(in.data, in.zero_point, cols, out.data, out.zero_point, bias, relu);
  const int32_t self_weight = mode == AggregateMode::kSum ? self_weight_q16 : 0;
  if constexpr (kPrefetch) twin.prefetch_until(graph.col_idx + graph.row_ptr[row_end]);
  if constexpr (kInBits == 4) {
    // Every mode but kMean rescales all rows alike (aggregate_row_rescale ignores the count).
    const PairRequant<V> fixed = twin.pair_requant(twins::aggregate_row_rescale(mode, rq, 0));
    // int4 rows keep one loop choosing the tile shape per row (SpmmTwin::reduce / gcn): aggregate_shaped's
    // loops measured AVX-512 int4 sum / max at 16 columns 17-21 -> 30-35 us (BM_Aggregate), the compiler
    // inlining differently, and the int4 shapes (two, by mode) gain nothing from a choice per call.
    for (int32_t node = row_begin; node < row_end; ++node) {
      const int32_t first = graph.row_ptr[node];
      const SourceRows src{graph.col_idx + first, 0, graph.row_ptr[node + 1] - first};
      if (mode == AggregateMode::kGcn) {
        twin.gcn(src, node, norm_q15, fixed, node);
      } else if (mode == AggregateMode::kMean) {
        twin.reduce(mode, src, node, 0, twin.pair_requant(twins::aggregate_row_rescale(mode, rq, src.count)),
                    node);
      } else {
        twin.reduce(mode, src, node, self_weight, fixed, node);
      }
    }
  } else {
    if constexpr (!kBias && !kPrefetch && kOutBits == 8 && HasWideSums<V>::value) {
      // Wide int8 rows summed with self weight 0 or 1.0: the loop of aggregate-wide.h (why: there).
      if (mode == AggregateMode::kSum && cols > 2 * kL &&
          (self_weight == 0 || self_weight == Twin::kSelfWeightOne)) {
        const PairRequant<V> fixed = twin.pair_requant(twins::aggregate_row_rescale(mode, rq, 0));
        if (fixed.high) {
          const auto rest = [&](int32_t node) {
            const int32_t first = graph.row_ptr[node];
            const SourceRows src{graph.col_idx + first, 0, graph.row_ptr[node + 1] - first};
            twin.template reduce_tiles<Twin::kVecs>(mode, src, node, self_weight, fixed, node);
          };
          WideInt8Sum<V> wide(static_cast<const uint8_t*>(in.data), in.zero_point, cols,
                              static_cast<uint8_t*>(out.data),
                              relu && out.zero_point > Twin::kOutMin ? out.zero_point : Twin::kOutMin);
          if (self_weight != 0) {
            wide.template run<true>(graph, fixed, row_begin, row_end, rest);
          } else {
            wide.template run<false>(graph, fixed, row_begin, row_end, rest);
          }
          return;
        }
      }
    }
    const auto run = [&](auto used, auto half) __attribute__((always_inline)) {
      aggregate_shaped<decltype(used)::value, decltype(half)::value, V>(twin, graph, mode, rq, self_weight,
                                                                        norm_q15, row_begin, row_end);
    };
    using std::integral_constant;
    using Half = integral_constant<bool, true>;
    using Full = integral_constant<bool, false>;
    // Narrow int8 rows (a transform-first layer's messages: Cora's 16 and 7 columns) fill one or two
    // vectors, or half of one: a fixed count, so no per-neighbour tests of empty vectors, and rows of at most
    // kLanes / 2 requantize one int64 vector instead of two.
    if (2 * cols <= kL) {
      run(integral_constant<int, 1>{}, Half{});
    } else if (cols <= kL) {
      run(integral_constant<int, 1>{}, Full{});
    } else if (cols <= 2 * kL) {
      run(integral_constant<int, 2>{}, Full{});
    } else {
      run(integral_constant<int, Twin::kVecs>{}, Full{});
    }
  }
}

template <class V, int kInBits, int kOutBits>
void pool_rows(const int32_t* graph_ptr, AggregateMode mode, QActivationConst in, int32_t cols, Rescale rq,
               QActivation out, int32_t graph_begin, int32_t graph_end) {
  SpmmTwin<V, kInBits, kOutBits> twin(in.data, in.zero_point, cols, out.data, out.zero_point);
  for (int32_t graph = graph_begin; graph < graph_end; ++graph) {
    const SourceRows src{nullptr, graph_ptr[graph], graph_ptr[graph + 1] - graph_ptr[graph]};
    // An empty graph pools to real 0 in every mode (for kSum, zo + rescale(0) is zo as well).
    const AggregateMode reduce_mode = src.count == 0 ? AggregateMode::kMax : mode;
    twin.pool(reduce_mode, src, twins::aggregate_row_rescale(mode, rq, src.count), graph);
  }
}

/// Entry points of one input width: the output width is a run-time property of the layer. kPrefetch: the
/// prefetching loops, compiled in files of their own (x<bits>-aggregate-prefetch-<isa>.cc), since in one file
/// with the others the compiler inlined differently into the loops without prefetch too (measured in the
/// objects' function sizes), which then were no longer the code they were before the prefetch.
template <class V, int kInBits, bool kPrefetch>
void aggregate_twin(const CsrGraph& graph, const AggregateParams& params, QActivationConst in, int32_t cols,
                    QActivation out, int32_t row_begin, int32_t row_end) {
  const bool bias = params.bias != nullptr;
  if (out.bits == 4) {
    (bias ? aggregate_rows<V, kInBits, 4, true, kPrefetch>
          : aggregate_rows<V, kInBits, 4, false, kPrefetch>)(graph, params.mode, in, cols, params.rq,
                                                             params.self_weight_q16, params.norm_q15,
                                                             params.bias, params.relu, out, row_begin,
                                                             row_end);
  } else {
    (bias ? aggregate_rows<V, kInBits, 8, true, kPrefetch>
          : aggregate_rows<V, kInBits, 8, false, kPrefetch>)(graph, params.mode, in, cols, params.rq,
                                                             params.self_weight_q16, params.norm_q15,
                                                             params.bias, params.relu, out, row_begin,
                                                             row_end);
  }
}

/// Whether a call runs the prefetching loops: by the size of the whole input (not of the call's rows), so
/// every row split of a graph runs alike.
inline bool prefetch_gathers(const CsrGraph& graph, int32_t cols, int in_bits) {
  const size_t row_bytes = in_bits == 8 ? static_cast<size_t>(cols) : (static_cast<size_t>(cols) + 1) / 2;
  return twins::aggregate_prefetches(static_cast<size_t>(graph.num_nodes) * row_bytes);
}

template <class V, int kInBits>
void pool_twin(const int32_t* graph_ptr, AggregateMode mode, QActivationConst in, int32_t cols, Rescale rq,
               QActivation out, int32_t graph_begin, int32_t graph_end) {
  if (out.bits == 4) {
    pool_rows<V, kInBits, 4>(graph_ptr, mode, in, cols, rq, out, graph_begin, graph_end);
  } else {
    pool_rows<V, kInBits, 8>(graph_ptr, mode, in, cols, rq, out, graph_begin, graph_end);
  }
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_AGGREGATE_AGGREGATE_BODY_H_
