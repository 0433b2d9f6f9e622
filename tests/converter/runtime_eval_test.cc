// evaluate_on_runtime against the one-graph-at-a-time runner (runtime_runner.h) as the oracle: batching must
// not change a single prediction, and node classification must score exactly the split's nodes.
#include "qgnn/converter/runtime_eval.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "labelled_sets.h"
#include "qgnn/converter/quantizer.h"
#include "qgnn/qgnn.hpp"
#include "runtime_runner.h"
#include "test_models.h"

namespace qgnn {
namespace converter {
namespace {

// A quantized model of `float_model` calibrated on the set's train split, with every component at `bits`.
std::vector<uint8_t> quantized_bytes(const ModelDesc& float_model, const GraphSetDesc& set, int bits) {
  const auto batch =
      extract_graphs(set, set.task == Task::kGraphClassification ? set.train : std::vector<uint32_t>{0});
  EXPECT_TRUE(batch.ok()) << batch.error;
  QuantizerConfig config;
  config.input_bits = bits;
  config.default_bits = {bits, bits, bits};
  const auto q = quantize_model(float_model, std::vector<GraphBatch>{batch.value}, config);
  EXPECT_TRUE(q.ok()) << q.error;
  const auto bytes = serialize_model(q.value);
  EXPECT_TRUE(bytes.ok()) << bytes.error;
  return bytes.value;
}

TEST(RuntimeEval, BatchedGraphClassificationEqualsOneGraphAtATime) {
  std::mt19937 rng(7);
  ModelDesc model = testing::small_graph_model(rng);
  const GraphSetDesc set = testing::labelled_set(&model, 300, 0, rng);
  ASSERT_TRUE(check_graph_set(set).ok());
  for (const int bits : {8, 4}) {
    const std::vector<uint8_t> bytes = quantized_bytes(model, set, bits);
    const auto e = evaluate_on_runtime(bytes, set, set.val);
    ASSERT_TRUE(e.ok()) << e.error;
    size_t correct = 0;
    for (const uint32_t g : set.val) {
      const auto one = extract_graphs(set, {g});
      ASSERT_TRUE(one.ok());
      testing::RuntimeOutput out;
      ASSERT_EQ(testing::run_on_runtime(bytes, one.value, &out), "");
      ASSERT_EQ(out.argmax.size(), 1u);
      correct += out.argmax[0] == set.labels[g] ? 1 : 0;
    }
    EXPECT_EQ(e.value.total, set.val.size());
    EXPECT_EQ(e.value.correct, correct) << bits << " bits";
    EXPECT_DOUBLE_EQ(e.value.accuracy(), static_cast<double>(correct) / set.val.size());
    EXPECT_EQ(e.value.model_bytes, bytes.size());
    EXPECT_GT(e.value.parameter_bytes, 0u);
    EXPECT_LT(e.value.parameter_bytes, bytes.size());
    // 4-bit quantization of a random model should change some predictions, or the test proves little.
    if (bits == 4) {
      EXPECT_LT(correct, set.val.size());
    }
  }
}

TEST(RuntimeEval, ArenaIsPlannedForTheLargestSingleGraph) {
  std::mt19937 rng(8);
  ModelDesc model = testing::small_graph_model(rng);
  const GraphSetDesc set = testing::labelled_set(&model, 40, 0, rng);
  const auto bytes = serialize_model(model);
  ASSERT_TRUE(bytes.ok());
  // The arena is the plan of one graph with the most nodes and the most edges of the set, not the batch's.
  qgnn_plan_limits single{0, 0, 1};
  for (uint32_t g = 0; g < static_cast<uint32_t>(set.num_graphs()); ++g) {
    const int32_t first = set.graph_ptr[g], end = set.graph_ptr[g + 1];
    single.max_nodes = std::max(single.max_nodes, static_cast<uint32_t>(end - first));
    single.max_edges =
        std::max(single.max_edges, static_cast<uint32_t>(set.row_ptr[end] - set.row_ptr[first]));
  }
  const qgnn_plan_limits batch{static_cast<uint32_t>(set.num_nodes()), static_cast<uint32_t>(set.num_edges()),
                               static_cast<uint32_t>(set.num_graphs())};
  std::vector<uint8_t> aligned(bytes.value.size() + 16);
  uint8_t* data = aligned.data() + (16 - reinterpret_cast<uintptr_t>(aligned.data()) % 16) % 16;
  std::copy(bytes.value.begin(), bytes.value.end(), data);
  auto runtime_model = qgnn::Model::Create(data, bytes.value.size());
  ASSERT_TRUE(runtime_model.ok());
  const auto expected = runtime_model->ArenaSize(single);
  const auto batch_arena = runtime_model->ArenaSize(batch);
  ASSERT_TRUE(expected.ok() && batch_arena.ok());

  std::vector<uint32_t> all;
  for (uint32_t g = 0; g < static_cast<uint32_t>(set.num_graphs()); ++g) all.push_back(g);
  const auto whole = evaluate_on_runtime(bytes.value, set, all);
  ASSERT_TRUE(whole.ok()) << whole.error;
  EXPECT_EQ(whole.value.arena_bytes, *expected);
  EXPECT_LT(whole.value.arena_bytes, *batch_arena);
  // The float model labelled the set, so it is right on (nearly) every graph.
  EXPECT_GE(whole.value.accuracy(), 0.97);
}

TEST(RuntimeEval, NodeClassificationScoresTheSplitNodes) {
  std::mt19937 rng(9);
  ModelDesc model = testing::small_node_model(rng);
  const GraphSetDesc set = testing::labelled_set(&model, 1, 300, rng);
  const std::vector<uint8_t> bytes = quantized_bytes(model, set, 4);
  const auto e = evaluate_on_runtime(bytes, set, set.val);
  ASSERT_TRUE(e.ok()) << e.error;
  const auto all = extract_all_graphs(set);
  ASSERT_TRUE(all.ok());
  testing::RuntimeOutput out;
  ASSERT_EQ(testing::run_on_runtime(bytes, all.value, &out), "");
  size_t correct = 0;
  for (const uint32_t n : set.val) correct += out.argmax[n] == set.labels[n] ? 1 : 0;
  EXPECT_EQ(e.value.total, set.val.size());
  EXPECT_EQ(e.value.correct, correct);
  EXPECT_GT(e.value.arena_bytes, 0u);
}

TEST(RuntimeEval, BadInputsAreErrorsNotCrashes) {
  std::mt19937 rng(10);
  ModelDesc model = testing::small_graph_model(rng);
  const GraphSetDesc set = testing::labelled_set(&model, 20, 0, rng);
  const auto bytes = serialize_model(model);
  ASSERT_TRUE(bytes.ok());

  const auto garbage = evaluate_on_runtime(std::vector<uint8_t>(100, 0x5a), set, set.val);
  EXPECT_NE(garbage.error.find("qgnn_model_create"), std::string::npos) << garbage.error;
  const auto empty_model = evaluate_on_runtime({}, set, set.val);
  EXPECT_FALSE(empty_model.ok());

  const auto out_of_range = evaluate_on_runtime(bytes.value, set, {0, 20});
  EXPECT_NE(out_of_range.error.find("graph index 20 is out of range"), std::string::npos)
      << out_of_range.error;
  const auto nothing = evaluate_on_runtime(bytes.value, set, {});
  EXPECT_NE(nothing.error.find("no graphs or nodes"), std::string::npos) << nothing.error;

  GraphSetDesc wrong_task = set;
  wrong_task.task = Task::kNodeClassification;
  EXPECT_NE(evaluate_on_runtime(bytes.value, wrong_task, {0}).error.find("task"), std::string::npos);

  ModelDesc wide = model;
  std::mt19937 rng2(11);
  wide.input_dim = 9;
  wide.layers[0] = testing::gin_layer(9, 16, 16, 0.0f, true, rng2);
  const auto wide_bytes = serialize_model(wide);
  ASSERT_TRUE(wide_bytes.ok()) << wide_bytes.error;
  const auto wrong_dim = evaluate_on_runtime(wide_bytes.value, set, set.val);
  EXPECT_NE(wrong_dim.error.find("the model expects 9"), std::string::npos) << wrong_dim.error;

  GraphSetDesc unlabelled = set;
  unlabelled.labels.clear();
  EXPECT_NE(evaluate_on_runtime(bytes.value, unlabelled, set.val).error.find("no label"), std::string::npos);
}

}  // namespace
}  // namespace converter
}  // namespace qgnn
