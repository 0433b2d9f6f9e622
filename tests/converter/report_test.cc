// Conversion report (report.h): names, bits, bytes, SQNR and clipping on small models, and its JSON.
#include "qgnn/converter/report.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "qgnn/converter/quantizer.h"
#include "qgnn/kernels/numerics.h"
#include "test_models.h"

namespace qgnn {
namespace converter {
namespace {

using testing::to_batch;

// NaN: the activation check's default threshold by bits.
const double kDefaultThreshold = std::numeric_limits<double>::quiet_NaN();

// conv1: GCN 5 -> 7 (int4 weights), an unnamed SAGE(mean, root) 7 -> 6, gin: GIN 6 -> 4 -> 5, pool, fc:
// Linear 5 -> 3 with exactly representable weights (multiples of 1/4, each row reaching 127 / 4).
ModelDesc report_model(std::mt19937& rng) {
  ModelDesc m;
  m.task = Task::kGraphClassification;
  m.input_dim = 5;
  m.layers.push_back(testing::gcn_layer(5, 7, true, rng));
  m.layers.back().name = "conv1";
  m.layers.push_back(testing::sage_layer(7, 6, Reduce::kMean, true, true, rng));
  m.layers.back().name = "";
  m.layers.push_back(testing::gin_layer(6, 4, 5, 0.1f, true, rng));
  m.layers.back().name = "gin";
  m.layers.push_back(testing::pool_layer(Reduce::kMean));
  m.layers.back().name = "pool";
  m.layers.push_back(testing::linear_layer(5, 3, false, rng));
  m.layers.back().name = "fc";
  DenseDesc& fc = m.layers.back().dense;
  std::uniform_int_distribution<int> level(-127, 127);
  for (size_t c = 0; c < 3; ++c) {
    for (size_t k = 0; k < 5; ++k) fc.weight[c * 5 + k] = 0.25f * static_cast<float>(level(rng));
    fc.weight[c * 5 + c] = c % 2 == 0 ? 31.75f : -31.75f;
  }
  return m;
}

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937 rng(51);
    model_ = report_model(rng);
    for (int i = 0; i < 2; ++i) batches_.push_back(to_batch(testing::random_graphs(5, 3, 10, 3, 5, rng), 5));
    config_.layer_bits[0] = ComponentBits{4, 8, 4};
    auto stats = collect_statistics(model_, batches_);
    ASSERT_TRUE(stats.ok()) << stats.error;
    stats_ = std::move(stats.value);
  }

  Result<ConversionReport> report(const RangeOptions& options) {
    const auto ranges = select_ranges(stats_, options, config_, model_.layers.size());
    if (!ranges.ok()) return Result<ConversionReport>::failure(ranges.error);
    const auto q = quantize_model(model_, ranges.value, config_);
    if (!q.ok()) return Result<ConversionReport>::failure(q.error);
    quantized_ = q.value;
    return build_report(model_, quantized_, stats_, options, kDefaultThreshold);
  }

