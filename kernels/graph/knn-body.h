// The ONE body of the kNN-graph twins (knn_graph), written against a vector-traits type V (kernels/simd/).
// Include after the traits, from a file compiled with the ISA's flags. Every distance is the exact integer
// the reference forms, and the selection rule is the reference's, so the neighbours are the same indices in
// the same order (docs/quantization.md, "kNN graph").
//
// Per segment (one image) of n nodes:
//   1. pack: every node's features as 32-bit words of 4 int8 (int4 rows sign-extended, a short last group
//      zero-filled), transposed to [cols / 4][n rounded up to V::kLanes], so a vector holds one word of
//      kLanes consecutive candidates and a row's own words are the broadcasts (a small GEMM, X X^T);
//   2. norms: N_j = sum_c x_jc^2 and the column term C_j = N_j + 2 kKnnOffset sum_c x_jc per candidate;
//   3. dot products, kKnnTileRows rows x kKnnTileVectors candidate vectors per tile: the traits' dot gives
//      P'_ij = sum_c (x_ic + kKnnOffset) x_jc (VNNI's unsigned operand on AVX-512), and then
//        d(i, j) = N_i + C_j - 2 P'_ij = N_i + N_j - 2 x_i . x_j = sum_c (x_ic - x_jc)^2
//      in wrapping int32 lanes, exact because the true value lies in [0, 2^31) (cols <= kKnnMaxCols);
//   4. selection per row: a bound T that at least k * dilation candidates meet (the (k d)-th smallest of
//      per-lane minima over chunks of the row, found by counting), the candidates with d <= T gathered in
//      index order by lane compression (about 1.4 k d of them on random features), and those ordered by
//      (d, j): by counting when they fit two vectors, else through a sorted buffer of (d, j) keys, as the
//      reference's candidates go through its buffer.
// Scratch comes from the caller (knn_graph_scratch_bytes); nothing is allocated.
#ifndef QGNN_KERNELS_GRAPH_KNN_BODY_H_
#define QGNN_KERNELS_GRAPH_KNN_BODY_H_

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

/// Rows of one distance tile: a candidate vector loaded for a feature group serves this many rows
/// (knn_graph_scratch_bytes counts as many rows of distances and query words).
constexpr int32_t kKnnTileRows = 4;

/// Four packed int4 elements (two bytes, element 0 in the low nibble) as a word of four int8, byte f =
/// element f. Per byte, v = nibble ^ 8 in [0, 15] and the element is v - 8: (v | 0x80) - 8 stays in
/// [120, 135], so no byte borrows from the next, and flipping bit 7 back gives v - 8 modulo 256.
inline uint32_t knn_int4_word(uint32_t two_bytes) {
  const uint32_t nibbles =
      (two_bytes & 0xFu) | (two_bytes & 0xF0u) << 4 | (two_bytes & 0xF00u) << 8 | (two_bytes & 0xF000u) << 12;
  return (((nibbles ^ 0x08080808u) | 0x80808080u) - 0x08080808u) ^ 0x80808080u;
}

/// Element `index` of a packed int4 row, sign-extended.
inline int8_t knn_nibble(const uint8_t* row, int32_t index) {
  const int32_t v = (row[index >> 1] >> ((index & 1) * 4)) & 0xF;
  return static_cast<int8_t>(v >= 8 ? v - 16 : v);
}

/// Set bits of a lane mask: POPCNT on x86 (-mavx2 implies it in GCC, and every AVX2 CPU has it), CNT on
/// arm64.
inline int32_t knn_popcount(uint32_t mask) { return __builtin_popcount(mask); }

