// Calibration statistics and range methods (calibration.h) against hand-computed values.
#include "qgnn/converter/calibration.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "qgnn/converter/quantizer.h"
#include "test_models.h"

namespace qgnn {
namespace converter {
namespace {

using testing::to_batch;

ActivationStats stats_of(const std::vector<float>& values, size_t chunk = 0,
                         size_t sample_cap = kDefaultSampleCap) {
  ActivationStats s;
  if (chunk == 0) chunk = values.size();
  for (size_t i = 0; i < values.size(); i += chunk)
    observe_values(&s, values.data() + i, std::min(chunk, values.size() - i), sample_cap);
  finalize_statistics(&s);
  return s;
}

RangeOptions percentile(double p) {
  RangeOptions o;
  o.method = RangeMethod::kPercentile;
  o.percentile = p;
  return o;
}

RangeOptions pauta(double k) {
  RangeOptions o;
  o.method = RangeMethod::kPauta;
  o.sigma = k;
  return o;
}

TEST(RangeMethods, PercentileIsNumpyLinearInterpolation) {
  // numpy.percentile([3, -1, 4, 1, -5, 9, 2, 6, 5, 3], [10, 90]) == [-1.4, 6.3]
  const std::vector<float> v = {3, -1, 4, 1, -5, 9, 2, 6, 5, 3};
  for (size_t chunk : {size_t{0}, size_t{3}}) {
    const ActivationStats s = stats_of(v, chunk);
    const ActivationRange r = select_range(s, percentile(90.0), 8);
    EXPECT_FLOAT_EQ(r.min, -1.4f);
    EXPECT_FLOAT_EQ(r.max, 6.3f);
    // Degree-Quant's defaults: np.percentile(v, [0.1, 99.9]) == [-4.964, 8.973], [1, 99] -> [-4.64, 8.73].
    EXPECT_FLOAT_EQ(select_range(s, percentile(0.0), 8).max, 8.973f);
    EXPECT_FLOAT_EQ(select_range(s, percentile(0.0), 8).min, -4.964f);
    EXPECT_FLOAT_EQ(select_range(s, percentile(0.0), 4).max, 8.73f);
    EXPECT_FLOAT_EQ(select_range(s, percentile(0.0), 4).min, -4.64f);
  }
  // An outlier, and a zero left out: np.percentile(list(range(1, 20)) + [1000], [2.5, 97.5]) ==
  // [1.475, 534.025], then widened to contain 0.
  std::vector<float> w;
  for (int i = 0; i < 20; ++i) w.push_back(static_cast<float>(i));
  w.push_back(1000.0f);
  std::shuffle(w.begin(), w.end(), std::mt19937(1));
  const ActivationRange r = select_range(stats_of(w), percentile(97.5), 8);
  EXPECT_EQ(r.min, 0.0f);
  EXPECT_FLOAT_EQ(r.max, 534.025f);
  // P = 100 is min-max.
  const ActivationRange all = select_range(stats_of(w), percentile(100.0), 8);
  EXPECT_EQ(all.min, 0.0f);
  EXPECT_EQ(all.max, 1000.0f);
}

TEST(RangeMethods, PercentileOfASparseTensorCoversItsNonZeroValues) {
  // A bag-of-words column set at 0.86 % density: 86 non-zero values in (0, 0.125] among 10000. Over all
  // values the 1st and 99th percentiles are both 0 (the range collapsed); over the non-zeros they are not.
  std::vector<float> v(10000, 0.0f);
  for (int i = 0; i < 86; ++i) v[static_cast<size_t>(i) * 113] = 0.125f * static_cast<float>(i + 1) / 86.0f;
  const ActivationStats s = stats_of(v, 1000);
  EXPECT_EQ(s.count, 10000u);
  EXPECT_EQ(s.nonzero_count, 86u);
  EXPECT_EQ(s.zero_count(), 9914u);
  ASSERT_EQ(s.sample.size(), 86u);  // only the non-zero values are sampled
  EXPECT_FALSE(s.subsampled());
  std::vector<float> nz = s.sample;
  const ActivationRange r = select_range(s, percentile(99.0), 4);
  // np.percentile(nz, 99): rank 0.99 * 85 = 84.15 between the 85th and 86th values.
  const double want = nz[84] + 0.15 * (static_cast<double>(nz[85]) - nz[84]);
  EXPECT_EQ(r.min, 0.0f);  // percentile(nz, 1) > 0: widened to 0
  EXPECT_FLOAT_EQ(r.max, static_cast<float>(want));
  EXPECT_GT(r.max, 0.12f);
  // Negative and positive values on both sides of a mass of zeros: both ends come from the non-zeros.
  std::vector<float> two(1000, 0.0f);
  for (int i = 0; i < 10; ++i) {
    two[static_cast<size_t>(i)] = -static_cast<float>(i + 1);
    two[static_cast<size_t>(500 + i)] = static_cast<float>(i + 1);
  }
  const ActivationRange t = select_range(stats_of(two), percentile(90.0), 8);
  // np.percentile([-10..-1, 1..10], [10, 90]) == [-8.1, 8.1]
  EXPECT_FLOAT_EQ(t.min, -8.1f);
  EXPECT_FLOAT_EQ(t.max, 8.1f);
}

TEST(RangeMethods, EveryRangeContainsZeroAndAllZerosAreDegenerate) {
  const ActivationStats positive = stats_of({2.0f, 3.0f, 5.0f});
  const ActivationRange mm = select_range(positive, RangeOptions{}, 8);
  EXPECT_EQ(mm.min, 0.0f);
  EXPECT_EQ(mm.max, 5.0f);
  const ActivationRange neg = select_range(stats_of({-2.0f, -3.0f}), percentile(99.0), 8);
  EXPECT_LT(neg.min, -2.9f);
  EXPECT_EQ(neg.max, 0.0f);
  // No non-zero value: [0, 0] for every method, never an invented [0, 1]; no sample.
  const ActivationStats zeros = stats_of(std::vector<float>(100, 0.0f));
  EXPECT_TRUE(zeros.sample.empty());
  EXPECT_EQ(zeros.zero_count(), 100u);
  for (const RangeOptions& o : {RangeOptions{}, percentile(99.0), pauta(3.0)}) {
    const ActivationRange r = select_range(zeros, o, 4);
    EXPECT_FALSE(r.empty());
    EXPECT_EQ(r.min, 0.0f);
    EXPECT_EQ(r.max, 0.0f);
  }
}

TEST(RangeMethods, PercentileOfAnUnsortedSampleSortsACopy) {
  ActivationStats s;
  const std::vector<float> v = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3};
  observe_values(&s, v.data(), v.size());  // not finalized
  EXPECT_FLOAT_EQ(select_range(s, percentile(90.0), 8).max, 6.3f);
  EXPECT_EQ(s.sample, v);
}

TEST(RangeMethods, PautaIsMeanPlusMinusKSigmaClippedByMinMax) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(2.0f, 0.5f);
  std::vector<float> v(5000);
  for (float& x : v) x = normal(rng);
  v[10] = 40.0f;  // an outlier far above mean + 3 sigma
  double sum = 0.0;
  for (float x : v) sum += x;
  const double mean = sum / static_cast<double>(v.size());
  double sq = 0.0;
  for (float x : v) sq += (x - mean) * (x - mean);
  const double sigma = std::sqrt(sq / static_cast<double>(v.size()));  // population
  const float lo = *std::min_element(v.begin(), v.end());