  ModelDesc model_;
  ModelDesc quantized_;
  std::vector<GraphBatch> batches_;
  QuantizerConfig config_;
  CalibrationStats stats_;
};

std::vector<std::string> activation_names(const LayerReport& l) {
  std::vector<std::string> names;
  for (const ActivationReport& a : l.activations) names.push_back(a.name);
  return names;
}

std::vector<std::string> dense_names(const LayerReport& l) {
  std::vector<std::string> names;
  for (const DenseReport& d : l.dense) names.push_back(d.name);
  return names;
}

using Names = std::vector<std::string>;

TEST_F(ReportTest, NamesKindsAndBits) {
  const auto r = report(RangeOptions{});
  ASSERT_TRUE(r.ok()) << r.error;
  const ConversionReport& rep = r.value;
  ASSERT_EQ(rep.input.size(), 1u);
  EXPECT_EQ(rep.input[0].name, "input");
  EXPECT_EQ(rep.input[0].bits, 8);
  ASSERT_EQ(rep.layers.size(), 5u);
  EXPECT_EQ(rep.layers[0].name, "conv1");
  EXPECT_EQ(rep.layers[0].kind, "GCNConv");
  EXPECT_EQ(activation_names(rep.layers[0]), (Names{"conv1.aggregation", "conv1.output"}));
  EXPECT_EQ(dense_names(rep.layers[0]), (Names{"conv1.dense"}));
  EXPECT_EQ(rep.layers[0].activations[0].bits, 8);  // aggregation
  EXPECT_EQ(rep.layers[0].activations[1].bits, 4);  // output
  EXPECT_EQ(rep.layers[0].dense[0].bits, 4);
  EXPECT_EQ(rep.layers[1].name, "layer1");
  EXPECT_EQ(rep.layers[1].kind, "SAGEConv");
  EXPECT_EQ(dense_names(rep.layers[1]), (Names{"layer1.dense", "layer1.root"}));
  EXPECT_EQ(rep.layers[2].kind, "GINConv");
  EXPECT_EQ(activation_names(rep.layers[2]), (Names{"gin.aggregation", "gin.hidden0", "gin.output"}));
  EXPECT_EQ(dense_names(rep.layers[2]), (Names{"gin.mlp0", "gin.mlp1"}));
  EXPECT_EQ(rep.layers[3].kind, "GlobalPool");
  EXPECT_EQ(activation_names(rep.layers[3]), (Names{"pool.output"}));
  EXPECT_TRUE(rep.layers[3].dense.empty());
  EXPECT_EQ(rep.layers[4].kind, "Linear");
  EXPECT_EQ(activation_names(rep.layers[4]), (Names{"fc.output"}));
  EXPECT_EQ(rep.layers[4].dense[0].bits, 8);
  // Scales and zero points are the quantized model's.
  EXPECT_EQ(rep.layers[2].activations[1].scale, quantized_.layers[2].hidden[0].scale);
  EXPECT_EQ(rep.layers[2].activations[1].zero_point, quantized_.layers[2].hidden[0].zero_point);
  EXPECT_EQ(rep.input[0].scale, quantized_.input_quant.scale);
}

TEST_F(ReportTest, BytesPerComponentAndTotals) {
  const auto r = report(RangeOptions{});
  ASSERT_TRUE(r.ok()) << r.error;
  const ConversionReport& rep = r.value;
  const DenseReport& conv = rep.layers[0].dense[0];  // 7 x 5 int4, bias, 7 channels
  EXPECT_EQ(conv.out_features, 7u);
  EXPECT_EQ(conv.in_features, 5u);
  EXPECT_EQ(conv.weight_bytes, 18u);  // ceil(35 / 2)
  EXPECT_EQ(conv.bias_bytes, 28u);
  EXPECT_EQ(conv.quant_param_bytes, 7u * 12u);  // scale, multiplier, shift per channel
  const DenseReport& fc = rep.layers[4].dense[0];
  EXPECT_EQ(fc.weight_bytes, 15u);
  EXPECT_EQ(fc.bias_bytes, 12u);
  // GCN layer: Dense + aggregation and output QuantParams (9 each) + aggregation requant (8).
  EXPECT_EQ(rep.layers[0].quant_param_bytes, 7u * 12u + 9u + 9u + 8u);
  // GlobalPool: output QuantParams + pooling requant.
  EXPECT_EQ(rep.layers[3].quant_param_bytes, 9u + 8u);
  size_t weights = 0, biases = 0, params = 9;  // input QuantParams
  for (const LayerReport& l : rep.layers) {
    params += l.quant_param_bytes;
    for (const DenseReport& d : l.dense) {
      weights += d.weight_bytes;
      biases += d.bias_bytes;
    }
  }
  EXPECT_EQ(rep.weight_bytes, weights);
  EXPECT_EQ(rep.bias_bytes, biases);
  EXPECT_EQ(rep.quant_param_bytes, params);
  // 8-bit weights: one byte each.
  EXPECT_EQ(rep.layers[1].dense[0].weight_bytes, 6u * 7u);
}

TEST_F(ReportTest, WeightSqnr) {
  const auto r = report(RangeOptions{});
  ASSERT_TRUE(r.ok()) << r.error;
  // fc's weights are exactly s_w * q: no error at all.
  EXPECT_TRUE(std::isinf(r.value.layers[4].dense[0].weight_sqnr_db));
  // Random weights: about 6 dB per bit; int4 well below int8.
  const double int4 = r.value.layers[0].dense[0].weight_sqnr_db;
  const double int8 = r.value.layers[1].dense[0].weight_sqnr_db;
  EXPECT_GT(int4, 10.0);
  EXPECT_LT(int4, 30.0);
  EXPECT_GT(int8, 35.0);
  EXPECT_LT(int8, 60.0);
}

TEST(GatReportTest, MessagesAndAttentionLogitsAreComponents) {
  // GAT 5 -> 2 heads x 3 (concat, ReLU) -> mean of 2 heads x 3: the report lists each layer's messages,
  // attention logits and attention weights beside its output, with their bits and an SQNR the calibration
  // sample gives.
  std::mt19937 rng(88);
  ModelDesc m;
  m.task = Task::kNodeClassification;
  m.input_dim = 5;
  m.layers.push_back(testing::gat_layer(5, 2, 3, true, true, rng));
  m.layers.back().name = "g1";
  m.layers.push_back(testing::gat_layer(6, 2, 3, false, false, rng));
  m.layers.back().name = "g2";
  std::vector<GraphBatch> batches;
  for (int i = 0; i < 2; ++i) batches.push_back(to_batch(testing::random_graphs(4, 5, 12, 3, 5, rng), 5));
  auto stats = collect_statistics(m, batches);
  ASSERT_TRUE(stats.ok()) << stats.error;
  QuantizerConfig config;
  config.layer_bits[1] = ComponentBits{8, 4, 8};  // g2's messages at 4 bits: a noisier component
  const auto ranges = select_ranges(stats.value, RangeOptions{}, config, m.layers.size());
  ASSERT_TRUE(ranges.ok()) << ranges.error;
  const auto q = quantize_model(m, ranges.value, config);
  ASSERT_TRUE(q.ok()) << q.error;
  const auto r = build_report(m, q.value, stats.value, RangeOptions{}, kDefaultThreshold);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.value.layers.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const LayerReport& l = r.value.layers[i];
    const std::string n = i == 0 ? "g1" : "g2";
    EXPECT_EQ(l.kind, "GATConv");
    EXPECT_EQ(activation_names(l), (Names{n + ".message", n + ".logit", n + ".alpha", n + ".output"}));
    const ActivationReport& logit = l.activations[1];
    EXPECT_EQ(logit.bits, 8);
    EXPECT_EQ(logit.scale, q.value.layers[i].logit.scale);
    EXPECT_EQ(logit.zero_point, q.value.layers[i].logit.zero_point);
    EXPECT_GT(logit.values, 0u);
    EXPECT_TRUE(std::isfinite(logit.sqnr_db) && logit.sqnr_db > 20.0) << logit.sqnr_db;
    EXPECT_EQ(l.activations[0].scale, q.value.layers[i].message.scale);
    // Messages, logits and output QuantParams, three requants, the 256-entry table and the two att scales.
    EXPECT_GE(l.quant_param_bytes, 3 * 9 + 2 * 256 + 8u);
  }
  EXPECT_EQ(r.value.layers[1].activations[0].bits, 4);
  EXPECT_LT(r.value.layers[1].activations[0].sqnr_db, r.value.layers[0].activations[0].sqnr_db - 10.0);
  const nlohmann::json j = nlohmann::json::parse(report_to_json(r.value));
  EXPECT_EQ(j["layers"][0]["activations"][1]["name"], "g1.logit");
  EXPECT_TRUE(j["layers"][0]["activations"][1]["sqnr_db"].is_number());
}

