// The arm64 kernel tables, compiled WITHOUT the dot-product flag (it only takes addresses): each entry picks
// the twin of the input (SpMM) or weight (GEMM) width at run time. Both tables share the NEON SpMM twins;
// they differ in the GEMM accumulators. Which tables exist is decided by kernels/CMakeLists.txt
// (QGNN_ARM_TWINS, and QGNN_ARM_NEONDOT when the compiler accepts +dotprod).
#include "arm-kernels.h"

namespace qgnn {
namespace kernels {
namespace arm {
namespace {

void aggregate_neon(const CsrGraph& graph, AggregateMode mode, QActivationConst in, int32_t cols, Rescale rq,
                    int32_t self_weight_q16, const int32_t* norm_q15, QActivation out, int32_t row_begin,
                    int32_t row_end) {
  (in.bits == 4 ? aggregate_qs4_neon : aggregate_qs8_neon)(graph, mode, in, cols, rq, self_weight_q16,
                                                           norm_q15, out, row_begin, row_end);
}

void global_pool_neon(const int32_t* graph_ptr, AggregateMode mode, QActivationConst in, int32_t cols,
                      Rescale rq, QActivation out, int32_t graph_begin, int32_t graph_end) {
  (in.bits == 4 ? global_pool_qs4_neon : global_pool_qs8_neon)(graph_ptr, mode, in, cols, rq, out,
                                                               graph_begin, graph_end);
}

#define QGNN_ARM_DENSE(gemm)                                                                                 \
  void dense_##gemm(QActivationConst in, int32_t in_cols, QWeights weights, const int32_t* bias,             \
                    ChannelRescale rq, const DenseExtraInput* extra, bool relu, QActivation out,             \
                    int32_t out_cols, int32_t row_begin, int32_t row_end) {                                  \
    x86::dense_tiled(x86::GemmKernels{gemm_acc_qs8_##gemm, gemm_acc_qs4_##gemm}, in, in_cols, weights, bias, \
                     rq, extra, relu, out, out_cols, row_begin, row_end);                                    \
  }

QGNN_ARM_DENSE(neon)
const KernelTable k_table_neon = {Isa::kNeon, "neon",           aggregate_neon,
                                  dense_neon, global_pool_neon, quantize_rows};
#if defined(QGNN_ARM_NEONDOT)
QGNN_ARM_DENSE(neondot)
const KernelTable k_table_neondot = {Isa::kNeonDot, "neondot",        aggregate_neon,
                                     dense_neondot, global_pool_neon, quantize_rows};
#endif
#undef QGNN_ARM_DENSE

}  // namespace

const KernelTable* compiled_arm_table(Isa isa) {
  if (isa == Isa::kNeon) return &k_table_neon;
#if defined(QGNN_ARM_NEONDOT)
  if (isa == Isa::kNeonDot) return &k_table_neondot;
#endif
  return nullptr;
}

}  // namespace arm
}  // namespace kernels
}  // namespace qgnn
