// Node reordering: applying a permutation to a graph, its features and per-node outputs
// (qgnn_graph_permute, qgnn_sparse_features_permute, qgnn_rows_unpermute).
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "limits.h"
#include "reorder.h"

namespace qgnn {
namespace runtime {
namespace {

/// Whether [a, a + a_bytes) and [b, b + b_bytes) share a byte (the outputs must not alias the inputs).
bool Overlap(const void* a, size_t a_bytes, const void* b, size_t b_bytes) {
  if (a == nullptr || b == nullptr || a_bytes == 0 || b_bytes == 0) return false;
  const uintptr_t pa = reinterpret_cast<uintptr_t>(a), pb = reinterpret_cast<uintptr_t>(b);
  return pa < pb + b_bytes && pb < pa + a_bytes;
}

/// row_ptr of the permuted rows: `marks` holds 0 at [perm[i] + 1] (CheckPermutation); `src` is the original
/// row_ptr. Row perm[i] is as long as row i.
void PermutedRowPtr(uint32_t n, const int32_t* src, const int32_t* perm, int32_t* row_ptr) {
  row_ptr[0] = 0;
  for (uint32_t i = 0; i < n; ++i) row_ptr[perm[i] + 1] = src[i + 1] - src[i];
  for (uint32_t p = 0; p < n; ++p) row_ptr[p + 1] += row_ptr[p];
}

}  // namespace

qgnn_status CheckPermutation(const qgnn_graph& g, const int32_t* perm, int32_t* marks,
                             ErrorReporter& reporter) {
  // -1 = target not taken yet; every target is taken at most once, so n entries taken is a bijection.
  for (uint32_t p = 0; p <= g.num_nodes; ++p) marks[p] = -1;
  for (uint32_t k = 0; k < g.num_graphs; ++k) {
    int32_t begin = 0, end = 0;
    GraphRange(g, k, &begin, &end);
    for (int32_t i = begin; i < end; ++i) {
      const int32_t p = perm[i];
      if (p < begin || p >= end) {
        return reporter.Report(QGNN_INVALID_ARGUMENT,
                               "perm[%" PRId32 "] = %" PRId32 " is outside graph %" PRIu32
                               "'s nodes [%" PRId32 ", %" PRId32 ")",
                               i, p, k, begin, end);
      }
      if (marks[p + 1] != -1) {
        return reporter.Report(QGNN_INVALID_ARGUMENT,
                               "perm[%" PRId32 "] = %" PRId32 " repeats an earlier entry (not a permutation)",
                               i, p);
      }
      marks[p + 1] = 0;
    }
  }
  return QGNN_OK;
}

}  // namespace runtime
}  // namespace qgnn

