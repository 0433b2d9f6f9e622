// The ONE body of the GAT twins (gat_attention_terms, gat_aggregate), written against a vector-traits type V
// (kernels/simd/). Include after the traits, from a file compiled with the ISA's flags. Every output equals
// the reference's bit for bit: the same int32 / int64 values are formed (docs/quantization.md, "GAT attention
// (kernels)"), only in lanes and in another order of exact integer sums.
//
// gat_aggregate, per destination row, per chunk of nh heads (as many as fit a vector and the accumulator
// tile), works on PAIR VECTORS: lane p of vector v holds source v P + p / nh and head p % nh (P = kL / nh
// sources per vector), so a one-head layer fills every lane with sources and 8 heads of 16 lanes take two
// sources per vector. A row's sources are its in-edges in CSR order, then the self-loop; lanes past them
// repeat the self-loop, which leaves the max unchanged and is masked out of the sums.
//   1. logits: the sources' ids (one partial load of col_idx, permuted into the pair lanes) index a gather
//      of src terms; LeakyReLU picks each lane's (multiplier, shift) by the sign of its term sum;
//   2. the row max per head (a vector max, then the P groups of lanes folded), t = exp_table[emax - e] by a
//      masked gather, S per head in int32 lanes flushed to int64, one int64 division per head;
//   3. per vector the alphas in lanes (t * inv as a 32 x 32 -> 64 multiply: inv < 2^32 by the spec), then per
//      source its message columns, each multiplied by its head's alpha (a permute of the alpha vector by the
//      column's head), summed into an int32 tile of at most kAccCols columns.
// A row of at most kCachedVectors pair vectors keeps its logits, then its exp values, in a stack tile
// between the passes; a longer row recomputes them in each pass, as the reference does, and needs no scratch
// at any degree. The mean over heads folds each chunk's head columns into one tile. Rows whose heads fit one
// chunk run in blocks, each pass over every row of the block, so the rows' dependency chains interleave.
//
// A one-head layer (a GAT's output layer) runs blocks of rows with their EDGES in lanes instead
// (one_head_block): logits, exp values and alphas of all the block's edges in full vectors, each edge's row
// by a row index, the self-loops in vectors of rows, and only the per-row max and sum as scalar loops.
//
// int4 messages (packed rows of ceil(H F / 2) bytes) are unpacked into the same int32 lanes: a chunk whose
// first column is even loads its nibbles with V::load_s4 (every vector of kL columns then starts on a byte);
// one starting on an odd column is unpacked to an int8 tile first. gat_attention_terms still runs the
// reference for int4 (its terms are once per node, the weighted sum once per edge). Outputs of either width.
#ifndef QGNN_KERNELS_ATTENTION_GAT_BODY_H_
#define QGNN_KERNELS_ATTENTION_GAT_BODY_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "qgnn/kernels/reference.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace {

/// clamp(z + rescale(acc, m, e), lo, hi) per int32 lane with a per-lane multiplier m (any int32) and shift
/// e in [1, 62]: the product p of the low dwords is exact in int64, and
///   (p + 2^(e-1)) >> e = ((p >> (e-1)) + 1) >> 1
/// (write p = y 2^(e-1) + r, 0 <= r < 2^(e-1): both sides are floor((y + 1) / 2)), so a variable arithmetic
/// shift and a shift by one replace the rounding constant (NEON has no variable left shift of int64 in the
/// traits). lo / hi are given minus z, so z is added once to the joined (in range) int32 lanes.
template <class V>
typename V::I32 gat_rescale_lanes(typename V::I32 acc, typename V::I32 m, typename V::I32 e,
                                  typename V::I64 lo_minus_z, typename V::I64 hi_minus_z, typename V::I32 z) {
  using I64 = typename V::I64;
  I64 acc_a, acc_b, m_a, m_b, s_a, s_b;
  V::split64(acc, &acc_a, &acc_b);
  V::split64(m, &m_a, &m_b);
  V::split64(V::sub(e, V::set1(1)), &s_a, &s_b);
  // split64 may leave the high dwords unspecified: the shift counts are masked to their low dword.
  const I64 low = V::set1_64(0xFFFFFFFFll), one = V::set1_64(1);
  auto half = [&](I64 a, I64 mult, I64 shift_minus_one) {
    const I64 floored = V::srav64(V::mul_lo32(a, mult), V::and64(shift_minus_one, low));
    return V::min64(V::max64(V::srai64(V::add64(floored, one), 1), lo_minus_z), hi_minus_z);
  };
  return V::add(V::join64(half(acc_a, m_a, s_a), half(acc_b, m_b, s_b)), z);
}

/// -1 in the lanes holding a negative value, else 0: two arithmetic shifts by 16 are one by 32.
template <class V>
typename V::I32 gat_negative_mask(typename V::I32 v) {
  return V::srai16(V::srai16(v));
}

/// Packed int4 load of element `col` of a row, sign-extended (ISA-flagged code may not call numerics.h's
/// inline load_int4).
inline int8_t gat_load_nibble(const uint8_t* row, int32_t col) {
  const int32_t v = (row[col >> 1] >> ((col & 1) * 4)) & 0x0F;
  return static_cast<int8_t>(v >= 8 ? v - 16 : v);
}

/// Packed int4 store of one element (ISA-flagged code may not call numerics.h's inline store_int4).
inline void gat_store_nibble(uint8_t* row, int32_t col, int32_t value) {
  uint8_t& byte = row[col >> 1];
  const uint8_t nibble = static_cast<uint8_t>(value) & 0x0F;
  byte = (col & 1) ? static_cast<uint8_t>((byte & 0x0F) | (nibble << 4)) : static_cast<uint8_t>((byte & 0xF0) | nibble);
}

