// The x86 kernel tables, compiled WITHOUT ISA flags (it only takes addresses): each entry picks the twin of
// the input width at run time. Which tables exist is decided by kernels/CMakeLists.txt (QGNN_X86_AVX2 /
// QGNN_X86_AVX512 when the compiler accepts the flags).
#include "x86-kernels.h"

namespace qgnn {
namespace kernels {
namespace x86 {
namespace {

#define QGNN_X86_TABLE(isa_enum, isa, gemm)                                                                \
  void aggregate_##isa(const CsrGraph& graph, AggregateMode mode, QActivationConst in, int32_t cols,       \
                       Rescale rq, int32_t self_weight_q16, const int32_t* norm_q15, QActivation out,      \
                       int32_t row_begin, int32_t row_end) {                                               \
    (in.bits == 4 ? aggregate_qs4_##isa : aggregate_qs8_##isa)(graph, mode, in, cols, rq, self_weight_q16, \
                                                               norm_q15, out, row_begin, row_end);         \
  }                                                                                                        \
  void global_pool_##isa(const int32_t* graph_ptr, AggregateMode mode, QActivationConst in, int32_t cols,  \
                         Rescale rq, QActivation out, int32_t graph_begin, int32_t graph_end) {            \
    (in.bits == 4 ? global_pool_qs4_##isa : global_pool_qs8_##isa)(graph_ptr, mode, in, cols, rq, out,     \
                                                                   graph_begin, graph_end);                \
  }                                                                                                        \
  void dense_##isa(QActivationConst in, int32_t in_cols, QWeights weights, const int32_t* bias,            \
                   ChannelRescale rq, const DenseExtraInput* extra, bool relu, QActivation out,            \
                   int32_t out_cols, int32_t row_begin, int32_t row_end) {                                 \
    dense_twin_##gemm(in, in_cols, weights, bias, rq, extra, relu, out, out_cols, row_begin, row_end);     \
  }                                                                                                        \
  const KernelTable k_table_##isa = {                                                                      \
      isa_enum, #isa, aggregate_##isa, dense_##isa, global_pool_##isa, quantize_rows_##isa};

#if defined(QGNN_X86_AVX2)
QGNN_X86_TABLE(Isa::kAvx2, avx2, avx2)
#endif
#if defined(QGNN_X86_AVX512)
QGNN_X86_TABLE(Isa::kAvx512, avx512, avx512vnni)
#endif
#undef QGNN_X86_TABLE

}  // namespace

const KernelTable* compiled_x86_table(Isa isa) {
#if defined(QGNN_X86_AVX2)
  if (isa == Isa::kAvx2) return &k_table_avx2;
#endif
#if defined(QGNN_X86_AVX512)
  if (isa == Isa::kAvx512) return &k_table_avx512;
#endif
  (void)isa;
  return nullptr;
}

}  // namespace x86
}  // namespace kernels
}  // namespace qgnn
