// Node reordering: the permutations (qgnn_graph_reorder_scratch_size, qgnn_graph_reorder). Applying them is
// graph_permute.cc.
#include "reorder.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "graph_validation.h"
#include "limits.h"

namespace qgnn {
namespace runtime {
namespace {

/// George-Liu refinements of the RCM start node per component: each one is a breadth-first search over the
/// component, and the eccentricity rarely grows after two or three, so a cap bounds the cost on hostile
/// inputs (a long path gains one level per refinement) without changing typical results.
constexpr int kMaxPeripheralRefinements = 8;

/// A node's mark in the RCM scratch: kPlaced once it has its final position; otherwise the stamp of the
/// last trial search that reached it (0: none yet).
constexpr uint32_t kPlaced = UINT32_MAX;

/// Scratch per node: DEGREE sorts an order array, RCM also keeps a mark per node.
size_t ScratchPerNode(qgnn_reorder_method method) {
  return method == QGNN_REORDER_RCM ? 8 : method == QGNN_REORDER_DEGREE ? 4 : 0;
}

bool KnownMethod(qgnn_reorder_method method) {
  return method == QGNN_REORDER_NONE || method == QGNN_REORDER_RCM || method == QGNN_REORDER_DEGREE;
}

/// The RCM of one graph's node range; every array is indexed by node id, `order` is filled from `begin`.
class Rcm {
 public:
  Rcm(const qgnn_graph& g, int32_t* order, uint32_t* mark) : g_(g), order_(order), mark_(mark) {}

  void Run(int32_t begin, int32_t end, int32_t* perm) {
    int32_t fill = begin;
    for (int32_t s = begin; s < end; ++s) {
      // A loop, not a test: on a non-symmetric CSR the search from the start node's lowest-degree relative
      // need not reach the start node itself, which then seeds the next search.
      while (mark_[s] != kPlaced) {
        const int32_t root = PseudoPeripheral(s, fill);
        fill = CuthillMcKee(root, fill);
      }
    }
    // fill == end: edges stay inside their graph (validated), and a search from a node of the range reaches
    // only nodes of the range. Reversing the Cuthill-McKee order is what makes it RCM.
    for (int32_t k = begin; k < end; ++k) perm[order_[k]] = begin + (end - 1 - k);
  }

 private:
  int32_t Degree(int32_t v) const { return g_.row_ptr[v + 1] - g_.row_ptr[v]; }
  bool Before(int32_t a, int32_t b) const {
    const int32_t da = Degree(a), db = Degree(b);
    return da != db ? da < db : a < b;
  }

  /// Breadth-first search from `root` over unplaced nodes, queued in order_[fill, ...) (the slots the
  /// component will take anyway). Returns the number of levels; *last_begin / *tail bound the last level.
  int32_t Levels(int32_t root, int32_t fill, int32_t* last_begin, int32_t* tail) {
    const uint32_t stamp = ++stamp_;
    order_[fill] = root;
    mark_[root] = stamp;
    int32_t head = fill, end = fill + 1, levels = 0;
    while (head < end) {
      *last_begin = head;
      const int32_t level_end = end;
      for (; head < level_end; ++head) {
        const int32_t u = order_[head];
        for (int32_t e = g_.row_ptr[u]; e < g_.row_ptr[u + 1]; ++e) {
          const int32_t v = g_.col_idx[e];
          if (mark_[v] == kPlaced || mark_[v] == stamp) continue;
          mark_[v] = stamp;
          order_[end++] = v;
        }
      }
      ++levels;
    }
    *tail = end;
    return levels;
  }

  /// The lowest-degree node of `s`'s component, then George-Liu: move to the lowest-degree node of the last
  /// level while that lengthens the level structure.
  int32_t PseudoPeripheral(int32_t s, int32_t fill) {
    int32_t last_begin = fill, tail = fill;
    Levels(s, fill, &last_begin, &tail);
    int32_t root = s;
    for (int32_t k = fill; k < tail; ++k)
      if (Before(order_[k], root)) root = order_[k];
    int32_t depth = Levels(root, fill, &last_begin, &tail);
    for (int refinement = 0; refinement < kMaxPeripheralRefinements; ++refinement) {
      int32_t candidate = order_[last_begin];
      for (int32_t k = last_begin + 1; k < tail; ++k)
        if (Before(order_[k], candidate)) candidate = order_[k];
      int32_t candidate_last = 0, candidate_tail = 0;
      const int32_t candidate_depth = Levels(candidate, fill, &candidate_last, &candidate_tail);
      if (candidate_depth <= depth) break;
      root = candidate;
      depth = candidate_depth;
      last_begin = candidate_last;
      tail = candidate_tail;
    }
    return root;
  }

  /// Cuthill-McKee from `root` into order_[fill, ...): each node's unplaced neighbours by ascending degree.
  /// Returns the new fill.
  int32_t CuthillMcKee(int32_t root, int32_t fill) {
    order_[fill] = root;
    mark_[root] = kPlaced;
    int32_t head = fill, end = fill + 1;
    while (head < end) {
      const int32_t u = order_[head++];
      const int32_t first = end;
      for (int32_t e = g_.row_ptr[u]; e < g_.row_ptr[u + 1]; ++e) {
        const int32_t v = g_.col_idx[e];
        if (mark_[v] == kPlaced) continue;
        mark_[v] = kPlaced;
        order_[end++] = v;
      }
      std::sort(order_ + first, order_ + end, [this](int32_t a, int32_t b) { return Before(a, b); });
    }
    return end;
  }

