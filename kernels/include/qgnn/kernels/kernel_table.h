// Run-time selection of the integer kernels by instruction set. Every ISA has one KernelTable whose entries
// have exactly the signatures (and the bit-exact semantics) of the reference kernels in reference.h, so a
// caller picks a table once (at model / interpreter creation) and calls through it.
//
// Which twins exist depends on the build (x86 twins on x86-64, NEON twins on arm64, each only where the
// compiler supports their flags, never for bare-metal targets) and on the CPU (detected with the cpuinfo
// library when the build found it; arm64 Linux builds without it ask getauxval(AT_HWCAP)). The reference
// table always exists and is the default wherever nothing better is available.
#ifndef QGNN_KERNELS_KERNEL_TABLE_H_
#define QGNN_KERNELS_KERNEL_TABLE_H_

#include <cstddef>
#include <cstdint>

#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {

/// Instruction sets a kernel table can target. The names (isa_name / parse_isa) are those of QGNN_ISA.
enum class Isa : int {
  kReference = 0,  ///< portable C++ (reference.h)
  kAvx2 = 1,       ///< x86-64 AVX2 + FMA
  kAvx512 = 2,     ///< x86-64 AVX-512 F/BW/VL with VNNI (vpdpbusd)
  kNeon = 3,       ///< arm64 NEON (Advanced SIMD, armv8-a)
  kNeonDot = 4,    ///< arm64 NEON with the dot-product extension (sdot, armv8.2-a+dotprod)
};

/// The quantized kernels of one ISA. Each entry behaves exactly like the reference function of the same name.
/// An ISA's table is the reference table with the entries the ISA has twins for overridden
/// (kernels/dispatch/), so a new kernel can start reference-only.
struct KernelTable {
  Isa isa;
  const char* name;  ///< isa_name(isa)
  /// Null in bare-metal builds (QGNN_EMBEDDED), like the GAT entries below: a firmware whose model has no
  /// GCNConv, SAGEConv or GINConv (a GAT) would otherwise link it (2.5 KB); bare-metal callers call the
  /// reference function directly.
  void (*aggregate)(const CsrGraph& graph, const AggregateParams& params, QActivationConst in, int32_t cols,
                    QActivation out, int32_t row_begin, int32_t row_end);
  void (*dense)(QActivationConst in, int32_t in_cols, QWeights weights, const int32_t* bias,
                ChannelRescale rq, const DenseExtraInput* extra, bool relu, QActivation out, int32_t out_cols,
                int32_t row_begin, int32_t row_end);
  void (*global_pool)(const int32_t* graph_ptr, AggregateMode mode, QActivationConst in, int32_t cols,
                      Rescale rq, QActivation out, int32_t graph_begin, int32_t graph_end);
  /// The model input's float -> int8 / int4 quantization (the runtime's input stage).
  void (*quantize_rows)(const float* in, int32_t cols, float scale, const float* column_scales,
                        QActivation out, int32_t row_begin, int32_t row_end);

  // ---- Packed dense operands: packing once, at interpreter creation, instead of on every call ----------
  //
  // A caller that runs dense() many times over the same weights (the runtime: every Dense, and SAGE's root
  // term, per invoke) asks the table how many bytes the packed operand needs, packs it ONCE into persistent
  // memory it owns (16-byte aligned), and passes it in QWeights::packed on every call (main operand and
  // DenseExtraInput::weights alike, each packed with its own bias and rescale). The packed form holds the
  // weights in the ISA's register order (int4 widened) with per-channel weight sums, bias and rescale
  // constants folded in; the input zero point stays a call argument. Without a packed operand (nullptr, or
  // memory packed for another operand / table) dense() is still exact but runs the slower unpacked twin.

  /// Bytes dense_pack() writes for a [out_cols][in_cols] matrix of `weight_bits` (8 or 4) weights; 0 means
  /// this ISA runs dense() from the plain weights (the reference and the arm64 tables): nothing to pack.
  size_t (*dense_packed_bytes)(int32_t in_cols, int32_t out_cols, int weight_bits);
  /// Writes dense_packed_bytes(in_cols, out_cols, weights.bits) bytes at `packed` (16-byte aligned; a no-op
  /// when that is 0). `weights.data`, `bias` and `rq` must stay valid and unchanged while the packed operand
  /// is used, and dense() must be called with the same pointers: a twin checks them (by address) before
  /// trusting the packed bytes.
  void (*dense_pack)(QWeights weights, int32_t in_cols, int32_t out_cols, const int32_t* bias,
                     ChannelRescale rq, void* packed);

