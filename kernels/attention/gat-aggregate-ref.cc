// GAT aggregation: per destination row and head, the int8 logits of the row's edges and self-loop, their
// integer softmax (row max, exp table, one int64 division) and the alpha-weighted sum of the messages.
// One output element at a time, like aggregate-ref.cc: the logits are recomputed by every pass instead of
// being stored, so the kernel needs no scratch memory at any degree and any row split gives the same bytes.
#include "packed-rows.h"
#include "qgnn/kernels/numerics.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

/// What the softmax of one (row, head) needs besides the logits: their max and the scaled reciprocal.
struct RowSoftmax {
  int32_t emax;
  int64_t inv;
};

class GatRow {
 public:
  GatRow(const CsrGraph& graph, const GatParams& p, int32_t node, int32_t head)
      : graph_(graph),
        p_(p),
        node_(node),
        head_(head),
        dst_(p.dst_terms[static_cast<size_t>(node) * p.heads + head]),
        logit_lo_(qmin(p.logit_bits)),
        logit_hi_(qmax(p.logit_bits)) {}

  /// Edges of the row plus the self-loop: k in [0, count()), k == 0 is the self-loop.
  int32_t count() const { return graph_.row_ptr[node_ + 1] - graph_.row_ptr[node_] + 1; }
  int32_t source(int32_t k) const { return k == 0 ? node_ : graph_.col_idx[graph_.row_ptr[node_] + k - 1]; }

  /// LeakyReLU and the requantization in one rescale: the factor is chosen by the sign of the term sum.
  int32_t logit(int32_t k) const {
    const int32_t acc = p_.src_terms[static_cast<size_t>(source(k)) * p_.heads + head_] + dst_;
    const Rescale r = acc >= 0 ? p_.logit_pos : p_.logit_neg;
    return clamp_i64(p_.logit_zero_point + rescale(acc, r.multiplier, r.shift), logit_lo_, logit_hi_);
  }

  RowSoftmax softmax() const {
    int32_t emax = logit(0);
    for (int32_t k = 1; k < count(); ++k) {
      const int32_t e = logit(k);
      if (e > emax) emax = e;
    }
    int64_t sum = 0;
    for (int32_t k = 0; k < count(); ++k) sum += p_.exp_table[emax - logit(k)];
    // S >= exp_table[0] = 2^15 for a valid table, so inv <= 2^32; the cap only matters for a malformed
    // table, and keeps inv an unsigned 32-bit factor (the twins' 32 x 32 -> 64 multiply).
    int64_t inv = 0;
    if (sum > 0) {
      inv = ((int64_t{1} << 47) + sum / 2) / sum;
      if (inv > 0xFFFFFFFFll) inv = 0xFFFFFFFFll;
    }
    return RowSoftmax{emax, inv};
  }

  /// alpha ~ 256 t / S, unsigned 8-bit.
  int32_t alpha(const RowSoftmax& s, int32_t k) const {
    const int64_t t = p_.exp_table[s.emax - logit(k)];
    const int64_t a = (t * s.inv + (int64_t{1} << 38)) >> 39;
    return a > 255 ? 255 : static_cast<int32_t>(a);
  }

 private:
  const CsrGraph& graph_;
  const GatParams& p_;
  int32_t node_, head_;
  int32_t dst_;
  int32_t logit_lo_, logit_hi_;  ///< the logits' range (8 or 4 bits)
};

template <int kInBits, int kOutBits>
void gat_impl(const CsrGraph& graph, const GatParams& p, QActivationConst messages, QActivation out,
              int32_t row_begin, int32_t row_end) {
  const int32_t F = p.head_dim, H = p.heads;
  const int32_t out_cols = p.concat ? H * F : F;
  const detail::ActivationReader<kInBits> m(messages.data, H * F);
  detail::ActivationWriter<kOutBits> writer(out.data, out_cols);
  const int32_t zo = out.zero_point;
  const int32_t hi = qmax(kOutBits);
  const int32_t lo = p.relu && zo > qmin(kOutBits) ? zo : qmin(kOutBits);

  // sum_j alpha_j (m[j][h F + f] - zm) of one head: |.| <= 255 (256 + (deg + 1) (1/2 + 2^-24)) < 2^29.
  auto head_sum = [&](const GatRow& row, const RowSoftmax& s, int32_t h, int32_t f) {
    int32_t acc = 0;
    for (int32_t k = 0; k < row.count(); ++k) {
      acc += row.alpha(s, k) * (m.at(row.source(k), h * F + f) - messages.zero_point);
    }
    return acc;
  };
  auto store = [&](int32_t node, int32_t col, int32_t acc) {
    const int64_t biased = static_cast<int64_t>(acc) + (p.bias != nullptr ? p.bias[col] : 0);
    writer.store(node, col, clamp_i64(zo + rescale(biased, p.rq.multiplier[col], p.rq.shift[col]), lo, hi));
  };

  // One loop for both modes (the Cortex-M .text budget, docs/embedded.md): output column c sums head c / F
  // alone (concat) or every head (mean) at feature f. The softmax of the last (row, head) is kept, so concat
  // computes it once per head, as the columns of a head are consecutive.
  for (int32_t node = row_begin; node < row_end; ++node) {
    writer.begin_row(node);
    int32_t cached_head = -1;
    RowSoftmax cached{0, 0};
    for (int32_t c = 0; c < out_cols; ++c) {
      const int32_t h_begin = p.concat ? c / F : 0, h_end = p.concat ? h_begin + 1 : H;
      const int32_t f = p.concat ? c - h_begin * F : c;
      // Mean: H (deg + 1) <= 2^22 and H <= 64 keep the sum over heads below 2^30 (quantization.md).
      int32_t acc = 0;
      for (int32_t h = h_begin; h < h_end; ++h) {
        const GatRow row(graph, p, node, h);
        if (h != cached_head) {
          cached = row.softmax();
          cached_head = h;
        }
        acc += head_sum(row, cached, h, f);
      }
      store(node, c, acc);
    }
  }
}

}  // namespace

void gat_aggregate(const CsrGraph& graph, const GatParams& params, QActivationConst messages, QActivation out,
                   int32_t row_begin, int32_t row_end) {
  detail::dispatch_bits(messages.bits, [&](auto in_bits) {
    detail::dispatch_bits(out.bits, [&](auto out_bits) {
      gat_impl<decltype(in_bits)::value, decltype(out_bits)::value>(graph, params, messages, out, row_begin,
                                                                     row_end);
    });
  });
}

}  // namespace kernels
}  // namespace qgnn