/// The softmax's inv = S == 0 ? 0 : min((2^47 + S / 2) / S, 2^32 - 1) (S >= 0) through a double division
/// and one correction: num < 2^48 and S < 2^53 are exact doubles and num / S < 2^48, so the rounded quotient
/// is within 2^48 * 2^-52 < 1 of the exact one, its truncation q within one of floor(num / S), and
/// r = num - q S (exact in int64: |q S - num| <= S) says which. A scalar integer division takes several
/// times as long and was a tenth of the kernel on Cora's 8-head layer.
inline int64_t gat_reciprocal(int64_t sum) {
  if (sum <= 0) return 0;
  const int64_t num = (int64_t{1} << 47) + sum / 2;
  int64_t q = static_cast<int64_t>(static_cast<double>(num) / static_cast<double>(sum));
  const int64_t r = num - q * sum;
  if (r < 0) {
    --q;
  } else if (r >= sum) {
    ++q;
  }
  return q > 0xFFFFFFFFll ? 0xFFFFFFFFll : q;
}

template <class V>
void gat_terms_twin(QActivationConst messages, int32_t heads, int32_t head_dim, const int8_t* att_src,
                    const int8_t* att_dst, int32_t* src_terms, int32_t* dst_terms, int32_t row_begin,
                    int32_t row_end) {
  using I32 = typename V::I32;
  constexpr int kL = V::kLanes;
  const size_t cols = static_cast<size_t>(heads) * static_cast<size_t>(head_dim);
  const I32 zm = V::set1(messages.zero_point);
  const auto* as = reinterpret_cast<const uint8_t*>(att_src);
  const auto* ad = reinterpret_cast<const uint8_t*>(att_dst);
  for (int32_t node = row_begin; node < row_end; ++node) {
    const uint8_t* row = static_cast<const uint8_t*>(messages.data) + static_cast<size_t>(node) * cols;
    for (int32_t h = 0; h < heads; ++h) {
      I32 s = V::zero(), d = V::zero();
      const size_t base = static_cast<size_t>(h) * static_cast<size_t>(head_dim);
      for (int32_t f = 0; f < head_dim; f += kL) {
        const int n = head_dim - f < kL ? head_dim - f : kL;
        const size_t c = base + static_cast<size_t>(f);
        // Lanes past n: the weights load as 0, so (0 - zm) * 0 adds nothing.
        const I32 x = V::sub(n == kL ? V::load_s8(row + c) : V::load_s8_partial(row + c, n), zm);
        s = V::add(s, V::mullo(x, n == kL ? V::load_s8(as + c) : V::load_s8_partial(as + c, n)));
        d = V::add(d, V::mullo(x, n == kL ? V::load_s8(ad + c) : V::load_s8_partial(ad + c, n)));
      }
      const size_t slot = static_cast<size_t>(node) * static_cast<size_t>(heads) + static_cast<size_t>(h);
      src_terms[slot] = V::hsum(s);
      dst_terms[slot] = V::hsum(d);
    }
  }
}

template <class V>
class GatTwin {
  using I32 = typename V::I32;
  using I64 = typename V::I64;
  static constexpr int kL = V::kLanes;
  /// int32 accumulator tile: 2 KiB of stack. A chunk's heads are chosen so their columns fit it.
  static constexpr int32_t kAccCols = 512;
  /// t <= 65535 (any uint16 table): 32767 vectors of terms fit an int32 lane.
  static constexpr int32_t kSumFlushVectors = 32767;
  /// Vectors of (source, head) pairs per row whose values the passes keep (8 KiB of stack at 16 lanes): every
  /// row of up to 128 P sources (P = sources per vector), all but a few hub rows of real graphs.
  static constexpr int32_t kCachedVectors = 128;

  /// Where each lane of a pair vector reads: source index within the vector and head within the chunk.
  struct Layout {
    int32_t heads = 0;    ///< nh, the chunk's heads
    int32_t sources = 0;  ///< P = kL / nh sources per vector
    I32 source, head;     ///< lane p: p / nh and p % nh (lanes past P nh: the last source, head 0)
    /// Rotations of the P nh used lanes by nh 2^i lanes (P a power of two: log2 P of them, which fold the P
    /// groups of lanes in a tree) or by nh alone (otherwise: P - 1 steps of it); lanes past P nh stay.
    I32 rotate[4];
    int32_t steps = 0;  ///< rotations in the fold
    bool tree = false;  ///< P is a power of two
  };

  /// One destination row and one chunk of heads, with the softmax's per-row values in pair lanes.
  struct Chunk {
    int32_t node, e0, deg, h0, sources, vectors;
    const Layout* layout;
    I32 terms;  ///< h0 + the lane's head: src_terms column of the lane
    I32 dst;    ///< dst terms of the lanes' heads
    I32 emax;   ///< the row max of the lanes' heads
    I64 inv_a, inv_b;  ///< inv (< 2^32) split as the alpha multiply reads it
    /// The row's logits, then exp values t, one vector per pair vector; nullptr for a row too long to
    /// cache (it recomputes them).
    int32_t* cache;
    bool cached() const { return cache != nullptr; }
  };