// GAT 5 -> 2 heads x 3 -> 1 head x 3 on random graphs (max in-degree `degree`), quantized with both
// layers' attention logits at `att_bits`, reported against `min_sqnr` (NaN: the default thresholds).
Result<ConversionReport> gat_report(int att_bits, int32_t degree, double min_sqnr, CalibrationStats* stats) {
  std::mt19937 rng(91);
  ModelDesc m;
  m.task = Task::kNodeClassification;
  m.input_dim = 5;
  m.layers.push_back(testing::gat_layer(5, 2, 3, true, true, rng));
  m.layers.back().name = "g1";
  m.layers.push_back(testing::gat_layer(6, 1, 3, true, false, rng));
  m.layers.back().name = "g2";
  std::vector<GraphBatch> batches;
  for (int i = 0; i < 2; ++i) batches.push_back(to_batch(testing::random_graphs(4, 5, 12, degree, 5, rng), 5));
  auto s = collect_statistics(m, batches);
  if (!s.ok()) return Result<ConversionReport>::failure(s.error);
  *stats = s.value;
  QuantizerConfig config;
  config.layer_bits[0].attention = att_bits;
  config.layer_bits[1].attention = att_bits;
  const auto ranges = select_ranges(*stats, RangeOptions{}, config, m.layers.size());
  if (!ranges.ok()) return Result<ConversionReport>::failure(ranges.error);
  const auto q = quantize_model(m, ranges.value, config);
  if (!q.ok()) return Result<ConversionReport>::failure(q.error);
  EXPECT_EQ(q.value.layers[0].logit.bits, att_bits);
  return build_report(m, q.value, *stats, RangeOptions{}, min_sqnr);
}

