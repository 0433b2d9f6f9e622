// The x86 kernel tables, compiled WITHOUT ISA flags (it only takes addresses): each starts as the reference
// table and overrides the entries AVX2 / AVX-512 have twins for; an entry picks the twin of the input width
// at run time. Which tables exist is decided by kernels/CMakeLists.txt (QGNN_X86_AVX2 / QGNN_X86_AVX512 when
// the compiler accepts the flags). The packed dense size is computed here, without ISA flags, from the
// shape the ISA file static_asserts against its traits, so dense_packed_bytes_max() can ask any table.
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {
namespace {

#define QGNN_X86_TABLE(isa_enum, isa, gemm, shape, sparse_shape, f32)                                          \
  void aggregate_##isa(const CsrGraph& graph, const AggregateParams& params, QActivationConst in,         \
                       int32_t cols, QActivation out, int32_t row_begin, int32_t row_end) {               \
    if (in.bits == 8) {                                                                                   \
      aggregate_x8_##isa(graph, params, in, cols, out, row_begin, row_end);                               \
    } else if (!aggregate_wide_x4_##isa(graph, params, in, cols, out, row_begin, row_end)) {              \
      aggregate_x4_##isa(graph, params, in, cols, out, row_begin, row_end);                               \
    }                                                                                                     \
  }                                                                                                       \
  void global_pool_##isa(const int32_t* graph_ptr, AggregateMode mode, QActivationConst in, int32_t cols, \
                         Rescale rq, QActivation out, int32_t graph_begin, int32_t graph_end) {           \
    (in.bits == 4 ? global_pool_x4_##isa : global_pool_x8_##isa)(graph_ptr, mode, in, cols, rq, out,      \
                                                                 graph_begin, graph_end);                 \
  }                                                                                                       \
  size_t dense_packed_bytes_##isa(int32_t in_cols, int32_t out_cols, int weight_bits) {                   \
    return dense_pack_layout(shape, in_cols, out_cols, weight_bits).total_bytes;                          \
  }                                                                                                       \
  size_t sparse_dense_packed_bytes_##isa(int32_t in_cols, int32_t out_cols, int weight_bits) {            \
    return sparse_dense_packed_bytes_for(sparse_shape, in_cols, out_cols, weight_bits);                   \
  }                                                                                                       \
  void sparse_dense_pack_##isa(QWeights weights, int32_t in_cols, int32_t out_cols, void* packed) {       \
    sparse_dense_pack_for(isa_enum, sparse_shape, weights, in_cols, out_cols, packed);                    \
  }                                                                                                       \
  KernelTable make_table_##isa() {                                                                        \
    KernelTable table = reference_table_as(isa_enum, #isa);                                               \
    table.aggregate = aggregate_##isa;                                                                    \
    table.dense = dense_##gemm;                                                                           \
    table.dense_packed_bytes = dense_packed_bytes_##isa;                                                  \
    table.dense_pack = dense_pack_##gemm;                                                                 \
    table.global_pool = global_pool_##isa;                                                                \
    table.quantize_rows = quantize_rows_##isa;                                                            \
    table.sparse_dense = sparse_dense_##gemm;                                                             \
    table.sparse_dense_packed_bytes = sparse_dense_packed_bytes_##isa;                                    \
    table.sparse_dense_pack = sparse_dense_pack_##isa;                                                    \
    if (table.sparse_dense_f32 != nullptr) table.sparse_dense_f32 = sparse_dense_f32_##f32;               \
    if (table.gather_nonzeros_f32 != nullptr) table.gather_nonzeros_f32 = gather_nonzeros_f32_##isa;      \
    table.aggregate_f32 = aggregate_f32_##isa;                                                            \
    table.gat_attention_terms = gat_attention_terms_##isa;                                                \
    table.gat_aggregate = gat_aggregate_##isa;                                                            \
    table.knn_graph = knn_graph_##isa;                                                                    \
    return table;                                                                                         \
  }

#if defined(QGNN_X86_AVX2)
QGNN_X86_TABLE(Isa::kAvx2, avx2, avx2, kDensePackAvx2, kSparseDenseAvx2, avx2)
#endif
#if defined(QGNN_X86_AVX512)
QGNN_X86_TABLE(Isa::kAvx512, avx512, avx512vnni, kDensePackAvx512, kSparseDenseAvx512, avx512)
#endif
#undef QGNN_X86_TABLE

}  // namespace

const KernelTable* compiled_simd_table(Isa isa) {
  // Function-local statics: built on first use, so no table depends on another file's static initialisation.
#if defined(QGNN_X86_AVX2)
  static const KernelTable avx2 = make_table_avx2();
  if (isa == Isa::kAvx2) return &avx2;
#endif
#if defined(QGNN_X86_AVX512)
  static const KernelTable avx512 = make_table_avx512();
  if (isa == Isa::kAvx512) return &avx512;
#endif
  (void)isa;
  return nullptr;
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