  const ActivationStats one = stats_of(v);
  const ActivationStats chunked = stats_of(v, 333);
  EXPECT_NEAR(one.mean, mean, 1e-12);
  EXPECT_NEAR(chunked.mean, mean, 1e-12);
  EXPECT_NEAR(one.std_dev(), sigma, 1e-12);
  EXPECT_NEAR(chunked.std_dev(), sigma, 1e-12);
  EXPECT_EQ(one.count, v.size());

  const ActivationRange r = select_range(chunked, pauta(3.0), 8);
  EXPECT_FLOAT_EQ(r.max, static_cast<float>(mean + 3.0 * sigma));
  EXPECT_LT(r.max, 40.0f);
  // The outlier inflates sigma, so mean - 3 sigma falls below the observed minimum: the bound is the minimum.
  EXPECT_LT(mean - 3.0 * sigma, lo);
  EXPECT_EQ(r.min, lo);
  // A huge k gives min-max.
  const ActivationRange wide = select_range(chunked, pauta(1000.0), 8);
  EXPECT_EQ(wide.min, lo);
  EXPECT_EQ(wide.max, 40.0f);
}

TEST(RangeMethods, PautaIgnoresZerosAndClipsTheUpperTail) {
  // 900 zeros (a ReLU's point mass), then 1..99 and one outlier 1000. Pauta's mean and sigma are those of the
  // 100 non-zero values; with the zeros, sigma would shrink and the range would clip most of 1..99.
  std::vector<float> v(900, 0.0f);
  double sum = 0.0, sum_sq = 0.0;
  for (int i = 1; i <= 100; ++i) {
    const float x = i == 100 ? 1000.0f : static_cast<float>(i);
    v.push_back(x);
    sum += x;
    sum_sq += static_cast<double>(x) * x;
  }
  const double mean = sum / 100.0;
  const double sigma = std::sqrt(sum_sq / 100.0 - mean * mean);
  const ActivationRange r = select_range(stats_of(v), pauta(3.0), 8);
  EXPECT_EQ(r.min, 0.0f);  // mean - 3 sigma < 0: the observed minimum
  EXPECT_NEAR(r.max, mean + 3.0 * sigma, 1e-3);
  EXPECT_GT(r.max, 99.0f);    // keeps every ordinary value
  EXPECT_LT(r.max, 1000.0f);  // clips the outlier
  // Only zeros: nothing to clip, the range is [0, 0].
  const ActivationRange zeros = select_range(stats_of(std::vector<float>(10, 0.0f)), pauta(3.0), 8);
  EXPECT_EQ(zeros.min, 0.0f);
  EXPECT_EQ(zeros.max, 0.0f);
}

TEST(RangeMethods, EmptyStatisticsGiveAnEmptyRange) {
  const ActivationStats s;
  for (const RangeOptions& o : {RangeOptions{}, percentile(99.0), pauta(3.0)})
    EXPECT_TRUE(select_range(s, o, 8).empty());
  EXPECT_EQ(s.std_dev(), 0.0);
}

TEST(RangeMethods, SubsampleIsDeterministicUniformAndIndependentOfChunking) {
  std::vector<float> v(20000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  const ActivationStats a = stats_of(v, 0, 1000);
  const ActivationStats b = stats_of(v, 0, 1000);
  const ActivationStats c = stats_of(v, 777, 1000);
  ASSERT_EQ(a.sample.size(), 1000u);
  EXPECT_TRUE(a.subsampled());
  EXPECT_EQ(a.count, v.size());
  EXPECT_EQ(a.sample, b.sample);
  EXPECT_EQ(a.sample, c.sample);
  // Moments cover every value, not the sample.
  EXPECT_EQ(a.min, 0.0f);
  EXPECT_EQ(a.max, 19999.0f);
  EXPECT_NEAR(a.mean, 9999.5, 1e-9);
  // Distinct values (a reservoir never duplicates a slot's source), spread over the whole input: the
  // sample's median is near the population's (sd of a 1000-sample median here is ~ 300).
  std::vector<float> sorted = a.sample;
  EXPECT_TRUE(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
  EXPECT_NEAR(select_range(a, percentile(50.0001), 8).max, 10000.0f, 1500.0f);
  EXPECT_GT(sorted.back(), 15000.0f);
  EXPECT_LT(sorted.front(), 5000.0f);
  // Below the cap the sample is every non-zero value (v[0] is 0).
  const ActivationStats exact = stats_of(v, 4096, v.size());
  EXPECT_FALSE(exact.subsampled());
  EXPECT_EQ(exact.sample, std::vector<float>(v.begin() + 1, v.end()));
  // No sample at all: percentile falls back to min-max.
  const ActivationStats none = stats_of(v, 0, 0);
  EXPECT_TRUE(none.sample.empty());
  EXPECT_EQ(select_range(none, percentile(90.0), 8).max, 19999.0f);
}

TEST(RangeMethods, FinalizeSortsLargeSamplesLikeStdSort) {
  std::mt19937 rng(9);
  std::normal_distribution<float> normal(0.0f, 1e3f);
  std::vector<float> v(200000);
  for (float& x : v) x = normal(rng);
  for (size_t i = 0; i < 1000; ++i) v[i * 7] = 0.0f;  // ties and the sign boundary
  v[5] = std::numeric_limits<float>::max();
  v[6] = -std::numeric_limits<float>::max();
  v[8] = std::numeric_limits<float>::denorm_min();
  v[9] = -std::numeric_limits<float>::denorm_min();
  ActivationStats s = stats_of(v);  // finalized
  // The sample holds the non-zero values (denormals included), sorted.
  v.erase(std::remove(v.begin(), v.end(), 0.0f), v.end());
  std::sort(v.begin(), v.end());
  ASSERT_GE(v.size(), size_t{1} << 16);  // large enough for the radix sort
  EXPECT_EQ(s.sample, v);
}

TEST(RangeOptionsTest, BadOptionsAreRejectedWithTheFieldNamed) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (double k : {-1.0, -0.0001, nan, inf}) {
    const Result<bool> r = validate_range_options(pauta(k));
    EXPECT_FALSE(r.ok()) << k;
    EXPECT_NE(r.error.find("sigma"), std::string::npos) << r.error;
  }
  // 0 is the default by bits: 5 for 8-bit activations, 3 for 4-bit ones; any other k applies to all.
  EXPECT_TRUE(validate_range_options(pauta(0.0)).ok());
  EXPECT_EQ(effective_sigma(pauta(0.0), 8), 5.0);
  EXPECT_EQ(effective_sigma(pauta(0.0), 4), 3.0);
  EXPECT_EQ(effective_sigma(pauta(2.5), 8), 2.5);
  for (double p : {50.0, 49.0, 100.5, -1.0, nan, inf, 1e-3}) {
    const Result<bool> r = validate_range_options(percentile(p));
    EXPECT_FALSE(r.ok()) << p;
    EXPECT_NE(r.error.find("percentile"), std::string::npos) << r.error;
  }
  for (double p : {0.0, 50.1, 99.9, 100.0}) EXPECT_TRUE(validate_range_options(percentile(p)).ok()) << p;
  EXPECT_TRUE(validate_range_options(pauta(0.5)).ok());
}

TEST(RangeOptionsTest, MethodNamesRoundTrip) {
  for (RangeMethod m : {RangeMethod::kMinMax, RangeMethod::kPercentile, RangeMethod::kPauta}) {
    RangeMethod parsed = RangeMethod::kMinMax;
    ASSERT_TRUE(parse_range_method(range_method_name(m), &parsed).ok());
    EXPECT_EQ(parsed, m);
  }
  RangeMethod untouched = RangeMethod::kPauta;
  const Result<bool> bad = parse_range_method("3sigma", &untouched);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.error.find("3sigma"), std::string::npos);
  EXPECT_NE(bad.error.find("pauta"), std::string::npos);
  EXPECT_EQ(untouched, RangeMethod::kPauta);
  EXPECT_EQ(effective_percentile(percentile(0.0), 8), 99.9);
  EXPECT_EQ(effective_percentile(percentile(0.0), 4), 99.0);
  EXPECT_EQ(effective_percentile(percentile(97.0), 4), 97.0);
}

class CalibrationStatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937 rng(41);
    model_ = testing::all_kinds_float_model(rng);
    for (int i = 0; i < 3; ++i) batches_.push_back(to_batch(testing::random_graphs(6, 3, 12, 3, 5, rng), 5));
  }
  ModelDesc model_;
  std::vector<GraphBatch> batches_;
};

