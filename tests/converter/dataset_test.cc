// .qgd data sets: round trip, every malformed-data-set error, batch extraction.
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

// Three graphs: {0,1,2} a path 0->1->2 plus 2->0, {3,4} with 3->4 and 4->3, {5} isolated.
GraphSetDesc small_graph_set() {
  GraphSetDesc set;
  set.name = "tiny";
  set.task = Task::kGraphClassification;
  set.feature_dim = 2;
  set.num_classes = 2;
  set.class_names = {"no", "yes"};
  set.graph_ptr = {0, 3, 5, 6};
  // Row i lists the sources of edges into i.
  set.row_ptr = {0, 1, 2, 3, 4, 5, 5};
  set.col_idx = {2, 0, 1, 4, 3};
  set.features = {0.f, 1.f, 2.f, 3.f, 4.f, 5.f, 6.f, 7.f, 8.f, 9.f, 10.f, 11.f};
  set.labels = {0, 1, 1};
  set.train = {0, 2};
  set.val = {1};
  set.test = {1};
  set.fold = {0, 1, 0};
  set.description = "hand-made";
  return set;
}

TEST(GraphSet, RoundTrip) {
  const GraphSetDesc set = small_graph_set();
  const auto bytes = serialize_graph_set(set);
  ASSERT_TRUE(bytes.ok()) << bytes.error;
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.value.data()) + 4, 4), "QGD1");
  const auto loaded = load_graph_set(bytes.value);
  ASSERT_TRUE(loaded.ok()) << loaded.error;
  const GraphSetDesc& l = loaded.value;
  EXPECT_EQ(l.version, set.version);
  EXPECT_EQ(l.name, set.name);
  EXPECT_EQ(l.task, set.task);
  EXPECT_EQ(l.feature_dim, set.feature_dim);
  EXPECT_EQ(l.num_classes, set.num_classes);
  EXPECT_EQ(l.class_names, set.class_names);
  EXPECT_EQ(l.graph_ptr, set.graph_ptr);
  EXPECT_EQ(l.row_ptr, set.row_ptr);
  EXPECT_EQ(l.col_idx, set.col_idx);
  EXPECT_EQ(l.features, set.features);
  EXPECT_EQ(l.labels, set.labels);
  EXPECT_EQ(l.train, set.train);
  EXPECT_EQ(l.val, set.val);
  EXPECT_EQ(l.test, set.test);
  EXPECT_EQ(l.fold, set.fold);
  EXPECT_EQ(l.description, set.description);
  EXPECT_EQ(l.num_nodes(), 6);
  EXPECT_EQ(l.num_edges(), 5);
  EXPECT_EQ(l.num_graphs(), 3);
}

TEST(GraphSet, NodeClassificationRoundTripWithoutOptionalFields) {
  GraphSetDesc set;
  set.task = Task::kNodeClassification;
  set.feature_dim = 1;
  set.num_classes = 3;
  set.graph_ptr = {0, 4};
  set.row_ptr = {0, 0, 1, 2, 2};
  set.col_idx = {0, 1};
  set.features = {1.f, 2.f, 3.f, 4.f};
  set.labels = {0, 2, 1, 2};
  set.train = {0, 1};
  const auto bytes = serialize_graph_set(set);
  ASSERT_TRUE(bytes.ok()) << bytes.error;
  const auto loaded = load_graph_set(bytes.value);
  ASSERT_TRUE(loaded.ok()) << loaded.error;
  EXPECT_EQ(loaded.value.labels, set.labels);
  EXPECT_TRUE(loaded.value.fold.empty());
  EXPECT_TRUE(loaded.value.class_names.empty());
}

struct BadSet {
  const char* name;
  std::function<void(GraphSetDesc&)> corrupt;
  const char* expected_error;
};

void PrintTo(const BadSet& c, std::ostream* os) { *os << c.name; }

class RejectsMalformedGraphSet : public ::testing::TestWithParam<BadSet> {};

TEST_P(RejectsMalformedGraphSet, OnLoadAndOnWrite) {
  GraphSetDesc set = small_graph_set();
  GetParam().corrupt(set);
  const auto written = serialize_graph_set(set);
  EXPECT_FALSE(written.ok());
  EXPECT_NE(written.error.find(GetParam().expected_error), std::string::npos) << written.error;
  const auto bytes = serialize_graph_set_unchecked(set);
  ASSERT_TRUE(bytes.ok()) << bytes.error;
  const auto loaded = load_graph_set(bytes.value);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error.find(GetParam().expected_error), std::string::npos) << loaded.error;
}

