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

// aggregate_prefetch_<suffix>: the same with the loops that prefetch their gathers
// (aggregate/x<in bits>-aggregate-prefetch-<isa>.cc), which aggregate_<suffix> calls for large inputs.
#define QGNN_DECLARE_AGGREGATE(suffix)                                                                       \
  void aggregate_##suffix(const CsrGraph& graph, const AggregateParams& params, QActivationConst in,         \
                          int32_t cols, QActivation out, int32_t row_begin, int32_t row_end);                \
  void aggregate_prefetch_##suffix(const CsrGraph& graph, const AggregateParams& params, QActivationConst in,\
                                   int32_t cols, QActivation out, int32_t row_begin, int32_t row_end);       \
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
// The wide int4 sum (aggregate/x4-aggregate-wide-<isa>.cc): true when it took the call, else the x4 twin runs.
bool aggregate_wide_x4_avx2(const CsrGraph& graph, const AggregateParams& params, QActivationConst in,
                            int32_t cols, QActivation out, int32_t row_begin, int32_t row_end);
bool aggregate_wide_x4_avx512(const CsrGraph& graph, const AggregateParams& params, QActivationConst in,
                              int32_t cols, QActivation out, int32_t row_begin, int32_t row_end);

// FP32 aggregation (aggregate/f32-aggregate-<isa>.cc): the reference's float operations, columns in lanes.
void aggregate_f32_avx2(const CsrGraph& graph, AggregateMode mode, const float* in, int32_t cols,
                        float self_weight, float* out, int32_t row_begin, int32_t row_end);
void aggregate_f32_avx512(const CsrGraph& graph, AggregateMode mode, const float* in, int32_t cols,
                          float self_weight, float* out, int32_t row_begin, int32_t row_end);
void aggregate_f32_neon(const CsrGraph& graph, AggregateMode mode, const float* in, int32_t cols,
                        float self_weight, float* out, int32_t row_begin, int32_t row_end);

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

// ---- Dense with output channels in lanes over packed weights (dense/dense-body.h, dense/dense-<isa>.cc)
// ----

/// dense() twins: same signature and bytes as reference dense(). They run over the packed operand
/// (QWeights::packed, from the same table's dense_pack) where the call matches it, else dense_tiled().
/// dense_pack_<isa>: KernelTable::dense_pack of the ISA.
#define QGNN_DECLARE_DENSE(suffix)                                                                   \
  void dense_##suffix(QActivationConst in, int32_t in_cols, QWeights weights, const int32_t* bias,   \
                      ChannelRescale rq, const DenseExtraInput* extra, bool relu, QActivation out,   \
                      int32_t out_cols, int32_t row_begin, int32_t row_end);                         \
  void dense_pack_##suffix(QWeights weights, int32_t in_cols, int32_t out_cols, const int32_t* bias, \
                           ChannelRescale rq, void* packed);
QGNN_DECLARE_DENSE(avx2)
QGNN_DECLARE_DENSE(avx512vnni)
#undef QGNN_DECLARE_DENSE

/// The shape of one ISA's packed dense operand, known to code compiled WITHOUT the ISA's flags so that the
/// packed size can be computed for every ISA of the build (dense_packed_bytes_max) on any CPU. The ISA file
/// static_asserts that its traits agree.
struct DensePackShape {
  int32_t lanes;         ///< int32 lanes of a vector (channels per vector)
  int32_t group;         ///< k per 32-bit lane group (V::kGroup)
  int32_t weight_bytes;  ///< bytes of one packed weight (sizeof(V::PackedW))
  int32_t max_vecs;      ///< vectors of channels per block when out_cols needs them (register budget)
};
constexpr DensePackShape kDensePackAvx2{8, 2, 2, 1};
constexpr DensePackShape kDensePackAvx512{16, 4, 1, 2};

/// Bytes of the header that starts a packed operand, and the alignment of every block after it.
constexpr size_t kDensePackHeaderBytes = 64;
constexpr size_t kDensePackAlign = 64;
/// Bytes of a block's per-channel constants per channel: round and shift (int64), multiplier, base and
/// weight sum (int32); see DensePackedConsts in dense-body.h.
constexpr size_t kDensePackConstBytesPerChannel = 2 * 8 + 3 * 4;
/// Marks a packed operand ("QGDP"): a dense call only trusts memory that starts with it.
constexpr uint32_t kDensePackMagic = 0x50444751u;