TEST_F(CalibrationStatsTest, StatisticsCoverEveryValueAndMatchMinMaxCalibration) {
  const auto stats = collect_statistics(model_, batches_);
  ASSERT_TRUE(stats.ok()) << stats.error;
  size_t inputs = 0;
  for (const GraphBatch& b : batches_) inputs += b.features.size();
  size_t nonzero_inputs = 0;
  for (const GraphBatch& b : batches_)
    for (float x : b.features) nonzero_inputs += x != 0.0f ? 1 : 0;
  EXPECT_EQ(stats.value.input.count, inputs);
  EXPECT_EQ(stats.value.input.nonzero_count, nonzero_inputs);
  EXPECT_EQ(stats.value.input.sample.size(), nonzero_inputs);
  EXPECT_TRUE(std::is_sorted(stats.value.input.sample.begin(), stats.value.input.sample.end()));
  ASSERT_EQ(stats.value.layers.size(), model_.layers.size());
  EXPECT_EQ(stats.value.layers[3].hidden.size(), 1u);      // GIN with 2 Dense
  EXPECT_TRUE(stats.value.layers[4].aggregation.empty());  // GlobalPool
  // The statistics see exactly what a callback sees.
  std::vector<uint64_t> output_counts(model_.layers.size(), 0);
  for (const GraphBatch& b : batches_) {
    run_float_model(model_, b, [&](const ActivationEvent& e) {
      if (e.point == ActivationPoint::kOutput) output_counts[static_cast<size_t>(e.layer)] += e.rows * e.cols;
    });
  }
  for (size_t i = 0; i < model_.layers.size(); ++i)
    EXPECT_EQ(stats.value.layers[i].output.count, output_counts[i]);

  // A small cap subsamples every larger activation, the same way on every run; the moments stay exact.
  const auto capped = collect_statistics(model_, batches_, 50);
  const auto capped_again = collect_statistics(model_, batches_, 50);
  ASSERT_TRUE(capped.ok() && capped_again.ok());
  EXPECT_TRUE(capped.value.input.subsampled());
  EXPECT_EQ(capped.value.input.sample.size(), 50u);
  EXPECT_EQ(capped.value.input.sample, capped_again.value.input.sample);
  EXPECT_EQ(capped.value.layers[0].aggregation.sample, capped_again.value.layers[0].aggregation.sample);
  EXPECT_EQ(capped.value.input.mean, stats.value.input.mean);
  EXPECT_EQ(capped.value.input.max, stats.value.input.max);

  const auto ranges = calibrate(model_, batches_);
  ASSERT_TRUE(ranges.ok()) << ranges.error;
  EXPECT_EQ(ranges.value.input.min, stats.value.input.min);
  EXPECT_EQ(ranges.value.input.max, stats.value.input.max);
  for (size_t i = 0; i < model_.layers.size(); ++i) {
    EXPECT_EQ(ranges.value.layers[i].output.min, stats.value.layers[i].output.min) << i;
    EXPECT_EQ(ranges.value.layers[i].output.max, stats.value.layers[i].output.max) << i;
  }
}