const float kNaN = std::numeric_limits<float>::quiet_NaN();

INSTANTIATE_TEST_SUITE_P(
    Checks, RejectsMalformedGraphSet,
    ::testing::Values(
        BadSet{"Version", [](GraphSetDesc& s) { s.version = 7; }, "format version 7"},
        BadSet{"FeatureDim", [](GraphSetDesc& s) { s.feature_dim = 0; }, "feature_dim 0"},
        BadSet{"NumClasses", [](GraphSetDesc& s) { s.num_classes = 0; }, "num_classes 0"},
        BadSet{"ClassNames", [](GraphSetDesc& s) { s.class_names.push_back("maybe"); },
               "3 class names for 2"},
        BadSet{"RowPtrStart", [](GraphSetDesc& s) { s.row_ptr[0] = 1; }, "row_ptr[0] = 1"},
        BadSet{"RowPtrDecreases", [](GraphSetDesc& s) { s.row_ptr[2] = 0; }, "row_ptr decreases at 2"},
        BadSet{"RowPtrEnd", [](GraphSetDesc& s) { s.col_idx.push_back(5); },
               "row_ptr ends at 5, expected num_edges = 6"},
        BadSet{"GraphPtrStart", [](GraphSetDesc& s) { s.graph_ptr[0] = 1; }, "graph_ptr[0] = 1"},
        BadSet{"GraphPtrDecreases", [](GraphSetDesc& s) { s.graph_ptr[2] = 2; }, "graph_ptr decreases at 2"},
        BadSet{"GraphPtrEnd", [](GraphSetDesc& s) { s.graph_ptr.back() = 5; }, "graph_ptr ends at 5"},
        BadSet{"NoGraph", [](GraphSetDesc& s) { s.graph_ptr = {0}; }, "graph_ptr ends at 0"},
        BadSet{"ColIdxNegative", [](GraphSetDesc& s) { s.col_idx[1] = -1; },
               "col_idx[1] = -1 is not a node id"},
        BadSet{"ColIdxTooLarge", [](GraphSetDesc& s) { s.col_idx[1] = 6; },
               "col_idx[1] = 6 is not a node id"},
        BadSet{"EdgeLeavesGraph", [](GraphSetDesc& s) { s.col_idx[3] = 0; },
               "col_idx[3] = 0 (edge into node 3) leaves graph 1 (nodes 3..4)"},
        BadSet{"FeatureCount", [](GraphSetDesc& s) { s.features.pop_back(); }, "features hold 11 values"},
        BadSet{"FeatureNaN", [](GraphSetDesc& s) { s.features[5] = kNaN; },
               "feature 1 of node 2 is not finite"},
        BadSet{"FeatureInf", [](GraphSetDesc& s) { s.features[0] = -INFINITY; },
               "feature 0 of node 0 is not finite"},
        BadSet{"LabelCount", [](GraphSetDesc& s) { s.labels.pop_back(); }, "2 labels for 3 graphs"},
        BadSet{"LabelRange", [](GraphSetDesc& s) { s.labels[2] = 2; },
               "label of graph 2 is 2, expected 0..1"},
        BadSet{"LabelNegative", [](GraphSetDesc& s) { s.labels[0] = -1; }, "label of graph 0 is -1"},
        BadSet{"NodeLabelCount", [](GraphSetDesc& s) { s.task = Task::kNodeClassification; },
               "3 labels for 6 nodes"},
        BadSet{"TrainIndex", [](GraphSetDesc& s) { s.train.push_back(3); },
               "train[2] = 3 is not a graph index"},
        BadSet{"ValIndex", [](GraphSetDesc& s) { s.val[0] = 9; }, "val[0] = 9"},
        BadSet{"TestIndex", [](GraphSetDesc& s) { s.test[0] = 3; }, "test[0] = 3"},
        BadSet{"FoldCount", [](GraphSetDesc& s) { s.fold.pop_back(); }, "2 fold entries for 3 graphs"}),
    [](const ::testing::TestParamInfo<BadSet>& info) { return std::string(info.param.name); });

TEST(GraphSet, RejectsGarbageAndTruncation) {
  const auto bytes = serialize_graph_set(small_graph_set());
  ASSERT_TRUE(bytes.ok());
  EXPECT_FALSE(load_graph_set(nullptr, 0).ok());
  std::vector<uint8_t> wrong = bytes.value;
  wrong[7] = '2';
  EXPECT_NE(load_graph_set(wrong).error.find("QGD1"), std::string::npos);
  std::vector<uint8_t> truncated(bytes.value.begin(), bytes.value.begin() + 40);
  const auto loaded = load_graph_set(truncated);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error.find("verifier"), std::string::npos) << loaded.error;
}

