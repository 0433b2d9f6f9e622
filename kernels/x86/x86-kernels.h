// Internal to the x86 twins: the entry points each ISA-specific file defines, and the ISA-independent
// pieces (compiled without ISA flags) they share. Files compiled with -mavx2 / -mavx512* include this
// header only for declarations: code they define lives in anonymous namespaces or under ISA-suffixed
// names, so no inline function compiled with wider ISA flags can be picked by the linker for a caller
// that runs on a smaller CPU.
#ifndef QGNN_KERNELS_X86_X86_KERNELS_H_
#define QGNN_KERNELS_X86_X86_KERNELS_H_

#include <cstdint>

#include "qgnn/kernels/kernel_table.h"
#include "qgnn/kernels/numerics.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace x86 {

// ---- SpMM aggregation / pooling (file qs<in bits>-spmm-<isa>.cc, any output width) ----------------------

#define QGNN_X86_DECLARE_SPMM(suffix)                                                                        \
  void aggregate_##suffix(const CsrGraph& graph, AggregateMode mode, QActivationConst in, int32_t cols,      \
                          Rescale rq, int32_t self_weight_q16, const int32_t* norm_q15, QActivation out,     \
                          int32_t row_begin, int32_t row_end);                                               \
  void global_pool_##suffix(const int32_t* graph_ptr, AggregateMode mode, QActivationConst in, int32_t cols, \
                            Rescale rq, QActivation out, int32_t graph_begin, int32_t graph_end);
QGNN_X86_DECLARE_SPMM(qs8_avx2)
QGNN_X86_DECLARE_SPMM(qs4_avx2)
QGNN_X86_DECLARE_SPMM(qs8_avx512)
QGNN_X86_DECLARE_SPMM(qs4_avx512)
#undef QGNN_X86_DECLARE_SPMM

/// The rescale of one aggregated row: mean_rescale(rq, count) for a non-empty kMean, else rq itself.
/// Defined in a file without ISA flags (it uses numerics.h's inline helpers, see the note above).
MeanRescale spmm_row_rescale(AggregateMode mode, Rescale rq, int32_t count);

// ---- GEMM (file qs<weight bits>-gemm-<isa>.cc, int8 or int4 activations) -------------------------------

/// Rows and output channels of one GEMM tile: the accumulators of a tile live in a small stack array.
constexpr int32_t kGemmRows = 4;
constexpr int32_t kGemmChannels = 32;

struct GemmOperand {
  QActivationConst in;
  int32_t in_cols;
  QWeights weights;
};

/// acc[r * kGemmChannels + c] = sum_k (x[row_begin + r][k] - zx) * w[channel_begin + c][k] (int32, no bias)
/// for r < rows <= kGemmRows and c < channels <= kGemmChannels.
using GemmAccFn = void (*)(const GemmOperand& op, int32_t row_begin, int32_t rows, int32_t channel_begin,
                           int32_t channels, int32_t* acc);

void gemm_acc_qs8_avx2(const GemmOperand& op, int32_t row_begin, int32_t rows, int32_t channel_begin,
                       int32_t channels, int32_t* acc);
void gemm_acc_qs4_avx2(const GemmOperand& op, int32_t row_begin, int32_t rows, int32_t channel_begin,
                       int32_t channels, int32_t* acc);
void gemm_acc_qs8_avx512vnni(const GemmOperand& op, int32_t row_begin, int32_t rows, int32_t channel_begin,
                             int32_t channels, int32_t* acc);
void gemm_acc_qs4_avx512vnni(const GemmOperand& op, int32_t row_begin, int32_t rows, int32_t channel_begin,
                             int32_t channels, int32_t* acc);

/// dense() twins with output channels in lanes (dense-body.h), one per ISA file: same signature and bytes
/// as reference dense().
#define QGNN_X86_DECLARE_DENSE(suffix)                                                                  \
  void dense_twin_##suffix(QActivationConst in, int32_t in_cols, QWeights weights, const int32_t* bias, \
                           ChannelRescale rq, const DenseExtraInput* extra, bool relu, QActivation out, \
                           int32_t out_cols, int32_t row_begin, int32_t row_end);
QGNN_X86_DECLARE_DENSE(avx2)
QGNN_X86_DECLARE_DENSE(avx512vnni)
#undef QGNN_X86_DECLARE_DENSE

/// quantize_rows() twins (quantize-body.h): same signature and bytes as the reference.
void quantize_rows_avx2(const float* in, int32_t cols, float scale, QActivation out, int32_t row_begin,
                        int32_t row_end);
void quantize_rows_avx512(const float* in, int32_t cols, float scale, QActivation out, int32_t row_begin,
                          int32_t row_end);

/// The accumulator kernels of one ISA, by weight width.
struct GemmKernels {
  GemmAccFn qs8;
  GemmAccFn qs4;
};

/// dense() built on an ISA's accumulator kernels: tiles rows x channels, adds the bias and requantizes with
/// numerics.h exactly as the reference does (same signature and results as reference dense()).
void dense_tiled(const GemmKernels& kernels, QActivationConst in, int32_t in_cols, QWeights weights,
                 const int32_t* bias, ChannelRescale rq, const DenseExtraInput* extra, bool relu,
                 QActivation out, int32_t out_cols, int32_t row_begin, int32_t row_end);

/// The table of an x86 ISA compiled into this build (kAvx2 or kAvx512), nullptr otherwise. Says nothing
/// about the CPU: kernels_for() checks that.
const KernelTable* compiled_x86_table(Isa isa);

}  // namespace x86
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_X86_X86_KERNELS_H_