TEST_F(CalibrationStatsTest, SelectRangesGivesEachActivationItsBits) {
  const auto stats = collect_statistics(model_, batches_);
  ASSERT_TRUE(stats.ok()) << stats.error;
  QuantizerConfig config;
  config.input_bits = 4;
  config.default_bits = ComponentBits{8, 4, 4};
  config.layer_bits[1] = ComponentBits{8, 8, 8};
  config.int8_logits = true;
  const RangeOptions o = percentile(0.0);
  const auto ranges = select_ranges(stats.value, o, config, model_.layers.size());
  ASSERT_TRUE(ranges.ok()) << ranges.error;
  const CalibrationStats& s = stats.value;
  const auto expect_range = [&](const ActivationRange& got, const ActivationStats& st, int bits,
                                const char* what) {
    const ActivationRange want = select_range(st, o, bits);
    EXPECT_EQ(got.min, want.min) << what;
    EXPECT_EQ(got.max, want.max) << what;
  };
  // 4-bit activations get the 99th percentile, 8-bit ones the 99.9th.
  expect_range(ranges.value.input, s.input, 4, "input");
  EXPECT_NE(select_range(s.input, o, 4).max, select_range(s.input, o, 8).max);
  expect_range(ranges.value.layers[0].aggregation, s.layers[0].aggregation, 4, "layer 0 aggregation");
  expect_range(ranges.value.layers[0].output, s.layers[0].output, 4, "layer 0 output");
  expect_range(ranges.value.layers[1].aggregation, s.layers[1].aggregation, 8, "layer 1 aggregation");
  expect_range(ranges.value.layers[1].output, s.layers[1].output, 8, "layer 1 output");
  expect_range(ranges.value.layers[3].hidden[0], s.layers[3].hidden[0], 4, "GIN hidden");
  const size_t last = model_.layers.size() - 1;
  expect_range(ranges.value.layers[last].output, s.layers[last].output, 8, "logits");
  config.int8_logits = false;
  const auto no_int8_logits = select_ranges(stats.value, o, config, model_.layers.size());
  ASSERT_TRUE(no_int8_logits.ok());
  expect_range(no_int8_logits.value.layers[last].output, s.layers[last].output, 4, "4-bit logits");

  // The 4-bit input range is numpy's 1st / 99th percentile of every non-zero input value.
  std::vector<float> all;
  for (const GraphBatch& b : batches_)
    for (float x : b.features)
      if (x != 0.0f) all.push_back(x);
  std::sort(all.begin(), all.end());
  const double rank = 0.99 * static_cast<double>(all.size() - 1);
  const size_t k = static_cast<size_t>(rank);
  const double p99 = all[k] + (static_cast<double>(all[k + 1]) - all[k]) * (rank - static_cast<double>(k));
  EXPECT_FLOAT_EQ(ranges.value.input.max, static_cast<float>(p99));
}