 public:
  GatTwin(const CsrGraph& graph, const GatParams& p, QActivationConst messages, QActivation out)
      : graph_(graph),
        p_(p),
        messages_(static_cast<const uint8_t*>(messages.data)),
        zm_(V::set1(messages.zero_point)),
        cols_(static_cast<size_t>(p.heads) * static_cast<size_t>(p.head_dim)),
        in_bits_(messages.bits),
        in_row_bytes_(messages.bits == 4 ? (cols_ + 1) / 2 : cols_),
        out_(static_cast<uint8_t*>(out.data)),
        out_bits_(out.bits),
        out_cols_(p.concat ? p.heads * p.head_dim : p.head_dim),
        zo_(out.zero_point),
        m_pos_(V::set1(p.logit_pos.multiplier)),
        e_pos_(V::set1(p.logit_pos.shift)),
        // Wrapping differences: pos + mask * (pos - neg) is neg where mask = -1, exactly.
        m_diff_(V::set1(static_cast<int32_t>(static_cast<uint32_t>(p.logit_pos.multiplier) -
                                             static_cast<uint32_t>(p.logit_neg.multiplier)))),
        e_diff_(V::set1(p.logit_pos.shift - p.logit_neg.shift)),
        ze_(V::set1(p.logit_zero_point)),
        // 4-bit logits clamp to [-8, 7] (a narrower range of the same lanes; docs/quantization.md).
        logit_lo_(V::set1_64((p.logit_bits == 4 ? -8 : -128) - int64_t{p.logit_zero_point})),
        logit_hi_(V::set1_64((p.logit_bits == 4 ? 7 : 127) - int64_t{p.logit_zero_point})) {
    for (int32_t k = 0; k < kGatExpTableSize; ++k) table_[k] = p.exp_table[k];
    std::memset(acc_, 0, sizeof acc_);  // the mean's fold reads a vector past a tile's last column
    const int32_t qmin = out.bits == 4 ? -8 : -128, qmax = out.bits == 4 ? 7 : 127;
    const int32_t lo = p.relu && zo_ > qmin ? zo_ : qmin;
    out_lo_ = V::set1_64(int64_t{lo} - zo_);
    out_hi_ = V::set1_64(int64_t{qmax} - zo_);
    const int32_t F = p.head_dim, H = p.heads;
    const int32_t fit = F < kAccCols ? kAccCols / F : 1;
    heads_per_chunk_ = H < kL ? H : kL;
    if (heads_per_chunk_ > fit) heads_per_chunk_ = fit;
    full_ = layout_for(heads_per_chunk_);
    last_ = layout_for(H % heads_per_chunk_ != 0 ? H % heads_per_chunk_ : heads_per_chunk_);
    one_chunk_ = H <= heads_per_chunk_ && (p.concat || F <= kAccCols);
    // Column k of a chunk (k < nh F <= kAccCols when nh > 1) belongs to its head k / F.
    for (int32_t k = 0; k < kAccCols + kL; ++k) {
      const int32_t h = k / F;
      column_head_[k] = h < heads_per_chunk_ ? h : heads_per_chunk_ - 1;
    }
  }

  void rows(int32_t row_begin, int32_t row_end) {
    for (int32_t node = row_begin; node < row_end;) {
      if (!one_chunk_) {  // more heads than one chunk holds: row by row
        one_row(node++);
        continue;
      }
      if (p_.heads == 1) {
        // One head: the edges of a block of rows in lanes (see one_head_block), rows that fit it.
        int32_t end = node;
        while (end < row_end && end - node < kOneHeadRows &&
               graph_.row_ptr[end + 1] - graph_.row_ptr[node] <= kOneHeadEdges) {
          ++end;
        }
        if (end == node) {  // a row of more edges than the block holds: pair vectors, recomputing
          one_row(node++);
        } else {
          one_head_block(node, end);
          node = end;
        }
        continue;
      }
      // A block of rows whose pair vectors fit cache_ together, each pass run over all of them: the passes of
      // one row form a long dependency chain (gathers, 64-bit rescales, a division), so rows interleave. A
      // row with more vectors than cache_ holds runs alone, recomputing.
      int32_t count = 0, used = 0;
      while (node + count < row_end && count < kBlockRows) {
        const int32_t row = node + count;
        const int32_t vectors = vectors_of(row, full_);
        if (count > 0 && used + vectors > kCachedVectors) break;
        const bool cached = vectors <= kCachedVectors;
        block_[count++] = chunk(row, 0, cached ? cache_ + static_cast<size_t>(used) * kL : nullptr);
        if (!cached) break;
        used += vectors;
      }
      for (int32_t i = 0; i < count; ++i) softmax_max(block_[i]);
      for (int32_t i = 0; i < count; ++i) softmax_sum(block_[i]);
      for (int32_t i = 0; i < count; ++i) {
        if (p_.concat) {
          concat_chunk(block_[i]);
        } else {
          mean_begin(block_[i].node, 0, p_.head_dim);
          mean_chunk(block_[i], 0, p_.head_dim);
          store(block_[i].node, mean_, 0, p_.head_dim);
        }
      }
      node += count;
    }
  }

 private:
  /// Rows of a block (kBlockRows Chunks of a few vectors each: ~24 KiB of stack at 16 lanes).
  static constexpr int32_t kBlockRows = 64;

  /// One-head blocks: rows, and CSR edges (the buffers' int32 slots, less a vector of slack).
  static constexpr int32_t kOneHeadRows = 256;
  static constexpr int32_t kOneHeadEdges = kCachedVectors * kL - kL;