/// What a packed operand was made from: checked (by identity, a few compares per call) before a twin runs
/// over it, so a packed pointer that does not belong to the call's operand only costs the fast path.
struct DensePackHeader {
  uint32_t magic;
  int32_t isa;  ///< static_cast<int32_t>(Isa)
  int32_t in_cols;
  int32_t out_cols;
  int32_t weight_bits;
  int32_t vecs;  ///< vectors of channels per block
  /// The largest rescale shift of any channel: whether a call may fold its output zero point into the
  /// rounding constants (dense-body.h, DensePackedRun).
  int32_t max_shift;
  const void* weights;
  const int32_t* bias;
  const int32_t* multiplier;
  const int32_t* shift;
};
static_assert(sizeof(DensePackHeader) <= kDensePackHeaderBytes, "the header must fit its slot");

/// Where everything lives in a packed operand of `shape` for a [out_cols][in_cols] matrix.
struct DensePackLayout {
  int32_t vecs;         ///< vectors of channels per block
  int32_t channels;     ///< channels per block (vecs * lanes)
  int32_t blocks;       ///< ceil(out_cols / channels)
  int32_t groups;       ///< ceil(in_cols / group)
  size_t consts_bytes;  ///< per-channel constants of a block (DensePackedConsts), padded to kDensePackAlign
  size_t weight_bytes;  ///< packed weights of a block, padded to kDensePackAlign
  size_t block_bytes;   ///< consts_bytes + weight_bytes
  size_t total_bytes;   ///< kDensePackHeaderBytes + blocks * block_bytes; 0 for an empty or invalid shape
};
DensePackLayout dense_pack_layout(DensePackShape shape, int32_t in_cols, int32_t out_cols, int weight_bits);

/// The header of `weights.packed` when it was packed by `isa` from exactly this operand (weights, in_cols,
/// out_cols, bias and rescale pointers), else nullptr.
const DensePackHeader* dense_pack_match(QWeights weights, Isa isa, int32_t in_cols, int32_t out_cols,
                                        const int32_t* bias, ChannelRescale rq);

// ---- Dense of sparse float rows (dense/sparse-dense-body.h, dense/sparse-dense-<isa>.cc)
// -------------------

/// sparse_dense() twins: same signature and bytes as reference sparse_dense(). They run over the packed
/// operand (QWeights::packed, from the same table's sparse_dense_pack) where the call matches it, else the
/// reference. The NEON twin serves both arm64 tables (the dot-product extension does not help a sum of
/// scaled weight rows); sparse_dense_neondot is the same code, checking that the operand was packed by the
/// kNeonDot table.
#define QGNN_DECLARE_SPARSE_DENSE(suffix)                                                           \
  void sparse_dense_##suffix(SparseRows in, int32_t in_cols, InputQuantization q, QWeights weights, \
                             const int32_t* bias, ChannelRescale rq, bool relu, QActivation out,    \
                             int32_t out_cols, int32_t row_begin, int32_t row_end);
QGNN_DECLARE_SPARSE_DENSE(avx2)
QGNN_DECLARE_SPARSE_DENSE(avx512vnni)
QGNN_DECLARE_SPARSE_DENSE(neon)
QGNN_DECLARE_SPARSE_DENSE(neondot)
#undef QGNN_DECLARE_SPARSE_DENSE

/// sparse_dense_f32() twins (f32-sparse-dense-body.h), in the sparse_dense twins' files: the reference's
/// sums to rounding, over the one packed W^T layout of every ISA.
#define QGNN_DECLARE_SPARSE_DENSE_F32(suffix)                                                                  \
  void sparse_dense_f32_##suffix(SparseRows in, int32_t in_cols, const float* weights, const void* packed, \
                                 const float* bias, bool relu, float* out, int32_t out_cols,                \
                                 int32_t row_begin, int32_t row_end);
QGNN_DECLARE_SPARSE_DENSE_F32(avx2)
QGNN_DECLARE_SPARSE_DENSE_F32(avx512)
QGNN_DECLARE_SPARSE_DENSE_F32(neon)
#undef QGNN_DECLARE_SPARSE_DENSE_F32

/// The shape of one ISA's packed sparse_dense operand (known without the ISA's flags, as DensePackShape):
/// the weights transposed, int16, [in_cols / group][out_cols rounded up to lanes][group], so a non-zero's
/// column k is one contiguous run of every channel's weight (x86: pairs of k for vpmaddwd / vpdpwssd).
struct SparseDenseShape {
  int32_t lanes;  ///< int32 accumulator lanes of a vector (channels per vector)
  int32_t group;  ///< k per 32-bit lane (V::kSparseGroup)
};
constexpr SparseDenseShape kSparseDenseAvx2{8, 2};
constexpr SparseDenseShape kSparseDenseAvx512{16, 2};
constexpr SparseDenseShape kSparseDenseNeon{4, 1};