TEST(GatReportTest, AlphaSqnrComparesTheIntegerSoftmaxWithTheFloatOne) {
  CalibrationStats stats8, stats4;
  const auto r8 = gat_report(8, 4, kDefaultThreshold, &stats8);
  const auto r4 = gat_report(4, 4, kDefaultThreshold, &stats4);
  ASSERT_TRUE(r8.ok()) << r8.error;
  ASSERT_TRUE(r4.ok()) << r4.error;
  for (size_t i = 0; i < 2; ++i) {
    const ActivationReport& a8 = r8.value.layers[i].activations[2];
    const ActivationReport& a4 = r4.value.layers[i].activations[2];
    EXPECT_EQ(a8.name, (i == 0 ? "g1.alpha" : "g2.alpha"));
    // One alpha per logit: every row was kept (far below the cap).
    EXPECT_EQ(a8.values, stats8.layers[i].attention.count);
    EXPECT_EQ(stats8.layers[i].attention_rows.logits.size(), stats8.layers[i].attention.count);
    EXPECT_EQ(a8.bits, 8);
    EXPECT_FLOAT_EQ(a8.scale, 1.0f / 256.0f);
    EXPECT_GE(a8.observed_min, 0.0f);
    EXPECT_LE(a8.observed_max, 1.0f);
    // 16 logit levels instead of 256: the softmax is much coarser.
    EXPECT_TRUE(std::isfinite(a8.sqnr_db) && a8.sqnr_db > 20.0) << a8.sqnr_db;
    EXPECT_LT(a4.sqnr_db, a8.sqnr_db - 6.0) << a4.sqnr_db << " vs " << a8.sqnr_db;
    EXPECT_EQ(r4.value.layers[i].activations[1].bits, 4);  // the logits
  }
  const nlohmann::json j = nlohmann::json::parse(report_to_json(r8.value));
  EXPECT_EQ(j["layers"][1]["activations"][2]["name"], "g2.alpha");
  EXPECT_TRUE(j["layers"][1]["activations"][2]["sqnr_db"].is_number());
}

TEST(GatReportTest, AlphaOfSelfLoopOnlyRowsIs255Over256) {
  // No edges: every row holds its self-loop alone, float alpha 1 and integer alpha 255 / 256, so the SQNR is
  // exactly 10 log10(1 / 256^-2) = 48.16 dB whatever the logits.
  CalibrationStats stats;
  const auto r = gat_report(8, 0, kDefaultThreshold, &stats);
  ASSERT_TRUE(r.ok()) << r.error;
  for (const LayerReport& l : r.value.layers) {
    EXPECT_NEAR(l.activations[2].sqnr_db, 20.0 * std::log10(256.0), 1e-9) << l.activations[2].name;
    EXPECT_FLOAT_EQ(l.activations[2].observed_min, 1.0f);
  }
}