  /// A one-head layer's rows [r0, r1): a row holds few sources (Cora: 4.9 on average), so pair vectors of
  /// one head leave most lanes empty and a row's fixed costs (folds, a reciprocal, gathers) dominate. Here
  /// every step runs in full vectors over all the block's edges (their sources by col_idx, their rows by
  /// row_of_) or all its self-loops (rows in lanes, contiguous terms), and only the per-row max and sum are
  /// scalar loops, one compare or add per source. The integers are the reference's: the same logits, max,
  /// table entries, S, reciprocal and alphas, and the weighted sum in another order of exact int32 adds.
  void one_head_block(int32_t r0, int32_t r1) {
    const int32_t e0 = graph_.row_ptr[r0], edges = graph_.row_ptr[r1] - e0, rows = r1 - r0;
    const int32_t* col = graph_.col_idx + e0;
    int32_t* edge = cache_;  // per edge: the logit, then t, then alpha
    for (int32_t r = 0; r < rows; ++r) {
      for (int32_t e = graph_.row_ptr[r0 + r] - e0, end = graph_.row_ptr[r0 + r + 1] - e0; e < end; ++e) {
        row_of_[e] = r;
      }
    }
    const int32_t* dst = p_.dst_terms + r0;
    for (int32_t i = 0; i < edges; i += kL) {
      const int n = min32(kL, edges - i);
      const I32 terms = V::add(V::gather_i32(p_.src_terms, V::load_i32_partial(col + i, n), n),
                               V::gather_i32(dst, V::load_i32_partial(row_of_ + i, n), n));
      V::store_acc(edge + i, leaky_logits(terms));
    }
    for (int32_t i = 0; i < rows; i += kL) {
      const int n = min32(kL, rows - i);
      const I32 terms = V::add(V::load_i32_partial(p_.src_terms + r0 + i, n), V::load_i32_partial(dst + i, n));
      V::store_acc(self_ + i, leaky_logits(terms));
    }
    for (int32_t r = 0; r < rows; ++r) {
      int32_t m = self_[r];
      for (int32_t e = graph_.row_ptr[r0 + r] - e0, end = graph_.row_ptr[r0 + r + 1] - e0; e < end; ++e) {
        m = edge[e] > m ? edge[e] : m;
      }
      row_max_[r] = m;
    }
    for (int32_t i = 0; i < edges; i += kL) {
      const int n = min32(kL, edges - i);
      const I32 emax = V::gather_i32(row_max_, V::load_i32_partial(row_of_ + i, n), n);
      V::store_acc(edge + i, V::gather_i32(table_, V::sub(emax, V::load_i32(edge + i)), n));
    }
    for (int32_t i = 0; i < rows; i += kL) {
      const int n = min32(kL, rows - i);
      V::store_acc(self_ + i, V::gather_i32(table_, V::sub(V::load_i32(row_max_ + i), V::load_i32(self_ + i)), n));
    }
    // S <= 65535 (kOneHeadEdges + 1) < 2^28: int32.
    for (int32_t r = 0; r < rows; ++r) {
      int32_t sum = self_[r];
      for (int32_t e = graph_.row_ptr[r0 + r] - e0, end = graph_.row_ptr[r0 + r + 1] - e0; e < end; ++e) {
        sum += edge[e];
      }
      row_sum_[r] = sum;
    }
    for (int32_t i = 0; i < rows; i += kL) {
      V::store_acc(row_inv_ + i, V::softmax_reciprocal(V::load_i32_partial(row_sum_ + i, min32(kL, rows - i))));
    }
    for (int32_t i = 0; i < edges; i += kL) {
      const int n = min32(kL, edges - i);
      I64 inv_a, inv_b;
      V::split64(V::gather_i32(row_inv_, V::load_i32_partial(row_of_ + i, n), n), &inv_a, &inv_b);
      V::store_acc(edge + i, alphas(V::load_i32(edge + i), inv_a, inv_b));
    }
    for (int32_t i = 0; i < rows; i += kL) {
      I64 inv_a, inv_b;
      V::split64(V::load_i32(row_inv_ + i), &inv_a, &inv_b);
      V::store_acc(self_ + i, alphas(V::load_i32(self_ + i), inv_a, inv_b));
    }
    const int32_t F = p_.head_dim;
    for (int32_t r = 0; r < rows; ++r) {
      const int32_t node = r0 + r;
      if (out_bits_ == 4) std::memset(out_row(node), 0, row_bytes());  // the pad nibble, as the reference
      const int32_t first = graph_.row_ptr[node] - e0, last = graph_.row_ptr[node + 1] - e0;
      for (int32_t c0 = 0; c0 < F; c0 += kAccCols) {
        const int32_t n = F - c0 < kAccCols ? F - c0 : kAccCols;
        auto sources = [&](auto&& add) {
          add(node, self_[r]);
          for (int32_t e = first; e < last; ++e) add(col[e], edge[e]);
        };
        if (n <= kL) {
          weighted_sum<1>(c0, n, sources);
        } else if (n <= 4 * kL) {
          weighted_sum<4>(c0, n, sources);
        } else {
          weighted_sum<0>(c0, n, sources);
        }
        store(node, acc_, c0, n);
      }
    }
  }

  /// acc_[k] = sum over sources(add) of alpha (m[j][c0 + k] - zm), k in [0, n), for the one-head block;
  /// sources calls add(j, alpha) per source. kVecs vectors of registers, or the acc_ tile for 0.
  template <int kVecs, class Sources>
  void weighted_sum(int32_t c0, int32_t n, Sources&& sources) {
    AccTile<kVecs> tile(acc_, n);
    // c0 is a multiple of kAccCols (even): int4 loads start on a byte.
    sources([&](int32_t j, int32_t alpha) {
      const uint8_t* row = messages_ + static_cast<size_t>(j) * in_row_bytes_;
      const uint8_t* x = in_bits_ == 8 ? row + c0 : row + c0 / 2;
      const I32 a = V::set1(alpha);
      tile.add([&](int32_t k, int) {
        const int m = n - k < kL ? n - k : kL;
        const I32 delta = in_bits_ == 8 ? (m == kL ? V::load_s8(x + k) : V::load_s8_partial(x + k, m))
                                        : (m == kL ? V::load_s4(x + k / 2) : V::load_s4_partial(x + k / 2, m));
        return V::mullo(a, V::sub(delta, zm_));
      });
    });
    tile.finish();
  }

  void one_row(int32_t node) {
    const int32_t F = p_.head_dim, H = p_.heads;
    if (p_.concat) {
      for (int32_t h0 = 0; h0 < H; h0 += heads_per_chunk_) concat_chunk(softmax(node, h0));
      return;
    }
    // The mean: each chunk's heads folded into mean_; a head wider than the tile (then nh = 1) runs in
    // feature blocks, its softmax recomputed per block.
    for (int32_t f0 = 0; f0 < F; f0 += kAccCols) {
      const int32_t fb = F - f0 < kAccCols ? F - f0 : kAccCols;
      mean_begin(node, f0, fb);
      for (int32_t h0 = 0; h0 < H; h0 += heads_per_chunk_) mean_chunk(softmax(node, h0), f0, fb);
      store(node, mean_, f0, fb);
    }
  }

  Chunk softmax(int32_t node, int32_t h0) {
    const Layout& layout = h0 + heads_per_chunk_ <= p_.heads ? full_ : last_;
    Chunk c = chunk(node, h0, vectors_of(node, layout) <= kCachedVectors ? cache_ : nullptr);
    softmax_max(c);
    softmax_sum(c);
    return c;
  }