/// Marks a packed sparse_dense operand ("QGSD").
constexpr uint32_t kSparseDensePackMagic = 0x44534751u;

/// What a packed sparse_dense operand was made from (checked by identity before a twin trusts it). The
/// weights start kDensePackHeaderBytes after the header.
struct SparseDensePackHeader {
  uint32_t magic;
  int32_t isa;  ///< static_cast<int32_t>(Isa)
  int32_t in_cols;
  int32_t out_cols;
  int32_t weight_bits;
  int32_t padded_cols;  ///< out_cols rounded up to the shape's lanes: the channel stride of a k group
  const void* weights;
};
static_assert(sizeof(SparseDensePackHeader) <= kDensePackHeaderBytes, "the header must fit its slot");

/// Bytes of the packed operand of `shape` for a [out_cols][in_cols] matrix (header included); 0 for an
/// empty or invalid shape (nothing to pack: the twin then runs the reference).
size_t sparse_dense_packed_bytes_for(SparseDenseShape shape, int32_t in_cols, int32_t out_cols,
                                     int weight_bits);
/// KernelTable::sparse_dense_pack of the ISA `isa` with this shape (plain C++: packing is a transposition).
void sparse_dense_pack_for(Isa isa, SparseDenseShape shape, QWeights weights, int32_t in_cols,
                           int32_t out_cols, void* packed);
/// The header of `weights.packed` when it was packed by `isa` from exactly this operand (weights pointer,
/// bits, in_cols, out_cols), else nullptr.
const SparseDensePackHeader* sparse_dense_pack_match(QWeights weights, Isa isa, int32_t in_cols,
                                                     int32_t out_cols);

// ---- Input quantization (quantize/quantize-<isa>.cc) ------------------------------------------------------

/// quantize_rows() twins (quantize-body.h): same signature and bytes as the reference.
void quantize_rows_avx2(const float* in, int32_t cols, float scale, const float* column_scales,
                        QActivation out, int32_t row_begin, int32_t row_end);
void quantize_rows_avx512(const float* in, int32_t cols, float scale, const float* column_scales,
                          QActivation out, int32_t row_begin, int32_t row_end);

/// gather_nonzeros_f32() twins (quantize/gather-<isa>.cc): same return value and entries as the reference.
int64_t gather_nonzeros_f32_avx2(const float* in, int32_t cols, int32_t rows, int64_t max_nnz,
                                 int32_t* row_ptr, int32_t* col_idx, float* values);
int64_t gather_nonzeros_f32_avx512(const float* in, int32_t cols, int32_t rows, int64_t max_nnz,
                                   int32_t* row_ptr, int32_t* col_idx, float* values);

// ---- GAT attention (attention/gat-<isa>.cc, one body: attention/gat-body.h) ------------------------------

/// gat_attention_terms() / gat_aggregate() twins: same signatures and bytes as the reference (int4 messages
/// run the reference).
#define QGNN_DECLARE_GAT(isa)                                                                                \
  void gat_attention_terms_##isa(QActivationConst messages, int32_t heads, int32_t head_dim,                \
                                 const int8_t* att_src, const int8_t* att_dst, int32_t* src_terms,          \
                                 int32_t* dst_terms, int32_t row_begin, int32_t row_end);                    \
  void gat_aggregate_##isa(const CsrGraph& graph, const GatParams& params, QActivationConst messages,        \
                           QActivation out, int32_t row_begin, int32_t row_end);
QGNN_DECLARE_GAT(avx2)
QGNN_DECLARE_GAT(avx512)
QGNN_DECLARE_GAT(neon)
#undef QGNN_DECLARE_GAT

// ---- kNN graph (graph/knn-<isa>.cc, one body: graph/knn-body.h) ------------------------------------------

/// knn_graph() twins: same checks, statuses and neighbours as the reference, int8 and int4 rows alike (only
/// the packing of the rows depends on the width).
#define QGNN_DECLARE_KNN(isa)                                                                       \
  KnnStatus knn_graph_##isa(const KnnGraphParams& params, QActivationConst in, int32_t cols,        \
                            int32_t row_begin, int32_t row_end, int32_t* row_ptr, int32_t* col_idx, \
                            void* scratch, size_t scratch_bytes);
QGNN_DECLARE_KNN(avx2)
QGNN_DECLARE_KNN(avx512)
QGNN_DECLARE_KNN(neon)
#undef QGNN_DECLARE_KNN

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
