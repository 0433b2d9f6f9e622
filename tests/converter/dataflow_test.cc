// Explicit dataflow (LayerDesc::inputs): skip connections through the writer, reader, checks, float forward,
// calibration, quantizer and overflow proof. The reference for a skip model is its chain equivalent: the same
// layers with the branch nothing reads removed, whose every pass must give the same numbers.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "qgnn/converter/overflow_check.h"
#include "qgnn/converter/quantizer.h"
#include "qgnn/converter/report.h"
#include "test_models.h"

namespace qgnn {
namespace converter {
namespace {

ModelDesc skip_model() {
  std::mt19937 rng(5);
  return testing::skip_connection_float_model(rng);
}

// skip_model without the SAGE branch that reads the model input and that nothing reads: gcn -> gin -> pool ->
// linear as a plain chain (no inputs), the same layers otherwise.
ModelDesc chain_equivalent(const ModelDesc& skip) {
  ModelDesc chain = skip;
  chain.layers.erase(chain.layers.begin() + 1);
  for (LayerDesc& l : chain.layers) l.inputs.clear();
  return chain;
}

std::vector<GraphBatch> batches(int32_t feature_dim) {
  std::mt19937 rng(9);
  std::vector<GraphBatch> out;
  for (int k = 0; k < 3; ++k)
    out.push_back(testing::to_batch(testing::random_graphs(6, 2, 12, 4, feature_dim, rng), feature_dim));
  return out;
}

std::string check_error(const ModelDesc& m) {
  const Result<bool> r = check_model(m);
  return r.ok() ? "" : r.error;
}

TEST(Dataflow, InputOfFollowsTheListOrThePreviousLayer) {
  const ModelDesc m = skip_model();
  ASSERT_TRUE(check_model(m).ok()) << check_model(m).error;
  EXPECT_EQ(input_of(m, 0), kModelInput);  // first layer, no list
  EXPECT_EQ(input_of(m, 1), kModelInput);  // lists the model input
  EXPECT_EQ(input_of(m, 2), 0);
  EXPECT_EQ(input_of(m, 3), 2);
  EXPECT_EQ(input_of(m, 4), 3);  // no list: the previous layer
}

TEST(Dataflow, SkipModelRoundTripsAsVersion3) {
  std::mt19937 rng(3);
  const ModelDesc float_model = skip_model();
  for (const ModelDesc& m : {float_model, testing::random_quantized_copy(float_model, 8, rng)}) {
    const auto bytes = serialize_model(m);
    ASSERT_TRUE(bytes.ok()) << bytes.error;
    const auto parsed = parse_model(bytes.value);
    ASSERT_TRUE(parsed.ok()) << parsed.error;
    // The description asks for version 1; the writer stamps 3 because layers list inputs.
    EXPECT_EQ(m.version, kModelFormatVersion);
    EXPECT_EQ(parsed.value.version, kDataflowFormatVersion);
    ASSERT_EQ(parsed.value.layers.size(), m.layers.size());
    for (size_t i = 0; i < m.layers.size(); ++i) EXPECT_EQ(parsed.value.layers[i].inputs, m.layers[i].inputs);
    // Writing what was read gives the same bytes.
    const auto again = serialize_model(parsed.value);
    ASSERT_TRUE(again.ok()) << again.error;
    EXPECT_EQ(again.value, bytes.value);
  }
}

// Listing nothing keeps versions 1 and 2 files as they were; listing the previous layer is a different file
// (version 3) describing the same dataflow.
TEST(Dataflow, OnlyListedInputsChangeTheFile) {
  std::mt19937 rng(11);
  ModelDesc chain = testing::all_kinds_float_model(rng);
  const auto plain = serialize_model(chain);
  ASSERT_TRUE(plain.ok()) << plain.error;
  const auto parsed = parse_model(plain.value);
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  EXPECT_EQ(parsed.value.version, kModelFormatVersion);
  for (const LayerDesc& l : parsed.value.layers) EXPECT_TRUE(l.inputs.empty());

  ModelDesc explicit_chain = chain;
  for (size_t i = 0; i < explicit_chain.layers.size(); ++i)
    explicit_chain.layers[i].inputs = {static_cast<int32_t>(i) - 1};
  const auto listed = serialize_model(explicit_chain);
  ASSERT_TRUE(listed.ok()) << listed.error;
  EXPECT_GT(listed.value.size(), plain.value.size());
  const auto listed_parsed = parse_model(listed.value);
  ASSERT_TRUE(listed_parsed.ok()) << listed_parsed.error;
  EXPECT_EQ(listed_parsed.value.version, kDataflowFormatVersion);
  for (size_t i = 0; i < chain.layers.size(); ++i)
    EXPECT_EQ(input_of(listed_parsed.value, i), input_of(chain, i));
}

// Both reasons for a newer version: the newest wins (a version-2 runtime would run the layers as a chain).
TEST(Dataflow, BatchNormAndInputsAreVersion3) {
  ModelDesc m = skip_model();
  m.layers[4].dense.batch_norm =
      BatchNormDesc{{0.1f, 0.2f, 0.3f}, {1.0f, 2.0f, 0.5f}, {1.0f, 1.0f, 2.0f}, {0.0f, 0.5f, -0.5f}};
  const auto bytes = serialize_model(m);
  ASSERT_TRUE(bytes.ok()) << bytes.error;
  EXPECT_EQ(parse_model(bytes.value).value.version, kDataflowFormatVersion);
}

TEST(Dataflow, CheckModelRejectsBadInputs) {
  const ModelDesc good = skip_model();
  ASSERT_EQ(check_error(good), "");
  struct Case {
    const char* name;
    size_t layer;
    std::vector<int32_t> inputs;
    const char* error;
  };
  const Case cases[] = {
      {"itself", 2, {2}, "layer 2 (gin): input 2 is neither the model input (-1) nor an earlier layer"},
      {"later layer", 0, {3}, "layer 0 (gcn): input 3 is neither"},
      {"below -1", 3, {-2}, "layer 3 (pool): input -2 is neither"},
      {"two inputs", 4, {3, 3}, "layer 4 (linear): Linear reads 1 input, 2 listed"},
      // Dims come from the producer: the GIN's MLP takes the GCN's 8 features, not the input's 5.
      {"producer dims", 2, {kModelInput}, "layer 2 (gin): mlp[0] has 8 input features, expected 5"},
      {"producer dims of a branch", 4, {1}, "layer 4 (linear): dense has 7 input features, expected 6"},
  };
  for (const Case& c : cases) {
    ModelDesc m = good;
    m.layers[c.layer].inputs = c.inputs;
    const std::string e = check_error(m);
    EXPECT_NE(e.find(c.error), std::string::npos) << c.name << ": " << e;
    EXPECT_FALSE(serialize_model(m).ok()) << c.name;
  }
}

TEST(Dataflow, CheckModelFollowsRowsThroughTheDeclaredInputs) {
  std::mt19937 rng(2);
  // Message passing reading a pooled output: a GCN after linear, reading the pool.
  ModelDesc m = skip_model();
  m.layers.push_back(testing::gcn_layer(7, 3, false, rng));
  m.layers.back().inputs = {3};
  EXPECT_NE(
      check_error(m).find("layer 5 (gcn): message passing after the global pooling (layer 3 (pool) has one "
                          "row per graph, not per node)"),
      std::string::npos)
      << check_error(m);
  // A second pool reading the first one's output.
  m = skip_model();
  m.layers.push_back(testing::pool_layer(Reduce::kSum));
  m.layers.back().inputs = {3};
  m.layers.push_back(testing::linear_layer(7, 3, false, rng));
  EXPECT_NE(check_error(m).find("layer 5 (pool): a model pools at most once"), std::string::npos)
      << check_error(m);
  // A graph classification model whose last layer reads a node-row output, though the model pools.
  m = skip_model();
  m.layers[4].inputs = {2};
  EXPECT_NE(check_error(m).find("needs a global pooling"), std::string::npos) << check_error(m);
  // The same layer reading node rows is fine in a node classification model, but no layer may pool there,
  // not even on a branch the output does not read.
  m.task = Task::kNodeClassification;
  EXPECT_NE(check_error(m).find("layer 3 (pool): a node classification model cannot pool"), std::string::npos)
      << check_error(m);
  m.layers.erase(m.layers.begin() + 3);
  m.layers[3].inputs = {2};
  EXPECT_EQ(check_error(m), "");
  // A Linear after the pool, reading the pool's graph rows through a list: accepted.
  m = skip_model();
  m.layers[4].inputs = {3};
  EXPECT_EQ(check_error(m), "");
}

TEST(Dataflow, FloatForwardAndCalibrationMatchTheChainEquivalent) {
  const ModelDesc skip = skip_model();
  const ModelDesc chain = chain_equivalent(skip);
  ASSERT_EQ(check_error(chain), "");
  for (const GraphBatch& b : batches(skip.input_dim)) {
    const auto s = run_float_model(skip, b);
    const auto c = run_float_model(chain, b);
    ASSERT_TRUE(s.ok()) << s.error;
    ASSERT_TRUE(c.ok()) << c.error;
    EXPECT_EQ(s.value.size(), size_t{b.num_graphs} * 3);
    EXPECT_EQ(s.value, c.value);  // the same float ops on the same inputs: bit-identical
  }
  const auto skip_ranges = calibrate(skip, batches(skip.input_dim));
  const auto chain_ranges = calibrate(chain, batches(skip.input_dim));
  ASSERT_TRUE(skip_ranges.ok()) << skip_ranges.error;
  ASSERT_TRUE(chain_ranges.ok()) << chain_ranges.error;
  const auto same = [](const ActivationRange& a, const ActivationRange& b) {
    return a.min == b.min && a.max == b.max;
  };
  EXPECT_TRUE(same(skip_ranges.value.input, chain_ranges.value.input));
  const size_t skip_of_chain[] = {0, 2, 3, 4};  // chain layer k is skip layer skip_of_chain[k]
  for (size_t k = 0; k < 4; ++k) {
    const LayerRanges& s = skip_ranges.value.layers[skip_of_chain[k]];
    const LayerRanges& c = chain_ranges.value.layers[k];
    EXPECT_TRUE(same(s.output, c.output)) << k;
    EXPECT_TRUE(same(s.aggregation, c.aggregation)) << k;
    ASSERT_EQ(s.hidden.size(), c.hidden.size());
    for (size_t h = 0; h < s.hidden.size(); ++h) EXPECT_TRUE(same(s.hidden[h], c.hidden[h])) << k;
  }
  // The SAGE branch reads the input features: its aggregation is a max over 5 input columns of N(0, 1).
  const ActivationRange& sage_agg = skip_ranges.value.layers[1].aggregation;
  EXPECT_LE(sage_agg.max, skip_ranges.value.input.max);
  EXPECT_GE(sage_agg.min, skip_ranges.value.input.min);
}

// Each layer's input quantization is its producer's output quantization: the requants of a quantized skip
// model recomputed by hand from the scales they rescale between.
TEST(Dataflow, QuantizerRescalesFromTheProducer) {
  const ModelDesc skip = skip_model();
  const auto q = quantize_model(skip, batches(skip.input_dim), QuantizerConfig{});
  ASSERT_TRUE(q.ok()) << q.error;
  const ModelDesc& m = q.value;
  for (size_t i = 0; i < m.layers.size(); ++i) EXPECT_EQ(m.layers[i].inputs, skip.layers[i].inputs);
  const auto requant = [](double s_in, double s_out, int32_t max_shift) {
    const auto r = quantize_multiplier(s_in / s_out, max_shift);
    EXPECT_TRUE(r.ok()) << r.error;
    return r.value;
  };
  const auto expect_scalar = [&](const Requant& r, double s_in, double s_out, const char* what) {
    const auto expected = requant(s_in, s_out, kAggregationRequantShiftMax);
    ASSERT_EQ(r.multiplier.size(), 1u) << what;
    EXPECT_EQ(r.multiplier[0], expected.first) << what;
    EXPECT_EQ(r.shift[0], expected.second) << what;
  };
  const float s_input = m.input_quant.scale;
  // sage (reads the model input): aggregation from the input scale; the root Dense, which reads the layer
  // input, has its bias scale and requant at s_input * s_w.
  const LayerDesc& sage = m.layers[1];
  expect_scalar(sage.aggregation_requant, s_input, sage.aggregation.scale, "sage aggregation");
  ASSERT_EQ(sage.root.requant.multiplier.size(), sage.root.weight_scales.size());
  for (size_t c = 0; c < sage.root.weight_scales.size(); ++c) {
    const auto expected = requant(static_cast<double>(s_input) * sage.root.weight_scales[c],
                                  sage.output.scale, kDenseRequantShiftMax);
    EXPECT_EQ(sage.root.requant.multiplier[c], expected.first) << c;
    EXPECT_EQ(sage.root.requant.shift[c], expected.second) << c;
  }
  // gin (reads gcn): aggregation from the GCN's output scale, not the SAGE's.
  const LayerDesc& gin = m.layers[2];
  expect_scalar(gin.aggregation_requant, m.layers[0].output.scale, gin.aggregation.scale, "gin aggregation");
  ASSERT_NE(m.layers[0].output.scale, m.layers[1].output.scale);
  // pool (lists gin): from the GIN's output scale.
  expect_scalar(m.layers[3].pool_requant, gin.output.scale, m.layers[3].output.scale, "pool");
  // linear (previous layer): bias at s_pool * s_w.
  const LayerDesc& linear = m.layers[4];
  for (size_t c = 0; c < linear.dense.weight_scales.size(); ++c) {
    const auto expected =
        requant(static_cast<double>(m.layers[3].output.scale) * linear.dense.weight_scales[c],
                linear.output.scale, kDenseRequantShiftMax);
    EXPECT_EQ(linear.dense.requant.multiplier[c], expected.first) << c;
    EXPECT_EQ(linear.dense.requant.shift[c], expected.second) << c;
  }

  // The layers the chain equivalent shares quantize to the same parameters.
  const ModelDesc chain = chain_equivalent(skip);
  const auto qc = quantize_model(chain, batches(skip.input_dim), QuantizerConfig{});
  ASSERT_TRUE(qc.ok()) << qc.error;
  const size_t skip_of_chain[] = {0, 2, 3, 4};
  for (size_t k = 0; k < 4; ++k) {
    const LayerDesc& s = m.layers[skip_of_chain[k]];
    const LayerDesc& c = qc.value.layers[k];
    EXPECT_EQ(s.output.scale, c.output.scale) << k;
    EXPECT_EQ(s.output.zero_point, c.output.zero_point) << k;
    EXPECT_EQ(s.aggregation_requant.multiplier, c.aggregation_requant.multiplier) << k;
    EXPECT_EQ(s.pool_requant.multiplier, c.pool_requant.multiplier) << k;
    EXPECT_EQ(s.dense.weight_q, c.dense.weight_q) << k;
    EXPECT_EQ(s.dense.requant.multiplier, c.dense.requant.multiplier) << k;
    ASSERT_EQ(s.mlp.size(), c.mlp.size());
    for (size_t j = 0; j < s.mlp.size(); ++j) {
      EXPECT_EQ(s.mlp[j].weight_q, c.mlp[j].weight_q) << k;
      EXPECT_EQ(s.mlp[j].requant.multiplier, c.mlp[j].requant.multiplier) << k;
    }
  }
}

// The overflow proof bounds each layer's accumulators with its producer's quantization: the layers the
// chain equivalent shares get the same bounds.
TEST(Dataflow, OverflowProofFollowsTheDeclaredInputs) {
  const ModelDesc skip = skip_model();
  const auto q = quantize_model(skip, batches(skip.input_dim), QuantizerConfig{});
  const auto qc = quantize_model(chain_equivalent(skip), batches(skip.input_dim), QuantizerConfig{});
  ASSERT_TRUE(q.ok() && qc.ok()) << q.error << qc.error;
  const auto proof = prove_no_overflow(q.value, skip.limits);
  const auto chain_proof = prove_no_overflow(qc.value, skip.limits);
  ASSERT_TRUE(proof.ok()) << proof.error;
  ASSERT_TRUE(chain_proof.ok()) << chain_proof.error;
  const size_t skip_of_chain[] = {0, 2, 3, 4};
  for (size_t k = 0; k < 4; ++k) {
    std::vector<AccumulatorBound> s, c;
    for (const AccumulatorBound& b : proof.value.bounds)
      if (b.layer == skip_of_chain[k]) s.push_back(b);
    for (const AccumulatorBound& b : chain_proof.value.bounds)
      if (b.layer == k) c.push_back(b);
    ASSERT_EQ(s.size(), c.size()) << k;
    ASSERT_FALSE(s.empty() && k != 3) << k;
    for (size_t j = 0; j < s.size(); ++j) {
      EXPECT_EQ(s[j].accumulator, c[j].accumulator) << k;
      EXPECT_EQ(s[j].worst_case, c[j].worst_case) << k << " " << s[j].accumulator;
      EXPECT_EQ(s[j].max_safe, c[j].max_safe) << k << " " << s[j].accumulator;
    }
  }
  // An out-of-range input is refused, not followed.
  ModelDesc bad = q.value;
  bad.layers[2].inputs = {7};
  const auto refused = prove_no_overflow(bad, skip.limits);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error.find("input 7 is neither"), std::string::npos) << refused.error;
}

// The report measures the activations on the calibration statistics and matches them with the quantized
// model's by layer index: it follows the declared inputs, and refuses a quantized model routed differently
// from the float one.
TEST(Dataflow, ReportFollowsTheDeclaredInputs) {
  const ModelDesc skip = skip_model();
  const std::vector<GraphBatch> data = batches(skip.input_dim);
  const QuantizerConfig config;
  const auto stats = collect_statistics(skip, data);  // with a sample: the report's SQNRs read it
  ASSERT_TRUE(stats.ok()) << stats.error;
  const auto q = quantize_model(skip, data, config);
  ASSERT_TRUE(q.ok()) << q.error;
  const auto report = build_report(skip, q.value, stats.value, config.ranges);
  ASSERT_TRUE(report.ok()) << report.error;
  ASSERT_EQ(report.value.layers.size(), skip.layers.size());
  // The SAGE branch's aggregation is measured on the model input: its observed range lies within the input's.
  const ActivationReport& input = report.value.input.at(0);
  const ActivationReport& sage_aggregation = report.value.layers[1].activations.at(0);
  EXPECT_EQ(sage_aggregation.name, "sage.aggregation");
  EXPECT_GE(sage_aggregation.observed_min, input.observed_min);
  EXPECT_LE(sage_aggregation.observed_max, input.observed_max);

  ModelDesc rerouted = q.value;
  rerouted.layers[3].inputs = {1};
  const auto refused = build_report(skip, rerouted, stats.value, config.ranges);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error.find("layer 3: the float and the quantized layer differ in input"),
            std::string::npos)
      << refused.error;
}

}  // namespace
}  // namespace converter
}  // namespace qgnn