TEST(GraphSet, RejectsHeaderCountsDisagreeingWithArrays) {
  auto bytes = serialize_graph_set(small_graph_set());
  ASSERT_TRUE(bytes.ok());
  std::vector<uint8_t> nodes = bytes.value;
  ASSERT_TRUE(fb::GetMutableGraphSet(nodes.data())->mutate_num_nodes(7));
  EXPECT_NE(load_graph_set(nodes).error.find("row_ptr holds 7 offsets, expected num_nodes + 1 = 8"),
            std::string::npos)
      << load_graph_set(nodes).error;
  std::vector<uint8_t> edges = bytes.value;
  ASSERT_TRUE(fb::GetMutableGraphSet(edges.data())->mutate_num_edges(4));
  EXPECT_NE(load_graph_set(edges).error.find("col_idx holds 5 ids, expected num_edges = 4"),
            std::string::npos);
  std::vector<uint8_t> task = bytes.value;
  ASSERT_TRUE(fb::GetMutableGraphSet(task.data())->mutate_task(static_cast<fb::Task>(5)));
  EXPECT_NE(load_graph_set(task).error.find("unknown task"), std::string::npos);
}

TEST(GraphBatch, ExtractsRelabelledSubsetsInOrder) {
  const GraphSetDesc set = small_graph_set();
  const auto batch = extract_graphs(set, {2, 1, 1});
  ASSERT_TRUE(batch.ok()) << batch.error;
  const GraphBatch& b = batch.value;
  EXPECT_EQ(b.num_graphs, 3u);
  EXPECT_EQ(b.num_nodes, 5u);
  EXPECT_EQ(b.num_edges, 4u);
  EXPECT_EQ(b.graph_ptr, (std::vector<int32_t>{0, 1, 3, 5}));
  EXPECT_EQ(b.row_ptr, (std::vector<int32_t>{0, 0, 1, 2, 3, 4}));
  EXPECT_EQ(b.col_idx, (std::vector<int32_t>{2, 1, 4, 3}));
  EXPECT_EQ(b.features, (std::vector<float>{10.f, 11.f, 6.f, 7.f, 8.f, 9.f, 6.f, 7.f, 8.f, 9.f}));
  EXPECT_EQ(b.labels, (std::vector<int32_t>{1, 1, 1}));
  EXPECT_EQ(b.feature_dim, 2);
}

TEST(GraphBatch, AllGraphsAndNodeTaskLabels) {
  GraphSetDesc set = small_graph_set();
  const auto all = extract_all_graphs(set);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all.value.row_ptr, set.row_ptr);
  EXPECT_EQ(all.value.col_idx, set.col_idx);
  EXPECT_EQ(all.value.graph_ptr, set.graph_ptr);
  EXPECT_EQ(all.value.features, set.features);
  set.task = Task::kNodeClassification;
  set.labels = {0, 1, 0, 1, 0, 1};
  set.train = {0, 5};
  set.val = set.test = {};
  ASSERT_TRUE(check_graph_set(set).ok()) << check_graph_set(set).error;
  const auto second = extract_graphs(set, {1});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second.value.labels, (std::vector<int32_t>{1, 0}));
}

TEST(GraphBatch, RejectsOutOfRangeIndex) {
  const auto batch = extract_graphs(small_graph_set(), {0, 3});
  ASSERT_FALSE(batch.ok());
  EXPECT_NE(batch.error.find("graph index 3 out of range"), std::string::npos);
}

TEST(Splits, NamedSplitsAllAndErrors) {
  GraphSetDesc set = small_graph_set();
  EXPECT_EQ(split_indices(set, "train").value, (std::vector<uint32_t>{0, 2}));
  EXPECT_EQ(split_indices(set, "val").value, (std::vector<uint32_t>{1}));
  EXPECT_EQ(split_indices(set, "all").value, (std::vector<uint32_t>{0, 1, 2}));
  EXPECT_NE(split_indices(set, "holdout").error.find("unknown split"), std::string::npos);
  set.test.clear();
  EXPECT_NE(split_indices(set, "test").error.find("is empty"), std::string::npos);
}

}  // namespace
}  // namespace converter
}  // namespace qgnn
