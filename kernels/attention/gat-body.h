// The ONE body of the GAT twins (gat_attention_terms, gat_aggregate), written against a vector-traits type V
// (kernels/simd/). Include after the traits, from a file compiled with the ISA's flags. Every output equals
// the reference's bit for bit: the same int32 / int64 values are formed (docs/quantization.md, "GAT attention
// (kernels)"), only in lanes.
//
// gat_aggregate, per destination row, per chunk of up to kLanes heads (the heads in the lanes):
//   1. the row's logits, one vector per edge: src terms of the chunk's heads are contiguous per node, so one
//      (partial) load; LeakyReLU picks each lane's (multiplier, shift) by the sign of its term sum, and the
//      rescale runs with per-lane multipliers and shifts (gat_rescale_lanes);
//   2. the row max, then S = sum t in int32 lanes flushed to int64 every kSumFlushEdges edges, and one scalar
//      int64 division per head (as the reference; these are per row, not per edge);
//   3. per edge, the chunk's alphas in lanes (t * inv as a 32 x 32 -> 64 multiply: inv < 2^32 by the spec),
//      then for each head the alpha broadcast times the head's message columns, accumulated in an int32
//      tile of at most kAccCols columns (wider heads run in column blocks, recomputing the logits).
// A row of at most kCachedSources sources (the self-loop and its in-edges; all but a few hub rows of real
// graphs) keeps its logits, then its exp-table values, in a stack tile between the passes, so each logit is
// rescaled and looked up once; a longer row recomputes them in each pass, as the reference does, and needs no
// scratch at any degree. Both give the same values. The mean over heads accumulates every head into the same
// tile columns. Exp-table lookups are scalar, for the chunk's heads only (no gather in every traits type; 256
// int32 copied once per call).
//
// int4 messages (packed rows of ceil(H F / 2) bytes) are unpacked into the same int32 lanes: a head whose
// first column is even loads its nibbles with V::load_s4 (every chunk of kL columns then starts on a byte);
// one starting on an odd column (odd F, odd h) is unpacked to an int8 tile first. gat_attention_terms still
// runs the reference for int4 (its terms are once per node, the weighted sum once per edge). Outputs of
// either width.
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
  /// int32 accumulator tile: 2 KiB of stack.
  static constexpr int32_t kAccCols = 512;
  /// t <= 65535 (any uint16 table): 32767 terms fit an int32 lane.
  static constexpr int32_t kSumFlushEdges = 32767;
  /// Sources per row whose logits / exp values the passes keep (kL int32 each: 8 KiB of stack at 16 lanes).
  /// Recomputing a logit (a 64-bit rescale in lanes) and its scalar table lookups took most of the kernel's
  /// time on Cora; the cache holds every row of degree < 128.
  static constexpr int32_t kCachedSources = 128;

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
    const int32_t qmin = out.bits == 4 ? -8 : -128, qmax = out.bits == 4 ? 7 : 127;
    const int32_t lo = p.relu && zo_ > qmin ? zo_ : qmin;
    out_lo_ = V::set1_64(int64_t{lo} - zo_);
    out_hi_ = V::set1_64(int64_t{qmax} - zo_);
  }

  void rows(int32_t row_begin, int32_t row_end) {
    const int32_t F = p_.head_dim, H = p_.heads;
    const int32_t padded = round_up(F);
    for (int32_t node = row_begin; node < row_end; ++node) {
      if (out_bits_ == 4) std::memset(out_row(node), 0, row_bytes());  // the pad nibble, as the reference
      if (p_.concat) {
        // As many heads per tile as fit (at most one vector of them); a head wider than the tile runs in
        // column blocks.
        int32_t per_chunk = kAccCols / padded;
        per_chunk = per_chunk < 1 ? 1 : (per_chunk > kL ? kL : per_chunk);
        for (int32_t h0 = 0; h0 < H; h0 += per_chunk) {
          const int nh = H - h0 < per_chunk ? H - h0 : per_chunk;
          const Softmax s = softmax(node, h0, nh);
          const int32_t block = padded < kAccCols ? padded : kAccCols;
          for (int32_t f0 = 0; f0 < F; f0 += block) {
            const int32_t f1 = F - f0 < block ? F : f0 + block;
            const int32_t stride = round_up(f1 - f0);
            std::memset(acc_, 0, sizeof(int32_t) * static_cast<size_t>(nh) * static_cast<size_t>(stride));
            accumulate(node, h0, nh, s, f0, f1, stride);
            for (int hh = 0; hh < nh; ++hh) {
              store(node, acc_ + hh * stride, (h0 + hh) * F + f0, f1 - f0);
            }
          }
        }
      } else {
        for (int32_t f0 = 0; f0 < F; f0 += kAccCols) {
          const int32_t f1 = F - f0 < kAccCols ? F : f0 + kAccCols;
          std::memset(acc_, 0, sizeof(int32_t) * static_cast<size_t>(round_up(f1 - f0)));
          for (int32_t h0 = 0; h0 < H; h0 += kL) {
            const int nh = H - h0 < kL ? H - h0 : kL;
            accumulate(node, h0, nh, softmax(node, h0, nh), f0, f1, /*stride=*/0);
          }
          store(node, acc_, f0, f1 - f0);
        }
      }
    }
  }

 private:
  struct Softmax {
    I32 dst;   ///< dst terms of the chunk's heads
    I32 emax;  ///< the row max per head
    I64 inv_a, inv_b;  ///< inv (< 2^32) split as the alpha multiply reads it
    bool cached;       ///< cache_ holds the row's exp values t, one vector per source in for_each_source order
  };

  static int32_t round_up(int32_t n) { return (n + kL - 1) / kL * kL; }
  size_t row_bytes() const {
    return out_bits_ == 4 ? (static_cast<size_t>(out_cols_) + 1) / 2 : static_cast<size_t>(out_cols_);
  }
  uint8_t* out_row(int32_t node) { return out_ + static_cast<size_t>(node) * row_bytes(); }

  /// Calls fn(source) for the self-loop, then for every in-edge in CSR order.
  template <class Fn>
  void for_each_source(int32_t node, Fn&& fn) const {
    fn(node);
    for (int32_t e = graph_.row_ptr[node]; e < graph_.row_ptr[node + 1]; ++e) fn(graph_.col_idx[e]);
  }

  I32 logits(int32_t source, int32_t h0, int nh, I32 dst) const {
    const I32 acc = V::add(V::load_i32_partial(p_.src_terms + static_cast<size_t>(source) * p_.heads + h0, nh), dst);
    const I32 negative = gat_negative_mask<V>(acc);
    const I32 m = V::add(m_pos_, V::mullo(negative, m_diff_));
    const I32 e = V::add(e_pos_, V::mullo(negative, e_diff_));
    return gat_rescale_lanes<V>(acc, m, e, logit_lo_, logit_hi_, ze_);
  }

  /// t = T[emax - e] in the chunk's nh lanes, 0 in the others (which no output reads).
  I32 exp_lookup(I32 emax, I32 e, int nh) const {
    alignas(64) int32_t index[kL];
    alignas(64) int32_t t[kL] = {};
    V::store_acc(index, V::sub(emax, e));
    for (int l = 0; l < nh; ++l) t[l] = table_[index[l] & (kGatExpTableSize - 1)];
    return V::load_i32(t);
  }

  Softmax softmax(int32_t node, int32_t h0, int nh) {
    Softmax s;
    s.dst = V::load_i32_partial(p_.dst_terms + static_cast<size_t>(node) * p_.heads + h0, nh);
    s.cached = graph_.row_ptr[node + 1] - graph_.row_ptr[node] < kCachedSources;
    int32_t* slot = cache_;
    s.emax = logits(node, h0, nh, s.dst);
    if (s.cached) V::store_acc(slot, s.emax);
    for (int32_t e = graph_.row_ptr[node]; e < graph_.row_ptr[node + 1]; ++e) {
      const I32 logit = logits(graph_.col_idx[e], h0, nh, s.dst);
      if (s.cached) V::store_acc(slot += kL, logit);
      s.emax = V::max(s.emax, logit);
    }
    int64_t sum[kL] = {};
    alignas(64) int32_t part[kL];
    I32 lanes = V::zero();
    int32_t pending = 0;
    auto flush = [&] {
      V::store_acc(part, lanes);
      for (int l = 0; l < kL; ++l) sum[l] += part[l];
      lanes = V::zero();
      pending = 0;
    };
    if (s.cached) {  // fewer than kSumFlushEdges sources: no flush before the last
      for (int32_t* slot = cache_, *end = cache_ + (graph_.row_ptr[node + 1] - graph_.row_ptr[node] + 1) * kL;
           slot < end; slot += kL) {
        const I32 t = exp_lookup(s.emax, V::load_i32(slot), nh);
        V::store_acc(slot, t);
        lanes = V::add(lanes, t);
      }
    } else {
      for_each_source(node, [&](int32_t j) {
        lanes = V::add(lanes, exp_lookup(s.emax, logits(j, h0, nh, s.dst), nh));
        if (++pending == kSumFlushEdges) flush();
      });
    }
    flush();
    alignas(64) int32_t inv[kL] = {};
    for (int l = 0; l < nh; ++l) {
      if (sum[l] > 0) {
        int64_t v = ((int64_t{1} << 47) + sum[l] / 2) / sum[l];
        if (v > 0xFFFFFFFFll) v = 0xFFFFFFFFll;
        inv[l] = static_cast<int32_t>(static_cast<uint32_t>(v));
      }
    }
    V::split64(V::load_i32(inv), &s.inv_a, &s.inv_b);
    return s;
  }

  /// alpha = min(255, (t * inv + 2^38) >> 39) per lane: t <= 65535 and inv < 2^32 as unsigned low dwords.
  I32 alphas(const Softmax& s, I32 t) const {
    I64 t_a, t_b;
    V::split64(t, &t_a, &t_b);
    const I64 half = V::set1_64(int64_t{1} << 38), cap = V::set1_64(255);
    const I64 a = V::min64(V::srai64(V::add64(V::mulu_lo32(t_a, s.inv_a), half), 39), cap);
    const I64 b = V::min64(V::srai64(V::add64(V::mulu_lo32(t_b, s.inv_b), half), 39), cap);
    return V::join64(a, b);
  }

  /// acc[slot] += alpha_j^h * (m[j][h F + f] - zm) for the chunk's heads and f in [f0, f1); concat gives
  /// each head its own `stride` columns, the mean (stride 0) sums every head into the same ones.
  void accumulate(int32_t node, int32_t h0, int nh, const Softmax& s, int32_t f0, int32_t f1, int32_t stride) {
    const int32_t F = p_.head_dim;
    alignas(64) int32_t alpha[kL];
    size_t source = 0;  // index into cache_ (read only when s.cached)
    for_each_source(node, [&](int32_t j) {
      const I32 t = s.cached ? V::load_i32(cache_ + source * kL) : exp_lookup(s.emax, logits(j, h0, nh, s.dst), nh);
      ++source;
      V::store_acc(alpha, alphas(s, t));
      const uint8_t* row = messages_ + static_cast<size_t>(j) * in_row_bytes_;
      for (int hh = 0; hh < nh; ++hh) {
        const I32 a = V::set1(alpha[hh]);
        const int32_t col = (h0 + hh) * F;  // the head's first message column
        int32_t* acc = acc_ + hh * stride;
        // f - f0 is a multiple of kL (even) and f0 is even, so an even col keeps every int4 load on a byte.
        if (in_bits_ == 8 || (col & 1) != 0) {
          // Column f of the head is at x + (f - origin).
          const uint8_t* x = row + col;
          int32_t origin = 0;
          if (in_bits_ == 4) {  // an odd first column: unpack [f0, f1) to int8, then read it as an int8 row
            for (int32_t f = f0; f < f1; ++f) nibbles_[f - f0] = gat_load_nibble(row, col + f);
            x = reinterpret_cast<const uint8_t*>(nibbles_);
            origin = f0;
          }
          for (int32_t f = f0; f < f1; f += kL) {
            const int n = f1 - f < kL ? f1 - f : kL;
            const uint8_t* p = x + (f - origin);
            const I32 delta = V::sub(n == kL ? V::load_s8(p) : V::load_s8_partial(p, n), zm_);
            int32_t* slot = acc + (f - f0);
            V::store_acc(slot, V::add(V::load_i32(slot), V::mullo(a, delta)));
          }
        } else {
          const uint8_t* x = row + col / 2;
          for (int32_t f = f0; f < f1; f += kL) {
            const int n = f1 - f < kL ? f1 - f : kL;
            // A partial load of an odd n reads the next column's nibble into lane n, which no output reads.
            const I32 delta = V::sub(n == kL ? V::load_s4(x + f / 2) : V::load_s4_partial(x + f / 2, n), zm_);
            int32_t* slot = acc + (f - f0);
            V::store_acc(slot, V::add(V::load_i32(slot), V::mullo(a, delta)));
          }
        }
      }
    });
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
  int32_t table_[kGatExpTableSize];
  alignas(64) int32_t acc_[kAccCols + 64];
  alignas(64) int8_t nibbles_[kAccCols + 64];  ///< int4 messages of a head starting on an odd column
  alignas(64) int32_t cache_[kCachedSources * kL];
};

template <class V>
void gat_aggregate_twin(const CsrGraph& graph, const GatParams& params, QActivationConst messages,
                        QActivation out, int32_t row_begin, int32_t row_end) {
  GatTwin<V> twin(graph, params, messages, out);
  twin.rows(row_begin, row_end);
}

template <class V>
void gat_attention_terms_twin(QActivationConst messages, int32_t heads, int32_t head_dim, const int8_t* att_src,
                              const int8_t* att_dst, int32_t* src_terms, int32_t* dst_terms, int32_t row_begin,
                              int32_t row_end) {
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