extern "C" qgnn_status qgnn_graph_permute(const qgnn_graph* graph, uint32_t feature_dim, const int32_t* perm,
                                          int32_t* row_ptr, int32_t* col_idx, float* features_f32,
                                          int8_t* features_i8, qgnn_graph* permuted, qgnn_error* error) {
  using namespace qgnn::runtime;  // NOLINT(build/namespaces)
  ErrorReporter reporter(error);
  qgnn_status st = ValidateReorderGraph(graph, reporter);
  if (st != QGNN_OK) return st;
  const qgnn_graph& g = *graph;
  const uint32_t n = g.num_nodes;
  if (permuted == nullptr) return reporter.Report(QGNN_INVALID_ARGUMENT, "permuted is NULL");
  if (row_ptr == nullptr) return reporter.Report(QGNN_INVALID_ARGUMENT, "row_ptr (output) is NULL");
  if (n > 0 && perm == nullptr) return reporter.Report(QGNN_INVALID_ARGUMENT, "perm is NULL");
  if (g.num_edges > 0 && col_idx == nullptr)
    return reporter.Report(QGNN_INVALID_ARGUMENT, "col_idx (output) is NULL");
  const bool has_f32 = g.features_f32 != nullptr, has_i8 = g.features_i8 != nullptr;
  if (has_f32 && has_i8) {
    return reporter.Report(QGNN_INVALID_ARGUMENT, "the graph has both float and int8 features (at most one)");
  }
  if (has_f32 || has_i8) {
    if (feature_dim == 0 || feature_dim > kMaxFeatures) {
      return reporter.Report(QGNN_INVALID_ARGUMENT, "feature_dim %" PRIu32 " is outside [1, %" PRIu32 "]",
                             feature_dim, kMaxFeatures);
    }
    if ((has_f32 && features_f32 == nullptr) || (has_i8 && features_i8 == nullptr)) {
      return reporter.Report(QGNN_INVALID_ARGUMENT, "the graph has %s features but their output is NULL",
                             has_f32 ? "float" : "int8");
    }
  }
  // n <= 2^22 and feature_dim <= 2^15: a row block is < 2^39 bytes; on 32-bit hosts it must fit size_t.
  const uint64_t row_bytes = static_cast<uint64_t>(feature_dim) * (has_f32 ? sizeof(float) : 1);
  const uint64_t feature_bytes = (has_f32 || has_i8) ? static_cast<uint64_t>(n) * row_bytes : 0;
  if (feature_bytes > SIZE_MAX) {
    return reporter.Report(QGNN_LIMIT_EXCEEDED, "%" PRIu32 " x %" PRIu32 " features do not fit in memory", n,
                           feature_dim);
  }
  const void* src_features = has_f32 ? static_cast<const void*>(g.features_f32) : g.features_i8;
  void* dst_features = has_f32 ? static_cast<void*>(features_f32) : features_i8;
  const size_t ptr_bytes = (static_cast<size_t>(n) + 1) * sizeof(int32_t);
  const size_t idx_bytes = static_cast<size_t>(g.num_edges) * sizeof(int32_t);
  if (Overlap(row_ptr, ptr_bytes, g.row_ptr, ptr_bytes) ||
      Overlap(row_ptr, ptr_bytes, g.col_idx, idx_bytes) ||
      Overlap(col_idx, idx_bytes, g.row_ptr, ptr_bytes) ||
      Overlap(col_idx, idx_bytes, g.col_idx, idx_bytes) ||
      Overlap(row_ptr, ptr_bytes, perm, n * sizeof(int32_t)) ||
      Overlap(col_idx, idx_bytes, perm, n * sizeof(int32_t)) ||
      Overlap(dst_features, static_cast<size_t>(feature_bytes), src_features,
              static_cast<size_t>(feature_bytes))) {
    return reporter.Report(QGNN_INVALID_ARGUMENT, "an output buffer overlaps the graph or perm");
  }
  st = CheckPermutation(g, perm, row_ptr, reporter);
  if (st != QGNN_OK) return st;

  PermutedRowPtr(n, g.row_ptr, perm, row_ptr);
  // Each row keeps its neighbours' order (mapped to their new ids): the aggregation of node perm[i] then
  // adds exactly the operands of node i in the same order, which keeps float sums bit-identical too.
  for (uint32_t i = 0; i < n; ++i) {
    int32_t out = row_ptr[perm[i]];
    for (int32_t e = g.row_ptr[i]; e < g.row_ptr[i + 1]; ++e) col_idx[out++] = perm[g.col_idx[e]];
  }
  if (feature_bytes > 0) {
    const size_t rb = static_cast<size_t>(row_bytes);
    const auto* src = static_cast<const uint8_t*>(src_features);
    auto* dst = static_cast<uint8_t*>(dst_features);
    for (uint32_t i = 0; i < n; ++i) std::memcpy(dst + static_cast<size_t>(perm[i]) * rb, src + i * rb, rb);
  }
  *permuted = g;
  permuted->row_ptr = row_ptr;
  permuted->col_idx = col_idx;
  permuted->features_f32 = has_f32 ? features_f32 : nullptr;
  permuted->features_i8 = has_i8 ? features_i8 : nullptr;
  return reporter.Ok();
}