TEST(GatReportTest, LowAlphaSqnrIsWarnedWithItsHint) {
  CalibrationStats stats;
  const auto r = gat_report(4, 4, 200.0, &stats);
  ASSERT_TRUE(r.ok()) << r.error;
  bool warned = false;
  for (const std::string& w : r.value.warnings) {
    if (w.rfind("g1.alpha: SQNR", 0) == 0) {
      warned = true;
      EXPECT_NE(w.find("LAYER.att=8"), std::string::npos) << w;
    }
  }
  EXPECT_TRUE(warned);
}

TEST_F(ReportTest, ActivationSqnrAndClippingMatchADirectComputation) {
  const auto r = report(RangeOptions{});
  ASSERT_TRUE(r.ok()) << r.error;
  const QuantParams& q = quantized_.input_quant;
  double signal = 0.0, noise = 0.0;
  size_t values = 0;
  for (const GraphBatch& b : batches_) {
    for (float x : b.features) {
      const int32_t v = kernels::quantize_float(x, q.scale, q.zero_point, q.bits);
      const double e = static_cast<double>(x) - kernels::dequantize(v, q.scale, q.zero_point);
      signal += static_cast<double>(x) * x;
      noise += e * e;
      ++values;
    }
  }
  const ActivationReport& in = r.value.input[0];
  EXPECT_NEAR(in.sqnr_db, 10.0 * std::log10(signal / noise), 1e-9);
  EXPECT_EQ(in.values, values);
  EXPECT_EQ(in.observed_min, stats_.input.min);
  // Min-max: the represented range is the observed one, to within a quantization step.
  EXPECT_NEAR(in.range_min, stats_.input.min, q.scale);
  EXPECT_NEAR(in.range_max, stats_.input.max, q.scale);
  EXPECT_FLOAT_EQ(in.range_min, q.scale * static_cast<float>(-128 - q.zero_point));
  // Min-max ranges clip nothing; 4-bit activations are noisier than 8-bit ones.
  for (const LayerReport& l : r.value.layers) {
    for (const ActivationReport& a : l.activations) {
      EXPECT_EQ(a.clipped_fraction, 0.0) << a.name;
      EXPECT_GT(a.values, 0u) << a.name;
    }
  }
  EXPECT_EQ(in.clipped_fraction, 0.0);
  EXPECT_GT(in.sqnr_db, 30.0);
  EXPECT_LT(r.value.layers[0].activations[1].sqnr_db, in.sqnr_db - 10.0);  // conv1.output, 4 bits
}

TEST_F(ReportTest, TightPautaClipsOutliers) {
  batches_[0].features[2] = 25.0f;  // outliers far beyond N(0, 1)
  batches_[1].features[7] = -30.0f;
  auto stats = collect_statistics(model_, batches_);
  ASSERT_TRUE(stats.ok()) << stats.error;
  stats_ = std::move(stats.value);
  RangeOptions pauta;
  pauta.method = RangeMethod::kPauta;
  pauta.sigma = 1.0;
  const auto r = report(pauta);
  ASSERT_TRUE(r.ok()) << r.error;
  const ActivationReport& in = r.value.input[0];
  EXPECT_GT(in.clipped_fraction, 0.0);
  EXPECT_LT(in.clipped_fraction, 0.6);
  EXPECT_LT(in.range_max, 25.0f);
  EXPECT_GT(in.range_min, -30.0f);
  EXPECT_EQ(in.observed_max, 25.0f);
  EXPECT_EQ(in.observed_min, -30.0f);
  EXPECT_EQ(r.value.ranges.method, RangeMethod::kPauta);
}