  /// The chunk's columns (> kAccCols only for one head, nh = 1) into output columns h0 F + ...
  void concat_chunk(const Chunk& c) {
    const int32_t cols = c.layout->heads * p_.head_dim;
    if (c.h0 == 0 && out_bits_ == 4) std::memset(out_row(c.node), 0, row_bytes());  // the pad nibble
    for (int32_t c0 = 0; c0 < cols; c0 += kAccCols) {
      const int32_t n = cols - c0 < kAccCols ? cols - c0 : kAccCols;
      accumulate(c, c0, n);
      store(c.node, acc_, c.h0 * p_.head_dim + c0, n);
    }
  }

  void mean_begin(int32_t node, int32_t f0, int32_t fb) {
    if (f0 == 0 && out_bits_ == 4) std::memset(out_row(node), 0, row_bytes());  // the pad nibble
    std::memset(mean_, 0, sizeof(int32_t) * static_cast<size_t>(round_up(fb)));
  }

  /// Features [f0, f0 + fb) of the chunk's heads added into mean_ (f0 > 0 only for one head, nh = 1).
  void mean_chunk(const Chunk& c, int32_t f0, int32_t fb) {
    const int32_t nh = c.layout->heads, F = p_.head_dim;
    accumulate(c, nh == 1 ? f0 : 0, nh == 1 ? fb : nh * F);
    for (int32_t hh = 0; hh < nh; ++hh) {
      for (int32_t f = 0; f < fb; f += kL) {
        V::store_acc(mean_ + f, V::add(V::load_i32(mean_ + f), V::load_i32(acc_ + hh * F + f)));
      }
    }
  }

 private:
  static int32_t round_up(int32_t n) { return (n + kL - 1) / kL * kL; }

  /// The int32 sums of a tile of n columns (weighted_sum, accumulate_tile): kVecs vectors of registers
  /// (those past n unused; a fixed count, so the compiler keeps them in registers), or for kVecs = 0 the
  /// acc array itself, read and written per vector. finish() leaves the sums in acc[0, n) either way.
  template <int kVecs>
  class AccTile {
   public:
    AccTile(int32_t* acc, int32_t n) : acc_(acc), n_(n) {
      for (I32& r : regs_) r = V::zero();
      if (kVecs == 0) std::memset(acc, 0, sizeof(int32_t) * static_cast<size_t>(round_up(n)));
    }
    /// Adds product(k, i), the lanes of columns [k, k + kL) (vector i = k / kL of the tile), to the sums.
    template <class Product>
    __attribute__((always_inline)) void add(Product&& product) {
      if constexpr (kVecs > 0) {
        for (int i = 0; i < kVecs; ++i) {
          if (i * kL < n_) regs_[i] = V::add(regs_[i], product(i * kL, i));
        }
      } else {
        for (int32_t k = 0; k < n_; k += kL) {
          V::store_acc(acc_ + k, V::add(V::load_i32(acc_ + k), product(k, static_cast<int>(k / kL))));
        }
      }
    }
    void finish() {
      if constexpr (kVecs > 0) {
        for (int i = 0; i < kVecs; ++i) {
          if (i * kL < n_) V::store_acc(acc_ + i * kL, regs_[i]);
        }
      }
    }

   private:
    int32_t* acc_;
    int32_t n_;
    I32 regs_[kVecs > 0 ? kVecs : 1];
  };
  static int32_t min32(int32_t a, int32_t b) { return a < b ? a : b; }
  size_t row_bytes() const {
    return out_bits_ == 4 ? (static_cast<size_t>(out_cols_) + 1) / 2 : static_cast<size_t>(out_cols_);
  }
  uint8_t* out_row(int32_t node) { return out_ + static_cast<size_t>(node) * row_bytes(); }

  static Layout layout_for(int32_t nh) {
    Layout l;
    l.heads = nh;
    l.sources = kL / nh;
    alignas(64) int32_t source[kL], head[kL];
    for (int p = 0; p < kL; ++p) {
      const bool used = p < l.sources * nh;
      source[p] = used ? p / nh : l.sources - 1;
      head[p] = used ? p % nh : 0;
    }
    l.source = V::load_i32(source);
    l.head = V::load_i32(head);
    const int32_t used = l.sources * nh;
    l.tree = (l.sources & (l.sources - 1)) == 0;
    for (int32_t shift = nh; shift < used && l.steps < 4; shift *= 2) {
      alignas(64) int32_t lanes[kL];
      for (int p = 0; p < kL; ++p) lanes[p] = p < used ? (p + shift) % used : p;
      l.rotate[l.steps++] = V::load_i32(lanes);
      if (!l.tree) break;  // one rotation by nh, applied P - 1 times
    }
    return l;
  }

  /// Every lane of head h gets the max (or sum) of all lanes of head h: a tree of rotations for a power-of-two
  /// P (max and integer sums are exact in any order), else P - 1 rotations by nh.
  template <bool kMax>
  static I32 fold_heads(const Layout& l, I32 v) {
    auto op = [](I32 a, I32 b) { return kMax ? V::max(a, b) : V::add(a, b); };
    if (l.tree) {
      for (int32_t i = 0; i < l.steps; ++i) v = op(v, V::permute(v, l.rotate[i]));
      return v;
    }
    I32 rotated = v;
    for (int32_t k = 1; k < l.sources; ++k) {
      rotated = V::permute(rotated, l.rotate[0]);
      v = op(v, rotated);
    }
    return v;
  }

  /// The pair vectors of one row: vector v holds sources [v P, v P + P) x the chunk's heads, source s being
  /// in-edge s for s < deg and the self-loop for s = deg (any order gives the same integer max and sums).
  int32_t vectors_of(int32_t node, const Layout& layout) const {
    const int32_t sources = graph_.row_ptr[node + 1] - graph_.row_ptr[node] + 1;
    return (sources + layout.sources - 1) / layout.sources;
  }

