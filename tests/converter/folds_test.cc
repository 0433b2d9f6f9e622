// select_split and the training-fold check (folds.h): qgnn.train's fold semantics, every error, the note for
// a stored split of a set with folds.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "qgnn/converter/folds.h"

namespace qgnn {
namespace converter {
namespace {

// `graphs` one-node graphs, fold of graph g = g % k, stored split = fold `stored`'s (as qgnn.data tu writes
// fold 0's). k = 0: no fold array, stored split 0..3 / 4 / 5.
GraphSetDesc folded_set(int32_t graphs, int32_t k, int32_t stored = 0) {
  GraphSetDesc set;
  set.name = "folded";
  set.feature_dim = 1;
  set.num_classes = 2;
  for (int32_t g = 0; g <= graphs; ++g) {
    set.graph_ptr.push_back(g);
    set.row_ptr.push_back(0);
  }
  set.features.assign(static_cast<size_t>(graphs), 1.f);
  for (int32_t g = 0; g < graphs; ++g) {
    set.labels.push_back(g % 2);
    if (k > 0) set.fold.push_back(static_cast<uint8_t>(g % k));
    const int32_t f = k > 0 ? g % k : -1;
    const bool test = k > 0 ? f == stored : g == 5, val = k > 0 ? f == (stored + 1) % k : g == 4;
    (test ? set.test : val ? set.val : set.train).push_back(static_cast<uint32_t>(g));
  }
  return set;
}

std::vector<uint32_t> graphs_of_fold(const GraphSetDesc& set, int32_t fold) {
  std::vector<uint32_t> r;
  for (size_t g = 0; g < set.fold.size(); ++g)
    if (set.fold[g] == fold) r.push_back(static_cast<uint32_t>(g));
  return r;
}

TEST(Folds, NumFolds) {
  EXPECT_EQ(num_folds(folded_set(6, 0)), 0);
  EXPECT_EQ(num_folds(folded_set(20, 5)), 5);
  GraphSetDesc sparse = folded_set(20, 5);
  sparse.fold[19] = 9;  // k is the largest fold + 1, as qgnn.train counts it
  EXPECT_EQ(num_folds(sparse), 10);
}

TEST(Folds, FoldKIsQgnnTrainsSplit) {
  const GraphSetDesc set = folded_set(23, 5);
  ASSERT_TRUE(check_graph_set(set).ok()) << check_graph_set(set).error;
  for (int32_t fold = 0; fold < 5; ++fold) {
    const auto test = select_split(set, "test", fold);
    const auto val = select_split(set, "val", fold);
    const auto train = select_split(set, "train", fold);
    ASSERT_TRUE(test.ok() && val.ok() && train.ok()) << test.error << val.error << train.error;
    EXPECT_EQ(test.value.indices, graphs_of_fold(set, fold));
    EXPECT_EQ(val.value.indices, graphs_of_fold(set, (fold + 1) % 5));
    // train = every other graph, in graph order; the three partition the set.
    std::vector<uint32_t> all = train.value.indices;
    EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
    all.insert(all.end(), test.value.indices.begin(), test.value.indices.end());
    all.insert(all.end(), val.value.indices.begin(), val.value.indices.end());
    std::sort(all.begin(), all.end());
    ASSERT_EQ(all.size(), 23u);
    for (uint32_t g = 0; g < 23; ++g) EXPECT_EQ(all[g], g);
    EXPECT_EQ(test.value.fold, fold);
    EXPECT_EQ(test.value.num_folds, 5);
    EXPECT_EQ(test.value.graphs, test.value.indices.size());
    EXPECT_EQ(test.value.nodes, test.value.indices.size());  // one node per graph
    EXPECT_TRUE(test.value.note.empty());
  }
  const auto t1 = select_split(set, "test", 1);
  EXPECT_EQ(t1.value.description,
            "split test of fold 1 of 5 (test = fold 1, val = fold 2, train = the rest): 5 graphs, 5 nodes");
  // The last fold's val wraps around to fold 0.
  EXPECT_EQ(select_split(set, "val", 4).value.indices, graphs_of_fold(set, 0));
}

TEST(Folds, StoredSplitNamesItsFold) {
  const auto fold0 = select_split(folded_set(20, 5), "test", kStoredSplit);
  ASSERT_TRUE(fold0.ok()) << fold0.error;
  EXPECT_EQ(fold0.value.fold, kStoredSplit);
  EXPECT_EQ(fold0.value.description, "split test (stored): 4 graphs, 4 nodes");
  EXPECT_NE(fold0.value.note.find("split test = fold 0's test graphs"), std::string::npos)
      << fold0.value.note;
  const auto fold3 = select_split(folded_set(20, 5, 3), "train", kStoredSplit);
  EXPECT_NE(fold3.value.note.find("split train = fold 3's train graphs"), std::string::npos)
      << fold3.value.note;
  // A stored split that is no fold's says so.
  GraphSetDesc other = folded_set(20, 5);
  std::swap(other.train.back(), other.test.back());
  EXPECT_NE(select_split(other, "test", kStoredSplit).value.note.find("no fold's"), std::string::npos);
  // No note without folds, nor for "all".
  EXPECT_TRUE(select_split(folded_set(6, 0), "test", kStoredSplit).value.note.empty());
  EXPECT_TRUE(select_split(folded_set(20, 5), "all", kStoredSplit).value.note.empty());
  EXPECT_EQ(select_split(folded_set(20, 5), "all", kStoredSplit).value.graphs, 20u);
}

void expect_error(const Result<SplitSelection>& r, const std::string& part) {
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error.find(part), std::string::npos) << r.error;
}

TEST(Folds, ClearErrors) {
  expect_error(select_split(folded_set(6, 0), "test", 0), "has no fold array");
  expect_error(select_split(folded_set(6, 2), "test", 0), "has 2 folds; cross-validation needs at least 3");
  expect_error(select_split(folded_set(20, 5), "test", 5), "--fold 5 outside 0..4");
  expect_error(select_split(folded_set(20, 5), "test", -3), "negative");
  expect_error(select_split(folded_set(20, 5), "all", 1), "--split all is every graph");
  expect_error(select_split(folded_set(20, 5), "bogus", kStoredSplit), "unknown split");
  GraphSetDesc node = folded_set(1, 0);
  node.task = Task::kNodeClassification;
  expect_error(select_split(node, "test", 0), "is node classification");
  GraphSetDesc gap = folded_set(20, 5);
  for (uint8_t& f : gap.fold) f = f == 2 ? 3 : f;  // fold 2 has no graph
  expect_error(select_split(gap, "test", 2), "split \"test\" of fold 2");
}

TEST(Folds, TrainingFoldFromQgnnTrainsSentence) {
  const std::string sentence =
      "GIN on MUTAG: ... Trained in float on fold 3 of 10 (test = fold 3, val = fold 4, train = the rest) of "
      "mutag.qgd: epochs 100; post-training quantized by qgnn-converter";
  EXPECT_EQ(training_fold(sentence).fold, 3);
  EXPECT_EQ(training_fold(sentence).num_folds, 10);
  EXPECT_EQ(
      training_fold("Trained in float on fold 9 of 10 (test = fold 9, val = fold 0, train = the rest)").fold,
      9);
  // Anything that is not that exact, consistent sentence says nothing.
  for (const std::string& other :
       {std::string("Trained in float on the stored train/val/test split of mutag.qgd"), std::string(""),
        std::string("Trained in float on fold 3 of 10 (test = fold 3, val = fold 5, train = the rest)"),
        std::string("Trained in float on fold 12 of 10 (test = fold 12, val = fold 13, train = the rest)"),
        std::string("trained on fold 3 of 10")}) {
    EXPECT_EQ(training_fold(other).fold, kStoredSplit) << other;
  }
}

TEST(Folds, MismatchWarning) {
  const GraphSetDesc set = folded_set(20, 5);
  TrainingFold trained;
  trained.fold = 1;
  trained.num_folds = 5;
  EXPECT_EQ(fold_mismatch_warning(trained, set, select_split(set, "test", 1).value), "");
  const std::string other = fold_mismatch_warning(trained, set, select_split(set, "test", 2).value);
  EXPECT_NE(other.find("trained on fold 1 of 5"), std::string::npos) << other;
  EXPECT_NE(other.find("fold 2's"), std::string::npos) << other;
  EXPECT_NE(other.find("use --fold 1"), std::string::npos) << other;
  // The stored split is fold 0's: scoring a fold-1 model on it is the silent mistake.
  const std::string stored =
      fold_mismatch_warning(trained, set, select_split(set, "test", kStoredSplit).value);
  EXPECT_NE(stored.find("the stored one, fold 0's"), std::string::npos) << stored;
  EXPECT_EQ(fold_mismatch_warning(trained, folded_set(20, 5, 1),
                                  select_split(folded_set(20, 5, 1), "test", kStoredSplit).value),
            "");
  EXPECT_EQ(fold_mismatch_warning(trained, set, select_split(set, "all", kStoredSplit).value), "");
  EXPECT_NE(
      fold_mismatch_warning(trained, folded_set(20, 4), select_split(folded_set(20, 4), "test", 1).value)
          .find("has 4 folds"),
      std::string::npos);
  EXPECT_EQ(fold_mismatch_warning(TrainingFold{}, set, select_split(set, "test", 2).value), "");
}

TEST(Folds, SelectionJson) {
  const std::string stored =
      split_selection_json(select_split(folded_set(20, 5), "test", kStoredSplit).value);
  EXPECT_NE(stored.find("\"fold\":null"), std::string::npos) << stored;
  EXPECT_NE(stored.find("\"note\":\"split test = fold 0's"), std::string::npos) << stored;
  const std::string fold = split_selection_json(select_split(folded_set(20, 5), "val", 2).value);
  EXPECT_NE(fold.find("\"split\":\"val\",\"fold\":2,\"num_folds\":5,\"graphs\":4,\"nodes\":4"),
            std::string::npos)
      << fold;
  EXPECT_NE(fold.find("\"note\":null"), std::string::npos) << fold;
}

}  // namespace
}  // namespace converter
}  // namespace qgnn