TEST_F(ReportTest, JsonParsesWithEveryKeyAndNullForLosslessWeights) {
  RangeOptions o;
  o.method = RangeMethod::kPercentile;
  const auto r = report(o);
  ASSERT_TRUE(r.ok()) << r.error;
  const std::string text = report_to_json(r.value);
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << text;
  EXPECT_EQ(j["range_method"], "percentile");
  for (const char* key : {"sigma", "percentile", "totals", "input", "layers", "notes"})
    EXPECT_TRUE(j.contains(key)) << key;
  for (const char* key : {"weight_bytes", "bias_bytes", "quant_param_bytes"})
    EXPECT_TRUE(j["totals"].contains(key)) << key;
  EXPECT_EQ(j["totals"]["weight_bytes"], r.value.weight_bytes);
  ASSERT_EQ(j["layers"].size(), 5u);
  const auto& fc = j["layers"][4];
  EXPECT_EQ(fc["name"], "fc");
  for (const char* key : {"name", "kind", "quant_param_bytes", "dense", "activations"})
    EXPECT_TRUE(fc.contains(key)) << key;
  for (const char* key : {"name", "bits", "out_features", "in_features", "weight_sqnr_db", "weight_bytes",
                          "bias_bytes", "quant_param_bytes"})
    EXPECT_TRUE(fc["dense"][0].contains(key)) << key;
  EXPECT_TRUE(fc["dense"][0]["weight_sqnr_db"].is_null());
  EXPECT_TRUE(j["layers"][0]["dense"][0]["weight_sqnr_db"].is_number());
  const auto& agg = j["layers"][0]["activations"][0];
  for (const char* key :
       {"name", "bits", "observed_min", "observed_max", "range_min", "range_max", "scale", "zero_point",
        "values", "clipped_fraction", "sqnr_db", "zero_fraction", "degenerate", "min_sqnr_db", "warning"})
    EXPECT_TRUE(agg.contains(key)) << key;
  EXPECT_TRUE(j["warnings"].is_array());
  EXPECT_EQ(agg["name"], "conv1.aggregation");
  EXPECT_EQ(j["input"][0]["name"], "input");
  // Key order is fixed (diffable reports).
  EXPECT_LT(text.find("\"range_method\""), text.find("\"totals\""));
  EXPECT_LT(text.find("\"totals\""), text.find("\"layers\""));
}

TEST_F(ReportTest, MismatchesAreErrors) {
  const auto r = report(RangeOptions{});
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_FALSE(
      build_report(model_, model_, stats_, RangeOptions{}, kDefaultThreshold).ok());  // not quantized
  EXPECT_FALSE(build_report(quantized_, quantized_, stats_, RangeOptions{}, kDefaultThreshold).ok());
  ModelDesc fewer = quantized_;
  fewer.layers.pop_back();
  EXPECT_FALSE(build_report(model_, fewer, stats_, RangeOptions{}, kDefaultThreshold).ok());
  ModelDesc reshaped = quantized_;
  reshaped.layers[4].dense.weight_q.pop_back();
  const auto shape = build_report(model_, reshaped, stats_, RangeOptions{}, kDefaultThreshold);
  EXPECT_FALSE(shape.ok());
  EXPECT_NE(shape.error.find("fc.dense"), std::string::npos) << shape.error;
  RangeOptions bad;
  bad.sigma = -1.0;
  EXPECT_FALSE(build_report(model_, quantized_, stats_, bad, kDefaultThreshold).ok());
  // The activations are measured on the statistics' non-zero samples: statistics without one are refused.
  const auto no_sample = collect_statistics(model_, batches_, 0);
  ASSERT_TRUE(no_sample.ok());
  const auto unmeasurable =
      build_report(model_, quantized_, no_sample.value, RangeOptions{}, kDefaultThreshold);
  EXPECT_FALSE(unmeasurable.ok());
  EXPECT_NE(unmeasurable.error.find("sample"), std::string::npos) << unmeasurable.error;
  CalibrationStats short_stats = stats_;
  short_stats.layers.pop_back();
  EXPECT_FALSE(build_report(model_, quantized_, short_stats, RangeOptions{}, kDefaultThreshold).ok());
}

}  // namespace
}  // namespace converter
}  // namespace qgnn