  /// cache: where the row keeps its vectors between the passes, null to recompute them.
  Chunk chunk(int32_t node, int32_t h0, int32_t* cache) const {
    Chunk c;
    c.node = node;
    c.h0 = h0;
    c.e0 = graph_.row_ptr[node];
    c.deg = graph_.row_ptr[node + 1] - c.e0;
    c.layout = h0 + heads_per_chunk_ <= p_.heads ? &full_ : &last_;
    const int32_t nh = c.layout->heads, P = c.layout->sources;
    c.sources = c.deg + 1;
    c.vectors = (c.sources + P - 1) / P;
    c.cache = cache;
    c.terms = V::add(c.layout->head, V::set1(h0));
    c.dst = V::permute(V::load_i32_partial(p_.dst_terms + static_cast<size_t>(node) * p_.heads + h0, nh),
                       c.layout->head);
    return c;
  }

  /// Source node of each lane of vector v; lanes past the row's edges read the node itself (its self-loop,
  /// then padding that repeats the self-loop's logits, which leaves the max unchanged).
  I32 source_ids(const Chunk& c, int32_t v) const {
    // kTail + 16 - e: lanes >= e are 1.
    alignas(64) static constexpr int32_t kTail[32] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                                      1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    const int32_t P = c.layout->sources, base = v * P;
    int32_t edges = c.deg - base;
    edges = edges < 0 ? 0 : (edges > P ? P : edges);
    I32 ids = V::load_i32_partial(graph_.col_idx + c.e0 + base, edges);
    ids = V::add(ids, V::mullo(V::set1(c.node), V::load_i32(kTail + 16 - edges)));
    return V::permute(ids, c.layout->source);
  }

  /// LeakyReLU and the logit requantization of vector v: each lane picks its (multiplier, shift) by the
  /// sign of its term sum.
  I32 logits(const Chunk& c, int32_t v) const {
    const I32 index = V::add(V::mullo(source_ids(c, v), V::set1(p_.heads)), c.terms);
    return leaky_logits(V::add(V::gather_i32(p_.src_terms, index, kL), c.dst));
  }

  /// The logits of term sums: each lane picks its (multiplier, shift) by its sign.
  I32 leaky_logits(I32 acc) const {
    const I32 negative = gat_negative_mask<V>(acc);
    const I32 m = V::add(m_pos_, V::mullo(negative, m_diff_));
    const I32 e = V::add(e_pos_, V::mullo(negative, e_diff_));
    return gat_rescale_lanes<V>(acc, m, e, logit_lo_, logit_hi_, ze_);
  }

  /// Lanes holding a (source, head) pair of the row: the first min(P, sources - v P) nh.
  static int valid_lanes(const Chunk& c, int32_t v) {
    return min32(c.layout->sources, c.sources - v * c.layout->sources) * c.layout->heads;
  }

  /// t = T[emax - e] in the valid lanes (emax - e in [0, 255]: e and emax are logits of one head), else 0.
  I32 exp_values(const Chunk& c, int32_t v) const {
    const I32 logit = c.cached() ? V::load_i32(c.cache + static_cast<size_t>(v) * kL) : logits(c, v);
    return V::gather_i32(table_, V::sub(c.emax, logit), valid_lanes(c, v));
  }

  /// Pass 1: the row max per head; pass 2: S per head and its reciprocal. A cached row keeps each vector's
  /// logits, then its exp values, in cache_, so a logit is rescaled and looked up once.
  void softmax_max(Chunk& c) const {
    I32 emax = logits(c, 0);
    if (c.cached()) V::store_acc(c.cache, emax);
    for (int32_t v = 1; v < c.vectors; ++v) {
      const I32 logit = logits(c, v);
      if (c.cached()) V::store_acc(c.cache + static_cast<size_t>(v) * kL, logit);
      emax = V::max(emax, logit);
    }
    c.emax = fold_heads<true>(*c.layout, emax);
  }

  void softmax_sum(Chunk& c) const {
    const int32_t nh = c.layout->heads, P = c.layout->sources;
    // S per head: in int32 lanes for a cached row (at most 128 vectors of t <= 65535 per lane, and P of
    // those lanes per head: < 2^27), else flushed to int64 every kSumFlushVectors vectors.
    alignas(64) int32_t lanes[kL];
    int64_t sum[kL] = {};
    I32 total = V::zero();
    int32_t pending = 0;
    auto flush = [&] {
      V::store_acc(lanes, total);
      for (int32_t k = 0; k < P; ++k) {
        for (int32_t h = 0; h < nh; ++h) sum[h] += lanes[k * nh + h];
      }
      total = V::zero();
      pending = 0;
    };
    for (int32_t v = 0; v < c.vectors; ++v) {
      const I32 t = exp_values(c, v);
      if (c.cached()) V::store_acc(c.cache + static_cast<size_t>(v) * kL, t);
      total = V::add(total, t);
      if (!c.cached() && ++pending == kSumFlushVectors) flush();
    }
    if (c.cached() && nh == 1) {  // one S: one scalar division, broadcast
      V::store_acc(lanes, fold_heads<false>(*c.layout, total));
      V::split64(V::set1(static_cast<int32_t>(static_cast<uint32_t>(gat_reciprocal(lanes[0])))), &c.inv_a,
                 &c.inv_b);
      return;
    }
    if (c.cached()) {  // every lane of a head holds its S: the reciprocals in lanes
      V::split64(V::softmax_reciprocal(fold_heads<false>(*c.layout, total)), &c.inv_a, &c.inv_b);
      return;
    }
    flush();
    alignas(64) int32_t inv[kL] = {};
    for (int32_t h = 0; h < nh; ++h) {
      inv[h] = static_cast<int32_t>(static_cast<uint32_t>(gat_reciprocal(sum[h])));
    }
    // One head: a broadcast; more: a gather of the scalars just stored (element loads forward from the
    // stores, where a vector load of them would stall).
    const I32 spread = nh == 1 ? V::set1(inv[0]) : V::gather_i32(inv, c.layout->head, kL);
    V::split64(spread, &c.inv_a, &c.inv_b);
  }