/// Lane numbers, the candidates of a vector relative to its first.
alignas(64) constexpr int32_t kKnnIota[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

template <class V>
class KnnTwin {
  using I32 = typename V::I32;
  using KnnAcc = typename V::KnnAcc;
  using KnnW = typename V::KnnW;
  using KnnX = typename V::KnnX;
  static constexpr int32_t kL = V::kLanes;
  static constexpr int32_t kQ = V::kKnnQueryWords;

 public:
  KnnTwin(const KnnGraphParams& p, QActivationConst in, int32_t cols)
      : data_(static_cast<const uint8_t*>(in.data)),
        bits_(in.bits),
        cols_(cols),
        row_bytes_(in.bits == 4 ? (static_cast<size_t>(cols) + 1) / 2 : static_cast<size_t>(cols)),
        groups_((cols + 3) / 4),
        k_(p.k),
        dilation_(p.dilation),
        kd_(p.k * p.dilation) {}

  /// Lays out the scratch for segments of up to `max_nodes` nodes; false if it does not fit (it always
  /// does in knn_graph_scratch_bytes(max_nodes, ...) bytes, which bounds every ISA's layout).
  bool carve(int32_t max_nodes, void* scratch, size_t bytes) {
    max_stride_ = round_up(max_nodes, kL);
    const size_t stride = static_cast<size_t>(max_stride_), groups = static_cast<size_t>(groups_);
    uint8_t* const begin = static_cast<uint8_t*>(scratch);
    uint8_t* cursor = begin;
    auto take = [&cursor](size_t size) {
      cursor = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(cursor) + 63u) & ~uintptr_t{63});
      uint8_t* region = cursor;
      cursor += size;
      return region;
    };
    packed_ = reinterpret_cast<uint32_t*>(take(4 * groups * stride));
    norm_ = reinterpret_cast<int32_t*>(take(4 * stride));
    column_ = reinterpret_cast<int32_t*>(take(4 * stride));
    query_ = reinterpret_cast<uint32_t*>(take(4 * kKnnTileRows * groups * kQ));
    dist_ = reinterpret_cast<int32_t*>(take(4 * kKnnTileRows * stride));
    minima_ = reinterpret_cast<int32_t*>(take(4 * stride));
    list_ = reinterpret_cast<int32_t*>(take(4 * stride));
    best_ = reinterpret_cast<uint64_t*>(take(8 * (static_cast<size_t>(kd_) + 1)));
    return static_cast<size_t>(cursor - begin) <= bytes;
  }

  /// Rows [row_begin, row_end) of the segment [seg_begin, seg_end) (global node ids).
  void segment(int32_t seg_begin, int32_t seg_end, int32_t row_begin, int32_t row_end, int32_t* col_idx) {
    n_ = seg_end - seg_begin;
    stride_ = round_up(n_, kL);
    if (bits_ == 4) {
      pack<4>(seg_begin);
    } else {
      pack<8>(seg_begin);
    }
    norms();
    const int32_t vectors = stride_ / kL;
    for (int32_t r0 = row_begin - seg_begin; r0 < row_end - seg_begin; r0 += kKnnTileRows) {
      const int32_t rows = row_end - seg_begin - r0 < kKnnTileRows ? row_end - seg_begin - r0 : kKnnTileRows;
      for (int32_t g = 0; g < groups_; ++g) {
        for (int32_t t = 0; t < rows; ++t) {
          V::knn_query(packed_[static_cast<size_t>(g) * stride_ + r0 + t],
                       query_ + (static_cast<size_t>(g) * kKnnTileRows + t) * kQ);
        }
      }
      if (rows == kKnnTileRows) {
        dots<kKnnTileRows>(query_, vectors, dist_);
      } else {
        for (int32_t t = 0; t < rows; ++t) {
          dots<1>(query_ + t * kQ, vectors, dist_ + static_cast<size_t>(t) * max_stride_);
        }
      }
      for (int32_t t = 0; t < rows; ++t) {
        select(dist_ + static_cast<size_t>(t) * max_stride_, norm_[r0 + t],
               col_idx + (static_cast<size_t>(seg_begin) + r0 + t) * static_cast<size_t>(k_), seg_begin);
      }
    }
  }

 private:
  static int32_t round_up(int32_t value, int32_t multiple) {
    return (value + multiple - 1) / multiple * multiple;
  }

  /// The segment's rows into packed_ ([groups][stride] words), padding candidates and features with 0.
  template <int kBits>
  void pack(int32_t seg_begin) {
    const int32_t full = cols_ / 4;  // groups of 4 whole features
    for (int32_t j = 0; j < n_; ++j) {
      const uint8_t* row = data_ + (static_cast<size_t>(seg_begin) + j) * row_bytes_;
      uint32_t* out = packed_ + j;
      for (int32_t g = 0; g < full; ++g) {
        uint32_t word;
        if (kBits == 8) {
          std::memcpy(&word, row + 4 * g, 4);
        } else {
          word =
              knn_int4_word(static_cast<uint32_t>(row[2 * g]) | static_cast<uint32_t>(row[2 * g + 1]) << 8);
        }
        out[static_cast<size_t>(g) * stride_] = word;
      }
      if (full < groups_) {
        uint32_t word = 0;
        for (int32_t c = 4 * full; c < cols_; ++c) {
          const int8_t x = kBits == 8 ? static_cast<int8_t>(row[c]) : knn_nibble(row, c);
          word |= static_cast<uint32_t>(static_cast<uint8_t>(x)) << (8 * (c - 4 * full));
        }
        out[static_cast<size_t>(full) * stride_] = word;
      }
    }
    for (int32_t g = 0; g < groups_; ++g) {
      for (int32_t j = n_; j < stride_; ++j) packed_[static_cast<size_t>(g) * stride_ + j] = 0;
    }
  }

  /// norm_[j] = sum_c x_jc^2 and column_[j] = norm_[j] + 2 kKnnOffset sum_c x_jc for every packed candidate:
  /// norms <= 128^2 2^15 = 2^29 and |2 * 128 * sums| <= 2^30, so the column terms fit int32 too.
  void norms() {
    for (int32_t v = 0; v < stride_; v += kL) {
      KnnAcc squares = V::knn_acc_zero();
      I32 sums = V::zero();
      for (int32_t g = 0; g < groups_; ++g) {
        const KnnW w = V::knn_load(packed_ + static_cast<size_t>(g) * stride_ + v);
        squares = V::knn_square(squares, w);
        if constexpr (V::kKnnOffset != 0) sums = V::knn_sum(sums, w);
      }
      const I32 norm = V::knn_finish(squares);
      V::store_acc(norm_ + v, norm);
      if constexpr (V::kKnnOffset != 0) {
        V::store_acc(column_ + v, V::add(norm, V::mullo(sums, V::set1(2 * V::kKnnOffset))));
      } else {
        V::store_acc(column_ + v, norm);
      }
    }
  }

  /// The dot products P' of kR rows with every candidate, into dist (rows max_stride_ apart). `query` holds
  /// the rows' operands of group g at (g * kKnnTileRows + r) * kQ.
  template <int kR>
  void dots(const uint32_t* query, int32_t vectors, int32_t* dist) {
    constexpr int32_t kJ = V::kKnnTileVectors;
    int32_t v = 0;
    for (; v + kJ <= vectors; v += kJ) tile<kR, kJ>(query, v, dist);
    for (; v < vectors; ++v) tile<kR, 1>(query, v, dist);
  }

  template <int kR, int kV>
  void tile(const uint32_t* query, int32_t v0, int32_t* dist) {
    // Every loop over the tile is unrolled completely, so the accumulators stay in registers (GCC 12 keeps
    // an array it cannot fully unroll on the stack and copies every accumulator around each dot product).
    KnnAcc acc[kR][kV];
#pragma GCC unroll 4
    for (int r = 0; r < kR; ++r) {
#pragma GCC unroll 4
      for (int u = 0; u < kV; ++u) acc[r][u] = V::knn_acc_zero();
    }
    const uint32_t* candidates = packed_ + static_cast<size_t>(v0) * kL;
    for (int32_t g = 0; g < groups_; ++g) {
      KnnW w[kV];
#pragma GCC unroll 4
      for (int u = 0; u < kV; ++u) w[u] = V::knn_load(candidates + static_cast<size_t>(g) * stride_ + u * kL);
#pragma GCC unroll 4
      for (int r = 0; r < kR; ++r) {
        const KnnX x = V::knn_bcast(query + (static_cast<size_t>(g) * kKnnTileRows + r) * kQ);
#pragma GCC unroll 4
        for (int u = 0; u < kV; ++u) acc[r][u] = V::knn_dot(acc[r][u], x, w[u]);
      }
    }
    // The raw dot products: select() turns them into distances. Forming the distances here, on the
    // accumulators, made GCC 12 keep a second copy of every accumulator in the loop above (a move per dot).
#pragma GCC unroll 4
    for (int r = 0; r < kR; ++r) {
#pragma GCC unroll 4
      for (int u = 0; u < kV; ++u) {
        V::store_acc(dist + static_cast<size_t>(r) * max_stride_ + (v0 + u) * kL, V::knn_finish(acc[r][u]));
      }
    }
  }

  /// One row's k neighbours from its dot products (stride_ entries, turned into distances in place).
  void select(int32_t* dist, int32_t norm_i, int32_t* out, int32_t seg_begin) {
    const int32_t vectors = stride_ / kL;
    const I32 norm = V::set1(norm_i);
    // Distances d = N_i + C_j - 2 P' (wrapping int32, exact), and a bound T: lane l of chunk q (a run of
    // vectors) has minimum m_ql, and the (k d)-th smallest of them, T, has k d minima <= T, distinct
    // candidates (or T = INT32_MAX: every candidate), so the (k d)-th smallest distance is <= T and no
    // candidate with d > T is among the k d nearest. At least 1.5 k d minima (whole vectors of them) leave
    // about 1.4 k d candidates under T on random features (2 k d: 1.15 k d, but counting T costs the square
    // of the minima's vectors); a short row has one chunk per vector. Padding candidates get INT32_MAX,
    // above every distance (< 2^31 - 1).
    int32_t chunks = (3 * kd_ + 2 * kL - 1) / (2 * kL);
    if (chunks > vectors) chunks = vectors;
    for (int32_t q = 0; q < chunks; ++q) {
      const int32_t first = q * vectors / chunks, last = (q + 1) * vectors / chunks;
      I32 lowest = V::set1(INT32_MAX);
      for (int32_t v = first; v < last; ++v) {
        const I32 dot = V::load_i32(dist + v * kL);
        I32 d = V::sub(V::add(norm, V::load_i32(column_ + v * kL)), V::add(dot, dot));
        V::store_acc(dist + v * kL, d);
        if (v == vectors - 1 && n_ < stride_) {
          for (int32_t j = n_; j < stride_; ++j) dist[j] = INT32_MAX;
          d = V::load_i32(dist + v * kL);
        }
        lowest = V::min(lowest, d);
      }
      V::store_acc(minima_ + q * kL, lowest);
    }
    // T = the smallest minimum that at least k d minima do not exceed, counted without branches (a
    // quickselect's mispredictions cost more than these compares).
    int32_t bound = INT32_MAX;
    for (int32_t m = 0; m < chunks * kL; ++m) {
      const I32 value = V::set1(minima_[m]);
      int32_t count = 0;
      for (int32_t q = 0; q < chunks; ++q)
        count += knn_popcount(V::knn_le_mask(V::load_i32(minima_ + q * kL), value));
      bound = count >= kd_ && minima_[m] < bound ? minima_[m] : bound;
    }
    // The candidates with d <= T in ascending index order, gathered without a branch per vector: indices
    // in list_, distances in minima_ (whose minima are spent).
    int32_t* const near = minima_;
    const I32 limit = V::set1(bound), iota = V::load_i32(kKnnIota);
    int32_t survivors = 0;
    for (int32_t v = 0; v < vectors; ++v) {
      const I32 d = V::load_i32(dist + v * kL);
      const uint32_t mask = V::knn_le_mask(d, limit);
      V::knn_compress(list_ + survivors, V::add(iota, V::set1(v * kL)), mask);
      V::knn_compress(near + survivors, d, mask);
      survivors += knn_popcount(mask);
    }
    // Padding lanes pass only when T = INT32_MAX; they come last and are dropped.
    if (survivors > n_) survivors = n_;
    if (survivors <= kRankedSurvivors) {
      rank(near, survivors, out, seg_begin);
    } else {
      insert(near, survivors, out, seg_begin);
    }
  }

  /// Survivors at most for rank(): two vectors, held in registers.
  static constexpr int32_t kRankedSurvivors = 2 * kL;

  /// The survivors in (d, j) order by counting: survivor a's position is the number of survivors closer
  /// than it, or as close and earlier in the list (a smaller index). No branch depends on the distances,
  /// which for the dozen survivors of a typical row is cheaper than insert()'s mispredicted shifts.
  void rank(const int32_t* near, int32_t survivors, int32_t* out, int32_t seg_begin) {
    constexpr uint32_t kAll = kL >= 32 ? ~0u : (1u << kL) - 1u;
    auto lanes_below = [](int32_t count) {  // the first `count` lanes of a vector, count in [0, kL]
      return count >= kL ? kAll : count <= 0 ? 0u : (1u << count) - 1u;
    };
    // Lanes past the survivors hold whatever the compression left there: masked out of every count.
    const I32 d0 = V::load_i32(near), d1 = survivors > kL ? V::load_i32(near + kL) : d0;
    const uint32_t valid0 = lanes_below(survivors), valid1 = lanes_below(survivors - kL);
    uint64_t* const slot = best_;  // k d + 1 entries: slot k d takes every survivor past the first k d
    for (int32_t a = 0; a < survivors; ++a) {
      const I32 x = V::set1(near[a]);
      // Closer (d_b < d_a, i.e. not d_a <= d_b), or as close and earlier (d_b <= d_a, b < a).
      const uint32_t closer0 = ~V::knn_le_mask(x, d0) & valid0, closer1 = ~V::knn_le_mask(x, d1) & valid1;
      const uint32_t tied0 = V::knn_le_mask(d0, x) & lanes_below(a),
                     tied1 = V::knn_le_mask(d1, x) & lanes_below(a - kL);
      const int32_t position = knn_popcount(closer0 | tied0) + knn_popcount(closer1 | tied1);
      slot[position < kd_ ? position : kd_] = static_cast<uint32_t>(list_[a]);
    }
    for (int32_t t = 0; t < k_; ++t) {
      out[t] = seg_begin + static_cast<int32_t>(slot[static_cast<size_t>(t) * dilation_]);
    }
  }

  /// The survivors through a sorted buffer of the k d smallest (d, j) keys (d << 32 | j), as the reference
  /// does with every candidate: for many survivors (ties), where most are rejected by one compare.
  void insert(const int32_t* near, int32_t survivors, int32_t* out, int32_t seg_begin) {
    for (int32_t t = 0; t < kd_; ++t) best_[t] = ~uint64_t{0};  // above every key
    for (int32_t s = 0; s < survivors; ++s) {
      const uint64_t key =
          static_cast<uint64_t>(static_cast<uint32_t>(near[s])) << 32 | static_cast<uint32_t>(list_[s]);
      if (key >= best_[kd_ - 1]) continue;
      int32_t slot = kd_ - 1;
      while (slot > 0 && best_[slot - 1] > key) {
        best_[slot] = best_[slot - 1];
        --slot;
      }
      best_[slot] = key;
    }
    for (int32_t t = 0; t < k_; ++t) {
      out[t] =
          seg_begin + static_cast<int32_t>(static_cast<uint32_t>(best_[static_cast<size_t>(t) * dilation_]));
    }
  }

  const uint8_t* data_;
  int bits_;
  int32_t cols_;
  size_t row_bytes_;
  int32_t groups_, k_, dilation_, kd_;
  int32_t max_stride_ = 0;  ///< the scratch's candidates per row (largest segment rounded up to kL)
  int32_t n_ = 0;           ///< nodes of the current segment
  int32_t stride_ = 0;      ///< its candidates per packed group (n_ rounded up to kL)
  uint32_t* packed_ = nullptr;
  int32_t* norm_ = nullptr;
  int32_t* column_ = nullptr;
  uint32_t* query_ = nullptr;
  int32_t* dist_ = nullptr;
  int32_t* minima_ = nullptr;
  int32_t* list_ = nullptr;
  uint64_t* best_ = nullptr;
};

