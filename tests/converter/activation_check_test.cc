// The activation check: SQNR of every quantized activation measured on the calibration statistics, and a
// warning for degenerate ranges and SQNRs below the threshold (activation_check.h).
#include "qgnn/converter/activation_check.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "qgnn/converter/quantizer.h"
#include "qgnn/kernels/numerics.h"
#include "test_models.h"

namespace qgnn {
namespace converter {
namespace {

const double kDefault = std::numeric_limits<double>::quiet_NaN();

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class ActivationCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937 rng(17);
    model_ = testing::all_kinds_float_model(rng);
    for (int i = 0; i < 3; ++i)
      batches_.push_back(testing::to_batch(testing::random_graphs(6, 3, 12, 3, 5, rng), 5));
  }

  // Calibrates with `options`, quantizes with `bits` everywhere and returns the checked activations.
  std::vector<ActivationReport> check(const RangeOptions& options, int bits, double min_sqnr_db,
                                      std::vector<std::string>* warnings) {
    const auto stats = collect_statistics(model_, batches_);
    EXPECT_TRUE(stats.ok()) << stats.error;
    QuantizerConfig config;
    config.input_bits = bits;
    config.default_bits = ComponentBits{bits, bits, bits};
    const auto ranges = select_ranges(stats.value, options, config, model_.layers.size());
    EXPECT_TRUE(ranges.ok()) << ranges.error;
    CalibrationRanges r = ranges.value;
    if (override_input_) r.input = input_range_;
    const auto q = quantize_model(model_, r, config);
    EXPECT_TRUE(q.ok()) << q.error;
    quantized_ = q.value;
    auto measured = measure_activations(quantized_, stats.value);
    EXPECT_TRUE(measured.ok()) << measured.error;
    *warnings = check_activations(&measured.value, min_sqnr_db);
    return measured.value;
  }

  // Every input feature but one value in 120 set to 0, the others in [0.005, 0.04): a row-normalised
  // bag-of-words input below 1 % density (documents of 25 to 200 words).
  void make_sparse() {
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> value(0.005f, 0.04f);
    size_t k = 0;
    for (GraphBatch& b : batches_)
      for (float& x : b.features) x = (k++ % 120 == 0) ? value(rng) : 0.0f;
  }

