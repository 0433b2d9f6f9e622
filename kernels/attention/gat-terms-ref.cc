// GAT per-node attention terms: one dot product of a head's message slice with a_src and one with a_dst,
// per node and head. Computed once per node (not per edge), so an edge's logit is a single int32 addition.
#include "packed-rows.h"
#include "qgnn/kernels/numerics.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

template <int kBits>
void terms_impl(QActivationConst messages, int32_t heads, int32_t head_dim, const int8_t* att_src,
                const int8_t* att_dst, int32_t* src_terms, int32_t* dst_terms, int32_t row_begin,
                int32_t row_end) {
  const detail::ActivationReader<kBits> m(messages.data, heads * head_dim);
  for (int32_t node = row_begin; node < row_end; ++node) {
    for (int32_t h = 0; h < heads; ++h) {
      // |a| <= 128, |m - zm| <= 255, F <= 2^15: both sums stay below 2^30.
      int32_t src = 0, dst = 0;
      for (int32_t f = 0; f < head_dim; ++f) {
        const int32_t c = h * head_dim + f;
        const int32_t delta = m.at(node, c) - messages.zero_point;
        src += att_src[c] * delta;
        dst += att_dst[c] * delta;
      }
      const size_t slot = static_cast<size_t>(node) * static_cast<size_t>(heads) + static_cast<size_t>(h);
      src_terms[slot] = src;
      dst_terms[slot] = dst;
    }
  }
}

}  // namespace

void gat_attention_terms(QActivationConst messages, int32_t heads, int32_t head_dim, const int8_t* att_src,
                         const int8_t* att_dst, int32_t* src_terms, int32_t* dst_terms, int32_t row_begin,
                         int32_t row_end) {
  detail::dispatch_bits(messages.bits, [&](auto bits) {
    terms_impl<decltype(bits)::value>(messages, heads, head_dim, att_src, att_dst, src_terms, dst_terms,
                                      row_begin, row_end);
  });
}

}  // namespace kernels
}  // namespace qgnn
