// Internal to the SIMD twins (x86 and arm64): the entry points each ISA-specific file defines, and the
// ISA-independent pieces (compiled without ISA flags) they share. Files compiled with -mavx2 / -mavx512* /
// +dotprod include this header only for declarations: code they define lives in anonymous namespaces or
// under ISA-suffixed names, so no inline function compiled with wider ISA flags can be picked by the linker
// for a caller that runs on a smaller CPU.
//
// Names follow docs/runtime.md "Kernel files and names": <op>_<dtype>_<isa>, where the dtype token names the
// operand the function is specialised for: x8 / x4 the (integer) activation input, w8 / w4 the weights.
#ifndef QGNN_KERNELS_DISPATCH_TWINS_H_
#define QGNN_KERNELS_DISPATCH_TWINS_H_

#include <cstddef>
#include <cstdint>

#include "qgnn/kernels/kernel_table.h"
#include "qgnn/kernels/numerics.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace twins {

// ---- Aggregation (aggregate/x<in bits>-aggregate-<isa>.cc) and pooling (pool/x<in bits>-pool-<isa>.cc) ---
// One function per input width; the output width is a run-time property of the layer.

#define QGNN_DECLARE_AGGREGATE(suffix)                                                                       \
  void aggregate_##suffix(const CsrGraph& graph, const AggregateParams& params, QActivationConst in,         \
                          int32_t cols, QActivation out, int32_t row_begin, int32_t row_end);                \
  void global_pool_##suffix(const int32_t* graph_ptr, AggregateMode mode, QActivationConst in, int32_t cols, \
                            Rescale rq, QActivation out, int32_t graph_begin, int32_t graph_end);
QGNN_DECLARE_AGGREGATE(x8_avx2)
QGNN_DECLARE_AGGREGATE(x4_avx2)
QGNN_DECLARE_AGGREGATE(x8_avx512)
QGNN_DECLARE_AGGREGATE(x4_avx512)
// The dot-product extension does not help a sum or a max of rows, so both arm64 tables use these.
QGNN_DECLARE_AGGREGATE(x8_neon)
QGNN_DECLARE_AGGREGATE(x4_neon)
#undef QGNN_DECLARE_AGGREGATE

/// The rescale of one aggregated (or pooled) row: mean_rescale(rq, count) for a non-empty kMean, else rq
/// itself. Defined in a file without ISA flags (it uses numerics.h's inline helpers, see the note above).
MeanRescale aggregate_row_rescale(AggregateMode mode, Rescale rq, int32_t count);

// ---- GEMM accumulators (dense/w<weight bits>-gemm-<isa>.cc, int8 or int4 activations) -----------------

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

#define QGNN_DECLARE_GEMM(isa)                                                                          \
  void gemm_acc_w8_##isa(const GemmOperand& op, int32_t row_begin, int32_t rows, int32_t channel_begin, \
                         int32_t channels, int32_t* acc);                                               \
  void gemm_acc_w4_##isa(const GemmOperand& op, int32_t row_begin, int32_t rows, int32_t channel_begin, \
                         int32_t channels, int32_t* acc);
QGNN_DECLARE_GEMM(avx2)
QGNN_DECLARE_GEMM(avx512vnni)
QGNN_DECLARE_GEMM(neon)
QGNN_DECLARE_GEMM(neondot)
#undef QGNN_DECLARE_GEMM

/// The accumulator kernels of one ISA, by weight width.
struct GemmKernels {
  GemmAccFn w8;
  GemmAccFn w4;
};

/// dense() built on an ISA's accumulator kernels (dense/dense-tiled.cc, no ISA flags): tiles rows x channels,
/// adds the bias and requantizes with numerics.h exactly as the reference does (same results as reference
/// dense()). Needs no packed weights and only a small stack tile.
void dense_tiled(const GemmKernels& kernels, QActivationConst in, int32_t in_cols, QWeights weights,
                 const int32_t* bias, ChannelRescale rq, const DenseExtraInput* extra, bool relu,
                 QActivation out, int32_t out_cols, int32_t row_begin, int32_t row_end);

// ---- Dense with output channels in lanes (dense/dense-body.h, dense/dense-<isa>.cc) ---------------------

/// dense() twins: same signature and bytes as reference dense().
#define QGNN_DECLARE_DENSE(suffix)                                                                 \
  void dense_##suffix(QActivationConst in, int32_t in_cols, QWeights weights, const int32_t* bias, \
                      ChannelRescale rq, const DenseExtraInput* extra, bool relu, QActivation out, \
                      int32_t out_cols, int32_t row_begin, int32_t row_end);
QGNN_DECLARE_DENSE(avx2)
QGNN_DECLARE_DENSE(avx512vnni)
#undef QGNN_DECLARE_DENSE

// ---- Input quantization (quantize/quantize-<isa>.cc) ------------------------------------------------------

/// quantize_rows() twins (quantize-body.h): same signature and bytes as the reference.
void quantize_rows_avx2(const float* in, int32_t cols, float scale, QActivation out, int32_t row_begin,
                        int32_t row_end);
void quantize_rows_avx512(const float* in, int32_t cols, float scale, QActivation out, int32_t row_begin,
                          int32_t row_end);

// ---- Tables (dispatch/) ---------------------------------------------------------------------------------

/// The reference table under another ISA's name: an ISA table starts from it and overrides only the entries
/// the ISA has twins for, so a new kernel can start reference-only (dispatch/kernel-table.cc).
KernelTable reference_table_as(Isa isa, const char* name);

/// The table of an ISA compiled into this build (x86: kAvx2 / kAvx512 in dispatch/tables-x86.cc; arm64:
/// kNeon / kNeonDot in dispatch/tables-arm.cc), nullptr otherwise. Says nothing about the CPU: kernels_for()
/// checks that.
const KernelTable* compiled_simd_table(Isa isa);

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_DISPATCH_TWINS_H_
