// Float forward pass, calibration and quantize_model properties.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "qgnn/converter/quantizer.h"
#include "test_models.h"

namespace qgnn {
namespace converter {
namespace {

using testing::to_batch;

// ---- A naive float reference, written from the schema's formulas, to cross-check run_float_model. ----

using Matrix = std::vector<std::vector<double>>;

Matrix naive_dense(const DenseDesc& d, const Matrix& x, bool relu) {
  Matrix y(x.size(), std::vector<double>(static_cast<size_t>(d.out_features)));
  for (size_t i = 0; i < x.size(); ++i) {
    for (int32_t c = 0; c < d.out_features; ++c) {
      double acc = d.bias.empty() ? 0.0 : d.bias[static_cast<size_t>(c)];
      for (int32_t k = 0; k < d.in_features; ++k)
        acc += d.weight[static_cast<size_t>(c * d.in_features + k)] * x[i][k];
      y[i][static_cast<size_t>(c)] = relu ? std::max(acc, 0.0) : acc;
    }
  }
  return y;
}

Matrix add(Matrix a, const Matrix& b) {
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t k = 0; k < a[i].size(); ++k) a[i][k] += b[i][k];
  return a;
}

Matrix relu(Matrix a) {
  for (auto& row : a)
    for (double& v : row) v = std::max(v, 0.0);
  return a;
}

Matrix naive_forward(const ModelDesc& m, const GraphBatch& b) {
  const size_t n = b.num_nodes;
  Matrix x(n, std::vector<double>(static_cast<size_t>(b.feature_dim)));
  for (size_t i = 0; i < n; ++i)
    for (size_t k = 0; k < x[i].size(); ++k) x[i][k] = b.features[i * x[i].size() + k];
  auto degree = [&](size_t i) { return static_cast<size_t>(b.row_ptr[i + 1] - b.row_ptr[i]); };
  for (const LayerDesc& l : m.layers) {
    const size_t cols = x.empty() ? 0 : x[0].size();
    Matrix agg(x.size(), std::vector<double>(cols, 0.0));
    for (size_t i = 0; i < n && l.kind != LayerKind::kLinear && l.kind != LayerKind::kGlobalPool; ++i) {
      for (size_t k = 0; k < cols; ++k) {
        double acc = l.reduce == Reduce::kMax && l.kind == LayerKind::kSageConv ? -1e300 : 0.0;
        for (int32_t e = b.row_ptr[i]; e < b.row_ptr[i + 1]; ++e) {
          const size_t j = static_cast<size_t>(b.col_idx[static_cast<size_t>(e)]);
          if (l.kind == LayerKind::kGcnConv) {
            acc += x[j][k] / std::sqrt(static_cast<double>((degree(i) + 1) * (degree(j) + 1)));
          } else if (l.kind == LayerKind::kSageConv && l.reduce == Reduce::kMax) {
            acc = std::max(acc, x[j][k]);
          } else {
            acc += x[j][k];
          }
        }
        if (l.kind == LayerKind::kGcnConv) acc += x[i][k] / static_cast<double>(degree(i) + 1);
        if (l.kind == LayerKind::kSageConv && degree(i) == 0) acc = 0.0;
        if (l.kind == LayerKind::kSageConv && l.reduce == Reduce::kMean && degree(i) > 0) acc /= degree(i);
        if (l.kind == LayerKind::kGinConv) acc += (1.0 + l.eps) * x[i][k];
        agg[i][k] = acc;
      }
    }
    switch (l.kind) {
      case LayerKind::kLinear:
        x = naive_dense(l.dense, x, l.relu);
        break;
      case LayerKind::kGcnConv:
        x = naive_dense(l.dense, agg, l.relu);
        break;
      case LayerKind::kSageConv:
        x = l.has_root ? add(naive_dense(l.dense, agg, false), naive_dense(l.root, x, false))
                       : naive_dense(l.dense, agg, false);
        if (l.relu) x = relu(x);
        break;
      case LayerKind::kGatConv:  // not in this test's models (FloatVsQuantizedGat covers GAT)
        ADD_FAILURE() << "GATConv in a model of the naive forward";
        return x;
      case LayerKind::kGinConv:
        x = agg;
        for (size_t k = 0; k < l.mlp.size(); ++k) {
          x = naive_dense(l.mlp[k], x, k + 1 == l.mlp.size() ? l.relu : l.mlp[k].relu);
        }
        break;
      case LayerKind::kGlobalPool: {
        Matrix pooled(b.num_graphs, std::vector<double>(cols, 0.0));
        for (size_t g = 0; g < b.num_graphs; ++g) {
          const size_t first = static_cast<size_t>(b.graph_ptr[g]);
          const size_t end = static_cast<size_t>(b.graph_ptr[g + 1]);
          for (size_t k = 0; k < cols; ++k) {
            double acc = l.reduce == Reduce::kMax && end > first ? -1e300 : 0.0;
            for (size_t i = first; i < end; ++i)
              acc = l.reduce == Reduce::kMax ? std::max(acc, x[i][k]) : acc + x[i][k];
            if (l.reduce == Reduce::kMean && end > first) acc /= static_cast<double>(end - first);
            pooled[g][k] = acc;
          }
        }
        x = pooled;
        break;
      }
    }
  }
  return x;
}

TEST(FloatForward, MatchesANaiveReferenceForEveryLayerKind) {
  std::mt19937 rng(31);
  const ModelDesc model = testing::all_kinds_float_model(rng);
  const GraphBatch batch = to_batch(testing::random_graphs(6, 1, 12, 4, 5, rng), 5);
  const auto out = run_float_model(model, batch);
  ASSERT_TRUE(out.ok()) << out.error;
  const Matrix expected = naive_forward(model, batch);
  ASSERT_EQ(out.value.size(), expected.size() * 3);
  for (size_t g = 0; g < expected.size(); ++g)
    for (size_t c = 0; c < 3; ++c) EXPECT_NEAR(out.value[g * 3 + c], expected[g][c], 1e-4) << g << "," << c;
}

TEST(FloatForward, NodeClassificationSageMaxAndMean) {
  std::mt19937 rng(32);
  for (Reduce reduce : {Reduce::kMean, Reduce::kMax}) {
    ModelDesc model;
    model.task = Task::kNodeClassification;
    model.input_dim = 4;
    model.layers.push_back(testing::sage_layer(4, 6, reduce, true, true, rng));
    model.layers.push_back(testing::gin_layer(6, 5, 3, -0.5f, false, rng));
    const GraphBatch batch = to_batch(testing::random_graphs(1, 30, 30, 5, 4, rng), 4);
    const auto out = run_float_model(model, batch);
    ASSERT_TRUE(out.ok()) << out.error;
    const Matrix expected = naive_forward(model, batch);
    for (size_t i = 0; i < expected.size(); ++i)
      for (size_t c = 0; c < 3; ++c) EXPECT_NEAR(out.value[i * 3 + c], expected[i][c], 1e-4);
  }
}

TEST(FloatForward, RejectsMismatchedOrMalformedInput) {
  std::mt19937 rng(33);
  const ModelDesc model = testing::all_kinds_float_model(rng);
  GraphBatch batch = to_batch(testing::random_graphs(2, 3, 5, 2, 5, rng), 5);
  GraphBatch wrong_dim = batch;
  wrong_dim.feature_dim = 4;
  EXPECT_NE(run_float_model(model, wrong_dim).error.find("5"), std::string::npos);
  GraphBatch bad_edge = batch;
  bad_edge.col_idx.push_back(1000);
  bad_edge.row_ptr.back() += 1;
  bad_edge.num_edges += 1;
  EXPECT_NE(run_float_model(model, bad_edge).error.find("col_idx"), std::string::npos);
  ModelDesc quantized = testing::random_quantized_copy(model, 8, rng);
  EXPECT_FALSE(run_float_model(quantized, batch).ok());
}

TEST(ActivationQuantParams, ContainsZeroExactly) {
  const float inf = std::numeric_limits<float>::infinity();
  struct Case {
    float lo, hi;
    int bits;
  };
  for (const Case& c : {Case{-1.f, 3.f, 8}, Case{0.f, 6.f, 8}, Case{0.5f, 2.f, 8}, Case{-4.f, -1.f, 8},
                        Case{-1.f, 3.f, 4}, Case{0.f, 1e-3f, 4}, Case{-1e6f, 1e-6f, 8}}) {
    const auto q = activation_quant_params(ActivationRange{c.lo, c.hi}, c.bits);
    ASSERT_TRUE(q.ok()) << q.error;
    const int32_t qmin = -(1 << (c.bits - 1));
    const int32_t qmax = (1 << (c.bits - 1)) - 1;
    EXPECT_EQ(q.value.bits, c.bits);
    EXPECT_GE(q.value.zero_point, qmin);
    EXPECT_LE(q.value.zero_point, qmax);
    // The range (widened to 0) is covered to within half a step at both ends.
    const float lo = std::min(c.lo, 0.f);
    const float hi = std::max(c.hi, 0.f);
    EXPECT_LE(q.value.scale * static_cast<float>(qmin - q.value.zero_point), lo + q.value.scale * 0.51f);
    EXPECT_GE(q.value.scale * static_cast<float>(qmax - q.value.zero_point), hi - q.value.scale * 0.51f);
    EXPECT_NEAR(q.value.scale, (hi - lo) / static_cast<float>(qmax - qmin), 1e-6f * (hi - lo));
  }
  // A ReLU output (min 0) puts the zero point at qmin: the whole integer range is used for positives.
  EXPECT_EQ(activation_quant_params(ActivationRange{0.f, 6.f}, 8).value.zero_point, -128);
  EXPECT_EQ(activation_quant_params(ActivationRange{0.f, 6.f}, 4).value.zero_point, -8);
  // Nothing observed, or only zeros: a valid placeholder.
  EXPECT_TRUE(activation_quant_params(ActivationRange{}, 8).ok());
  EXPECT_GT(activation_quant_params(ActivationRange{0.f, 0.f}, 8).value.scale, 0.f);
  EXPECT_FALSE(activation_quant_params(ActivationRange{-inf, 1.f}, 8).ok());
  EXPECT_FALSE(activation_quant_params(ActivationRange{0.f, 1.f}, 6).ok());
}

TEST(Calibration, RangesCoverEveryActivationAndReluIsNonNegative) {
  std::mt19937 rng(34);
  const ModelDesc model = testing::all_kinds_float_model(rng);
  std::vector<GraphBatch> batches;
  for (int i = 0; i < 3; ++i) batches.push_back(to_batch(testing::random_graphs(4, 2, 10, 3, 5, rng), 5));
  const auto ranges = calibrate(model, batches);
  ASSERT_TRUE(ranges.ok()) << ranges.error;
  float lo = 1e9f, hi = -1e9f;
  for (const GraphBatch& b : batches) {
    for (float f : b.features) {
      lo = std::min(lo, f);
      hi = std::max(hi, f);
    }
  }
  EXPECT_EQ(ranges.value.input.min, lo);
  EXPECT_EQ(ranges.value.input.max, hi);
  ASSERT_EQ(ranges.value.layers.size(), model.layers.size());
  // The recorded ranges contain exactly what a callback sees.
  for (const GraphBatch& b : batches) {
    run_float_model(model, b, [&](const ActivationEvent& e) {
      if (e.point == ActivationPoint::kInput) return;
      const LayerRanges& lr = ranges.value.layers[static_cast<size_t>(e.layer)];
      const ActivationRange& r = e.point == ActivationPoint::kAggregation ? lr.aggregation
                                 : e.point == ActivationPoint::kHidden
                                     ? lr.hidden[static_cast<size_t>(e.index)]
                                     : lr.output;
      for (size_t i = 0; i < e.rows * e.cols; ++i) {
        EXPECT_GE(e.values[i], r.min);
        EXPECT_LE(e.values[i], r.max);
      }
    });
  }
  for (size_t i = 0; i < model.layers.size(); ++i) {
    if (model.layers[i].relu) {
      EXPECT_GE(ranges.value.layers[i].output.min, 0.f) << i;
    }
  }
  EXPECT_EQ(ranges.value.layers[3].hidden.size(), 1u);
  EXPECT_GE(ranges.value.layers[3].hidden[0].min, 0.f);  // hidden Dense has ReLU
  EXPECT_FALSE(calibrate(model, {}).ok());
}

// Checks every quantized Dense against its float original.
void expect_faithful_dense(const DenseDesc& f, const DenseDesc& q, int bits, float s_in, float s_out) {
  const int32_t qmax = (1 << (bits - 1)) - 1;
  ASSERT_EQ(q.weight_bits, bits);
  ASSERT_EQ(q.weight_q.size(), f.weight.size());
  const size_t in = static_cast<size_t>(f.in_features);
  for (size_t c = 0; c < static_cast<size_t>(f.out_features); ++c) {
    const float s_w = q.weight_scales[c];
    int32_t largest = 0;
    for (size_t k = 0; k < in; ++k) {
      const int32_t v = q.weight_q[c * in + k];
      EXPECT_LE(std::abs(v), qmax);
      largest = std::max(largest, std::abs(v));
      EXPECT_LE(std::fabs(s_w * static_cast<float>(v) - f.weight[c * in + k]), 0.5001f * s_w);
    }
    EXPECT_EQ(largest, qmax) << "channel " << c << " does not use the full symmetric range";
    if (!f.bias.empty()) {
      EXPECT_NEAR(static_cast<double>(q.bias_q[c]) * s_in * s_w, f.bias[c], 0.5001 * s_in * s_w);
    }
    const double real = static_cast<double>(s_in) * s_w / s_out;
    EXPECT_NEAR(std::ldexp(static_cast<double>(q.requant.multiplier[c]), -q.requant.shift[c]), real,
                real * 1e-6);
  }
  EXPECT_TRUE(q.weight.empty());
  EXPECT_TRUE(q.bias.empty());
}

TEST(QuantizeModel, Int8IsFaithfulComponentByComponent) {
  std::mt19937 rng(35);
  const ModelDesc model = testing::all_kinds_float_model(rng);
  const std::vector<GraphBatch> batches = {to_batch(testing::random_graphs(8, 2, 12, 3, 5, rng), 5)};
  const auto ranges = calibrate(model, batches);
  ASSERT_TRUE(ranges.ok());
  QuantizationReport report;
  const auto q = quantize_model(model, ranges.value, QuantizerConfig{}, &report);
  ASSERT_TRUE(q.ok()) << q.error;
  const ModelDesc& m = q.value;
  EXPECT_TRUE(m.quantized);
  EXPECT_TRUE(check_model(m).ok());
  EXPECT_TRUE(serialize_model(m).ok());
  EXPECT_EQ(m.input_quant.bits, 8);
  float s_in = m.input_quant.scale;
  for (size_t i = 0; i < m.layers.size(); ++i) {
    SCOPED_TRACE("layer " + std::to_string(i));
    const LayerDesc& l = m.layers[i];
    const LayerDesc& f = model.layers[i];
    const float s_out = l.output.scale;
    EXPECT_EQ(l.output.bits, 8);
    if (l.relu) {
      EXPECT_EQ(l.output.zero_point, -128);
    }
    switch (l.kind) {
      case LayerKind::kLinear:
        expect_faithful_dense(f.dense, l.dense, 8, s_in, s_out);
        break;
      case LayerKind::kGcnConv:
        expect_faithful_dense(f.dense, l.dense, 8, l.aggregation.scale, s_out);
        break;
      case LayerKind::kSageConv:
        expect_faithful_dense(f.dense, l.dense, 8, l.aggregation.scale, s_out);
        if (l.has_root) expect_faithful_dense(f.root, l.root, 8, s_in, s_out);  // root: the layer input scale
        break;
      case LayerKind::kGatConv:  // not in this test's models (QuantizeModel.GatBias* covers GAT)
        ADD_FAILURE() << "GATConv in a model of this test";
        break;
      case LayerKind::kGinConv:
        EXPECT_EQ(l.self_weight_q16, std::lround((1.0 + f.eps) * 65536.0));
        ASSERT_EQ(l.hidden.size(), 1u);
        EXPECT_EQ(l.hidden[0].zero_point, -128);  // ReLU hidden activation
        expect_faithful_dense(f.mlp[0], l.mlp[0], 8, l.aggregation.scale, l.hidden[0].scale);
        expect_faithful_dense(f.mlp[1], l.mlp[1], 8, l.hidden[0].scale, s_out);
        break;
      case LayerKind::kGlobalPool: {
        const double real = static_cast<double>(s_in) / s_out;
        EXPECT_NEAR(std::ldexp(static_cast<double>(l.pool_requant.multiplier[0]), -l.pool_requant.shift[0]),
                    real, real * 1e-6);
        break;
      }
    }
    if (l.kind != LayerKind::kLinear && l.kind != LayerKind::kGlobalPool) {
      const double real = static_cast<double>(s_in) / l.aggregation.scale;
      EXPECT_NEAR(std::ldexp(static_cast<double>(l.aggregation_requant.multiplier[0]),
                             -l.aggregation_requant.shift[0]),
                  real, real * 1e-6);
    }
    s_in = s_out;
  }
  EXPECT_TRUE(report.notes.empty()) << report.notes.front();
}

TEST(QuantizeModel, BitsPerLayerAndComponentWithInt8Logits) {
  std::mt19937 rng(36);
  const ModelDesc model = testing::all_kinds_float_model(rng);
  const std::vector<GraphBatch> batches = {to_batch(testing::random_graphs(8, 2, 12, 3, 5, rng), 5)};
  QuantizerConfig config;
  config.default_bits = ComponentBits{4, 4, 4};
  config.layer_bits[1] = ComponentBits{8, 4, 8};
  const auto q = quantize_model(model, batches, config);
  ASSERT_TRUE(q.ok()) << q.error;
  const ModelDesc& m = q.value;
  EXPECT_EQ(m.layers[0].dense.weight_bits, 4);
  EXPECT_EQ(m.layers[0].aggregation.bits, 4);
  EXPECT_EQ(m.layers[0].output.bits, 4);
  EXPECT_EQ(m.layers[1].dense.weight_bits, 8);
  EXPECT_EQ(m.layers[1].root.weight_bits, 8);
  EXPECT_EQ(m.layers[1].aggregation.bits, 4);
  EXPECT_EQ(m.layers[1].output.bits, 8);
  EXPECT_EQ(m.layers[3].hidden[0].bits, 4);
  EXPECT_EQ(m.layers[3].mlp[1].weight_bits, 4);
  EXPECT_EQ(m.layers.back().dense.weight_bits, 4);
  EXPECT_EQ(m.layers.back().output.bits, 8);  // logits stay int8
  for (const LayerDesc& l : m.layers) {
    for (const DenseDesc* d : {&l.dense, &l.root}) {
      for (int8_t v : d->weight_q) EXPECT_LE(std::abs(v), d->weight_bits == 4 ? 7 : 127);
    }
  }
  const auto bytes = serialize_model(m);
  ASSERT_TRUE(bytes.ok()) << bytes.error;
  const auto parsed = parse_model(bytes.value);
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  EXPECT_EQ(parsed.value.layers[0].dense.weight_q, m.layers[0].dense.weight_q);

  config.int8_logits = false;
  const auto int4_logits = quantize_model(model, batches, config);
  ASSERT_TRUE(int4_logits.ok()) << int4_logits.error;
  EXPECT_EQ(int4_logits.value.layers.back().output.bits, 4);
}

int32_t largest_level(const DenseDesc& d, size_t c) {
  const size_t in = static_cast<size_t>(d.in_features);
  int32_t largest = 0;
  for (size_t k = 0; k < in; ++k) largest = std::max<int32_t>(largest, std::abs(d.weight_q[c * in + k]));
  return largest;
}

TEST(QuantizeModel, TinyWeightsGetARepresentableRequant) {
  std::mt19937 rng(37);
  ModelDesc model;
  model.task = Task::kNodeClassification;
  model.input_dim = 8;
  model.layers.push_back(testing::linear_layer(8, 4, false, rng));
  DenseDesc& dense = model.layers[0].dense;
  dense.bias.clear();
  const std::vector<float> original = dense.weight;
  for (size_t k = 0; k < 8; ++k) dense.weight[k] *= 1e-5f;     // channel 0: small weights, factor ~2^-24
  for (size_t k = 8; k < 16; ++k) dense.weight[k] = 0.0f;      // channel 1: all zero
  for (size_t k = 16; k < 24; ++k) dense.weight[k] *= 1e-12f;  // channel 2: factor below 2^-32
  const std::vector<GraphBatch> batches = {to_batch(testing::random_graphs(1, 50, 50, 3, 8, rng), 8)};
  QuantizationReport report;
  const auto q = quantize_model(model, batches, QuantizerConfig{}, &report);
  ASSERT_TRUE(q.ok()) << q.error;
  EXPECT_TRUE(serialize_model(q.value).ok());
  ASSERT_EQ(report.notes.size(), 1u);
  EXPECT_NE(report.notes[0].find("weight scale raised on 1 of 4 channels"), std::string::npos)
      << report.notes[0];
  const DenseDesc& d = q.value.layers[0].dense;
  for (int32_t v : d.weight_q) EXPECT_LE(std::abs(v), 127);
  // Channel 0 keeps every integer level: its factor needs a Dense shift above the aggregation maximum 40.
  EXPECT_EQ(largest_level(d, 0), 127);
  EXPECT_GT(d.requant.shift[0], kAggregationRequantShiftMax);
  EXPECT_LE(d.requant.shift[0], kDenseRequantShiftMax);
  for (size_t k = 0; k < 8; ++k) {
    EXPECT_LE(std::fabs(d.weight_scales[0] * static_cast<float>(d.weight_q[k]) - dense.weight[k]),
              0.5001f * d.weight_scales[0]);
  }
  // Channel 2 sits at the floor: the smallest Dense factor, 2^-32 (shift 62); its weights round to 0.
  EXPECT_EQ(d.requant.shift[2], kDenseRequantShiftMax);
  EXPECT_EQ(largest_level(d, 2), 0);
  // Ordinary channels are untouched.
  EXPECT_EQ(largest_level(d, 3), 127);
  EXPECT_NE(original[24], 0.0f);
}

TEST(QuantizeModel, BiasesStayRepresentableOnTinyWeights) {
  // A bias at scale s_in * s_w must stay below 2^30 steps: a tiny weight scale would push it out, so the
  // weight scale is raised for the bias (the requant factor alone would allow it).
  std::mt19937 rng(39);
  ModelDesc model;
  model.task = Task::kNodeClassification;
  model.input_dim = 8;
  model.layers.push_back(testing::linear_layer(8, 4, false, rng));
  DenseDesc& dense = model.layers[0].dense;
  for (size_t k = 0; k < 8; ++k) dense.weight[k] = 0.0f;     // channel 0: all zero, a constant output
  for (size_t k = 8; k < 16; ++k) dense.weight[k] *= 1e-6f;  // channel 1: tiny weights
  dense.bias[0] = 0.5f;
  dense.bias[1] = -0.5f;
  const std::vector<GraphBatch> batches = {to_batch(testing::random_graphs(1, 50, 50, 3, 8, rng), 8)};
  QuantizationReport report;
  const auto q = quantize_model(model, batches, QuantizerConfig{}, &report);
  ASSERT_TRUE(q.ok()) << q.error;
  EXPECT_TRUE(serialize_model(q.value).ok());
  ASSERT_EQ(report.notes.size(), 1u);
  EXPECT_NE(report.notes[0].find("weight scale raised on 1 of 4 channels"), std::string::npos)
      << report.notes[0];
  const DenseDesc& d = q.value.layers[0].dense;
  const double s_in = q.value.input_quant.scale;
  for (size_t c = 0; c < 4; ++c) {
    SCOPED_TRACE("channel " + std::to_string(c));
    const double step = s_in * d.weight_scales[c];
    EXPECT_LT(std::abs(static_cast<int64_t>(d.bias_q[c])), int64_t{kMaxBiasMagnitude});
    EXPECT_NEAR(static_cast<double>(d.bias_q[c]) * step, dense.bias[c], 0.5001 * step);
    for (size_t k = 0; k < 8; ++k) {
      EXPECT_LE(
          std::fabs(d.weight_scales[c] * static_cast<float>(d.weight_q[c * 8 + k]) - dense.weight[c * 8 + k]),
          0.5001f * d.weight_scales[c]);
    }
  }
  // The bias, not the factor, set channel 1's scale: its factor is far above 2^-32 yet it lost levels.
  EXPECT_LT(d.requant.shift[1], kDenseRequantShiftMax);
  EXPECT_LT(largest_level(d, 1), 127);
  EXPECT_EQ(largest_level(d, 2), 127);
}

TEST(QuantizeModel, GatBiasReachesTheOutputAtItsFloatValue) {
  // The kernel adds the bias to the alpha-weighted sum (the sum over heads for the mean) and then applies the
  // one output rescale, which for the mean of H heads also divides by H: the bias must come out of that
  // rescale as its float value, within half of its own step, for concat and mean alike (a bias stored at the
  // concat scale under the mean would come out as b / H).
  for (const int32_t heads : {1, 3, 4}) {
    for (const bool concat : {true, false}) {
      SCOPED_TRACE(std::to_string(heads) + (concat ? " concatenated heads" : " averaged heads"));
      std::mt19937 rng(41);
      ModelDesc model;
      model.task = Task::kNodeClassification;
      model.input_dim = 6;
      model.layers.push_back(testing::gat_layer(6, heads, 5, concat, false, rng));
      for (float& b : model.layers[0].output_bias) b *= 5.0f;  // about +-0.5, far above an output step
      const std::vector<GraphBatch> batches = {to_batch(testing::random_graphs(1, 60, 60, 4, 6, rng), 6)};
      QuantizationReport report;
      const auto q = quantize_model(model, batches, QuantizerConfig{}, &report);
      ASSERT_TRUE(q.ok()) << q.error;
      const LayerDesc& l = q.value.layers[0];
      const std::vector<float>& bias = model.layers[0].output_bias;
      ASSERT_EQ(l.output_bias_q.size(), bias.size());
      ASSERT_EQ(l.output_requant.multiplier.size(), bias.size());
      for (size_t c = 0; c < bias.size(); ++c) {
        const double step = std::ldexp(static_cast<double>(l.output_requant.multiplier[c]),
                                       -l.output_requant.shift[c]) *
                            l.output.scale;  // one bias step, in output units
        EXPECT_NEAR(static_cast<double>(l.output_bias_q[c]) * step, bias[c], 0.5001 * step) << "column " << c;
      }
    }
  }
}

TEST(QuantizeModel, AggregationAndPoolingKeepTheirOwnFloor) {
  // Aggregation and pooling factors below 2^-10 (shift 40, MEAN adds up to 22) lower the output scale.
  std::mt19937 rng(40);
  ModelDesc model;
  model.task = Task::kGraphClassification;
  model.input_dim = 4;
  model.layers.push_back(testing::gin_layer(4, 8, 6, 0.0f, true, rng));
  model.layers.push_back(testing::pool_layer(Reduce::kMean));
  model.layers.push_back(testing::linear_layer(6, 3, false, rng));
  const std::vector<GraphBatch> batches = {to_batch(testing::random_graphs(6, 2, 10, 3, 4, rng), 4)};
  auto ranges = calibrate(model, batches);
  ASSERT_TRUE(ranges.ok()) << ranges.error;
  ranges.value.layers[0].aggregation = ActivationRange{-1e5f, 1e5f};  // far coarser than the input
  ranges.value.layers[1].output = ActivationRange{-1e7f, 1e7f};       // far coarser than the GIN output
  QuantizationReport report;
  const auto q = quantize_model(model, ranges.value, QuantizerConfig{}, &report);
  ASSERT_TRUE(q.ok()) << q.error;
  EXPECT_TRUE(serialize_model(q.value).ok());
  ASSERT_EQ(report.notes.size(), 2u);
  EXPECT_NE(report.notes[0].find("layer 0 (gin): aggregation scale lowered"), std::string::npos)
      << report.notes[0];
  EXPECT_NE(report.notes[1].find("layer 1 (pool): pool output scale lowered"), std::string::npos)
      << report.notes[1];
  const ModelDesc& m = q.value;
  EXPECT_EQ(m.layers[0].aggregation_requant.shift[0], kAggregationRequantShiftMax);
  EXPECT_EQ(m.layers[1].pool_requant.shift[0], kAggregationRequantShiftMax);
  const double agg_factor = static_cast<double>(m.input_quant.scale) / m.layers[0].aggregation.scale;
  EXPECT_GE(agg_factor, kAggregationRequantRealMin);
  EXPECT_LT(agg_factor, kAggregationRequantRealMin * 1.001);
}

TEST(QuantizeModel, RejectsBadInput) {
  std::mt19937 rng(38);
  const ModelDesc model = testing::all_kinds_float_model(rng);
  const std::vector<GraphBatch> batches = {to_batch(testing::random_graphs(4, 2, 8, 3, 5, rng), 5)};
  const auto ranges = calibrate(model, batches);
  ASSERT_TRUE(ranges.ok());
  EXPECT_NE(
      quantize_model(testing::random_quantized_copy(model, 8, rng), ranges.value, {}).error.find("already"),
      std::string::npos);
  CalibrationRanges short_ranges = ranges.value;
  short_ranges.layers.pop_back();
  EXPECT_FALSE(quantize_model(model, short_ranges, {}).ok());
  QuantizerConfig bad_bits;
  bad_bits.layer_bits[2] = ComponentBits{8, 2, 8};
  EXPECT_NE(quantize_model(model, ranges.value, bad_bits).error.find("layer 2"), std::string::npos);
  ModelDesc big_eps = model;
  big_eps.layers[3].eps = 200.0f;
  const auto r = quantize_model(big_eps, batches, QuantizerConfig{});
  EXPECT_NE(r.error.find("eps"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace converter
}  // namespace qgnn