  const qgnn_graph& g_;
  int32_t* order_;
  uint32_t* mark_;
  uint32_t stamp_ = 0;  // at most 2 + kMaxPeripheralRefinements searches per component: < 2^32 for 2^22 nodes
};

void DegreeOrder(const qgnn_graph& g, int32_t begin, int32_t end, int32_t* order, int32_t* perm) {
  for (int32_t k = begin; k < end; ++k) order[k] = k;
  const int32_t* row_ptr = g.row_ptr;
  std::sort(order + begin, order + end, [row_ptr](int32_t a, int32_t b) {
    const int32_t da = row_ptr[a + 1] - row_ptr[a], db = row_ptr[b + 1] - row_ptr[b];
    return da != db ? da > db : a < b;
  });
  for (int32_t k = begin; k < end; ++k) perm[order[k]] = k;
}

}  // namespace

qgnn_status ValidateReorderGraph(const qgnn_graph* graph, ErrorReporter& reporter) {
  if (graph == nullptr) return reporter.Report(QGNN_INVALID_ARGUMENT, "graph is NULL");
  if (graph->num_nodes > kMaxNodes) {
    return reporter.Report(QGNN_GRAPH_TOO_LARGE, "%" PRIu32 " nodes exceed the runtime's cap %" PRIu32,
                           graph->num_nodes, kMaxNodes);
  }
  if (graph->num_edges > kMaxEdges) {
    return reporter.Report(QGNN_GRAPH_TOO_LARGE, "%" PRIu32 " edges exceed the runtime's cap %" PRIu32,
                           graph->num_edges, kMaxEdges);
  }
  if (graph->num_graphs > kMaxGraphs) {
    return reporter.Report(QGNN_GRAPH_TOO_LARGE, "%" PRIu32 " graphs exceed the runtime's cap %" PRIu32,
                           graph->num_graphs, kMaxGraphs);
  }
  const GraphBounds caps{kMaxNodes, kMaxEdges, kMaxGraphs, kMaxDegree};
  return ValidateGraphStructure(*graph, caps, reporter);
}

}  // namespace runtime
}  // namespace qgnn

extern "C" qgnn_status qgnn_graph_reorder_scratch_size(uint32_t num_nodes, qgnn_reorder_method method,
                                                       size_t* bytes, qgnn_error* error) {
  using namespace qgnn::runtime;  // NOLINT(build/namespaces)
  ErrorReporter reporter(error);
  if (bytes == nullptr) return reporter.Report(QGNN_INVALID_ARGUMENT, "bytes is NULL");
  if (!KnownMethod(method))
    return reporter.Report(QGNN_INVALID_ARGUMENT, "unknown reorder method %d", static_cast<int>(method));
  if (num_nodes > kMaxNodes) {
    return reporter.Report(QGNN_GRAPH_TOO_LARGE, "%" PRIu32 " nodes exceed the runtime's cap %" PRIu32,
                           num_nodes, kMaxNodes);
  }
  // 8 * 2^22 + 3 fits every size_t of 32 bits or more. The slack aligns the int32 arrays in any buffer.
  const size_t per_node = ScratchPerNode(method);
  *bytes = per_node == 0 || num_nodes == 0
               ? 0
               : static_cast<size_t>(num_nodes) * per_node + (alignof(int32_t) - 1);
  return reporter.Ok();
}

extern "C" qgnn_status qgnn_graph_reorder(const qgnn_graph* graph, qgnn_reorder_method method, int32_t* perm,
                                          void* scratch, size_t scratch_bytes, qgnn_error* error) {
  using namespace qgnn::runtime;  // NOLINT(build/namespaces)
  ErrorReporter reporter(error);
  if (!KnownMethod(method))
    return reporter.Report(QGNN_INVALID_ARGUMENT, "unknown reorder method %d", static_cast<int>(method));
  qgnn_status st = ValidateReorderGraph(graph, reporter);
  if (st != QGNN_OK) return st;
  const qgnn_graph& g = *graph;
  if (perm == nullptr && g.num_nodes > 0) return reporter.Report(QGNN_INVALID_ARGUMENT, "perm is NULL");
  size_t needed = 0;
  st = qgnn_graph_reorder_scratch_size(g.num_nodes, method, &needed, error);
  if (st != QGNN_OK) return st;
  if (needed > 0 && (scratch == nullptr || scratch_bytes < needed)) {
    return reporter.Report(QGNN_INVALID_ARGUMENT,
                           "scratch of %zu bytes is too small: %" PRIu32 " nodes need %zu (NULL: 0)",
                           scratch == nullptr ? size_t{0} : scratch_bytes, g.num_nodes, needed);
  }
  const uintptr_t base = reinterpret_cast<uintptr_t>(scratch);
  const uintptr_t aligned = (base + (alignof(int32_t) - 1)) & ~static_cast<uintptr_t>(alignof(int32_t) - 1);
  int32_t* order = reinterpret_cast<int32_t*>(aligned);
  for (uint32_t k = 0; k < g.num_graphs; ++k) {
    int32_t begin = 0, end = 0;
    GraphRange(g, k, &begin, &end);
    switch (method) {
      case QGNN_REORDER_NONE:
        for (int32_t i = begin; i < end; ++i) perm[i] = i;
        break;
      case QGNN_REORDER_DEGREE:
        DegreeOrder(g, begin, end, order, perm);
        break;
      case QGNN_REORDER_RCM: {
        uint32_t* mark = reinterpret_cast<uint32_t*>(order + g.num_nodes);
        for (int32_t i = begin; i < end; ++i) mark[i] = 0;
        Rcm(g, order, mark).Run(begin, end, perm);
        break;
      }
    }
  }
  return reporter.Ok();
}
