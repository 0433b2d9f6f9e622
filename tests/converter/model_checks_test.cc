// serialize_model refuses inconsistent descriptions (and serialize_model_unchecked writes them anyway).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <ostream>
#include <random>
#include <string>

#include "qgnn/converter/model_builder.h"
#include "test_models.h"

namespace qgnn {
namespace converter {
namespace {

struct BadCase {
  const char* name;
  bool quantized;
  std::function<void(ModelDesc&)> corrupt;
  const char* expected_error;  // a substring of the error
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

ModelDesc good_model(bool quantized) {
  std::mt19937 rng(11);
  ModelDesc m = testing::all_kinds_float_model(rng);
  return quantized ? testing::random_quantized_copy(m, 8, rng) : m;
}

// Dense requants take shifts up to 62; aggregation and pooling requants up to 40 (MEAN adds up to 22).
TEST(CheckModel, AcceptsTheLargestShiftOfEachRequant) {
  ModelDesc m = good_model(true);
  for (LayerDesc& l : m.layers) {
    for (DenseDesc* d : {&l.dense, &l.root}) {
      for (int32_t& s : d->requant.shift) s = kDenseRequantShiftMax;
    }
    for (DenseDesc& d : l.mlp) {
      for (int32_t& s : d.requant.shift) s = kDenseRequantShiftMax;
    }
    for (int32_t& s : l.aggregation_requant.shift) s = kAggregationRequantShiftMax;
    for (int32_t& s : l.pool_requant.shift) s = kAggregationRequantShiftMax;
  }
  ASSERT_TRUE(check_model(m).ok()) << check_model(m).error;
  const auto bytes = serialize_model(m);
  ASSERT_TRUE(bytes.ok()) << bytes.error;
  const auto parsed = parse_model(bytes.value);
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  EXPECT_EQ(parsed.value.layers[0].dense.requant.shift, m.layers[0].dense.requant.shift);
  EXPECT_EQ(parsed.value.layers[3].mlp[1].requant.shift, m.layers[3].mlp[1].requant.shift);
  EXPECT_EQ(parsed.value.layers[4].pool_requant.shift, m.layers[4].pool_requant.shift);
}

class RejectsInconsistentModel : public ::testing::TestWithParam<BadCase> {};

TEST_P(RejectsInconsistentModel, WithAClearError) {
  ModelDesc m = good_model(GetParam().quantized);
  ASSERT_TRUE(check_model(m).ok()) << check_model(m).error;
  GetParam().corrupt(m);
  const auto bytes = serialize_model(m);
  ASSERT_FALSE(bytes.ok());
  EXPECT_TRUE(bytes.value.empty());
  EXPECT_NE(bytes.error.find(GetParam().expected_error), std::string::npos) << bytes.error;
  // The unchecked writer still produces a well-formed FlatBuffer for negative tests.
  const auto unchecked = serialize_model_unchecked(m);
  ASSERT_TRUE(unchecked.ok()) << unchecked.error;
  EXPECT_FALSE(unchecked.value.empty());
}

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

INSTANTIATE_TEST_SUITE_P(
    Checks, RejectsInconsistentModel,
    ::testing::Values(
        BadCase{"Version0", false, [](ModelDesc& m) { m.version = 0; }, "format version 0"},
        BadCase{"Version7", false, [](ModelDesc& m) { m.version = 7; }, "format version 7 is not 1..6"},
        BadCase{"NoInputDim", false, [](ModelDesc& m) { m.input_dim = 0; }, "input_dim 0"},
        BadCase{"NoLayers", false, [](ModelDesc& m) { m.layers.clear(); }, "no layers"},
        BadCase{"DimsDoNotChain", false, [](ModelDesc& m) { m.input_dim = 6; },
                "layer 0 (gcn): dense has 5 input features, expected 6"},
        BadCase{"WeightCount", false, [](ModelDesc& m) { m.layers[1].dense.weight.pop_back(); },
                "layer 1 (sage): neighbor dense weight has 62 values, expected 63"},
        BadCase{"BiasCount", false, [](ModelDesc& m) { m.layers[5].dense.bias.push_back(0.0f); },
                "layer 5 (linear): dense bias has 4 values, expected 3"},
        BadCase{"NonFiniteWeight", false, [](ModelDesc& m) { m.layers[0].dense.weight[3] = kNaN; }, "non-finite"},
        BadCase{"RootOutputDiffers", false,
                [](ModelDesc& m) {
                  std::mt19937 rng(1);
                  m.layers[1].root = testing::random_float_dense(8, 7, rng);
                },
                "root dense has 8 output features"},
        BadCase{"SageSumReduce", false, [](ModelDesc& m) { m.layers[1].reduce = Reduce::kSum; }, "MEAN or MAX"},
        BadCase{"GinEmptyMlp", false, [](ModelDesc& m) { m.layers[3].mlp.clear(); }, "empty MLP"},
        BadCase{"GinMlpDoesNotChain", false, [](ModelDesc& m) { m.layers[3].mlp[1].in_features = 10; },
                "mlp[1] has 10 input features, expected 11"},
        BadCase{"ClassNames", false, [](ModelDesc& m) { m.class_names.push_back("d"); },
                "4 class names for 3 output features"},
        BadCase{"NoPoolForGraphTask", false, [](ModelDesc& m) { m.layers.erase(m.layers.begin() + 4); },
                "needs a global pooling"},
        BadCase{"PoolInNodeTask", false, [](ModelDesc& m) { m.task = Task::kNodeClassification; }, "cannot pool"},
        BadCase{"TwoPools", false, [](ModelDesc& m) { m.layers.push_back(testing::pool_layer(Reduce::kSum)); },
                "pools at most once"},
        BadCase{"MessagePassingAfterPool", false,
                [](ModelDesc& m) {
                  std::mt19937 rng(1);
                  m.layers.push_back(testing::gcn_layer(3, 3, false, rng));
                },
                "message passing after the global pooling"},
        BadCase{"Int8InputInFloatModel", false, [](ModelDesc& m) { m.input_int8 = true; }, "int8 input"},
        BadCase{"WeightBits", true, [](ModelDesc& m) { m.layers[0].dense.weight_bits = 2; }, "2 bits"},
        BadCase{"WeightValueTooWideForInt4", true,
                [](ModelDesc& m) {
                  m.layers[0].dense.weight_bits = 4;
                  m.layers[0].dense.weight_q[0] = 9;
                },
                "weight value 9 is outside the symmetric 4-bit range"},
        BadCase{"Int8WeightMinus128", true, [](ModelDesc& m) { m.layers[0].dense.weight_q[0] = -128; },
                "weight value -128 is outside the symmetric 8-bit range"},
        BadCase{"BiasTooLarge", true, [](ModelDesc& m) { m.layers[0].dense.bias_q[1] = 1 << 30; },
                "bias value 1073741824 is outside (-2^30, 2^30)"},
        BadCase{"TooManyFeatures", false, [](ModelDesc& m) { m.input_dim = 40000; }, "input_dim 40000"},
        BadCase{"WeightScaleCount", true, [](ModelDesc& m) { m.layers[0].dense.weight_scales.pop_back(); },
                "6 weight scales, expected 7"},
        BadCase{"WeightScaleZero", true, [](ModelDesc& m) { m.layers[0].dense.weight_scales[2] = 0.0f; },
                "weight scale 0"},
        BadCase{"WeightScaleInf", true, [](ModelDesc& m) { m.layers[0].dense.weight_scales[2] = kInf; },
                "weight scale inf"},
        BadCase{"QuantizedBiasCount", true, [](ModelDesc& m) { m.layers[0].dense.bias_q.resize(2); },
                "bias has 2 values, expected 7"},
        BadCase{"RequantCount", true, [](ModelDesc& m) { m.layers[0].dense.requant.shift.pop_back(); },
                "dense requant has 7 multipliers and 6 shifts, expected 7"},
        BadCase{"RequantMultiplierSmall", true,
                [](ModelDesc& m) { m.layers[0].dense.requant.multiplier[0] = (1 << 30) - 1; },
                "is outside [2^30, 2^31 - 1]"},
        BadCase{"RequantShiftZero", true, [](ModelDesc& m) { m.layers[0].dense.requant.shift[0] = 0; },
                "dense requant shift[0] = 0 is outside [1, 62]"},
        BadCase{"DenseRequantShift63", true, [](ModelDesc& m) { m.layers[0].dense.requant.shift[0] = 63; },
                "layer 0 (gcn): dense requant shift[0] = 63 is outside [1, 62]"},
        BadCase{"RootRequantShift63", true, [](ModelDesc& m) { m.layers[1].root.requant.shift[2] = 63; },
                "layer 1 (sage): root dense requant shift[2] = 63 is outside [1, 62]"},
        BadCase{"GinMlpRequantShift63", true, [](ModelDesc& m) { m.layers[3].mlp[1].requant.shift[0] = 63; },
                "layer 3 (gin): mlp[1] requant shift[0] = 63 is outside [1, 62]"},
        BadCase{"AggregationRequantShift41", true,
                [](ModelDesc& m) { m.layers[1].aggregation_requant.shift[0] = 41; },
                "layer 1 (sage): aggregation requant shift[0] = 41 is outside [1, 40]"},
        BadCase{"PoolRequantShift41", true, [](ModelDesc& m) { m.layers[4].pool_requant.shift[0] = 41; },
                "pool requant shift[0] = 41 is outside [1, 40]"},
        BadCase{"AggregationRequantMissing", true, [](ModelDesc& m) { m.layers[1].aggregation_requant = {}; },
                "aggregation requant has 0 multipliers"},
        BadCase{"PoolRequantMissing", true, [](ModelDesc& m) { m.layers[4].pool_requant = {}; },
                "pool requant has 0 multipliers"},
        BadCase{"InputScaleNaN", true, [](ModelDesc& m) { m.input_quant.scale = kNaN; }, "input quantization scale"},
        BadCase{"OutputBits", true, [](ModelDesc& m) { m.layers[0].output.bits = 6; }, "output has 6 bits"},
        BadCase{"ZeroPointOutOfRange", true,
                [](ModelDesc& m) {
                  m.layers[0].output.bits = 4;
                  m.layers[0].output.zero_point = 8;
                },
                "zero point 8 is outside the 4-bit range"},
        BadCase{"AggregationScaleNegative", true, [](ModelDesc& m) { m.layers[2].aggregation.scale = -1.0f; },
                "aggregation scale"},
        BadCase{"GinHiddenCount", true, [](ModelDesc& m) { m.layers[3].hidden.clear(); },
                "0 hidden quantizations, expected 1"},
        BadCase{"GinSelfWeight", true, [](ModelDesc& m) { m.layers[3].self_weight_q16 = 1 << 23; },
                "self_weight_q16"}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace converter
}  // namespace qgnn
