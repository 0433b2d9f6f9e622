// Models and data sets written by the tools tests: small, random, valid, plus a corpus of damaged copies.
#ifndef QGNN_TESTS_TOOLS_TEST_FILES_H_
#define QGNN_TESTS_TOOLS_TEST_FILES_H_

#include <cstdint>
#include <string>
#include <vector>

namespace qgnn {
namespace tools {
namespace testing {

/// Paths of the files written into a scratch directory.
struct TestFiles {
  std::string dir;
  std::string graph_f32, graph_int8, graph_int4;  ///< graph classification, every layer kind, 3 classes
  std::string node_f32, node_int8;                ///< node classification (GCN -> SAGE), 3 classes
  std::string graph_data;                         ///< 24 graphs, feature_dim 5, train/val/test splits
  std::string node_data;                          ///< one graph of 60 nodes, feature_dim 5, splits
  /// The 24 graphs again with a fold array (graph g in fold g % 4; stored split = fold 0's, as qgnn.data tu
  /// writes it), and the int8 model with qgnn.train's sentence "Trained in float on fold 1 of 4 (...)".
  std::string folds_data, graph_int8_fold1;
  /// Node classification on node_data: GATConv(5 -> 2 heads x 3, concat, ReLU) -> GATConv(mean of 2 heads x
  /// 3 classes); float, and quantized by the converter (calibrated on node_data; 8 bits).
  std::string gat_f32, gat_int8;
  size_t graph_layers = 0;  ///< layers of the graph models
  uint32_t graph_test_split = 0, graph_train_split = 0, node_test_split = 0;
};

/// Fresh scratch directory (mkdtemp) with every file of TestFiles written into it.
TestFiles write_test_files();

/// One damaged copy of a file: its name (for messages) and path.
struct CorruptFile {
  std::string what;
  std::string path;
  bool must_fail;  ///< false for bit flips, which may still leave a valid file
};

/// Damaged copies of `source` in `dir`: empty, truncations, bit flips, wrong identifier, random bytes, a
/// missing file and a directory.
std::vector<CorruptFile> write_corrupt_copies(const std::string& source, const std::string& dir,
                                              const std::string& prefix);

}  // namespace testing
}  // namespace tools
}  // namespace qgnn

#endif  // QGNN_TESTS_TOOLS_TEST_FILES_H_
