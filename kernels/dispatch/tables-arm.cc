// The arm64 kernel tables, compiled WITHOUT the dot-product flag (it only takes addresses): each starts as
// the reference table and overrides the entries NEON has twins for; an entry picks the twin of the input
// (aggregation, pooling) or weight (GEMM) width at run time. Both tables share the NEON aggregation and
// pooling twins; they differ in the GEMM accumulators. Which tables exist is decided by
// kernels/CMakeLists.txt (QGNN_ARM_TWINS, and QGNN_ARM_NEONDOT when the compiler accepts +dotprod).
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {
namespace {

void aggregate_neon(const CsrGraph& graph, const AggregateParams& params, QActivationConst in, int32_t cols,
                    QActivation out, int32_t row_begin, int32_t row_end) {
  (in.bits == 4 ? aggregate_x4_neon : aggregate_x8_neon)(graph, params, in, cols, out, row_begin, row_end);
}

void global_pool_neon(const int32_t* graph_ptr, AggregateMode mode, QActivationConst in, int32_t cols,
                      Rescale rq, QActivation out, int32_t graph_begin, int32_t graph_end) {
  (in.bits == 4 ? global_pool_x4_neon : global_pool_x8_neon)(graph_ptr, mode, in, cols, rq, out, graph_begin,
                                                             graph_end);
}

#define QGNN_ARM_TABLE(isa_enum, isa)                                                                     \
  void dense_##isa(QActivationConst in, int32_t in_cols, QWeights weights, const int32_t* bias,           \
                   ChannelRescale rq, const DenseExtraInput* extra, bool relu, QActivation out,           \
                   int32_t out_cols, int32_t row_begin, int32_t row_end) {                                \
    dense_tiled(GemmKernels{gemm_acc_w8_##isa, gemm_acc_w4_##isa}, in, in_cols, weights, bias, rq, extra, \
                relu, out, out_cols, row_begin, row_end);                                                 \
  }                                                                                                       \
  size_t sparse_dense_packed_bytes_##isa(int32_t in_cols, int32_t out_cols, int weight_bits) {            \
    return sparse_dense_packed_bytes_for(kSparseDenseNeon, in_cols, out_cols, weight_bits);               \
  }                                                                                                       \
  void sparse_dense_pack_##isa(QWeights weights, int32_t in_cols, int32_t out_cols, void* packed) {       \
    sparse_dense_pack_for(isa_enum, kSparseDenseNeon, weights, in_cols, out_cols, packed);                \
  }                                                                                                       \
  KernelTable make_table_##isa() {                                                                        \
    KernelTable table = reference_table_as(isa_enum, #isa);                                               \
    table.aggregate = aggregate_neon;                                                                     \
    table.dense = dense_##isa;                                                                            \
    table.global_pool = global_pool_neon;                                                                 \
    table.sparse_dense = sparse_dense_##isa;                                                              \
    table.sparse_dense_packed_bytes = sparse_dense_packed_bytes_##isa;                                    \
    table.sparse_dense_pack = sparse_dense_pack_##isa;                                                    \
    if (table.sparse_dense_f32 != nullptr) table.sparse_dense_f32 = sparse_dense_f32_neon;                 \
    table.aggregate_f32 = aggregate_f32_neon;                                                             \
    table.gat_attention_terms = gat_attention_terms_neon;                                                 \
    table.gat_aggregate = gat_aggregate_neon;                                                             \
    table.knn_graph = knn_graph_neon;                                                                     \
    return table;                                                                                         \
  }

QGNN_ARM_TABLE(Isa::kNeon, neon)
#if defined(QGNN_ARM_NEONDOT)
QGNN_ARM_TABLE(Isa::kNeonDot, neondot)
#endif
#undef QGNN_ARM_TABLE

}  // namespace

const KernelTable* compiled_simd_table(Isa isa) {
  // Function-local statics: built on first use, so no table depends on another file's static initialisation.
  static const KernelTable neon = make_table_neon();
  if (isa == Isa::kNeon) return &neon;
#if defined(QGNN_ARM_NEONDOT)
  static const KernelTable neondot = make_table_neondot();
  if (isa == Isa::kNeonDot) return &neondot;
#endif
  return nullptr;
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
