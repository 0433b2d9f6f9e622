// End-to-end numerics: every layer kind, quantized (bit-exact against the integer oracle) and float (against
// a double-precision reference); batching; thread-count independence.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <vector>

#include "qgnn/converter/batch_norm.h"
#include "test_util.h"

namespace qgnn {
namespace test {
namespace {

// Runs a quantized model and compares every logit with the integer oracle.
void ExpectQuantizedMatchesOracle(const ModelMaker& maker, const Graph& graph, uint32_t threads = 1) {
  const std::vector<uint8_t> bytes = maker.Bytes();
  const RunResult r = RunModel(bytes, graph, threads);
  ASSERT_EQ(r.status, QGNN_OK) << r.message;
  const std::vector<int32_t> expected = OracleQuantized(const_cast<ModelMaker&>(maker).desc(), graph);
  ASSERT_EQ(r.logits_q.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(r.logits_q[i], expected[i]) << "logit " << i << " (row " << i / r.cols << ")";
  }
  // A meaningful test: the logits are not all equal (saturated or constant).
  const std::set<int8_t> distinct(r.logits_q.begin(), r.logits_q.end());
  EXPECT_GE(distinct.size(), 3u) << "degenerate test model: logits barely vary: "
                                 << ::testing::PrintToString(r.logits_q);
  // Dequantized output and argmax agree with the int8 logits.
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_FLOAT_EQ(r.logits_f32[i], r.scale * static_cast<float>(r.logits_q[i] - r.zero_point));
  }
  for (uint32_t row = 0; row < r.rows; ++row) {
    const auto begin = r.logits_q.begin() + row * r.cols;
    EXPECT_EQ(r.argmax[row], std::max_element(begin, begin + r.cols) - begin);
  }
}

void ExpectFloatMatchesOracle(const ModelMaker& maker, const Graph& graph, uint32_t threads = 1) {
  const RunResult r = RunModel(maker.Bytes(), graph, threads);
  ASSERT_EQ(r.status, QGNN_OK) << r.message;
  const std::vector<double> expected = OracleFloat(const_cast<ModelMaker&>(maker).desc(), graph);
  ASSERT_EQ(r.logits_f32.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_NEAR(r.logits_f32[i], expected[i], 1e-4 * (1.0 + std::fabs(expected[i]))) << "logit " << i;
  }
}

Graph NodeGraph(uint32_t seed, uint32_t nodes, int32_t dim, int int8_bits = 8) {
  std::mt19937 rng(seed);
  return RandomGraph(rng, {nodes}, 5, dim, int8_bits);
}

Graph Batch(uint32_t seed, int32_t dim, int int8_bits = 8) {
  std::mt19937 rng(seed);
  return RandomGraph(rng, {7, 0, 12, 1, 9}, 4, dim, int8_bits);
}

// ---- Quantized, one test per layer kind
// ------------------------------------------------------------------------

TEST(QuantizedEndToEnd, Linear) {
  ModelMaker m(true, Task::kNodeClassification, 6, 11);
  m.Linear(8, true).Linear(5, false);
  ExpectQuantizedMatchesOracle(m, NodeGraph(1, 20, 6));
}

TEST(QuantizedEndToEnd, Gcn) {
  ModelMaker m(true, Task::kNodeClassification, 5, 12);
  m.Gcn(8, true).Gcn(4, false);
  ExpectQuantizedMatchesOracle(m, NodeGraph(2, 25, 5));
}

// Transform-first (the Dense, then the aggregation of its messages with the bias and ReLU): narrowing,
// widening, next to an aggregate-first layer, int8 and int4, one thread and three.
TEST(QuantizedEndToEnd, GcnTransformFirst) {
  ModelMaker m(true, Task::kNodeClassification, 9, 41);
  m.Gcn(5, true, {}, true).Gcn(8, true, {}, true).Gcn(6, true).Gcn(4, false, {}, true);
  ExpectQuantizedMatchesOracle(m, NodeGraph(41, 40, 9));
  ExpectQuantizedMatchesOracle(m, NodeGraph(42, 40, 9), 3);
}

TEST(QuantizedEndToEnd, GcnTransformFirstInt4) {
  ModelMaker m(true, Task::kNodeClassification, 11, 43);
  m.Input(4, -2);
  m.Gcn(7, true, Bits{4, 4, 4}, true).Gcn(5, true, Bits{8, 4, 8}, true).Linear(3, false);
  ExpectQuantizedMatchesOracle(m, NodeGraph(43, 40, 11));
}

TEST(QuantizedEndToEnd, SageMeanWithRoot) {
  ModelMaker m(true, Task::kNodeClassification, 5, 13);
  m.Sage(8, Reduce::kMean, true, true).Sage(4, Reduce::kMean, true, false);
  ExpectQuantizedMatchesOracle(m, NodeGraph(3, 25, 5));
}

TEST(QuantizedEndToEnd, SageMaxWithoutRoot) {
  ModelMaker m(true, Task::kNodeClassification, 5, 14);
  m.Sage(8, Reduce::kMax, false, true).Linear(4, false);
  ExpectQuantizedMatchesOracle(m, NodeGraph(4, 25, 5));
}

// Transform-first SAGEConv (MEAN): the neighbour Dense onto the messages, their mean, then the identity
// output step with the bias and the root term. With and without root, narrowing and widening, next to an
// aggregate-first SAGE, one thread and three.
TEST(QuantizedEndToEnd, SageTransformFirst) {
  ModelMaker m(true, Task::kNodeClassification, 9, 51);
  m.Sage(6, Reduce::kMean, true, true, {}, true)
      .Sage(8, Reduce::kMean, false, true, {}, true)
      .Sage(7, Reduce::kMean, true, true)
      .Sage(4, Reduce::kMean, true, false, {}, true);
  ExpectQuantizedMatchesOracle(m, NodeGraph(51, 40, 9));
  ExpectQuantizedMatchesOracle(m, NodeGraph(52, 40, 9), 3);
}

// int4 weights, messages, aggregation and outputs, a 4-bit input with a non-zero zero point.
TEST(QuantizedEndToEnd, SageTransformFirstInt4) {
  ModelMaker m(true, Task::kNodeClassification, 11, 53);
  m.Input(4, -2);
  m.Sage(7, Reduce::kMean, true, true, Bits{4, 4, 4}, true)
      .Sage(5, Reduce::kMean, false, true, Bits{8, 4, 4}, true)
      .Linear(3, false);
  ExpectQuantizedMatchesOracle(m, NodeGraph(53, 40, 11));
  ExpectQuantizedMatchesOracle(m, NodeGraph(54, 40, 11), 3);
}

TEST(QuantizedEndToEnd, GinWithHiddenLayer) {
  ModelMaker m(true, Task::kNodeClassification, 4, 15);
  m.Gin({8, 6}, 0.25f, true).Gin({5}, 0.0f, false);
  ExpectQuantizedMatchesOracle(m, NodeGraph(5, 25, 4));
}

TEST(QuantizedEndToEnd, GinNegativeEpsNoSelfTerm) {
  ModelMaker m(true, Task::kNodeClassification, 4, 16);
  m.Gin({6, 6, 5}, -1.0f, false);  // self_weight_q16 = 0: no self term
  ExpectQuantizedMatchesOracle(m, NodeGraph(6, 25, 4));
}

TEST(QuantizedEndToEnd, GraphClassificationEachPooling) {
  for (Reduce reduce : {Reduce::kSum, Reduce::kMean, Reduce::kMax}) {
    SCOPED_TRACE(static_cast<int>(reduce));
    ModelMaker m(true, Task::kGraphClassification, 5, 17 + static_cast<uint32_t>(reduce));
    m.Gcn(8, true).Pool(reduce).Linear(6, true).Linear(3, false);
    ExpectQuantizedMatchesOracle(m, Batch(7, 5));
  }
}

TEST(QuantizedEndToEnd, Int4WeightsAndActivations) {
  const Bits int4{4, 4, 4, 4};
  ModelMaker m(true, Task::kNodeClassification, 5, 21);
  m.Input(4, 1);
  m.Gcn(7, true, int4)
      .Sage(6, Reduce::kMean, true, true, int4)
      .Gin({5, 5}, 0.5f, false, int4)
      .Linear(5, false, int4);
  ExpectQuantizedMatchesOracle(m, NodeGraph(8, 30, 5));
}

TEST(QuantizedEndToEnd, MixedPrecisionAndInt4Logits) {
  ModelMaker m(true, Task::kGraphClassification, 6, 22);
  m.Gin({9, 7}, 0.1f, true, Bits{8, 4, 8, 4}).Pool(Reduce::kMean, Bits{4}).Linear(5, false, Bits{4, 4});
  ExpectQuantizedMatchesOracle(m, Batch(9, 6));
}

TEST(QuantizedEndToEnd, Int8Input) {
  ModelMaker m(true, Task::kNodeClassification, 5, 23);
  m.Input(8, -3, true);
  m.Sage(6, Reduce::kMax, true, true).Linear(4, false);
  ExpectQuantizedMatchesOracle(m, NodeGraph(10, 25, 5));
}

TEST(QuantizedEndToEnd, Int8InputPackedToInt4) {
  ModelMaker m(true, Task::kNodeClassification, 5, 24);
  m.Input(4, 0, true);
  m.Gcn(6, true, Bits{8, 4, 4}).Linear(4, false);
  ExpectQuantizedMatchesOracle(m, NodeGraph(11, 25, 5, 4));
}

// The model input streamed into the Dense ops that read it (RunDenseOnInput): float features quantized and
// int8 features packed into int4, chunk by chunk, more rows than one chunk per thread, 1 and 3 threads.
TEST(QuantizedEndToEnd, StreamedInputIntoLinearAndTransformFirst) {
  {
    ModelMaker m(true, Task::kNodeClassification, 37, 45);
    m.Linear(12, true).Gcn(6, true, {}, true).Linear(4, false);
    ExpectQuantizedMatchesOracle(m, NodeGraph(46, 101, 37));
    ExpectQuantizedMatchesOracle(m, NodeGraph(47, 101, 37), 3);
  }
  {
    ModelMaker m(true, Task::kNodeClassification, 21, 48);
    m.Input(4, 1, /*int8_input=*/true);
    m.Gcn(6, true, Bits{8, 4, 4}, true).Linear(4, false);
    ExpectQuantizedMatchesOracle(m, NodeGraph(49, 77, 21, 4));
    ExpectQuantizedMatchesOracle(m, NodeGraph(50, 77, 21, 4), 3);
  }
}

// A transform-first SAGE first layer streams its input (float features quantized chunk by chunk, int8
// packed into int4) into the neighbour Dense and, with root, again into the output step's root term
// (RunDenseWithInputExtra). Bit-exact, 1 and 3 threads.
TEST(QuantizedEndToEnd, StreamedInputIntoTransformFirstSage) {
  for (bool root : {false, true}) {
    SCOPED_TRACE(root);
    {
      ModelMaker m(true, Task::kNodeClassification, 37, 55);
      m.Sage(6, Reduce::kMean, root, true, {}, true).Linear(4, false);
      ExpectQuantizedMatchesOracle(m, NodeGraph(56, 101, 37));
      ExpectQuantizedMatchesOracle(m, NodeGraph(57, 101, 37), 3);
    }
    {
      ModelMaker m(true, Task::kNodeClassification, 21, 58);
      m.Input(4, 1, /*int8_input=*/true);
      m.Sage(6, Reduce::kMean, root, true, Bits{8, 4, 4}, true).Linear(4, false);
      ExpectQuantizedMatchesOracle(m, NodeGraph(59, 77, 21, 4));
      ExpectQuantizedMatchesOracle(m, NodeGraph(60, 77, 21, 4), 3);
    }
  }
}

TEST(QuantizedEndToEnd, WideDenseUsesShiftsAbove40) {
  // 2048 int8 inputs per Dense: s_in * s_w[c] / s_out is about 1e-4 (2^-13), a shift of 42..44, which only a
  // Dense may use (up to 62; aggregation and pooling stop at 40).
  constexpr int32_t kWide = 2048;
  ModelMaker m(true, Task::kNodeClassification, kWide, 25);
  m.Input(8, 0, true);
  m.Sage(12, Reduce::kMean, true, true).Linear(4, false);
  const converter::LayerDesc& sage = m.desc().layers[0];
  for (const converter::DenseDesc* d : {&sage.dense, &sage.root}) {
    for (int32_t shift : d->requant.shift) {
      EXPECT_GT(shift, converter::kAggregationRequantShiftMax);
      EXPECT_LE(shift, converter::kDenseRequantShiftMax);
    }
  }
  EXPECT_LE(sage.aggregation_requant.shift[0], converter::kAggregationRequantShiftMax);
  ExpectQuantizedMatchesOracle(m, NodeGraph(12, 30, kWide));
  ExpectQuantizedMatchesOracle(m, NodeGraph(13, 30, kWide), 3);
}

// GAT: concatenated heads then an averaged output layer (the paper's shape), odd heads x dims, int4 messages
// and outputs, the mean's degree bound, thread-count independence (rows split by edges).
TEST(QuantizedEndToEnd, GatConcatThenMean) {
  ModelMaker m(true, Task::kNodeClassification, 9, 81);
  m.Gat(3, 5, true, true).Gat(2, 4, false, false);
  EXPECT_EQ(m.desc().limits.max_degree, converter::gat_mean_max_degree(2));
  ExpectQuantizedMatchesOracle(m, NodeGraph(81, 60, 9));
  ExpectQuantizedMatchesOracle(m, NodeGraph(82, 60, 9), 4);
}

TEST(QuantizedEndToEnd, GatInt4AndSingleHeadWithoutBias) {
  ModelMaker m(true, Task::kNodeClassification, 7, 83);
  m.Gat(2, 3, true, true, Bits{4, 4, 4}).Gat(1, 6, true, true, {}, /*bias=*/false).Linear(4, false);
  ExpectQuantizedMatchesOracle(m, NodeGraph(83, 50, 7));
}

TEST(QuantizedEndToEnd, GatGraphClassificationBatch) {
  ModelMaker m(true, Task::kGraphClassification, 5, 84);
  m.Gat(4, 2, true, true).Pool(Reduce::kMean).Linear(3, false);
  ExpectQuantizedMatchesOracle(m, Batch(84, 5));
  ExpectQuantizedMatchesOracle(m, Batch(84, 5), 3);
}

// ---- Float
// ---------------------------------------------------------------------------------------------------

TEST(FloatEndToEnd, Gat) {
  ModelMaker m(false, Task::kNodeClassification, 8, 85);
  m.Gat(3, 4, true, true).Gat(2, 5, false, false);
  ExpectFloatMatchesOracle(m, NodeGraph(85, 40, 8));
  ExpectFloatMatchesOracle(m, NodeGraph(86, 40, 8), 3);
}

TEST(FloatEndToEnd, EveryLayerKind) {
  ModelMaker m(false, Task::kNodeClassification, 6, 31);
  m.Gcn(8, true)
      .Sage(7, Reduce::kMean, true, true)
      .Sage(7, Reduce::kMax, false, true)
      .Gin({8, 6}, 0.3f, true)
      .Linear(4, false);
  ExpectFloatMatchesOracle(m, NodeGraph(12, 40, 6));
}

TEST(FloatEndToEnd, GcnTransformFirst) {
  ModelMaker m(false, Task::kNodeClassification, 9, 44);
  m.Gcn(5, true, {}, true).Gcn(8, true, {}, true).Gcn(4, false, {}, true);
  ExpectFloatMatchesOracle(m, NodeGraph(44, 40, 9));
  ExpectFloatMatchesOracle(m, NodeGraph(45, 40, 9), 2);
}

TEST(FloatEndToEnd, SageTransformFirst) {
  ModelMaker m(false, Task::kNodeClassification, 9, 61);
  m.Sage(5, Reduce::kMean, true, true, {}, true)
      .Sage(8, Reduce::kMean, false, true, {}, true)
      .Sage(4, Reduce::kMean, true, false, {}, true);
  ExpectFloatMatchesOracle(m, NodeGraph(61, 40, 9));
  ExpectFloatMatchesOracle(m, NodeGraph(62, 40, 9), 2);
}

TEST(FloatEndToEnd, GraphClassificationEachPooling) {
  for (Reduce reduce : {Reduce::kSum, Reduce::kMean, Reduce::kMax}) {
    ModelMaker m(false, Task::kGraphClassification, 5, 32 + static_cast<uint32_t>(reduce));
    m.Gin({8, 8}, 0.0f, true).Pool(reduce).Linear(3, false);
    ExpectFloatMatchesOracle(m, Batch(13, 5));
  }
}

TEST(FloatEndToEnd, LinearWithoutBias) {
  ModelMaker m(false, Task::kNodeClassification, 4, 33);
  m.Linear(3, false, {}, /*bias=*/false);
  ExpectFloatMatchesOracle(m, NodeGraph(14, 10, 4));
}

// ---- Float models with unfolded BatchNorm
// -------------------------------------------------------------------

// BatchNorm with statistics far from the identity on every Dense that may carry one (not a SAGE root).
void AddBatchNorms(ModelDesc* model, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> mean(-1.0f, 1.0f), var(0.05f, 4.0f), gamma(-2.0f, 2.0f);
  auto make = [&](int32_t channels) {
    converter::BatchNormDesc bn;
    bn.eps = 1e-3f;
    for (int32_t c = 0; c < channels; ++c) {
      bn.mean.push_back(mean(rng));
      bn.var.push_back(c == 0 ? 0.0f : var(rng));
      bn.gamma.push_back(gamma(rng));
      bn.beta.push_back(mean(rng));
    }
    return bn;
  };
  for (converter::LayerDesc& layer : model->layers) {
    if (layer.kind == LayerKind::kGlobalPool) continue;
    if (layer.kind == LayerKind::kGinConv) {
      for (converter::DenseDesc& d : layer.mlp) d.batch_norm = make(d.out_features);
    } else {
      layer.dense.batch_norm = make(layer.dense.out_features);
    }
  }
}

// The runtime executes a float model's BatchNorm: its logits equal those of the model with the BatchNorm
// folded (converter::fold_batch_norm) and the double-precision oracle of the folded model, for any thread
// count.
void ExpectBatchNormMatchesFolded(ModelMaker& maker, const Graph& graph) {
  AddBatchNorms(&maker.desc(), 7);
  const std::vector<uint8_t> with_bn = maker.Bytes();
  const converter::Result<ModelDesc> folded = converter::fold_batch_norm(maker.desc());
  ASSERT_TRUE(folded.ok()) << folded.error;
  const auto folded_bytes = converter::serialize_model(folded.value);
  ASSERT_TRUE(folded_bytes.ok()) << folded_bytes.error;
  const RunResult a = RunModel(with_bn, graph);
  const RunResult b = RunModel(folded_bytes.value, graph);
  ASSERT_EQ(a.status, QGNN_OK) << a.message;
  ASSERT_EQ(b.status, QGNN_OK) << b.message;
  const std::vector<double> oracle = OracleFloat(folded.value, graph);
  ASSERT_EQ(a.logits_f32.size(), oracle.size());
  ASSERT_EQ(b.logits_f32.size(), oracle.size());
  double spread = 0.0;
  for (size_t i = 0; i < oracle.size(); ++i) {
    // Five BatchNorms deep, each with a var = 0 channel (gamma / sqrt(eps) ~ 30x): float rounding that
    // differs between the unfolded and folded forms (and between x86 and arm64, whose compilers contract
    // a * b + c into fused multiply-adds) is amplified; 5e-4 relative is 4x the largest difference seen.
    const double tolerance = 5e-4 * (1.0 + std::fabs(oracle[i]));
    ASSERT_NEAR(a.logits_f32[i], b.logits_f32[i], tolerance) << "logit " << i;
    ASSERT_NEAR(a.logits_f32[i], oracle[i], tolerance) << "logit " << i;
    spread = std::max(spread, std::fabs(oracle[i] - oracle[0]));
  }
  EXPECT_GT(spread, 1e-3) << "degenerate test model: constant logits";
  const RunResult threaded = RunModel(with_bn, graph, 3);
  ASSERT_EQ(threaded.status, QGNN_OK) << threaded.message;
  EXPECT_EQ(threaded.logits_f32, a.logits_f32);
}

TEST(FloatBatchNorm, NodeClassificationEveryLayerKindEqualsFolded) {
  ModelMaker m(false, Task::kNodeClassification, 6, 51);
  m.Gcn(8, true)
      .Sage(7, Reduce::kMean, true, true)
      .Sage(7, Reduce::kMax, false, true)
      .Gin({8, 6}, 0.3f, true)
      .Linear(4, false);
  ExpectBatchNormMatchesFolded(m, NodeGraph(16, 40, 6));
}

TEST(FloatBatchNorm, GraphClassificationEqualsFolded) {
  ModelMaker m(false, Task::kGraphClassification, 5, 52);
  m.Gin({8, 8}, 0.0f, true).Pool(Reduce::kMean).Linear(6, true).Linear(3, false);
  ExpectBatchNormMatchesFolded(m, Batch(17, 5));
}

// ---- Batching and threads
// -------------------------------------------------------------------------------------

template <typename T>
std::vector<T> Rows(const std::vector<T>& v, uint32_t cols, uint32_t row) {
  return std::vector<T>(v.begin() + row * cols, v.begin() + (row + 1) * cols);
}

TEST(Batching, BatchedGraphsEqualSeparateInvokes) {
  for (bool quantized : {true, false}) {
    SCOPED_TRACE(quantized ? "quantized" : "float");
    ModelMaker m(quantized, Task::kGraphClassification, 5, 41);
    m.Sage(8, Reduce::kMean, true, true).Gcn(8, true).Pool(Reduce::kSum).Linear(4, false);
    const std::vector<uint8_t> bytes = m.Bytes();
    const Graph batch = Batch(15, 5);
    const RunResult all = RunModel(bytes, batch);
    ASSERT_EQ(all.status, QGNN_OK) << all.message;
    ASSERT_EQ(all.rows, batch.num_graphs);
    for (uint32_t g = 0; g < batch.num_graphs; ++g) {
      const RunResult one = RunModel(bytes, batch.Subgraph(g));
      ASSERT_EQ(one.status, QGNN_OK) << one.message;
      ASSERT_EQ(one.rows, 1u);
      if (quantized) {
        EXPECT_EQ(Rows(all.logits_q, all.cols, g), one.logits_q) << "graph " << g;
      } else {
        EXPECT_EQ(Rows(all.logits_f32, all.cols, g), one.logits_f32) << "graph " << g;
      }
    }
  }
}

TEST(Batching, NodeClassificationOverSeveralGraphs) {
  ModelMaker m(true, Task::kNodeClassification, 5, 42);
  m.Gcn(6, true).Linear(3, false);
  const Graph batch = Batch(16, 5);
  const RunResult all = RunModel(m.Bytes(), batch);
  ASSERT_EQ(all.status, QGNN_OK) << all.message;
  EXPECT_EQ(all.rows, batch.num_nodes);
  const std::vector<int32_t> expected = OracleQuantized(m.desc(), batch);
  EXPECT_EQ(std::vector<int32_t>(all.logits_q.begin(), all.logits_q.end()), expected);
}

TEST(Threads, IdenticalOutputsForOneTwoThreeThreads) {
  std::mt19937 rng(17);
  const Graph graph = RandomGraph(rng, {180, 3, 140, 90}, 6, 8);
  for (bool quantized : {true, false}) {
    SCOPED_TRACE(quantized ? "quantized" : "float");
    ModelMaker m(quantized, Task::kGraphClassification, 8, 51);
    m.Gcn(16, true)
        .Sage(16, Reduce::kMean, true, true)
        .Gin({16, 12}, 0.1f, true)
        .Pool(Reduce::kMean)
        .Linear(8, true)
        .Linear(4, false);
    const std::vector<uint8_t> bytes = m.Bytes();
    const RunResult one = RunModel(bytes, graph, 1);
    ASSERT_EQ(one.status, QGNN_OK) << one.message;
    for (uint32_t threads : {2u, 3u}) {
      const RunResult many = RunModel(bytes, graph, threads);
      ASSERT_EQ(many.status, QGNN_OK) << many.message;
      EXPECT_EQ(one.logits_q, many.logits_q) << threads << " threads";
      EXPECT_EQ(one.logits_f32, many.logits_f32) << threads << " threads";
      EXPECT_EQ(one.argmax, many.argmax) << threads << " threads";
    }
    if (quantized) {
      const std::vector<int32_t> expected = OracleQuantized(m.desc(), graph);
      EXPECT_EQ(std::vector<int32_t>(one.logits_q.begin(), one.logits_q.end()), expected);
    }
  }
}

TEST(Threads, NodeClassificationLargeGraphMatchesOracleWithThreads) {
  std::mt19937 rng(18);
  const Graph graph = RandomGraph(rng, {400}, 8, 6);
  ModelMaker m(true, Task::kNodeClassification, 6, 52);
  m.Gin({12, 12}, 0.2f, true).Sage(10, Reduce::kMax, true, true).Linear(5, false);
  ExpectQuantizedMatchesOracle(m, graph, 3);
}

}  // namespace
}  // namespace test
}  // namespace qgnn
