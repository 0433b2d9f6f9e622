// Graph validation (see graph_validation.h).
#include "graph_validation.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "qgnn/kernels/numerics.h"

namespace qgnn {
namespace runtime {
namespace {

qgnn_status CheckSizes(const qgnn_graph& g, const GraphBounds& bounds, ErrorReporter& reporter) {
  if (g.num_graphs == 0) return reporter.Report(QGNN_INVALID_GRAPH, "num_graphs is 0 (at least 1)");
  if (g.num_nodes > bounds.max_nodes) {
    return reporter.Report(QGNN_GRAPH_TOO_LARGE, "%" PRIu32 " nodes exceed the plan's max_nodes %" PRIu32,
                           g.num_nodes, bounds.max_nodes);
  }
  if (g.num_edges > bounds.max_edges) {
    return reporter.Report(QGNN_GRAPH_TOO_LARGE, "%" PRIu32 " edges exceed the plan's max_edges %" PRIu32,
                           g.num_edges, bounds.max_edges);
  }
  if (g.num_graphs > bounds.max_graphs) {
    return reporter.Report(QGNN_GRAPH_TOO_LARGE, "%" PRIu32 " graphs exceed the plan's max_graphs %" PRIu32,
                           g.num_graphs, bounds.max_graphs);
  }
  return QGNN_OK;
}

qgnn_status CheckArrays(const qgnn_graph& g, ErrorReporter& reporter) {
  if (g.row_ptr == nullptr) return reporter.Report(QGNN_INVALID_ARGUMENT, "row_ptr is NULL");
  if (g.col_idx == nullptr && g.num_edges > 0)
    return reporter.Report(QGNN_INVALID_ARGUMENT, "col_idx is NULL");
  if (g.graph_ptr == nullptr && g.num_graphs > 1) {
    return reporter.Report(QGNN_INVALID_ARGUMENT, "graph_ptr is NULL but num_graphs is %" PRIu32,
                           g.num_graphs);
  }
  return QGNN_OK;
}

qgnn_status CheckFeaturePointers(const qgnn_graph& g, const FeatureSpec& spec, ErrorReporter& reporter) {
  const bool any = g.num_nodes > 0;
  if (spec.sparse) {
    if (g.features_f32 != nullptr || g.features_i8 != nullptr) {
      return reporter.Report(QGNN_INVALID_ARGUMENT,
                             "sparse features given: features_f32 and features_i8 must be NULL");
    }
  } else if (spec.int8) {
    if (g.features_f32 != nullptr) {
      return reporter.Report(QGNN_INVALID_ARGUMENT,
                             "the model takes int8 features: features_f32 must be NULL");
    }
    if (any && g.features_i8 == nullptr) {
      return reporter.Report(QGNN_INVALID_ARGUMENT, "the model takes int8 features: features_i8 is NULL");
    }
  } else {
    if (g.features_i8 != nullptr) {
      return reporter.Report(QGNN_INVALID_ARGUMENT,
                             "the model takes float features: features_i8 must be NULL");
    }
    if (any && g.features_f32 == nullptr) {
      return reporter.Report(QGNN_INVALID_ARGUMENT, "the model takes float features: features_f32 is NULL");
    }
  }
  return QGNN_OK;
}

qgnn_status CheckRows(const qgnn_graph& g, const GraphBounds& bounds, ErrorReporter& reporter) {
  if (g.row_ptr[0] != 0)
    return reporter.Report(QGNN_INVALID_GRAPH, "row_ptr[0] is %" PRId32 ", expected 0", g.row_ptr[0]);
  for (uint32_t i = 0; i < g.num_nodes; ++i) {
    if (g.row_ptr[i + 1] < g.row_ptr[i]) {
      return reporter.Report(QGNN_INVALID_GRAPH,
                             "row_ptr decreases at node %" PRIu32 " (%" PRId32 " -> %" PRId32 ")", i,
                             g.row_ptr[i], g.row_ptr[i + 1]);
    }
  }
  if (static_cast<int64_t>(g.row_ptr[g.num_nodes]) != static_cast<int64_t>(g.num_edges)) {
    return reporter.Report(QGNN_INVALID_GRAPH,
                           "row_ptr[%" PRIu32 "] is %" PRId32 ", expected num_edges %" PRIu32, g.num_nodes,
                           g.row_ptr[g.num_nodes], g.num_edges);
  }
  for (uint32_t i = 0; i < g.num_nodes; ++i) {
    const uint32_t degree = static_cast<uint32_t>(g.row_ptr[i + 1] - g.row_ptr[i]);
    if (degree > bounds.max_degree) {
      return reporter.Report(QGNN_GRAPH_TOO_LARGE,
                             "node %" PRIu32 " has in-degree %" PRIu32 ", above max_degree %" PRIu32, i,
                             degree, bounds.max_degree);
    }
  }
  return QGNN_OK;
}

qgnn_status CheckGraphPtr(const qgnn_graph& g, ErrorReporter& reporter) {
  if (g.graph_ptr == nullptr) return QGNN_OK;
  if (g.graph_ptr[0] != 0) {
    return reporter.Report(QGNN_INVALID_GRAPH, "graph_ptr[0] is %" PRId32 ", expected 0", g.graph_ptr[0]);
  }
  for (uint32_t k = 0; k < g.num_graphs; ++k) {
    if (g.graph_ptr[k + 1] < g.graph_ptr[k]) {
      return reporter.Report(QGNN_INVALID_GRAPH,
                             "graph_ptr decreases at graph %" PRIu32 " (%" PRId32 " -> %" PRId32 ")", k,
                             g.graph_ptr[k], g.graph_ptr[k + 1]);
    }
  }
  if (static_cast<int64_t>(g.graph_ptr[g.num_graphs]) != static_cast<int64_t>(g.num_nodes)) {
    return reporter.Report(QGNN_INVALID_GRAPH,
                           "graph_ptr[%" PRIu32 "] is %" PRId32 ", expected num_nodes %" PRIu32, g.num_graphs,
                           g.graph_ptr[g.num_graphs], g.num_nodes);
  }
  return QGNN_OK;
}

// Every source id in range and inside the graph of its row.
qgnn_status CheckEdges(const qgnn_graph& g, ErrorReporter& reporter) {
  const int32_t n = static_cast<int32_t>(g.num_nodes);
  for (uint32_t k = 0; k < g.num_graphs; ++k) {
    const int32_t begin = g.graph_ptr != nullptr ? g.graph_ptr[k] : 0;
    const int32_t end = g.graph_ptr != nullptr ? g.graph_ptr[k + 1] : n;
    for (int32_t i = begin; i < end; ++i) {
      for (int32_t e = g.row_ptr[i]; e < g.row_ptr[i + 1]; ++e) {
        const int32_t j = g.col_idx[e];
        if (j < 0 || j >= n) {
          return reporter.Report(QGNN_INVALID_GRAPH,
                                 "col_idx[%" PRId32 "] = %" PRId32 " is out of range [0, %" PRId32 ")", e, j,
                                 n);
        }
        if (j < begin || j >= end) {
          return reporter.Report(QGNN_INVALID_GRAPH,
                                 "edge %" PRId32 " (%" PRId32 " -> %" PRId32 ") crosses from graph %" PRIu32
                                 "'s nodes [%" PRId32 ", %" PRId32 ") into another graph",
                                 e, j, i, k, begin, end);
        }
      }
    }
  }
  return QGNN_OK;
}

// Whether any of values[0, count) is NaN or infinite: all exponent bits set. Branch-free over the block so
// that the compiler vectorises it: setup checks every float of a dense input (15.5 MB for Cora), and a
// scalar isfinite loop with an early exit cost several times the invoke that reads the same floats.
bool AnyNonFinite(const float* values, size_t count) {
  constexpr uint32_t kExponent = 0x7f800000u;
  uint32_t any = 0;
  for (size_t i = 0; i < count; ++i) {
    uint32_t bits;
    std::memcpy(&bits, values + i, sizeof bits);
    any |= static_cast<uint32_t>((bits & kExponent) == kExponent);
  }
  return any != 0;
}

#if defined(QGNN_EMBEDDED)
constexpr bool kBlockPrefilter = false;  // no vector unit to gain from on a Cortex-M: code size counts more
#else
constexpr bool kBlockPrefilter = true;
#endif

qgnn_status CheckFeatures(const qgnn_graph& g, const FeatureSpec& spec, ErrorReporter& reporter) {
  if (spec.sparse) return QGNN_OK;  // ValidateSparseFeatures
  const size_t dim = spec.dim;
  const size_t count = static_cast<size_t>(g.num_nodes) * dim;
  if (!spec.int8) {
    constexpr size_t kBlock = 4096;  // floats per vectorised pass; a hit is located by a scalar rescan
    for (size_t begin = 0; begin < count; begin += kBlock) {
      const size_t n = count - begin < kBlock ? count - begin : kBlock;
      if (kBlockPrefilter && !AnyNonFinite(g.features_f32 + begin, n)) continue;
      for (size_t i = begin; i < begin + n; ++i) {
        if (!std::isfinite(g.features_f32[i])) {
          return reporter.Report(QGNN_NON_FINITE_INPUT, "feature %zu of node %zu is not finite", i % dim,
                                 i / dim);
        }
      }
    }
  } else if (spec.int8_bits < 8) {
    const int32_t lo = kernels::qmin(spec.int8_bits), hi = kernels::qmax(spec.int8_bits);
    for (size_t i = 0; i < count; ++i) {
      if (g.features_i8[i] < lo || g.features_i8[i] > hi) {
        return reporter.Report(QGNN_INVALID_ARGUMENT,
                               "int8 feature %zu of node %zu is %d, outside the %" PRId32 "-bit input range",
                               i % dim, i / dim, g.features_i8[i], spec.int8_bits);
      }
    }
  }
  return QGNN_OK;
}

}  // namespace

#if !defined(QGNN_NO_SPARSE_FEATURES)
qgnn_status ValidateSparseFeatures(const qgnn_graph& g, const qgnn_sparse_features& f, uint32_t dim,
                                   ErrorReporter& reporter) {
  if (f.row_ptr == nullptr) return reporter.Report(QGNN_INVALID_ARGUMENT, "sparse features: row_ptr is NULL");
  if (f.nnz > 0 && (f.col_idx == nullptr || f.values == nullptr)) {
    return reporter.Report(QGNN_INVALID_ARGUMENT,
                           "sparse features: col_idx or values is NULL with %" PRIu32 " non-zeros", f.nnz);
  }
  if (f.row_ptr[0] != 0) {
    return reporter.Report(QGNN_INVALID_GRAPH, "sparse features: row_ptr[0] is %" PRId32 ", expected 0",
                           f.row_ptr[0]);
  }
  for (uint32_t i = 0; i < g.num_nodes; ++i) {
    if (f.row_ptr[i + 1] < f.row_ptr[i]) {
      return reporter.Report(QGNN_INVALID_GRAPH,
                             "sparse features: row_ptr decreases at node %" PRIu32 " (%" PRId32 " -> %" PRId32
                             ")",
                             i, f.row_ptr[i], f.row_ptr[i + 1]);
    }
  }
  if (static_cast<int64_t>(f.row_ptr[g.num_nodes]) != static_cast<int64_t>(f.nnz)) {
    return reporter.Report(QGNN_INVALID_GRAPH,
                           "sparse features: row_ptr[%" PRIu32 "] is %" PRId32 ", expected nnz %" PRIu32,
                           g.num_nodes, f.row_ptr[g.num_nodes], f.nnz);
  }
  for (uint32_t i = 0; i < g.num_nodes; ++i) {
    for (int32_t e = f.row_ptr[i]; e < f.row_ptr[i + 1]; ++e) {
      const int32_t k = f.col_idx[e];
      if (k < 0 || static_cast<uint32_t>(k) >= dim) {
        return reporter.Report(QGNN_INVALID_GRAPH,
                               "sparse features: col_idx[%" PRId32 "] = %" PRId32 " of node %" PRIu32
                               " is out of range [0, %" PRIu32 ")",
                               e, k, i, dim);
      }
      if (e > f.row_ptr[i] && k <= f.col_idx[e - 1]) {
        return reporter.Report(QGNN_INVALID_GRAPH,
                               "sparse features: node %" PRIu32
                               "'s columns are not strictly increasing (col_idx[%" PRId32 "] = %" PRId32
                               " after %" PRId32 ")",
                               i, e, k, f.col_idx[e - 1]);
      }
      if (!std::isfinite(f.values[e])) {
        return reporter.Report(QGNN_NON_FINITE_INPUT,
                               "sparse feature %" PRId32 " of node %" PRIu32 " is not finite", k, i);
      }
    }
  }
  return QGNN_OK;
}
#endif

qgnn_status ValidateGraph(const qgnn_graph& graph, const GraphBounds& bounds, const FeatureSpec& features,
                          ErrorReporter& reporter) {
  qgnn_status st = CheckSizes(graph, bounds, reporter);
  if (st == QGNN_OK) st = CheckArrays(graph, reporter);
  if (st == QGNN_OK) st = CheckFeaturePointers(graph, features, reporter);
  if (st == QGNN_OK) st = CheckRows(graph, bounds, reporter);
  if (st == QGNN_OK) st = CheckGraphPtr(graph, reporter);
  if (st == QGNN_OK) st = CheckEdges(graph, reporter);
  if (st == QGNN_OK) st = CheckFeatures(graph, features, reporter);
  return st;
}

qgnn_status ValidateGraphStructure(const qgnn_graph& graph, const GraphBounds& bounds,
                                   ErrorReporter& reporter) {
  qgnn_status st = CheckSizes(graph, bounds, reporter);
  if (st == QGNN_OK) st = CheckArrays(graph, reporter);
  if (st == QGNN_OK) st = CheckRows(graph, bounds, reporter);
  if (st == QGNN_OK) st = CheckGraphPtr(graph, reporter);
  if (st == QGNN_OK) st = CheckEdges(graph, reporter);
  return st;
}

}  // namespace runtime
}  // namespace qgnn
