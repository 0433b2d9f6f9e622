// Cutting batches of graphs out of a data set, relabelled to 0..n-1 (the runtime's qgnn_graph layout).
#include <cstdint>
#include <string>
#include <vector>

#include "qgnn/converter/dataset.h"

namespace qgnn {
namespace converter {

Result<GraphBatch> extract_graphs(const GraphSetDesc& set, const std::vector<uint32_t>& graph_indices,
                                  FeatureForm form) {
  using R = Result<GraphBatch>;
  const uint32_t graphs = static_cast<uint32_t>(set.num_graphs());
  R r;
  GraphBatch& batch = r.value;
  batch.feature_dim = set.feature_dim;
  const size_t dim = static_cast<size_t>(set.feature_dim);
  const bool sparse = set.sparse_features();
  uint64_t nodes = 0;
  uint64_t edges = 0;
  uint64_t nonzeros = 0;
  for (uint32_t g : graph_indices) {
    if (g >= graphs) {
      return R::failure("graph index " + std::to_string(g) + " out of range (" + std::to_string(graphs) +
                        " graphs)");
    }
    nodes += static_cast<uint64_t>(set.graph_ptr[g + 1] - set.graph_ptr[g]);
    edges += static_cast<uint64_t>(set.row_ptr[set.graph_ptr[g + 1]] - set.row_ptr[set.graph_ptr[g]]);
    if (sparse) {
      nonzeros += static_cast<uint64_t>(set.feature_row_ptr[set.graph_ptr[g + 1]] -
                                        set.feature_row_ptr[set.graph_ptr[g]]);
    }
  }
  // Repeated graphs can push a batch past int32 offsets even when the set fits.
  if (nodes > INT32_MAX || edges > INT32_MAX || nonzeros > INT32_MAX)
    return R::failure("the batch has too many nodes, edges or non-zero features");
  batch.row_ptr.reserve(nodes + 1);
  batch.col_idx.reserve(edges);
  if (sparse) {
    batch.feature_row_ptr.reserve(nodes + 1);
    batch.feature_row_ptr.push_back(0);
    batch.feature_col_idx.reserve(nonzeros);
    batch.feature_values.reserve(nonzeros);
  } else {
    batch.features.reserve(nodes * dim);
  }
  for (uint32_t g : graph_indices) {
    const int32_t first = set.graph_ptr[g];
    const int32_t end = set.graph_ptr[g + 1];
    const int32_t offset = static_cast<int32_t>(batch.num_nodes) - first;  // global id -> batch id
    for (int32_t i = first; i < end; ++i) {
      for (int32_t k = set.row_ptr[i]; k < set.row_ptr[i + 1]; ++k)
        batch.col_idx.push_back(set.col_idx[k] + offset);
      batch.row_ptr.push_back(static_cast<int32_t>(batch.col_idx.size()));
    }
    if (sparse) {
      // The graph's rows of the feature CSR, offsets rebased to the batch's.
      const int32_t nz_first = set.feature_row_ptr[first];
      const int32_t nz_end = set.feature_row_ptr[end];
      const int32_t nz_offset = static_cast<int32_t>(batch.feature_values.size()) - nz_first;
      for (int32_t i = first; i < end; ++i)
        batch.feature_row_ptr.push_back(set.feature_row_ptr[i + 1] + nz_offset);
      batch.feature_col_idx.insert(batch.feature_col_idx.end(), set.feature_col_idx.begin() + nz_first,
                                   set.feature_col_idx.begin() + nz_end);
      batch.feature_values.insert(batch.feature_values.end(), set.feature_values.begin() + nz_first,
                                  set.feature_values.begin() + nz_end);
    } else {
      batch.features.insert(batch.features.end(), set.features.begin() + static_cast<ptrdiff_t>(first * dim),
                            set.features.begin() + static_cast<ptrdiff_t>(end * dim));
    }
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
  if (form == FeatureForm::kDense) densify_features(&batch);
  return r;
}

Result<GraphBatch> extract_all_graphs(const GraphSetDesc& set, FeatureForm form) {
  std::vector<uint32_t> all(static_cast<size_t>(set.num_graphs()));
  for (size_t g = 0; g < all.size(); ++g) all[g] = static_cast<uint32_t>(g);
  return extract_graphs(set, all, form);
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