  /// alpha = min(255, (t * inv + 2^38) >> 39) per lane: t <= 65535 and inv < 2^32 as unsigned low dwords.
  I32 alphas(const Chunk& c, I32 t) const { return alphas(t, c.inv_a, c.inv_b); }
  static I32 alphas(I32 t, I64 inv_a, I64 inv_b) {
    I64 t_a, t_b;
    V::split64(t, &t_a, &t_b);
    const I64 half = V::set1_64(int64_t{1} << 38), cap = V::set1_64(255);
    const I64 a = V::min64(V::srai64(V::add64(V::mulu_lo32(t_a, inv_a), half), 39), cap);
    const I64 b = V::min64(V::srai64(V::add64(V::mulu_lo32(t_b, inv_b), half), 39), cap);
    return V::join64(a, b);
  }

  /// acc_[k] = sum_j alpha_j^h (m[j][h0 F + c0 + k] - zm) for k in [0, n), h the head of chunk column
  /// c0 + k (c0 = 0 unless the chunk is one head): the alphas stay in their pair vector and a permute
  /// spreads each source's to its heads' columns.
  void accumulate(const Chunk& c, int32_t c0, int32_t n) {
    // Up to four vectors of columns (Cora's 8 x 8 heads, any head of <= 4 kL features) stay in registers.
    if (n <= kL) {
      accumulate_tile<1>(c, c0, n);
    } else if (n <= 2 * kL) {
      accumulate_tile<2>(c, c0, n);
    } else if (n <= 4 * kL) {
      accumulate_tile<4>(c, c0, n);
    } else {
      accumulate_tile<0>(c, c0, n);
    }
  }

  /// accumulate() with its n columns in kVecs vectors of registers (some unused when n < kVecs kL), or in
  /// the acc_ tile for kVecs = 0.
  template <int kVecs>
  void accumulate_tile(const Chunk& c, int32_t c0, int32_t n) {
    const int32_t nh = c.layout->heads, P = c.layout->sources;
    const int32_t first = c.h0 * p_.head_dim + c0;  // the message column of acc_[0]
    const bool odd_nibbles = in_bits_ == 4 && (first & 1) != 0;
    // The head of each column's lanes: kept in registers beside the sums, or loaded per vector for kVecs = 0.
    I32 heads[kVecs > 0 ? kVecs : 1];
    for (int i = 0; i < kVecs; ++i) heads[i] = nh == 1 ? V::zero() : V::load_i32(column_head_ + i * kL);
    AccTile<kVecs> tile(acc_, n);
    for (int32_t v = 0; v < c.vectors; ++v) {
      const I32 t = c.cached() ? V::load_i32(c.cache + static_cast<size_t>(v) * kL)
                             : V::gather_i32(table_, V::sub(c.emax, logits(c, v)), valid_lanes(c, v));
      const I32 a = alphas(c, t);
      const int32_t count = min32(P, c.sources - v * P);
      for (int32_t r = 0; r < count; ++r) {
        const int32_t s = v * P + r;
        const int32_t j = s < c.deg ? graph_.col_idx[c.e0 + s] : c.node;
        const uint8_t* row = messages_ + static_cast<size_t>(j) * in_row_bytes_;
        const I32 lane = V::set1(r * nh);
        const uint8_t* x = in_bits_ == 8 ? row + first : row + first / 2;
        if (odd_nibbles) {  // unpack [first, first + n) to int8 and read it as an int8 row
          for (int32_t k = 0; k < n; ++k) nibbles_[k] = gat_load_nibble(row, first + k);
          x = reinterpret_cast<const uint8_t*>(nibbles_);
        }
        // alpha of column k's head times (m - zm) for the kL columns from k (vector i of the tile).
        tile.add([&](int32_t k, int i) {
          const int m = n - k < kL ? n - k : kL;
          I32 delta;
          if (in_bits_ == 8 || odd_nibbles) {
            delta = m == kL ? V::load_s8(x + k) : V::load_s8_partial(x + k, m);
          } else {  // k is even: every load starts on a byte; an odd m reads one nibble no output reads
            delta = m == kL ? V::load_s4(x + k / 2) : V::load_s4_partial(x + k / 2, m);
          }
          const I32 column_heads =
              kVecs > 0 ? heads[i] : (nh == 1 ? V::zero() : V::load_i32(column_head_ + k));
          return V::mullo(V::permute(a, V::add(column_heads, lane)), V::sub(delta, zm_));
        });
      }
    }
    tile.finish();
  }

  /// Requantizes `count` accumulators to output columns [col, col + count) of `node`.
  void store(int32_t node, const int32_t* acc, int32_t col, int32_t count) {
    uint8_t* row = out_row(node);
    const I32 zo = V::set1(zo_);
    for (int32_t k = 0; k < count; k += kL) {
      const int n = count - k < kL ? count - k : kL;
      const int32_t c = col + k;
      I32 value = V::load_i32(acc + k);
      if (p_.bias != nullptr) value = V::add(value, V::load_i32_partial(p_.bias + c, n));
      const I32 q = gat_rescale_lanes<V>(value, V::load_i32_partial(p_.rq.multiplier + c, n),
                                         V::load_i32_partial(p_.rq.shift + c, n), out_lo_, out_hi_, zo);
      if (out_bits_ == 8) {
        V::store_s8(row + c, q, n);
      } else if ((c & 1) == 0) {
        // On a byte: whole bytes, an odd tail's pad nibble 0 (a later chunk starting mid-byte rewrites its
        // own nibble of that byte below).
        V::store_s4(row + c / 2, q, n);
      } else {
        alignas(64) int32_t lanes[kL];
        V::store_acc(lanes, q);
        for (int l = 0; l < n; ++l) gat_store_nibble(row, c + l, lanes[l]);
      }
    }
  }

