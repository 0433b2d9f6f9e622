// Graph data sets (.qgd, schema/qgd.fbs): load with full validation, write, and cut batches of graphs
// that can be handed to the runtime (qgnn_graph) or to the quantizer's calibration.
#ifndef QGNN_CONVERTER_DATASET_H_
#define QGNN_CONVERTER_DATASET_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "qgnn/converter/model_builder.h"

namespace qgnn {
namespace converter {

/// Newest format version of .qgd files this library reads: 2 adds sparse node features (the writer stamps 2
/// only on files that store them, 1 otherwise, so older readers keep reading dense files and refuse sparse
/// ones by their version instead of misreading an empty `features`).
constexpr uint32_t kGraphSetFormatVersion = 2;
/// The version a file with dense features gets.
constexpr uint32_t kGraphSetDenseVersion = 1;

/// A whole data set in memory: one block-diagonal CSR over all nodes, cut into graphs by graph_ptr.
/// Row i of the CSR lists the sources j of the edges j -> i.
struct GraphSetDesc {
  uint32_t version = kGraphSetDenseVersion;
  std::string name;
  Task task = Task::kGraphClassification;
  int32_t feature_dim = 0;
  int32_t num_classes = 0;
  std::vector<std::string> class_names;  ///< empty or num_classes names
  std::vector<int32_t> graph_ptr;        ///< num_graphs + 1 node offsets
  std::vector<int32_t> row_ptr;          ///< num_nodes + 1 edge offsets
  std::vector<int32_t> col_idx;          ///< num_edges global source ids
  std::vector<float> features;           ///< num_nodes * feature_dim, row-major; empty when sparse
  /// Sparse features (version 2), CSR over the nodes: node i's non-zeros are (feature_col_idx[e],
  /// feature_values[e]) for e in [feature_row_ptr[i], feature_row_ptr[i + 1]), columns strictly increasing.
  /// feature_row_ptr is empty for dense features, else num_nodes + 1 offsets.
  std::vector<int32_t> feature_row_ptr;
  std::vector<int32_t> feature_col_idx;
  std::vector<float> feature_values;
  std::vector<int32_t> labels;             ///< per graph (graph task) or per node (node task)
  std::vector<uint32_t> train, val, test;  ///< graph or node indices of the standard splits
  std::vector<uint8_t> fold;               ///< empty or one cross-validation fold per graph
  std::string description;

  int32_t num_nodes() const { return row_ptr.empty() ? 0 : static_cast<int32_t>(row_ptr.size() - 1); }
  int32_t num_edges() const { return static_cast<int32_t>(col_idx.size()); }
  int32_t num_graphs() const { return graph_ptr.empty() ? 0 : static_cast<int32_t>(graph_ptr.size() - 1); }
  bool sparse_features() const { return !feature_row_ptr.empty(); }
};

/// Every semantic rule of docs/format.md "Graph data sets": monotonic pointers, ids in range, edges inside
/// their graph, labels in range, consistent sizes, finite features. The error names the first violation,
/// e.g. "col_idx[12] = 40 (edge into node 3) leaves graph 0 (nodes 0..9)".
Result<bool> check_graph_set(const GraphSetDesc& set);

/// Verify (FlatBuffers verifier, identifier "QGD1", version) and load .qgd bytes, then check_graph_set.
Result<GraphSetDesc> load_graph_set(const uint8_t* data, size_t size);
Result<GraphSetDesc> load_graph_set(const std::vector<uint8_t>& bytes);

/// check_graph_set, then write .qgd bytes.
Result<std::vector<uint8_t>> serialize_graph_set(const GraphSetDesc& set);
/// Write without checking (for negative tests of readers). The header counts (num_nodes, num_edges) are
/// taken from the array sizes.
Result<std::vector<uint8_t>> serialize_graph_set_unchecked(const GraphSetDesc& set);

/// Stores `set`'s features as CSR of its non-zero values (version 2), or densifies them (version 1). A
/// no-op when they already are in that form. `set` must be checked.
void make_features_sparse(GraphSetDesc* set);
void make_features_dense(GraphSetDesc* set);
/// Fraction of non-zero feature values (0 for a set without nodes).
double feature_density(const GraphSetDesc& set);

/// A batch of graphs relabelled to nodes 0..num_nodes-1, in the layout of the runtime's qgnn_graph:
///   qgnn_graph g{num_nodes, num_edges, num_graphs, row_ptr.data(), col_idx.data(), graph_ptr.data(),
///                features.data(), nullptr};
/// (converter::runtime_graph builds it; converter::sparse_features the CSR view of sparse features).
struct GraphBatch {
  uint32_t num_nodes = 0;
  uint32_t num_edges = 0;
  uint32_t num_graphs = 0;
  int32_t feature_dim = 0;
  std::vector<int32_t> row_ptr{0};    ///< num_nodes + 1
  std::vector<int32_t> col_idx;       ///< num_edges, batch-local ids
  std::vector<int32_t> graph_ptr{0};  ///< num_graphs + 1
  std::vector<float> features;        ///< num_nodes * feature_dim; empty when the batch is sparse
  /// Sparse features (FeatureForm::kAsStored of a sparse set): CSR over the batch's nodes, rebased to start
  /// at 0; feature_row_ptr empty for dense features.
  std::vector<int32_t> feature_row_ptr;
  std::vector<int32_t> feature_col_idx;
  std::vector<float> feature_values;
  /// Labels of the batch: one per graph (graph task) or one per node (node task).
  std::vector<int32_t> labels;

  bool sparse_features() const { return !feature_row_ptr.empty(); }
};

/// How a batch carries its features: always dense (the float forward, calibration, int8 quantization; a
/// sparse set is densified per batch), or in the form the set stores them (the tools hand sparse features to
/// the runtime as they are).
enum class FeatureForm { kDense, kAsStored };

/// The graphs `graph_indices` (in that order, repeats allowed) of a checked set as one batch.
Result<GraphBatch> extract_graphs(const GraphSetDesc& set, const std::vector<uint32_t>& graph_indices,
                                  FeatureForm form = FeatureForm::kDense);

/// Every graph of the set as one batch.
Result<GraphBatch> extract_all_graphs(const GraphSetDesc& set, FeatureForm form = FeatureForm::kDense);

/// Densifies a batch's sparse features in place (a no-op for dense ones).
void densify_features(GraphBatch* batch);
/// Stores a batch's dense features as CSR of their non-zeros in place (a no-op for sparse ones).
void sparsify_features(GraphBatch* batch);

/// The index list of a split: "train", "val", "test" or "all" (every graph, or every node for a node task).
/// Fails on an unknown name or an empty split.
Result<std::vector<uint32_t>> split_indices(const GraphSetDesc& set, const std::string& split);

}  // namespace converter
}  // namespace qgnn

#endif  // QGNN_CONVERTER_DATASET_H_