TEST_F(CalibrationStatsTest, SelectRangesRejectsBadInput) {
  const auto stats = collect_statistics(model_, batches_);
  ASSERT_TRUE(stats.ok());
  const QuantizerConfig config;
  EXPECT_FALSE(select_ranges(stats.value, pauta(-1.0), config, model_.layers.size()).ok());
  const auto wrong_layers = select_ranges(stats.value, RangeOptions{}, config, model_.layers.size() + 1);
  EXPECT_FALSE(wrong_layers.ok());
  EXPECT_NE(wrong_layers.error.find("layers"), std::string::npos);
  QuantizerConfig bad_bits;
  bad_bits.layer_bits[2] = ComponentBits{8, 6, 8};
  const auto bits = select_ranges(stats.value, RangeOptions{}, bad_bits, model_.layers.size());
  EXPECT_FALSE(bits.ok());
  EXPECT_NE(bits.error.find("layer 2"), std::string::npos);
  // Percentiles need a sample: statistics collected without one are refused, not silently min-max.
  const auto no_sample = collect_statistics(model_, batches_, 0);
  ASSERT_TRUE(no_sample.ok());
  EXPECT_TRUE(select_ranges(no_sample.value, pauta(3.0), config, model_.layers.size()).ok());
  const auto refused = select_ranges(no_sample.value, percentile(99.0), config, model_.layers.size());
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.error.find("sample"), std::string::npos);
}