  // ---- Sparse input rows (reference.h sparse_dense) ------------------------------------------------------
  //
  // Packed like dense(): sparse_dense_packed_bytes() bytes per operand (0: this ISA reads the plain weights),
  // written once by sparse_dense_pack() (e.g. the weights transposed, [in][out], so a non-zero's column is
  // one contiguous row), passed in QWeights::packed; the same operand-identity rules as dense_pack.
  // sparse_dense is null in builds without sparse features (QGNN_SPARSE_FEATURES=OFF).
  void (*sparse_dense)(SparseRows in, int32_t in_cols, InputQuantization q, QWeights weights,
                       const int32_t* bias, ChannelRescale rq, bool relu, QActivation out, int32_t out_cols,
                       int32_t row_begin, int32_t row_end);
  size_t (*sparse_dense_packed_bytes)(int32_t in_cols, int32_t out_cols, int weight_bits);
  void (*sparse_dense_pack)(QWeights weights, int32_t in_cols, int32_t out_cols, void* packed);
  /// The float path's sparse_dense_f32 (reference.h; its operand from sparse_dense_f32_pack, one layout for
  /// every ISA). Null where sparse_dense is.
  void (*sparse_dense_f32)(SparseRows in, int32_t in_cols, const float* weights, const void* packed,
                           const float* bias, bool relu, float* out, int32_t out_cols, int32_t row_begin,
                           int32_t row_end);
  /// The density probe's gather of dense float rows (reference.h gather_nonzeros_f32). Null where
  /// sparse_dense is.
  int64_t (*gather_nonzeros_f32)(const float* in, int32_t cols, int32_t rows, int64_t max_nnz,
                                 int32_t* row_ptr, int32_t* col_idx, float* values);

  // ---- Float (FP32) models -------------------------------------------------------------------------------
  /// The float aggregation (reference.h aggregate_f32). Its twins give the reference's results bit for bit:
  /// each column sees the same float operations in the same order (kernels/aggregate/f32-aggregate-body.h).
  /// Null in builds without float models (QGNN_FLOAT_MODELS=OFF).
  void (*aggregate_f32)(const CsrGraph& graph, AggregateMode mode, const float* in, int32_t cols,
                        float self_weight, float* out, int32_t row_begin, int32_t row_end);

  // ---- GAT attention (reference.h gat_attention_terms / gat_aggregate) -----------------------------------
  /// Null in bare-metal builds (QGNN_EMBEDDED): there the table would link them into every firmware, GAT or
  /// not (the .text budget, docs/embedded.md); a bare-metal caller calls the reference functions directly.
  void (*gat_attention_terms)(QActivationConst messages, int32_t heads, int32_t head_dim, const int8_t* att_src,
                              const int8_t* att_dst, int32_t* src_terms, int32_t* dst_terms, int32_t row_begin,
                              int32_t row_end);
  void (*gat_aggregate)(const CsrGraph& graph, const GatParams& params, QActivationConst messages,
                        QActivation out, int32_t row_begin, int32_t row_end);

  // ---- Image graphs (reference.h knn_graph) ------------------------------------------------------------
  /// Null in bare-metal builds (QGNN_EMBEDDED), as the GAT entries: a firmware without a vision GNN links no
  /// kNN code; a bare-metal caller calls the reference function directly.
  KnnStatus (*knn_graph)(const KnnGraphParams& params, QActivationConst in, int32_t cols, int32_t row_begin,
                         int32_t row_end, int32_t* row_ptr, int32_t* col_idx, void* scratch,
                         size_t scratch_bytes);
};

/// The largest dense_packed_bytes() over every table this build has (whether or not this CPU can run it):
/// what a caller reserves per operand when it sizes memory before choosing the ISA.
size_t dense_packed_bytes_max(int32_t in_cols, int32_t out_cols, int weight_bits);
/// The same for sparse_dense_packed_bytes().
size_t sparse_dense_packed_bytes_max(int32_t in_cols, int32_t out_cols, int weight_bits);

/// "reference", "avx2", "avx512", "neon", "neondot".
const char* isa_name(Isa isa);

/// Outcome of parsing or selecting an ISA; `error` is a static message when !ok.
struct IsaChoice {
  bool ok;
  Isa isa;
  const char* error;
};

/// Parses a QGNN_ISA / --isa value (exact, lower-case names of isa_name). Says nothing about availability.
IsaChoice parse_isa(const char* text);

/// True when this build has the ISA's twins and this CPU can run them (always true for kReference).
bool isa_available(Isa isa);

/// The table of `isa`, or nullptr when !isa_available(isa).
const KernelTable* kernels_for(Isa isa);

/// The fastest available ISA of this build on this CPU (kReference where no twin can be detected).
Isa detect_isa();

/// detect_isa() when `override_name` is null or empty, else parse_isa(override_name) followed by an
/// availability check: an unknown name or an ISA this build / CPU cannot run is an error, never a silent
/// fallback, so a forced QGNN_ISA is either honoured or reported.
IsaChoice select_isa(const char* override_name);

}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_KERNEL_TABLE_H_
