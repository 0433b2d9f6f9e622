// The key end-to-end property: a float model and its post-training quantized counterpart, both run by the
// runtime (C API), agree on random graphs within a stated tolerance.
//
// Error metric: |float - dequantized| of every output element divided by the range (max - min) of the float
// outputs on the same evaluation graphs; its max, 99th percentile and mean are bounded, and the argmax
// (predicted class) of every output row must mostly agree. Models are random (PyTorch-default init), the
// graphs random with N(0, 1) features; calibration uses 4 batches, evaluation 3 (the calibration graphs,
// or fresh "held-out" ones).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "qgnn/converter/layer_kind.h"
#include "qgnn/converter/quantizer.h"
#include "runtime_runner.h"
#include "test_models.h"

namespace qgnn {
namespace converter {
namespace {

// Tolerances, as fractions of the float output range, from the worst case measured over 8 scenarios x 5
// seeds (each line: measured worst / bound). Evaluating on the calibration graphs isolates rounding error;
// held-out graphs add clipping of values beyond the calibrated min-max ranges, which only a few elements
// hit (their max error is large, their 99th percentile is not).
//  W8A8 on calibration graphs: max 0.0195 / 0.03, mean 0.0039 / 0.006, argmax agreement 0.965 / 0.95.
constexpr double kInt8MaxErrorFraction = 0.03;
constexpr double kInt8MeanErrorFraction = 0.006;
constexpr double kInt8MinArgmaxAgreement = 0.95;
//  W8A8 held out: max 0.143 / 0.20 (clipped logits), p99 0.0121 / 0.02, mean 0.0033 / 0.006, argmax 0.964 /
//  0.95.
constexpr double kInt8HeldOutMaxErrorFraction = 0.20;
constexpr double kInt8HeldOutP99ErrorFraction = 0.02;
//  W4A4 (input 8 bits, logits 8 bits) on calibration graphs: max 0.306 / 0.40, mean 0.054 / 0.08,
//  argmax 0.677 / 0.60; held out: max 0.227 / 0.40, p99 0.185 / 0.25, mean 0.056 / 0.08, argmax 0.688 / 0.60.
constexpr double kInt4MaxErrorFraction = 0.40;
constexpr double kInt4P99ErrorFraction = 0.25;
constexpr double kInt4MeanErrorFraction = 0.08;
constexpr double kInt4MinArgmaxAgreement = 0.60;
//  W4A8 held out: p99 0.104 / 0.15, mean 0.032 / 0.05, argmax 0.776 / 0.70.
constexpr double kW4A8P99ErrorFraction = 0.15;
constexpr double kW4A8MeanErrorFraction = 0.05;
constexpr double kW4A8MinArgmaxAgreement = 0.70;
// Float model through the runtime vs the converter's own float forward pass (same kernels, same order).
constexpr double kFloatPathTolerance = 1e-5;

constexpr int32_t kFeatures = 16;

struct Scenario {
  const char* name;
  Task task;
  std::function<ModelDesc(std::mt19937&)> build;
};

ModelDesc node_model(std::vector<LayerDesc> layers) {
  ModelDesc m;
  m.name = "random-node-model";
  m.task = Task::kNodeClassification;
  m.input_dim = kFeatures;
  m.layers = std::move(layers);
  return m;
}

// Names the parameter in test output instead of dumping its bytes.
void PrintTo(const Scenario& s, std::ostream* os) { *os << s.name; }

std::vector<Scenario> scenarios() {
  using namespace testing;  // NOLINT: the layer builders
  return {
      {"gcn", Task::kNodeClassification,
       [](std::mt19937& r) {
         return node_model({gcn_layer(kFeatures, 32, true, r), gcn_layer(32, 8, false, r)});
       }},
      // The orders qgnn-convert's auto picks: transform-first where the Dense narrows (32 -> 8, 32 -> 4).
      {"gcn_transform_first", Task::kNodeClassification,
       [](std::mt19937& r) {
         ModelDesc m = node_model(
             {gcn_layer(kFeatures, 32, true, r), gcn_layer(32, 8, true, r), gcn_layer(8, 4, false, r)});
         for (LayerDesc& l : m.layers) l.order = cheaper_order(l);
         return m;
       }},
      {"sage_mean_root", Task::kNodeClassification,
       [](std::mt19937& r) {
         return node_model({sage_layer(kFeatures, 32, Reduce::kMean, true, true, r),
                            sage_layer(32, 8, Reduce::kMean, true, false, r)});
       }},
      // Transform-first SAGE (MEAN) forced on every layer: widening and narrowing, with and without root.
      {"sage_transform_first", Task::kNodeClassification,
       [](std::mt19937& r) {
         ModelDesc m = node_model({sage_layer(kFeatures, 32, Reduce::kMean, true, true, r),
                                   sage_layer(32, 8, Reduce::kMean, false, true, r),
                                   sage_layer(8, 4, Reduce::kMean, true, false, r)});
         for (LayerDesc& l : m.layers) l.order = LayerOrder::kTransformFirst;
         return m;
       }},
      {"sage_max_root", Task::kNodeClassification,
       [](std::mt19937& r) {
         return node_model({sage_layer(kFeatures, 32, Reduce::kMax, true, true, r),
                            sage_layer(32, 8, Reduce::kMax, true, false, r)});
       }},
      {"sage_mean_no_root", Task::kNodeClassification,
       [](std::mt19937& r) {
         return node_model({sage_layer(kFeatures, 32, Reduce::kMean, false, true, r),
                            sage_layer(32, 8, Reduce::kMax, false, false, r)});
       }},
      {"gin", Task::kNodeClassification,
       [](std::mt19937& r) {
         return node_model(
             {gin_layer(kFeatures, 32, 32, 0.0f, true, r), gin_layer(32, 32, 8, 0.1f, false, r)});
       }},
      {"graph_classification_mean_pool", Task::kGraphClassification,
       [](std::mt19937& r) {
         ModelDesc m =
             node_model({gcn_layer(kFeatures, 32, true, r), sage_layer(32, 32, Reduce::kMean, true, true, r),
                         gin_layer(32, 32, 32, 0.0f, true, r), pool_layer(Reduce::kMean),
                         linear_layer(32, 32, true, r), linear_layer(32, 4, false, r)});
         m.task = Task::kGraphClassification;
         return m;
       }},
      {"graph_classification_sum_pool", Task::kGraphClassification,
       [](std::mt19937& r) {
         ModelDesc m =
             node_model({gin_layer(kFeatures, 32, 32, 0.0f, true, r), gin_layer(32, 32, 32, 0.0f, true, r),
                         pool_layer(Reduce::kSum), linear_layer(32, 4, false, r)});
         m.task = Task::kGraphClassification;
         return m;
       }},
      {"graph_classification_max_pool", Task::kGraphClassification,
       [](std::mt19937& r) {
         ModelDesc m = node_model({sage_layer(kFeatures, 32, Reduce::kMax, true, true, r),
                                   pool_layer(Reduce::kMax), linear_layer(32, 4, false, r)});
         m.task = Task::kGraphClassification;
         return m;
       }},
  };
}

// GATConv, measured by its own tests below (W8A8).
Scenario gat_scenario() {
  return {
      "gat", Task::kNodeClassification, [](std::mt19937& r) {
        using namespace testing;  // NOLINT: the layer builders
        return node_model({gat_layer(kFeatures, 4, 8, true, true, r), gat_layer(32, 2, 8, false, false, r)});
      }};
}

GraphBatch random_batch(Task task, std::mt19937& rng) {
  const testing::RandomGraphs g = task == Task::kNodeClassification
                                      ? testing::random_graphs(1, 400, 400, 6, kFeatures, rng)
                                      : testing::random_graphs(64, 4, 30, 4, kFeatures, rng);
  GraphBatch b;
  b.num_nodes = static_cast<uint32_t>(g.num_nodes);
  b.num_edges = static_cast<uint32_t>(g.col_idx.size());
  b.num_graphs = static_cast<uint32_t>(g.graph_ptr.size() - 1);
  b.feature_dim = kFeatures;
  b.row_ptr = g.row_ptr;
  b.col_idx = g.col_idx;
  b.graph_ptr = g.graph_ptr;
  b.features = g.features;
  return b;
}

struct Agreement {
  double max_error_fraction = 0.0;
  double p99_error_fraction = 0.0;  ///< 99th percentile of the per-element error
  double mean_error_fraction = 0.0;
  double argmax_agreement = 0.0;
};

const char* config_name(const QuantizerConfig& c) {
  if (c.default_bits.weights == 8) return "w8a8";
  return c.default_bits.output == 8 ? "w4a8" : "w4a4";
}

enum class Evaluation {
  kCalibrationGraphs,  ///< evaluate on the calibration graphs: pure rounding error, no clipping
  kHeldOutGraphs,      ///< evaluate on fresh graphs: values beyond the calibrated ranges are clipped
};

// Calibrates on 4 batches and evaluates on 3 (the first 3 calibration batches, or 3 fresh ones).
Agreement measure(const Scenario& s, const QuantizerConfig& config, uint32_t seed, Evaluation evaluation) {
  std::mt19937 rng(seed);
  const ModelDesc float_model = s.build(rng);
  std::vector<GraphBatch> calibration;
  for (int k = 0; k < 4; ++k) calibration.push_back(random_batch(s.task, rng));
  QuantizationReport report;
  const auto quantized = quantize_model(float_model, calibration, config, &report);
  if (!quantized.ok()) {
    ADD_FAILURE() << quantized.error;
    return {};
  }
  const auto float_bytes = serialize_model(float_model);
  const auto quantized_bytes = serialize_model(quantized.value);
  if (!float_bytes.ok() || !quantized_bytes.ok()) {
    ADD_FAILURE() << float_bytes.error << quantized_bytes.error;
    return {};
  }

  std::vector<float> reference, approximation;
  size_t agree = 0, rows = 0;
  for (int k = 0; k < 3; ++k) {
    const GraphBatch batch = evaluation == Evaluation::kCalibrationGraphs
                                 ? calibration[static_cast<size_t>(k)]
                                 : random_batch(s.task, rng);
    testing::RuntimeOutput f, q;
    const std::string float_error = testing::run_on_runtime(float_bytes.value, batch, &f);
    const std::string quantized_error = testing::run_on_runtime(quantized_bytes.value, batch, &q);
    EXPECT_EQ(float_error, "");
    EXPECT_EQ(quantized_error, "");
    if (!float_error.empty() || !quantized_error.empty()) return {};
    EXPECT_EQ(f.rows, q.rows);
    EXPECT_EQ(f.cols, q.cols);
    // The runtime's float path is the converter's float forward pass.
    const auto expected = run_float_model(float_model, batch);
    EXPECT_TRUE(expected.ok()) << expected.error;
    float scale = 1e-6f;
    for (float v : expected.value) scale = std::max(scale, std::fabs(v));
    for (size_t i = 0; i < f.values.size(); ++i) {
      EXPECT_NEAR(f.values[i], expected.value[i], kFloatPathTolerance * scale) << s.name << " element " << i;
    }
    reference.insert(reference.end(), f.values.begin(), f.values.end());
    approximation.insert(approximation.end(), q.values.begin(), q.values.end());
    for (size_t r = 0; r < f.rows; ++r) agree += f.argmax[r] == q.argmax[r] ? 1 : 0;
    rows += f.rows;
  }
  const auto [lo, hi] = std::minmax_element(reference.begin(), reference.end());
  const double range = std::max(1e-12, static_cast<double>(*hi - *lo));
  Agreement a;
  std::vector<double> errors(reference.size());
  double sum = 0.0;
  for (size_t i = 0; i < reference.size(); ++i) {
    errors[i] = std::fabs(static_cast<double>(reference[i]) - approximation[i]) / range;
    sum += errors[i];
  }
  std::sort(errors.begin(), errors.end());
  a.max_error_fraction = errors.back();
  a.p99_error_fraction = errors[errors.size() * 99 / 100];
  a.mean_error_fraction = sum / static_cast<double>(reference.size());
  a.argmax_agreement = static_cast<double>(agree) / static_cast<double>(rows);
  std::printf("[ measured ] %-31s %s %-9s seed %u: error max %.4f p99 %.4f mean %.4f, argmax %.3f%s\n",
              s.name, config_name(config),
              evaluation == Evaluation::kCalibrationGraphs ? "calib" : "held-out", seed, a.max_error_fraction,
              a.p99_error_fraction, a.mean_error_fraction, a.argmax_agreement,
              report.notes.empty() ? "" : " (scales adjusted)");
  return a;
}

class FloatVsQuantized : public ::testing::TestWithParam<Scenario> {};

QuantizerConfig int4_config() {
  QuantizerConfig config;
  config.default_bits = ComponentBits{4, 4, 4};
  config.input_bits = 8;  // raw features keep 8 bits (qgnn-convert --bits 4 --input-bits 8)
  return config;
}

QuantizerConfig int4_weights_config() {
  QuantizerConfig config;
  config.default_bits = ComponentBits{4, 8, 8};
  return config;
}

const uint32_t kSeeds[] = {101u, 202u, 303u, 404u, 505u};

TEST_P(FloatVsQuantized, Int8OnCalibrationGraphs) {
  for (uint32_t seed : kSeeds) {
    const Agreement a = measure(GetParam(), QuantizerConfig{}, seed, Evaluation::kCalibrationGraphs);
    EXPECT_LE(a.max_error_fraction, kInt8MaxErrorFraction) << "seed " << seed;
    EXPECT_LE(a.mean_error_fraction, kInt8MeanErrorFraction) << "seed " << seed;
    EXPECT_GE(a.argmax_agreement, kInt8MinArgmaxAgreement) << "seed " << seed;
  }
}

TEST_P(FloatVsQuantized, Int8OnHeldOutGraphs) {
  for (uint32_t seed : kSeeds) {
    const Agreement a = measure(GetParam(), QuantizerConfig{}, seed, Evaluation::kHeldOutGraphs);
    EXPECT_LE(a.max_error_fraction, kInt8HeldOutMaxErrorFraction) << "seed " << seed;
    EXPECT_LE(a.p99_error_fraction, kInt8HeldOutP99ErrorFraction) << "seed " << seed;
    EXPECT_LE(a.mean_error_fraction, kInt8MeanErrorFraction) << "seed " << seed;
    EXPECT_GE(a.argmax_agreement, kInt8MinArgmaxAgreement) << "seed " << seed;
  }
}

TEST_P(FloatVsQuantized, Int4OnCalibrationGraphs) {
  for (uint32_t seed : kSeeds) {
    const Agreement a = measure(GetParam(), int4_config(), seed, Evaluation::kCalibrationGraphs);
    EXPECT_LE(a.max_error_fraction, kInt4MaxErrorFraction) << "seed " << seed;
    EXPECT_LE(a.mean_error_fraction, kInt4MeanErrorFraction) << "seed " << seed;
    EXPECT_GE(a.argmax_agreement, kInt4MinArgmaxAgreement) << "seed " << seed;
  }
}

TEST_P(FloatVsQuantized, Int4OnHeldOutGraphs) {
  for (uint32_t seed : kSeeds) {
    const Agreement a = measure(GetParam(), int4_config(), seed, Evaluation::kHeldOutGraphs);
    EXPECT_LE(a.max_error_fraction, kInt4MaxErrorFraction) << "seed " << seed;
    EXPECT_LE(a.p99_error_fraction, kInt4P99ErrorFraction) << "seed " << seed;
    EXPECT_LE(a.mean_error_fraction, kInt4MeanErrorFraction) << "seed " << seed;
    EXPECT_GE(a.argmax_agreement, kInt4MinArgmaxAgreement) << "seed " << seed;
  }
}

TEST_P(FloatVsQuantized, Int4WeightsInt8ActivationsOnHeldOutGraphs) {
  for (uint32_t seed : kSeeds) {
    const Agreement a = measure(GetParam(), int4_weights_config(), seed, Evaluation::kHeldOutGraphs);
    EXPECT_LE(a.p99_error_fraction, kW4A8P99ErrorFraction) << "seed " << seed;
    EXPECT_LE(a.mean_error_fraction, kW4A8MeanErrorFraction) << "seed " << seed;
    EXPECT_GE(a.argmax_agreement, kW4A8MinArgmaxAgreement) << "seed " << seed;
  }
}

// GATConv in the paper's shape (4 concatenated heads of 8, then the mean of 2 heads onto 8 classes), W8A8,
// under the bounds every other kind meets. Before the mean of heads got its bias at s_m / (256 H) (it was at
// the concat scale s_m / 256, so the output carried b / H instead of b), this model measured max 0.038-0.050,
// mean 0.017-0.025, argmax 0.64-0.91 on the calibration graphs: these bounds fail on that bug. Measured since
// (5 seeds): calibration graphs max 0.0077-0.0105, mean 0.0013-0.0015, argmax 0.970-0.982; held out max
// 0.021-0.175 (clipped values), p99 0.0047-0.0068, mean 0.0013-0.0017, argmax 0.973-0.989.
TEST(FloatVsQuantizedGat, Int8OnCalibrationGraphs) {
  for (uint32_t seed : kSeeds) {
    const Agreement a = measure(gat_scenario(), QuantizerConfig{}, seed, Evaluation::kCalibrationGraphs);
    EXPECT_LE(a.max_error_fraction, kInt8MaxErrorFraction) << "seed " << seed;
    EXPECT_LE(a.mean_error_fraction, kInt8MeanErrorFraction) << "seed " << seed;
    EXPECT_GE(a.argmax_agreement, kInt8MinArgmaxAgreement) << "seed " << seed;
  }
}

TEST(FloatVsQuantizedGat, Int8OnHeldOutGraphs) {
  for (uint32_t seed : kSeeds) {
    const Agreement a = measure(gat_scenario(), QuantizerConfig{}, seed, Evaluation::kHeldOutGraphs);
    EXPECT_LE(a.max_error_fraction, kInt8HeldOutMaxErrorFraction) << "seed " << seed;
    EXPECT_LE(a.p99_error_fraction, kInt8HeldOutP99ErrorFraction) << "seed " << seed;
    EXPECT_LE(a.mean_error_fraction, kInt8MeanErrorFraction) << "seed " << seed;
    EXPECT_GE(a.argmax_agreement, kInt8MinArgmaxAgreement) << "seed " << seed;
  }
}

INSTANTIATE_TEST_SUITE_P(RandomModels, FloatVsQuantized, ::testing::ValuesIn(scenarios()),
                         [](const ::testing::TestParamInfo<Scenario>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace converter
}  // namespace qgnn
