// NEON twins of gat_attention_terms() and gat_aggregate(), built from gat-body.h. Compiled with the NEON flags
// only (kernels/CMakeLists.txt).
#include "gat-body.h"
#include "simd-neon.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {

void gat_attention_terms_neon(QActivationConst messages, int32_t heads, int32_t head_dim, const int8_t* att_src,
                              const int8_t* att_dst, int32_t* src_terms, int32_t* dst_terms, int32_t row_begin,
                              int32_t row_end) {
  gat_attention_terms_twin<Neon>(messages, heads, head_dim, att_src, att_dst, src_terms, dst_terms, row_begin,
                               row_end);
}

void gat_aggregate_neon(const CsrGraph& graph, const GatParams& params, QActivationConst messages, QActivation out,
                        int32_t row_begin, int32_t row_end) {
  gat_aggregate_twin<Neon>(graph, params, messages, out, row_begin, row_end);
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
