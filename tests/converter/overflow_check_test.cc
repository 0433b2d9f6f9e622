// Overflow proof: exact worst cases, the largest safe limits, refusals that name the layer.
#include "qgnn/converter/overflow_check.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "qgnn/qgnn.h"
#include "test_models.h"

namespace qgnn {
namespace converter {
namespace {

const AccumulatorBound* find(const OverflowProof& p, size_t layer, const std::string& accumulator) {
  for (const AccumulatorBound& b : p.bounds)
    if (b.layer == layer && b.accumulator == accumulator) return &b;
  return nullptr;
}

// One SAGE(mean, no root) layer with an int8 input at zero point -128 (|x - zx| <= 255), aggregation shift
// `shift`, then nothing else.
ModelDesc sage_mean_model(int shift) {
  std::mt19937 rng(5);
  ModelDesc m;
  m.task = Task::kNodeClassification;
  m.input_dim = 4;
  m.layers.push_back(testing::sage_layer(4, 3, Reduce::kMean, false, false, rng));
  m.layers[0].name = "conv1";
  m = testing::random_quantized_copy(m, 8, rng);
  m.input_quant = QuantParams{8, 0.1f, -128};
  m.layers[0].aggregation_requant = Requant{{1 << 30}, {shift}};
  return m;
}

TEST(OverflowProof, EveryValidModelHoldsAtTheRuntimeCaps) {
  std::mt19937 rng(11);
  for (int bits : {8, 4}) {
    const ModelDesc m = testing::random_quantized_copy(testing::all_kinds_float_model(rng), bits, rng);
    const Result<OverflowProof> p = prove_no_overflow(m, LimitsDesc{});
    ASSERT_TRUE(p.ok()) << p.error;
    EXPECT_EQ(p.value.effective.max_degree, QGNN_MAX_DEGREE);
    EXPECT_EQ(p.value.effective.max_nodes, QGNN_MAX_NODES);
    EXPECT_GE(p.value.bounds.size(), 10u);  // 6 layers, several accumulators each
    for (const AccumulatorBound& b : p.value.bounds)
      EXPECT_TRUE(b.holds()) << b.layer_name << " " << b.accumulator;
  }
}

TEST(OverflowProof, DenseBoundComesFromTheActualWeights) {
  std::mt19937 rng(2);
  ModelDesc m;
  m.input_dim = 3;
  m.task = Task::kNodeClassification;
  m.layers.push_back(testing::linear_layer(3, 2, false, rng));
  m = testing::random_quantized_copy(m, 8, rng);
  m.input_quant = QuantParams{8, 0.1f, 10};  // |x - zx| <= max(127 - 10, 10 + 128) = 138
  m.layers[0].dense.weight_q = {1, -2, 3, 100, 0, -100};
  m.layers[0].dense.bias_q = {-5, 7};
  const Result<OverflowProof> p = prove_no_overflow(m, LimitsDesc{});
  ASSERT_TRUE(p.ok()) << p.error;
  const AccumulatorBound* b = find(p.value, 0, "dense");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->worst_case, 200.0 * 138 + 7);  // channel 1: (100 + 0 + 100) * 138 + |7|
  EXPECT_EQ(b->type, "int32");
  EXPECT_TRUE(b->depends_on.empty());
}

TEST(OverflowProof, LargestSafeDegreeIsExact) {
  const ModelDesc m = sage_mean_model(20);
  const Result<OverflowProof> p = prove_no_overflow(m, LimitsDesc{0, 0, 1000, 0});
  ASSERT_TRUE(p.ok()) << p.error;
  const AccumulatorBound* sum = find(p.value, 0, "sum aggregation");
  ASSERT_NE(sum, nullptr);
  EXPECT_EQ(sum->worst_case, 255.0 * 1000);
  EXPECT_EQ(sum->depends_on, "max_degree");
  EXPECT_EQ(sum->max_safe, 2147483647u / 255u);  // 8421504: 255 * 8421504 <= 2^31 - 1 < 255 * 8421505
}

TEST(OverflowProof, RefusesADeclaredDegreeThatOverflowsNamingTheLayer) {
  const ModelDesc m = sage_mean_model(20);
  const Result<OverflowProof> p = prove_no_overflow(m, LimitsDesc{0, 0, 8421505, 0});
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error.find("layer 0 (conv1)"), std::string::npos) << p.error;
  EXPECT_NE(p.error.find("sum aggregation"), std::string::npos) << p.error;
  EXPECT_NE(p.error.find("largest safe max_degree is 8421504"), std::string::npos) << p.error;
}

TEST(OverflowProof, MeanRescaleShiftLimitsTheDegree) {
  // shift 40: e + ceil(log2(degree)) <= 62 allows degrees up to 2^22 and not one more.
  const ModelDesc m = sage_mean_model(40);
  ASSERT_TRUE(prove_no_overflow(m, LimitsDesc{0, 0, 1u << 22, 0}).ok());
  const Result<OverflowProof> p = prove_no_overflow(m, LimitsDesc{0, 0, (1u << 22) + 1, 0});
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error.find("mean rescale"), std::string::npos) << p.error;
  EXPECT_NE(p.error.find("largest safe max_degree is 4194304"), std::string::npos) << p.error;
}

TEST(OverflowProof, ProvenButAboveTheRuntimeCapIsRefused) {
  const ModelDesc m = sage_mean_model(10);  // shift 10: the proof allows far more than 2^22
  const Result<OverflowProof> p = prove_no_overflow(m, LimitsDesc{0, 0, (1u << 22) + 1, 0});
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error.find("above the runtime's cap"), std::string::npos) << p.error;
}

TEST(OverflowProof, FloatModelsHaveNothingToProve) {
  std::mt19937 rng(4);
  EXPECT_FALSE(prove_no_overflow(testing::all_kinds_float_model(rng), LimitsDesc{}).ok());
}

}  // namespace
}  // namespace converter
}  // namespace qgnn