extern "C" qgnn_status qgnn_sparse_features_permute(const qgnn_graph* graph,
                                                    const qgnn_sparse_features* features, const int32_t* perm,
                                                    int32_t* row_ptr, int32_t* col_idx, float* values,
                                                    qgnn_sparse_features* permuted, qgnn_error* error) {
  using namespace qgnn::runtime;  // NOLINT(build/namespaces)
  ErrorReporter reporter(error);
  qgnn_status st = ValidateReorderGraph(graph, reporter);
  if (st != QGNN_OK) return st;
  const qgnn_graph& g = *graph;
  const uint32_t n = g.num_nodes;
  if (features == nullptr || permuted == nullptr)
    return reporter.Report(QGNN_INVALID_ARGUMENT, "features or permuted is NULL");
  const qgnn_sparse_features& f = *features;
  if (f.row_ptr == nullptr || row_ptr == nullptr)
    return reporter.Report(QGNN_INVALID_ARGUMENT, "sparse features: a row_ptr is NULL");
  if (f.nnz > 0 && (f.col_idx == nullptr || f.values == nullptr || col_idx == nullptr || values == nullptr)) {
    return reporter.Report(
        QGNN_INVALID_ARGUMENT,
        "sparse features: col_idx or values (input or output) is NULL with %" PRIu32 " non-zeros", f.nnz);
  }
  if (n > 0 && perm == nullptr) return reporter.Report(QGNN_INVALID_ARGUMENT, "perm is NULL");
  if (f.row_ptr[0] != 0) {
    return reporter.Report(QGNN_INVALID_GRAPH, "sparse features: row_ptr[0] is %" PRId32 ", expected 0",
                           f.row_ptr[0]);
  }
  for (uint32_t i = 0; i < n; ++i) {
    if (f.row_ptr[i + 1] < f.row_ptr[i]) {
      return reporter.Report(QGNN_INVALID_GRAPH,
                             "sparse features: row_ptr decreases at node %" PRIu32 " (%" PRId32 " -> %" PRId32
                             ")",
                             i, f.row_ptr[i], f.row_ptr[i + 1]);
    }
  }
  if (static_cast<int64_t>(f.row_ptr[n]) != static_cast<int64_t>(f.nnz)) {
    return reporter.Report(QGNN_INVALID_GRAPH,
                           "sparse features: row_ptr[%" PRIu32 "] is %" PRId32 ", expected nnz %" PRIu32, n,
                           f.row_ptr[n], f.nnz);
  }
  const size_t ptr_bytes = (static_cast<size_t>(n) + 1) * sizeof(int32_t);
  const size_t nnz_bytes = static_cast<size_t>(f.nnz) * sizeof(int32_t);  // sizeof(float) == 4 too
  if (Overlap(row_ptr, ptr_bytes, f.row_ptr, ptr_bytes) ||
      Overlap(row_ptr, ptr_bytes, f.col_idx, nnz_bytes) || Overlap(row_ptr, ptr_bytes, f.values, nnz_bytes) ||
      Overlap(col_idx, nnz_bytes, f.row_ptr, ptr_bytes) ||
      Overlap(col_idx, nnz_bytes, f.col_idx, nnz_bytes) || Overlap(col_idx, nnz_bytes, f.values, nnz_bytes) ||
      Overlap(values, nnz_bytes, f.row_ptr, ptr_bytes) || Overlap(values, nnz_bytes, f.col_idx, nnz_bytes) ||
      Overlap(values, nnz_bytes, f.values, nnz_bytes) ||
      Overlap(row_ptr, ptr_bytes, perm, n * sizeof(int32_t))) {
    return reporter.Report(QGNN_INVALID_ARGUMENT, "an output buffer overlaps the features or perm");
  }
  st = CheckPermutation(g, perm, row_ptr, reporter);
  if (st != QGNN_OK) return st;

  PermutedRowPtr(n, f.row_ptr, perm, row_ptr);
  for (uint32_t i = 0; i < n; ++i) {
    const int32_t begin = f.row_ptr[i], count = f.row_ptr[i + 1] - begin, out = row_ptr[perm[i]];
    if (count == 0) continue;
    std::memcpy(col_idx + out, f.col_idx + begin, static_cast<size_t>(count) * sizeof(int32_t));
    std::memcpy(values + out, f.values + begin, static_cast<size_t>(count) * sizeof(float));
  }
  *permuted = qgnn_sparse_features{f.nnz, row_ptr, col_idx, values};
  return reporter.Ok();
}

extern "C" qgnn_status qgnn_rows_unpermute(const int32_t* perm, uint32_t num_rows, size_t row_bytes,
                                           const void* permuted_rows, void* rows, qgnn_error* error) {
  using namespace qgnn::runtime;  // NOLINT(build/namespaces)
  ErrorReporter reporter(error);
  if (num_rows == 0 || row_bytes == 0) return reporter.Ok();
  if (perm == nullptr || permuted_rows == nullptr || rows == nullptr)
    return reporter.Report(QGNN_INVALID_ARGUMENT, "perm, permuted_rows or rows is NULL");
  if (row_bytes > SIZE_MAX / num_rows) {
    return reporter.Report(QGNN_LIMIT_EXCEEDED, "%" PRIu32 " rows of %zu bytes exceed the address space",
                           num_rows, row_bytes);
  }
  const size_t total = static_cast<size_t>(num_rows) * row_bytes;
  if (Overlap(permuted_rows, total, rows, total))
    return reporter.Report(QGNN_INVALID_ARGUMENT, "rows overlaps permuted_rows");
  for (uint32_t i = 0; i < num_rows; ++i) {
    if (perm[i] < 0 || static_cast<uint32_t>(perm[i]) >= num_rows) {
      return reporter.Report(QGNN_INVALID_ARGUMENT,
                             "perm[%" PRIu32 "] = %" PRId32 " is out of range [0, %" PRIu32 ")", i, perm[i],
                             num_rows);
    }
  }
  const auto* src = static_cast<const uint8_t*>(permuted_rows);
  auto* dst = static_cast<uint8_t*>(rows);
  for (uint32_t i = 0; i < num_rows; ++i)
    std::memcpy(dst + i * row_bytes, src + static_cast<size_t>(perm[i]) * row_bytes, row_bytes);
  return reporter.Ok();
}
