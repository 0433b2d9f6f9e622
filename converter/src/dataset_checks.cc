// Semantic validation of a graph data set (docs/format.md, "Graph data sets"): a .qgd file is untrusted
// input, and the batches cut from it go straight to the runtime.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "qgnn/converter/dataset.h"

namespace qgnn {
namespace converter {
namespace {

std::string s(int64_t v) { return std::to_string(v); }

// `ptr` has `count` + 1 entries, starts at 0, never decreases and ends at `total`.
std::string check_offsets(const std::vector<int32_t>& ptr, int64_t total, const std::string& name,
                          const std::string& total_name) {
  if (ptr.empty()) return name + " is empty";
  if (ptr[0] != 0) return name + "[0] = " + s(ptr[0]) + ", expected 0";
  for (size_t i = 1; i < ptr.size(); ++i) {
    if (ptr[i] < ptr[i - 1]) {
      return name + " decreases at " + s(static_cast<int64_t>(i)) + " (" + s(ptr[i - 1]) + " -> " +
             s(ptr[i]) + ")";
    }
  }
  if (ptr.back() != total)
    return name + " ends at " + s(ptr.back()) + ", expected " + total_name + " = " + s(total);
  return "";
}

std::string check_split(const std::vector<uint32_t>& split, uint32_t count, const std::string& name,
                        const std::string& unit) {
  for (size_t k = 0; k < split.size(); ++k) {
    if (split[k] >= count) {
      return name + "[" + s(static_cast<int64_t>(k)) + "] = " + s(split[k]) + " is not a " + unit +
             " index (" + s(count) + " " + unit + "s)";
    }
  }
  return "";
}

// Sparse features: version 2, row_ptr over the nodes, columns in range and strictly increasing per node
// (which also rules out duplicates), finite values. Runs after row_ptr (the graph's) has been checked.
std::string check_sparse_features(const GraphSetDesc& set) {
  if (set.version < 2) {
    return "sparse features need data set format version 2 (the file says " + s(set.version) + ")";
  }
  const size_t nodes = set.row_ptr.size() - 1;
  if (set.feature_row_ptr.size() != nodes + 1) {
    return "feature_row_ptr holds " + s(static_cast<int64_t>(set.feature_row_ptr.size())) +
           " offsets, expected num_nodes + 1 = " + s(static_cast<int64_t>(nodes + 1));
  }
  if (set.feature_col_idx.size() != set.feature_values.size()) {
    return "feature_col_idx holds " + s(static_cast<int64_t>(set.feature_col_idx.size())) +
           " columns but feature_values " + s(static_cast<int64_t>(set.feature_values.size())) + " values";
  }
  if (set.feature_values.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return "too many non-zero features for int32 offsets";
  }
  const int64_t nnz = static_cast<int64_t>(set.feature_values.size());
  std::string e = check_offsets(set.feature_row_ptr, nnz, "feature_row_ptr", "nnz");
  if (!e.empty()) return e;
  for (size_t i = 0; i < nodes; ++i) {
    for (int32_t k = set.feature_row_ptr[i]; k < set.feature_row_ptr[i + 1]; ++k) {
      const int32_t c = set.feature_col_idx[static_cast<size_t>(k)];
      if (c < 0 || c >= set.feature_dim) {
        return "feature_col_idx[" + s(k) + "] = " + s(c) + " (node " + s(static_cast<int64_t>(i)) +
               ") is not a feature column (feature_dim " + s(set.feature_dim) + ")";
      }
      if (k > set.feature_row_ptr[i] && c <= set.feature_col_idx[static_cast<size_t>(k) - 1]) {
        return "feature_col_idx[" + s(k) + "] = " + s(c) + " of node " + s(static_cast<int64_t>(i)) +
               " does not increase (previous " + s(set.feature_col_idx[static_cast<size_t>(k) - 1]) + ")";
      }
      if (!std::isfinite(set.feature_values[static_cast<size_t>(k)])) {
        return "feature " + s(c) + " of node " + s(static_cast<int64_t>(i)) + " (feature_values[" + s(k) +
               "]) is not finite";
      }
    }
  }
  return "";
}

std::string check_everything(const GraphSetDesc& set) {
  if (set.version < 1 || set.version > kGraphSetFormatVersion) {
    return "data set format version " + s(set.version) + " is not 1.." + s(kGraphSetFormatVersion);
  }
  if (set.task != Task::kGraphClassification && set.task != Task::kNodeClassification) return "unknown task";
  if (set.feature_dim <= 0) return "feature_dim " + s(set.feature_dim) + " is not > 0";
  if (set.num_classes <= 0) return "num_classes " + s(set.num_classes) + " is not > 0";
  if (!set.class_names.empty() && set.class_names.size() != static_cast<size_t>(set.num_classes)) {
    return s(static_cast<int64_t>(set.class_names.size())) + " class names for " + s(set.num_classes) +
           " classes";
  }
  if (set.row_ptr.empty()) return "row_ptr is empty (it holds num_nodes + 1 offsets)";
  if (set.row_ptr.size() - 1 > static_cast<size_t>(std::numeric_limits<int32_t>::max()) ||
      set.col_idx.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return "too many nodes or edges for int32 ids";
  }
  const int32_t nodes = set.num_nodes();
  const int32_t edges = set.num_edges();
  std::string e = check_offsets(set.row_ptr, edges, "row_ptr", "num_edges");
  if (e.empty()) e = check_offsets(set.graph_ptr, nodes, "graph_ptr", "num_nodes");
  if (!e.empty()) return e;
  if (set.graph_ptr.size() < 2) return "graph_ptr holds no graph";
  const int32_t graphs = set.num_graphs();
  // Every edge stays inside the graph of its row (so a batch of graphs is block-diagonal).
  for (int32_t g = 0; g < graphs; ++g) {
    const int32_t first = set.graph_ptr[g];
    const int32_t end = set.graph_ptr[g + 1];
    for (int32_t i = first; i < end; ++i) {
      for (int32_t k = set.row_ptr[i]; k < set.row_ptr[i + 1]; ++k) {
        const int32_t j = set.col_idx[k];
        if (j < 0 || j >= nodes) {
          return "col_idx[" + s(k) + "] = " + s(j) + " is not a node id (" + s(nodes) + " nodes)";
        }
        if (j < first || j >= end) {
          return "col_idx[" + s(k) + "] = " + s(j) + " (edge into node " + s(i) + ") leaves graph " + s(g) +
                 " (nodes " + s(first) + ".." + s(end - 1) + ")";
        }
      }
    }
  }
  if (set.sparse_features()) {
    e = check_sparse_features(set);
    if (!e.empty()) return e;
  } else if (!set.feature_col_idx.empty() || !set.feature_values.empty()) {
    return "feature_col_idx or feature_values without feature_row_ptr";
  }
  const size_t expected_features =
      set.sparse_features() ? 0 : static_cast<size_t>(nodes) * static_cast<size_t>(set.feature_dim);
  if (set.features.size() != expected_features) {
    if (set.sparse_features()) {
      return "features hold " + s(static_cast<int64_t>(set.features.size())) +
             " values beside sparse features (expected none)";
    }
    return "features hold " + s(static_cast<int64_t>(set.features.size())) +
           " values, expected num_nodes * " + "feature_dim = " + s(static_cast<int64_t>(expected_features));
  }
  for (size_t k = 0; k < set.features.size(); ++k) {
    if (!std::isfinite(set.features[k])) {
      return "feature " + s(static_cast<int64_t>(k % set.feature_dim)) + " of node " +
             s(static_cast<int64_t>(k / set.feature_dim)) + " is not finite";
    }
  }
  const bool per_graph = set.task == Task::kGraphClassification;
  const int32_t labelled = per_graph ? graphs : nodes;
  const std::string unit = per_graph ? "graph" : "node";
  if (set.labels.size() != static_cast<size_t>(labelled)) {
    return s(static_cast<int64_t>(set.labels.size())) + " labels for " + s(labelled) + " " + unit + "s";
  }
  for (size_t k = 0; k < set.labels.size(); ++k) {
    if (set.labels[k] < 0 || set.labels[k] >= set.num_classes) {
      return "label of " + unit + " " + s(static_cast<int64_t>(k)) + " is " + s(set.labels[k]) +
             ", expected 0.." + s(set.num_classes - 1);
    }
  }
  const uint32_t count = static_cast<uint32_t>(labelled);
  if (e.empty()) e = check_split(set.train, count, "train", unit);
  if (e.empty()) e = check_split(set.val, count, "val", unit);
  if (e.empty()) e = check_split(set.test, count, "test", unit);
  if (!e.empty()) return e;
  if (!set.fold.empty() && set.fold.size() != static_cast<size_t>(graphs)) {
    return s(static_cast<int64_t>(set.fold.size())) + " fold entries for " + s(graphs) + " graphs";
  }
  return "";
}

}  // namespace

Result<bool> check_graph_set(const GraphSetDesc& set) {
  const std::string error = check_everything(set);
  if (!error.empty()) return Result<bool>::failure(error);
  Result<bool> r;
  r.value = true;
  return r;
}

}  // namespace converter
}  // namespace qgnn
