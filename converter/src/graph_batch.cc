// Cutting batches of graphs out of a data set, relabelled to 0..n-1 (the runtime's qgnn_graph layout).
#include <cstdint>
#include <string>
#include <vector>

#include "qgnn/converter/dataset.h"

namespace qgnn {
namespace converter {

Result<GraphBatch> extract_graphs(const GraphSetDesc& set, const std::vector<uint32_t>& graph_indices) {
  using R = Result<GraphBatch>;
  const uint32_t graphs = static_cast<uint32_t>(set.num_graphs());
  R r;
  GraphBatch& batch = r.value;
  batch.feature_dim = set.feature_dim;
  const size_t dim = static_cast<size_t>(set.feature_dim);
  uint64_t nodes = 0;
  uint64_t edges = 0;
  for (uint32_t g : graph_indices) {
    if (g >= graphs) {
      return R::failure("graph index " + std::to_string(g) + " out of range (" + std::to_string(graphs) +
                        " graphs)");
    }
    nodes += static_cast<uint64_t>(set.graph_ptr[g + 1] - set.graph_ptr[g]);
    edges += static_cast<uint64_t>(set.row_ptr[set.graph_ptr[g + 1]] - set.row_ptr[set.graph_ptr[g]]);
  }
  if (nodes > INT32_MAX || edges > INT32_MAX) return R::failure("the batch has too many nodes or edges");
  batch.row_ptr.reserve(nodes + 1);
  batch.col_idx.reserve(edges);
  batch.features.reserve(nodes * dim);
  for (uint32_t g : graph_indices) {
    const int32_t first = set.graph_ptr[g];
    const int32_t end = set.graph_ptr[g + 1];
    const int32_t offset = static_cast<int32_t>(batch.num_nodes) - first;  // global id -> batch id
    for (int32_t i = first; i < end; ++i) {
      for (int32_t k = set.row_ptr[i]; k < set.row_ptr[i + 1]; ++k)
        batch.col_idx.push_back(set.col_idx[k] + offset);
      batch.row_ptr.push_back(static_cast<int32_t>(batch.col_idx.size()));
    }
    batch.features.insert(batch.features.end(), set.features.begin() + static_cast<ptrdiff_t>(first * dim),
                          set.features.begin() + static_cast<ptrdiff_t>(end * dim));
    if (set.task == Task::kGraphClassification) {
      batch.labels.push_back(set.labels[g]);
    } else {
      batch.labels.insert(batch.labels.end(), set.labels.begin() + first, set.labels.begin() + end);
    }
    batch.num_nodes += static_cast<uint32_t>(end - first);
    batch.graph_ptr.push_back(static_cast<int32_t>(batch.num_nodes));
  }
  batch.num_edges = static_cast<uint32_t>(batch.col_idx.size());
  batch.num_graphs = static_cast<uint32_t>(graph_indices.size());
  return r;
}

Result<GraphBatch> extract_all_graphs(const GraphSetDesc& set) {
  std::vector<uint32_t> all(static_cast<size_t>(set.num_graphs()));
  for (size_t g = 0; g < all.size(); ++g) all[g] = static_cast<uint32_t>(g);
  return extract_graphs(set, all);
}

Result<std::vector<uint32_t>> split_indices(const GraphSetDesc& set, const std::string& split) {
  using R = Result<std::vector<uint32_t>>;
  R r;
  if (split == "train") {
    r.value = set.train;
  } else if (split == "val") {
    r.value = set.val;
  } else if (split == "test") {
    r.value = set.test;
  } else if (split == "all") {
    const int32_t count = set.task == Task::kGraphClassification ? set.num_graphs() : set.num_nodes();
    for (int32_t k = 0; k < count; ++k) r.value.push_back(static_cast<uint32_t>(k));
  } else {
    return R::failure("unknown split \"" + split + "\" (expected train, val, test or all)");
  }
  if (r.value.empty()) return R::failure("split \"" + split + "\" of data set \"" + set.name + "\" is empty");
  return r;
}

}  // namespace converter
}  // namespace qgnn