/// knn_graph() twin: the reference's checks and results (reference.h).
template <class V>
KnnStatus knn_graph_twin(const KnnGraphParams& p, QActivationConst in, int32_t cols, int32_t row_begin,
                         int32_t row_end, int32_t* row_ptr, int32_t* col_idx, void* scratch,
                         size_t scratch_bytes) {
  const KnnStatus status =
      knn_graph_check(p, in, cols, row_begin, row_end, row_ptr, col_idx, scratch, scratch_bytes);
  if (status != KnnStatus::kOk || row_begin == row_end) return status;
  // The segments the rows fall in (none is empty: each holds at least k * dilation >= 1 nodes).
  int32_t first = 0;
  while (p.graph_ptr[first + 1] <= row_begin) ++first;
  int32_t last = first;
  while (p.graph_ptr[last + 1] < row_end) ++last;
  int32_t largest = 0;
  for (int32_t g = first; g <= last; ++g) {
    if (p.graph_ptr[g + 1] - p.graph_ptr[g] > largest) largest = p.graph_ptr[g + 1] - p.graph_ptr[g];
  }
  KnnTwin<V> twin(p, in, cols);
  if (!twin.carve(largest, scratch, scratch_bytes)) return KnnStatus::kScratchTooSmall;  // a layout bug
  if (row_begin == 0) row_ptr[0] = 0;
  for (int32_t i = row_begin; i < row_end; ++i) row_ptr[i + 1] = (i + 1) * p.k;
  for (int32_t g = first; g <= last; ++g) {
    const int32_t begin = p.graph_ptr[g] > row_begin ? p.graph_ptr[g] : row_begin;
    const int32_t end = p.graph_ptr[g + 1] < row_end ? p.graph_ptr[g + 1] : row_end;
    twin.segment(p.graph_ptr[g], p.graph_ptr[g + 1], begin, end, col_idx);
  }
  return KnnStatus::kOk;
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_GRAPH_KNN_BODY_H_