TEST_F(CalibrationStatsTest, CalibrateWithAConfigUsesItsRangeMethod) {
  QuantizerConfig config;
  config.ranges = pauta(2.0);
  const auto ranges = calibrate(model_, batches_, config);
  ASSERT_TRUE(ranges.ok()) << ranges.error;
  const auto stats = collect_statistics(model_, batches_);
  ASSERT_TRUE(stats.ok());
  const auto expected = select_ranges(stats.value, config.ranges, config, model_.layers.size());
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(ranges.value.input.min, expected.value.input.min);
  EXPECT_EQ(ranges.value.input.max, expected.value.input.max);
  EXPECT_GT(ranges.value.input.min, stats.value.input.min);  // N(0, 1) features: k = 2 clips both tails
  EXPECT_LT(ranges.value.input.max, stats.value.input.max);
  for (RangeOptions o : {percentile(0.0), pauta(3.0), RangeOptions{}}) {
    config.ranges = o;
    const auto q = quantize_model(model_, batches_, config);
    EXPECT_TRUE(q.ok()) << range_method_name(o.method) << ": " << q.error;
  }
  config.ranges = percentile(20.0);
  const auto bad = quantize_model(model_, batches_, config);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.error.find("percentile"), std::string::npos);
}

TEST_F(CalibrationStatsTest, NonFiniteActivationsAreNamed) {
  std::vector<GraphBatch> nan_input = batches_;
  nan_input[1].features[3] = std::numeric_limits<float>::quiet_NaN();
  const auto a = collect_statistics(model_, nan_input);
  EXPECT_FALSE(a.ok());
  EXPECT_NE(a.error.find("batch 1"), std::string::npos) << a.error;
  EXPECT_NE(a.error.find("input"), std::string::npos) << a.error;

  ModelDesc overflowing = model_;
  // Any aggregated |x| > 1 times FLT_MAX overflows x W^T to +-inf (or NaN).
  for (float& w : overflowing.layers[0].dense.weight) w = std::numeric_limits<float>::max();
  const auto b = collect_statistics(overflowing, batches_);
  EXPECT_FALSE(b.ok());
  EXPECT_NE(b.error.find("layer 0"), std::string::npos) << b.error;
  EXPECT_FALSE(calibrate(overflowing, batches_).ok());
  EXPECT_FALSE(collect_statistics(model_, {}).ok());
}

}  // namespace
}  // namespace converter
}  // namespace qgnn