  const CsrGraph& graph_;
  const GatParams& p_;
  const uint8_t* messages_;
  I32 zm_;
  size_t cols_;
  int in_bits_;
  size_t in_row_bytes_;  ///< message row stride: H F bytes (int8) or ceil(H F / 2) (int4)
  uint8_t* out_;
  int out_bits_;
  int32_t out_cols_;
  int32_t zo_;
  I32 m_pos_, e_pos_, m_diff_, e_diff_, ze_;
  I64 logit_lo_, logit_hi_, out_lo_, out_hi_;
  int32_t heads_per_chunk_;
  bool one_chunk_;  ///< one chunk holds every head (and, for the mean, every feature): rows run in blocks
  Layout full_, last_;  ///< chunks of heads_per_chunk_ heads, and the last chunk's (H mod that, if any)
  alignas(64) int32_t table_[kGatExpTableSize];
  alignas(64) int32_t column_head_[kAccCols + kL];
  alignas(64) int32_t acc_[kAccCols + 64];
  alignas(64) int32_t mean_[kAccCols + 64];
  alignas(64) int8_t nibbles_[kAccCols + 64];  ///< int4 messages of a chunk starting on an odd column
  alignas(64) int32_t cache_[kCachedVectors * kL];
  // One-head blocks: each edge's row in the block; per row the self-loop's logit / t / alpha, max, S, inv.
  alignas(64) int32_t row_of_[kCachedVectors * kL];
  alignas(64) int32_t self_[kOneHeadRows + 64];
  alignas(64) int32_t row_max_[kOneHeadRows + 64];
  alignas(64) int32_t row_sum_[kOneHeadRows + 64];
  alignas(64) int32_t row_inv_[kOneHeadRows + 64];
  Chunk block_[kBlockRows];
};
template <class V>
void gat_aggregate_twin(const CsrGraph& graph, const GatParams& params, QActivationConst messages,
                        QActivation out, int32_t row_begin, int32_t row_end) {
  GatTwin<V> twin(graph, params, messages, out);
  twin.rows(row_begin, row_end);
}

/// Message columns the folded terms take (two int32 copies of the attention vectors and two corrections per
/// head on the stack: 8 KiB).
constexpr int32_t kGatFoldedTermCols = 512;

/// The terms of heads whose width F divides kL, on rows of whole vectors (H F a multiple of kL, at most
/// kGatFoldedTermCols), int8 or int4 messages: sum_f a[c] (m[c] - zm) = sum_f a[c] m[c] - zm sum_f a[c]
/// (exact: every term and partial sum is far inside int32). The products of a vector of columns are summed
/// within each head's F lanes by log2 F shifted adds (after step i, lane l holds lanes [l, l + 2^(i+1)) for
/// every head's first lane), so a node costs a few vector ops per kL columns instead of two horizontal sums
/// per head. False (nothing written) for other shapes.
template <class V>
bool gat_terms_folded(QActivationConst messages, int32_t heads, int32_t head_dim, const int8_t* att_src,
                      const int8_t* att_dst, int32_t* src_terms, int32_t* dst_terms, int32_t row_begin,
                      int32_t row_end) {
  using I32 = typename V::I32;
  constexpr int kL = V::kLanes;
  const int32_t F = head_dim, cols = heads * head_dim;
  if (kL % F != 0 || cols % kL != 0 || cols > kGatFoldedTermCols) return false;
  alignas(64) int32_t a_src[kGatFoldedTermCols], a_dst[kGatFoldedTermCols];
  int32_t zero_src[kGatFoldedTermCols], zero_dst[kGatFoldedTermCols];  // zm sum_f a per head
  for (int32_t h = 0; h < heads; ++h) {
    int32_t s = 0, d = 0;
    for (int32_t f = 0; f < F; ++f) {
      a_src[h * F + f] = att_src[h * F + f];
      a_dst[h * F + f] = att_dst[h * F + f];
      s += att_src[h * F + f];
      d += att_dst[h * F + f];
    }
    zero_src[h] = messages.zero_point * s;
    zero_dst[h] = messages.zero_point * d;
  }
  I32 shift[4];
  int steps = 0;
  for (int32_t d = 1; d < F; d *= 2) {
    alignas(64) int32_t lanes[kL];
    for (int l = 0; l < kL; ++l) lanes[l] = l + d < kL ? l + d : kL - 1;
    shift[steps++] = V::load_i32(lanes);
  }
  const int32_t per_vector = kL / F;  // heads
  const size_t row_bytes = messages.bits == 4 ? static_cast<size_t>(cols) / 2 : static_cast<size_t>(cols);
  alignas(64) int32_t sums_src[kL], sums_dst[kL];
  for (int32_t node = row_begin; node < row_end; ++node) {
    const uint8_t* row = static_cast<const uint8_t*>(messages.data) + static_cast<size_t>(node) * row_bytes;
    int32_t* src = src_terms + static_cast<size_t>(node) * static_cast<size_t>(heads);
    int32_t* dst = dst_terms + static_cast<size_t>(node) * static_cast<size_t>(heads);
    for (int32_t c = 0; c < cols; c += kL) {
      const I32 x = messages.bits == 4 ? V::load_s4(row + c / 2) : V::load_s8(row + c);
      I32 s = V::mullo(x, V::load_i32(a_src + c)), d = V::mullo(x, V::load_i32(a_dst + c));
      for (int i = 0; i < steps; ++i) {
        s = V::add(s, V::permute(s, shift[i]));
        d = V::add(d, V::permute(d, shift[i]));
      }
      V::store_acc(sums_src, s);
      V::store_acc(sums_dst, d);
      const int32_t h0 = c / F;
      for (int32_t q = 0; q < per_vector; ++q) {
        src[h0 + q] = sums_src[q * F] - zero_src[h0 + q];
        dst[h0 + q] = sums_dst[q * F] - zero_dst[h0 + q];
      }
    }
  }
  return true;
}

template <class V>
void gat_attention_terms_twin(QActivationConst messages, int32_t heads, int32_t head_dim, const int8_t* att_src,
                              const int8_t* att_dst, int32_t* src_terms, int32_t* dst_terms, int32_t row_begin,
                              int32_t row_end) {
  if (gat_terms_folded<V>(messages, heads, head_dim, att_src, att_dst, src_terms, dst_terms, row_begin,
                          row_end)) {
    return;
  }
  if (messages.bits != 8) {
    gat_attention_terms(messages, heads, head_dim, att_src, att_dst, src_terms, dst_terms, row_begin, row_end);
    return;
  }
  gat_terms_twin<V>(messages, heads, head_dim, att_src, att_dst, src_terms, dst_terms, row_begin, row_end);
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_ATTENTION_GAT_BODY_H_