  ModelDesc model_;
  ModelDesc quantized_;
  std::vector<GraphBatch> batches_;
  bool override_input_ = false;
  ActivationRange input_range_;
};

TEST(ActivationCheckThreshold, IsSixDbAtEightBitsAndThreeAtFour) {
  EXPECT_DOUBLE_EQ(default_min_sqnr_db(8), 6.0);
  EXPECT_DOUBLE_EQ(default_min_sqnr_db(4), 3.0);
}

TEST_F(ActivationCheckTest, HealthyConversionMeasuresEveryActivationAndDoesNotWarn) {
  for (int bits : {8, 4}) {
    std::vector<std::string> warnings;
    const std::vector<ActivationReport> acts = check(RangeOptions{}, bits, kDefault, &warnings);
    EXPECT_TRUE(warnings.empty()) << bits << ": " << (warnings.empty() ? "" : warnings[0]);
    // input, then per layer: GCN agg + out, 2 x SAGE agg + out, GIN agg + hidden + out, pool out, linear out.
    ASSERT_EQ(acts.size(), 1u + 2 + 2 + 2 + 3 + 1 + 1);
    EXPECT_EQ(acts[0].name, "input");
    EXPECT_EQ(acts[0].layer, -1);
    for (const ActivationReport& a : acts) {
      EXPECT_FALSE(a.degenerate) << a.name;
      EXPECT_TRUE(a.warning.empty()) << a.name;
      EXPECT_DOUBLE_EQ(a.min_sqnr_db, default_min_sqnr_db(a.bits)) << a.name;
      EXPECT_GE(a.sqnr_db, a.min_sqnr_db) << a.name;
      EXPECT_GT(a.values, 0u) << a.name;
    }
  }
}

TEST_F(ActivationCheckTest, SqnrIsTheOneOverEveryCalibrationValue) {
  make_sparse();
  std::vector<std::string> warnings;
  RangeOptions o;
  o.method = RangeMethod::kPercentile;
  const std::vector<ActivationReport> acts = check(o, 4, kDefault, &warnings);
  const QuantParams& q = quantized_.input_quant;
  double signal = 0.0, noise = 0.0;
  size_t zeros = 0, values = 0;
  for (const GraphBatch& b : batches_) {
    for (float x : b.features) {
      const double e = x - kernels::dequantize(kernels::quantize_float(x, q.scale, q.zero_point, 4), q.scale,
                                               q.zero_point);
      signal += static_cast<double>(x) * x;
      noise += e * e;
      zeros += x == 0.0f ? 1 : 0;
      ++values;
    }
  }
  EXPECT_NEAR(acts[0].sqnr_db, 10.0 * std::log10(signal / noise), 1e-9);
  EXPECT_EQ(acts[0].values, values);
  EXPECT_DOUBLE_EQ(acts[0].zero_fraction, static_cast<double>(zeros) / static_cast<double>(values));
  EXPECT_GT(acts[0].zero_fraction, 0.99);
  // Percentile over the non-zero values: the input range covers them (not [0, 1], not [0, 0]).
  EXPECT_GT(acts[0].range_max, 0.03f);
  EXPECT_LT(acts[0].range_max, 0.045f);
  EXPECT_GE(acts[0].sqnr_db, default_min_sqnr_db(4));
}

TEST_F(ActivationCheckTest, ACollapsedSparseInputWarnsWithTheSparseHint) {
  // The range the converter used to give a sparse input whose percentiles were both 0: [0, 1], whose 4-bit
  // step (1 / 15) rounds almost every value to 0.
  make_sparse();
  override_input_ = true;
  input_range_.min = 0.0f;
  input_range_.max = 1.0f;
  std::vector<std::string> warnings;
  std::vector<ActivationReport> acts = check(RangeOptions{}, 4, kDefault, &warnings);
  EXPECT_LT(acts[0].sqnr_db, default_min_sqnr_db(4));
  ASSERT_FALSE(warnings.empty());
  EXPECT_TRUE(contains(warnings[0], "input: SQNR")) << warnings[0];
  EXPECT_TRUE(contains(warnings[0], "4 bits")) << warnings[0];
  EXPECT_TRUE(contains(warnings[0], "sparse input")) << warnings[0];
  EXPECT_EQ(acts[0].warning, warnings[0].substr(std::string("input: ").size()));
  // --min-sqnr overrides the threshold of every bit width: the input passes (degenerate activations further
  // on, a ReLU that this tiny input never excites, still warn).
  acts = check(RangeOptions{}, 4, -100.0, &warnings);
  EXPECT_TRUE(acts[0].warning.empty()) << acts[0].warning;
  EXPECT_DOUBLE_EQ(acts[0].min_sqnr_db, -100.0);
  for (const std::string& w : warnings) EXPECT_TRUE(contains(w, "degenerate range")) << w;
}

TEST_F(ActivationCheckTest, AnAllZeroInputIsDegenerateAndWarnsWhateverTheThreshold) {
  for (GraphBatch& b : batches_)
    for (float& x : b.features) x = 0.0f;
  std::vector<std::string> warnings;
  const std::vector<ActivationReport> acts = check(RangeOptions{}, 8, -1000.0, &warnings);
  EXPECT_TRUE(acts[0].degenerate);
  EXPECT_TRUE(std::isinf(acts[0].sqnr_db));  // zeros are exact: no noise at all
  ASSERT_FALSE(warnings.empty());
  EXPECT_TRUE(contains(warnings[0], "input: degenerate range")) << warnings[0];
  EXPECT_TRUE(contains(warnings[0], "every calibration input value is 0")) << warnings[0];
  // The collapsed-range rule, not an invented [0, 1]: the smallest activation scale, 0 at qmin.
  EXPECT_EQ(quantized_.input_quant.scale, 1.0f / 16777216.0f);
  EXPECT_EQ(quantized_.input_quant.zero_point, -128);
}

}  // namespace
}  // namespace converter
}  // namespace qgnn
