// AVX-512 twins of gat_attention_terms() and gat_aggregate(), built from gat-body.h. Compiled with the AVX-512 flags
// only (kernels/CMakeLists.txt).
#include "gat-body.h"
#include "simd-avx512.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {

void gat_attention_terms_avx512(QActivationConst messages, int32_t heads, int32_t head_dim, const int8_t* att_src,
                              const int8_t* att_dst, int32_t* src_terms, int32_t* dst_terms, int32_t row_begin,
                              int32_t row_end) {
  gat_attention_terms_twin<Avx512>(messages, heads, head_dim, att_src, att_dst, src_terms, dst_terms, row_begin,
                               row_end);
}

void gat_aggregate_avx512(const CsrGraph& graph, const GatParams& params, QActivationConst messages, QActivation out,
                        int32_t row_begin, int32_t row_end) {
  gat_aggregate_twin<Avx512>(graph, params, messages, out, row_begin, row_end);
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
