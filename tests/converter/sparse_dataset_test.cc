// .qgd sparse node features (version 2): round trip, the version stamp, every malformed CSR refused on write
// and on load (never a crash), and batches that slice the feature CSR per graph.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "qgnn/converter/dataset.h"
#include "qgnn/schema/qgd_generated.h"

namespace qgnn {
namespace converter {
namespace {

// Three graphs ({0,1,2}, {3,4}, {5}) with 4 features per node, about a third of them non-zero; node 1 and
// node 5 have none.
GraphSetDesc dense_set() {
  GraphSetDesc set;
  set.name = "sparse-ish";
  set.task = Task::kGraphClassification;
  set.feature_dim = 4;
  set.num_classes = 2;
  set.graph_ptr = {0, 3, 5, 6};
  set.row_ptr = {0, 1, 2, 3, 4, 5, 5};
  set.col_idx = {2, 0, 1, 4, 3};
  set.features = {0.f, 1.5f, 0.f, -2.f,   //
                  0.f, 0.f,  0.f, 0.f,    //
                  3.f, 0.f,  0.f, 0.25f,  //
                  0.f, 0.f,  7.f, 0.f,    //
                  1.f, 2.f,  3.f, 4.f,    //
                  0.f, 0.f,  0.f, 0.f};
  set.labels = {0, 1, 1};
  set.train = {0, 2};
  set.test = {1};
  return set;
}

GraphSetDesc sparse_set() {
  GraphSetDesc set = dense_set();
  make_features_sparse(&set);
  return set;
}

TEST(SparseGraphSet, ConvertsBothWays) {
  GraphSetDesc set = sparse_set();
  EXPECT_TRUE(set.sparse_features());
  EXPECT_EQ(set.version, 2u);
  EXPECT_TRUE(set.features.empty());
  EXPECT_EQ(set.feature_row_ptr, (std::vector<int32_t>{0, 2, 2, 4, 5, 9, 9}));
  EXPECT_EQ(set.feature_col_idx, (std::vector<int32_t>{1, 3, 0, 3, 2, 0, 1, 2, 3}));
  EXPECT_EQ(set.feature_values, (std::vector<float>{1.5f, -2.f, 3.f, 0.25f, 7.f, 1.f, 2.f, 3.f, 4.f}));
  EXPECT_DOUBLE_EQ(feature_density(set), 9.0 / 24.0);
  make_features_dense(&set);
  EXPECT_FALSE(set.sparse_features());
  EXPECT_EQ(set.version, 1u);
  EXPECT_EQ(set.features, dense_set().features);
}

TEST(SparseGraphSet, RoundTripStampsVersion2) {
  const GraphSetDesc set = sparse_set();
  const auto bytes = serialize_graph_set(set);
  ASSERT_TRUE(bytes.ok()) << bytes.error;
  const fb::GraphSet* g = fb::GetGraphSet(bytes.value.data());
  EXPECT_EQ(g->version(), 2u);
  ASSERT_NE(g->features(), nullptr);
  EXPECT_EQ(g->features()->size(), 0u);
  const auto loaded = load_graph_set(bytes.value);
  ASSERT_TRUE(loaded.ok()) << loaded.error;
  EXPECT_EQ(loaded.value.feature_row_ptr, set.feature_row_ptr);
  EXPECT_EQ(loaded.value.feature_col_idx, set.feature_col_idx);
  EXPECT_EQ(loaded.value.feature_values, set.feature_values);
  EXPECT_TRUE(loaded.value.features.empty());
  // A dense set stays version 1 (readable by version-1 readers) even when it says 2.
  GraphSetDesc dense = dense_set();
  dense.version = 2;
  const auto dense_bytes = serialize_graph_set(dense);
  ASSERT_TRUE(dense_bytes.ok()) << dense_bytes.error;
  EXPECT_EQ(fb::GetGraphSet(dense_bytes.value.data())->version(), 1u);
  EXPECT_EQ(fb::GetGraphSet(dense_bytes.value.data())->feature_row_ptr(), nullptr);
}

TEST(SparseGraphSet, BatchesSliceTheCsrOrDensify) {
  const GraphSetDesc sparse = sparse_set();
  const GraphSetDesc dense = dense_set();
  const std::vector<uint32_t> graphs = {2, 1, 0, 1};
  const auto as_stored = extract_graphs(sparse, graphs, FeatureForm::kAsStored);
  ASSERT_TRUE(as_stored.ok()) << as_stored.error;
  const GraphBatch& b = as_stored.value;
  ASSERT_TRUE(b.sparse_features());
  EXPECT_TRUE(b.features.empty());
  // Graph 2 (node 5: none), graph 1 (nodes 3, 4), graph 0 (nodes 0..2), graph 1 again.
  EXPECT_EQ(b.feature_row_ptr, (std::vector<int32_t>{0, 0, 1, 5, 7, 7, 9, 10, 14}));
  EXPECT_EQ(b.feature_col_idx, (std::vector<int32_t>{2, 0, 1, 2, 3, 1, 3, 0, 3, 2, 0, 1, 2, 3}));
  const auto densified = extract_graphs(sparse, graphs);  // FeatureForm::kDense
  const auto reference = extract_graphs(dense, graphs);
  ASSERT_TRUE(densified.ok() && reference.ok());
  EXPECT_FALSE(densified.value.sparse_features());
  EXPECT_EQ(densified.value.features, reference.value.features);
  EXPECT_EQ(densified.value.row_ptr, reference.value.row_ptr);
  GraphBatch round = b;
  densify_features(&round);
  EXPECT_EQ(round.features, reference.value.features);
  sparsify_features(&round);
  EXPECT_EQ(round.feature_row_ptr, b.feature_row_ptr);
  EXPECT_EQ(round.feature_values, b.feature_values);
}

struct BadSparse {
  const char* name;
  std::function<void(GraphSetDesc&)> corrupt;
  const char* expected_error;
};

void PrintTo(const BadSparse& c, std::ostream* os) { *os << c.name; }

class RejectsMalformedSparseFeatures : public ::testing::TestWithParam<BadSparse> {};

TEST_P(RejectsMalformedSparseFeatures, OnWriteAndOnLoad) {
  GraphSetDesc set = sparse_set();
  GetParam().corrupt(set);
  const auto written = serialize_graph_set(set);
  ASSERT_FALSE(written.ok());
  EXPECT_NE(written.error.find(GetParam().expected_error), std::string::npos) << written.error;
  const auto bytes = serialize_graph_set_unchecked(set);
  ASSERT_TRUE(bytes.ok()) << bytes.error;
  const auto loaded = load_graph_set(bytes.value);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error.find(GetParam().expected_error), std::string::npos) << loaded.error;
}

INSTANTIATE_TEST_SUITE_P(
    Checks, RejectsMalformedSparseFeatures,
    ::testing::Values(
        BadSparse{"Version1", [](GraphSetDesc& s) { s.version = 1; },
                  "sparse features need data set format version 2"},
        BadSparse{"RowPtrShort", [](GraphSetDesc& s) { s.feature_row_ptr.pop_back(); },
                  "feature_row_ptr holds 6 offsets, expected num_nodes + 1 = 7"},
        BadSparse{"RowPtrStart", [](GraphSetDesc& s) { s.feature_row_ptr[0] = 1; }, "feature_row_ptr[0] = 1"},
        BadSparse{"RowPtrDecreases", [](GraphSetDesc& s) { s.feature_row_ptr[3] = 1; },
                  "feature_row_ptr decreases at 3"},
        BadSparse{"RowPtrEnd", [](GraphSetDesc& s) { s.feature_row_ptr[5] = s.feature_row_ptr[6] = 8; },
                  "feature_row_ptr ends at 8, expected nnz = 9"},
        BadSparse{"RowPtrPastEnd", [](GraphSetDesc& s) { s.feature_row_ptr[4] = 100; },
                  "feature_row_ptr decreases at 5"},
        BadSparse{"ValuesMissing", [](GraphSetDesc& s) { s.feature_values.pop_back(); },
                  "feature_col_idx holds 9 columns but feature_values 8 values"},
        BadSparse{"ColumnTooLarge", [](GraphSetDesc& s) { s.feature_col_idx[1] = 4; },
                  "feature_col_idx[1] = 4 (node 0) is not a feature column (feature_dim 4)"},
        BadSparse{"ColumnNegative", [](GraphSetDesc& s) { s.feature_col_idx[5] = -1; },
                  "feature_col_idx[5] = -1 (node 4)"},
        BadSparse{"ColumnsNotIncreasing", [](GraphSetDesc& s) { s.feature_col_idx[6] = 0; },
                  "feature_col_idx[6] = 0 of node 4 does not increase (previous 0)"},
        BadSparse{"ColumnRepeated", [](GraphSetDesc& s) { s.feature_col_idx[3] = 0; },
                  "feature_col_idx[3] = 0 of node 2 does not increase"},
        BadSparse{"ValueNaN", [](GraphSetDesc& s) { s.feature_values[4] = std::nanf(""); },
                  "feature 2 of node 3 (feature_values[4]) is not finite"},
        BadSparse{"ValueInf", [](GraphSetDesc& s) { s.feature_values[0] = INFINITY; }, "is not finite"},
        BadSparse{"DenseBeside", [](GraphSetDesc& s) { s.features.assign(24, 0.f); },
                  "beside sparse features"}),
    [](const ::testing::TestParamInfo<BadSparse>& info) { return std::string(info.param.name); });

TEST(SparseGraphSet, RejectsHalfPresentCsr) {
  // Columns and values without row offsets: the dense reading would silently drop them.
  GraphSetDesc set = dense_set();
  set.feature_col_idx = {0};
  set.feature_values = {1.f};
  EXPECT_NE(serialize_graph_set(set).error.find("without feature_row_ptr"), std::string::npos);
  const auto bytes = serialize_graph_set_unchecked(set);
  ASSERT_TRUE(bytes.ok());
  // The unchecked writer leaves the CSR out for a dense set: build the half-present file by hand.
  flatbuffers::FlatBufferBuilder fbb;
  const auto root = fb::CreateGraphSet(
      fbb, 2, 0, fb::Task::GRAPH_CLASSIFICATION, 1, 0, 1, 1, 0, fbb.CreateVector(std::vector<int32_t>{0, 1}),
      fbb.CreateVector(std::vector<int32_t>{0, 0}), fbb.CreateVector(std::vector<int32_t>{}),
      fbb.CreateVector(std::vector<float>{}), fbb.CreateVector(std::vector<int32_t>{0}), 0, 0, 0, 0, 0,
      /*feature_row_ptr=*/fbb.CreateVector(std::vector<int32_t>{}), fbb.CreateVector(std::vector<int32_t>{0}),
      fbb.CreateVector(std::vector<float>{1.f}));
  fb::FinishGraphSetBuffer(fbb, root);
  std::vector<uint8_t> file(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
  const auto loaded = load_graph_set(file);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error.find("feature_row_ptr is present but empty"), std::string::npos) << loaded.error;
}

}  // namespace
}  // namespace converter
}  // namespace qgnn
