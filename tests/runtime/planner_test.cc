// The greedy-by-size first-fit planner: correctness (no two live tensors overlap), reuse, alignment,
// overflow, and the arena a real model gets.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "model.h"
#include "ops/op.h"
#include "planner.h"
#include "test_util.h"

namespace qgnn {
namespace test {
namespace {

using runtime::kNoTensor;
using runtime::kStreamedInput;
using runtime::kStreamRows;
using runtime::kStreamSlots;
using runtime::PlanArena;
using runtime::PlannedTensor;
using runtime::PlannedTensorBytes;
using runtime::PlanRows;
using runtime::RowKind;

bool Overlap(const PlannedTensor& a, const PlannedTensor& b) {
  return a.first_op <= b.last_op && b.first_op <= a.last_op;
}

// Checks the invariants of a plan: aligned offsets, live-at-once tensors disjoint, total covers all.
void ExpectValidPlan(const std::vector<PlannedTensor>& tensors, uint32_t nodes, uint32_t graphs,
                     const std::vector<size_t>& offsets, size_t total) {
  for (size_t i = 0; i < tensors.size(); ++i) {
    size_t size_i = 0;
    ASSERT_TRUE(PlannedTensorBytes(tensors[i], PlanRows{nodes, 0, graphs}, &size_i));
    EXPECT_EQ(offsets[i] % 16, 0u);
    EXPECT_LE(offsets[i] + size_i, total);
    for (size_t j = i + 1; j < tensors.size(); ++j) {
      size_t size_j = 0;
      ASSERT_TRUE(PlannedTensorBytes(tensors[j], PlanRows{nodes, 0, graphs}, &size_j));
      if (!Overlap(tensors[i], tensors[j]) || size_i == 0 || size_j == 0) continue;
      EXPECT_TRUE(offsets[i] + size_i <= offsets[j] || offsets[j] + size_j <= offsets[i])
          << "tensors " << i << " and " << j << " are alive together and overlap";
    }
  }
}

TEST(Planner, ChainReusesDeadTensors) {
  // A chain: t0 -> t1 -> t2 -> t3, each alive for two consecutive ops. Two slots suffice.
  std::vector<PlannedTensor> tensors;
  for (uint32_t op = 0; op < 4; ++op) tensors.push_back(PlannedTensor{RowKind::kNodes, 100, op, op + 1});
  std::vector<size_t> offsets(tensors.size());
  size_t total = 0;
  ASSERT_TRUE(PlanArena(tensors.data(), 4, PlanRows{10, 0, 1}, offsets.data(), &total));
  ExpectValidPlan(tensors, 10, 1, offsets, total);
  EXPECT_EQ(total, 2u * 1008u);  // 10 rows * 100 bytes, rounded to 16
  EXPECT_EQ(offsets[0], offsets[2]);
  EXPECT_EQ(offsets[1], offsets[3]);
}

TEST(Planner, LargestFirstThenFirstFit) {
  // t0 (big) alive 0..1, t1 (small) alive 1..2, t2 (medium) alive 2..3: t2 fits where t0 was.
  const std::vector<PlannedTensor> tensors = {
      {RowKind::kNodes, 64, 0, 1}, {RowKind::kNodes, 16, 1, 2}, {RowKind::kNodes, 32, 2, 3}};
  std::vector<size_t> offsets(3);
  size_t total = 0;
  ASSERT_TRUE(PlanArena(tensors.data(), 3, PlanRows{4, 0, 1}, offsets.data(), &total));
  ExpectValidPlan(tensors, 4, 1, offsets, total);
  EXPECT_EQ(offsets[0], 0u);
  EXPECT_EQ(offsets[1], 256u);
  EXPECT_EQ(offsets[2], 0u);
  EXPECT_EQ(total, 256u + 64u);
}

TEST(Planner, RandomLifetimesNeverOverlap) {
  std::mt19937 rng(3);
  for (int round = 0; round < 200; ++round) {
    const uint32_t n = 1 + rng() % 40;
    std::vector<PlannedTensor> tensors;
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t first = rng() % 30;
      tensors.push_back(PlannedTensor{rng() % 3 == 0 ? RowKind::kGraphs : RowKind::kNodes,
                                      static_cast<uint32_t>(1 + rng() % 300), first,
                                      static_cast<uint32_t>(first + rng() % 6)});
    }
    std::vector<size_t> offsets(n);
    size_t total = 0;
    const uint32_t nodes = rng() % 50, graphs = 1 + rng() % 5;
    ASSERT_TRUE(PlanArena(tensors.data(), n, PlanRows{nodes, 0, graphs}, offsets.data(), &total));
    ExpectValidPlan(tensors, nodes, graphs, offsets, total);
  }
}

TEST(Planner, SizesAreOverflowChecked) {
  const PlannedTensor huge{RowKind::kNodes, 0xFFFFFFFFu, 0, 0};
  size_t bytes = 0;
  if (sizeof(size_t) == 4) {
    EXPECT_FALSE(PlannedTensorBytes(huge, PlanRows{0xFFFFFFFFu, 0, 1}, &bytes));
  } else {
    EXPECT_TRUE(PlannedTensorBytes(huge, PlanRows{0xFFFFFFFFu, 0, 1}, &bytes));
    EXPECT_EQ(bytes % 16, 0u);
  }
  std::vector<PlannedTensor> many(100, huge);
  for (uint32_t i = 0; i < 100; ++i) many[i].first_op = many[i].last_op = 0;  // all alive at once
  std::vector<size_t> offsets(100);
  size_t total = 0;
  // 100 * (2^32 - 1)^2 bytes do not fit any address space.
  EXPECT_FALSE(PlanArena(many.data(), 100, PlanRows{0xFFFFFFFFu, 0, 1}, offsets.data(), &total));
}

// Sum of the sizes of every planned tensor of a loaded model (what a planner without reuse would need).
size_t SumOfTensors(const qgnn_model* model, uint32_t nodes, uint32_t graphs) {
  size_t sum = 0;
  for (uint32_t i = 0; i < model->num_tensors; ++i) {
    size_t bytes = 0;
    EXPECT_TRUE(PlannedTensorBytes(model->tensors[i], PlanRows{nodes, 0, graphs}, &bytes));
    sum += bytes;
  }
  return sum;
}

TEST(Planner, FourLayerModelReusesMemory) {
  for (bool quantized : {true, false}) {
    ModelMaker m(quantized, Task::kNodeClassification, 16, 5);
    m.Gcn(32, true).Gcn(32, true).Sage(32, Reduce::kMean, true, true).Linear(8, false);
    const std::vector<uint8_t> bytes = m.Bytes();
    AlignedBuffer buffer(bytes);
    qgnn_model* model = nullptr;
    ASSERT_EQ(qgnn_model_create(buffer.data(), buffer.size(), &model, nullptr), QGNN_OK);
    const qgnn_plan_limits limits{1000, 5000, 1};
    size_t arena = 0;
    ASSERT_EQ(qgnn_arena_size(model, &limits, &arena, nullptr), QGNN_OK);
    const size_t sum = SumOfTensors(model, 1000, 1);
    // The arena = the packed weights (persistent, sized by the model alone) + the planned activations.
    arena -= model->packed_bytes;
    EXPECT_LT(arena, sum) << "no reuse: arena " << arena << ", sum of tensors " << sum;
    // Quantized: input int8 [1000 x 16]; GCN: norm int32, agg, out; ... the peak is two 32-wide int8
    // activations plus a norm array, far below the sum.
    if (quantized) {
      EXPECT_LT(arena, sum / 2);
    }
    // The plan itself is valid.
    std::vector<PlannedTensor> tensors(model->tensors, model->tensors + model->num_tensors);
    std::vector<size_t> offsets(tensors.size());
    size_t total = 0;
    ASSERT_TRUE(PlanArena(tensors.data(), model->num_tensors, PlanRows{1000, 0, 1}, offsets.data(), &total));
    ExpectValidPlan(tensors, 1000, 1, offsets, total);
    EXPECT_EQ(arena, total + 16);
    qgnn_model_delete(model);
  }
}

// A model whose input is read only by Dense ops (transform-first GCN or SAGE with its root term, Linear)
// streams the caller's features through a fixed scratch: no [nodes x input] quantized copy, so the arena does
// not grow with the input width times the nodes; a model whose first layer aggregates its input keeps the
// copy.
TEST(Planner, StreamedInputPlansNoWholeQuantizedCopy) {
  constexpr int32_t kInput = 1433;
  constexpr uint32_t kNodes = 2708;
  const qgnn_plan_limits limits{kNodes, 10556, 1};
  for (int variant : {0, 1, 2}) {
    const bool transform_first = variant != 1;
    SCOPED_TRACE(variant);
    ModelMaker m(true, Task::kNodeClassification, kInput, 7);
    if (variant == 2) {
      m.Sage(16, Reduce::kMean, /*root=*/true, true, {}, true).Gcn(7, false, {}, true);
    } else {
      m.Gcn(16, true, {}, transform_first).Gcn(7, false, {}, true);
    }
    const std::vector<uint8_t> bytes = m.Bytes();
    AlignedBuffer buffer(bytes);
    qgnn_model* model = nullptr;
    ASSERT_EQ(qgnn_model_create(buffer.data(), buffer.size(), &model, nullptr), QGNN_OK);
    size_t arena = 0;
    ASSERT_EQ(qgnn_arena_size(model, &limits, &arena, nullptr), QGNN_OK);
    arena -= model->packed_bytes;
    const size_t copy = size_t{kNodes} * kInput;
    if (transform_first) {
      EXPECT_EQ(model->input_tensor, kStreamedInput);
      ASSERT_NE(model->input_scratch, kNoTensor);
      size_t scratch = 0;
      ASSERT_TRUE(PlannedTensorBytes(model->tensors[model->input_scratch], PlanRows{kNodes, 0, 1}, &scratch));
      EXPECT_EQ(scratch, size_t{kInput} * kStreamRows * kStreamSlots);  // a multiple of 16 already
      // Messages, outputs and the norm: a few narrow [nodes x 16] tensors beside the 46 KB scratch.
      EXPECT_LT(arena, size_t{200} * 1024);
    } else {
      EXPECT_GE(model->input_tensor, 0);
      EXPECT_GT(arena, copy);
    }
    qgnn_model_delete(model);
  }
}

TEST(Planner, ArenaGrowsWithLimits) {
  ModelMaker m(true, Task::kGraphClassification, 8, 6);
  m.Gin({16, 16}, 0.0f, true).Pool(Reduce::kSum).Linear(4, false);
  const std::vector<uint8_t> bytes = m.Bytes();
  AlignedBuffer buffer(bytes);
  qgnn_model* model = nullptr;
  ASSERT_EQ(qgnn_model_create(buffer.data(), buffer.size(), &model, nullptr), QGNN_OK);
  size_t small = 0, large = 0, graphs = 0;
  qgnn_plan_limits limits{10, 20, 1};
  ASSERT_EQ(qgnn_arena_size(model, &limits, &small, nullptr), QGNN_OK);
  limits = {1000, 20, 1};
  ASSERT_EQ(qgnn_arena_size(model, &limits, &large, nullptr), QGNN_OK);
  limits = {10, 20, 1000};
  ASSERT_EQ(qgnn_arena_size(model, &limits, &graphs, nullptr), QGNN_OK);
  EXPECT_LT(small, large);
  EXPECT_LT(small, graphs);
  qgnn_model_delete(model);
}

TEST(Planner, EdgeRowsAreSizedByMaxEdges) {
  const PlannedTensor per_edge{RowKind::kEdges, 8, 0, 0};
  size_t bytes = 0;
  ASSERT_TRUE(PlannedTensorBytes(per_edge, PlanRows{10, 1000, 1}, &bytes));
  EXPECT_EQ(bytes, 8000u);
  const std::vector<PlannedTensor> tensors = {{RowKind::kNodes, 4, 0, 1}, {RowKind::kEdges, 4, 1, 1}};
  std::vector<size_t> offsets(2);
  size_t total = 0;
  ASSERT_TRUE(PlanArena(tensors.data(), 2, PlanRows{10, 1000, 1}, offsets.data(), &total));
  EXPECT_EQ(total, 4000u + 48u);  // both alive at op 1: 48 (40 rounded up) + 4000
}

// The graph stage: two quantized GCNConv layers share ONE normalisation tensor, planned alive from the first
// op to the last (it is written at setup, before any op, and read by both layers).
TEST(Planner, GcnLayersShareOneGraphStageTensor) {
  ModelMaker m(true, Task::kNodeClassification, 16, 5);
  m.Gcn(32, true).Gcn(32, true).Linear(8, false);
  const std::vector<uint8_t> bytes = m.Bytes();
  AlignedBuffer buffer(bytes);
  qgnn_model* model = nullptr;
  ASSERT_EQ(qgnn_model_create(buffer.data(), buffer.size(), &model, nullptr), QGNN_OK);
  ASSERT_EQ(model->num_graph_tensors, 1u);
  const int32_t norm = model->graph_tensors[0];
  ASSERT_GE(norm, 0);
  EXPECT_EQ(model->tensors[norm].first_op, 0u);
  EXPECT_EQ(model->tensors[norm].last_op + 1, model->num_ops);
  EXPECT_EQ(model->tensors[norm].row_bytes, 4u);
  uint32_t int32_node_tensors = 0;
  for (uint32_t i = 0; i < model->num_tensors; ++i) {
    if (model->tensors[i].row_bytes == 4 && model->tensors[i].rows == RowKind::kNodes) ++int32_node_tensors;
  }
  EXPECT_EQ(int32_node_tensors, 1u);
  qgnn_model_delete(model);
  // A float model computes its factors inside the aggregation: no graph tensor.
  ModelMaker f(false, Task::kNodeClassification, 16, 5);
  f.Gcn(32, true).Linear(8, false);
  const std::vector<uint8_t> fbytes = f.Bytes();
  AlignedBuffer fbuffer(fbytes);
  ASSERT_EQ(qgnn_model_create(fbuffer.data(), fbuffer.size(), &model, nullptr), QGNN_OK);
  EXPECT_EQ(model->num_graph_tensors, 0u);
  qgnn_model_delete(model);
}

}  // namespace
}  // namespace test
}  // namespace qgnn
