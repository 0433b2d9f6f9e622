// Internal to the arm64 twins: the entry points each ISA-specific file defines. The ISA-independent pieces
// they share with the x86 twins (the GEMM operand, dense_tiled(), spmm_row_rescale()) are declared in
// kernels/x86/x86-kernels.h and defined in kernels/x86/dense-tiled.cc, which contains no x86 code and is
// compiled for arm64 as well, so both architectures requantize through the same code.
#ifndef QGNN_KERNELS_ARM_ARM_KERNELS_H_
#define QGNN_KERNELS_ARM_ARM_KERNELS_H_

#include <cstdint>

#include "qgnn/kernels/kernel_table.h"
#include "qgnn/kernels/reference.h"
#include "x86-kernels.h"

namespace qgnn {
namespace kernels {
namespace arm {

// ---- SpMM aggregation / pooling (file qs<in bits>-spmm-neon.cc, any output width) -----------------------
// The dot-product extension does not help a sum or a max of rows, so both arm64 tables use these.

void aggregate_qs8_neon(const CsrGraph& graph, AggregateMode mode, QActivationConst in, int32_t cols,
                        Rescale rq, int32_t self_weight_q16, const int32_t* norm_q15, QActivation out,
                        int32_t row_begin, int32_t row_end);
void aggregate_qs4_neon(const CsrGraph& graph, AggregateMode mode, QActivationConst in, int32_t cols,
                        Rescale rq, int32_t self_weight_q16, const int32_t* norm_q15, QActivation out,
                        int32_t row_begin, int32_t row_end);
void global_pool_qs8_neon(const int32_t* graph_ptr, AggregateMode mode, QActivationConst in, int32_t cols,
                          Rescale rq, QActivation out, int32_t graph_begin, int32_t graph_end);
void global_pool_qs4_neon(const int32_t* graph_ptr, AggregateMode mode, QActivationConst in, int32_t cols,
                          Rescale rq, QActivation out, int32_t graph_begin, int32_t graph_end);

// ---- GEMM accumulators (file qs<weight bits>-gemm-<isa>.cc, int8 or int4 activations) -------------------
// Same contract as x86::GemmAccFn.

void gemm_acc_qs8_neon(const x86::GemmOperand& op, int32_t row_begin, int32_t rows, int32_t channel_begin,
                       int32_t channels, int32_t* acc);
void gemm_acc_qs4_neon(const x86::GemmOperand& op, int32_t row_begin, int32_t rows, int32_t channel_begin,
                       int32_t channels, int32_t* acc);
void gemm_acc_qs8_neondot(const x86::GemmOperand& op, int32_t row_begin, int32_t rows, int32_t channel_begin,
                          int32_t channels, int32_t* acc);
void gemm_acc_qs4_neondot(const x86::GemmOperand& op, int32_t row_begin, int32_t rows, int32_t channel_begin,
                          int32_t channels, int32_t* acc);

/// The table of an arm64 ISA compiled into this build (kNeon, or kNeonDot when the compiler accepted
/// +dotprod), nullptr otherwise. Says nothing about the CPU: kernels_for() checks that.
const KernelTable* compiled_arm_table(Isa isa);

}  // namespace arm
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_ARM_ARM_KERNELS_H_
