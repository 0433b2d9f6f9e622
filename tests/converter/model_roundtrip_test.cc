// serialize_model -> parse_model round trips, and the byte-level layout the runtime relies on.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "model_metadata.h"
#include "qgnn/converter/model_builder.h"
#include "test_models.h"

namespace qgnn {
namespace converter {
namespace {

void expect_same_range(const std::optional<StoredRange>& a, const std::optional<StoredRange>& b) {
  ASSERT_EQ(a.has_value(), b.has_value());
  if (!a) return;
  EXPECT_EQ(a->min, b->min);
  EXPECT_EQ(a->max, b->max);
}

void expect_same_dense(const DenseDesc& a, const DenseDesc& b, bool quantized) {
  EXPECT_EQ(a.out_features, b.out_features);
  EXPECT_EQ(a.in_features, b.in_features);
  EXPECT_EQ(a.relu, b.relu);
  ASSERT_EQ(a.batch_norm.has_value(), b.batch_norm.has_value());
  if (a.batch_norm) {
    EXPECT_EQ(a.batch_norm->mean, b.batch_norm->mean);
    EXPECT_EQ(a.batch_norm->var, b.batch_norm->var);
    EXPECT_EQ(a.batch_norm->gamma, b.batch_norm->gamma);
    EXPECT_EQ(a.batch_norm->beta, b.batch_norm->beta);
    EXPECT_EQ(a.batch_norm->eps, b.batch_norm->eps);
  }
  if (quantized) {
    EXPECT_EQ(a.weight_bits, b.weight_bits);
    EXPECT_EQ(a.weight_q, b.weight_q);
    EXPECT_EQ(a.weight_scales, b.weight_scales);
    EXPECT_EQ(a.bias_q, b.bias_q);
    EXPECT_EQ(a.requant.multiplier, b.requant.multiplier);
    EXPECT_EQ(a.requant.shift, b.requant.shift);
  } else {
    EXPECT_EQ(a.weight, b.weight);
    EXPECT_EQ(a.bias, b.bias);
  }
}

void expect_same_quant(const QuantParams& a, const QuantParams& b) {
  EXPECT_EQ(a.bits, b.bits);
  EXPECT_EQ(a.scale, b.scale);
  EXPECT_EQ(a.zero_point, b.zero_point);
}

void expect_same_model(const ModelDesc& a, const ModelDesc& b) {
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.description, b.description);
  EXPECT_EQ(a.producer, b.producer);
  EXPECT_EQ(a.task, b.task);
  EXPECT_EQ(a.class_names, b.class_names);
  EXPECT_EQ(a.quantized, b.quantized);
  EXPECT_EQ(a.input_dim, b.input_dim);
  EXPECT_EQ(a.input_int8, b.input_int8);
  EXPECT_EQ(a.limits.max_nodes, b.limits.max_nodes);
  EXPECT_EQ(a.limits.max_edges, b.limits.max_edges);
  EXPECT_EQ(a.limits.max_degree, b.limits.max_degree);
  EXPECT_EQ(a.limits.max_graphs, b.limits.max_graphs);
  if (a.quantized) expect_same_quant(a.input_quant, b.input_quant);
  expect_same_range(a.input_range, b.input_range);
  EXPECT_EQ(a.ranges_source, b.ranges_source);
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t i = 0; i < a.layers.size(); ++i) {
    SCOPED_TRACE("layer " + std::to_string(i));
    const LayerDesc& x = a.layers[i];
    const LayerDesc& y = b.layers[i];
    EXPECT_EQ(x.kind, y.kind);
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.relu, y.relu);
    if (x.kind != LayerKind::kGlobalPool && x.kind != LayerKind::kGinConv) {
      expect_same_dense(x.dense, y.dense, a.quantized);
    }
    EXPECT_EQ(x.has_root, y.has_root);
    if (x.has_root) expect_same_dense(x.root, y.root, a.quantized);
    ASSERT_EQ(x.mlp.size(), y.mlp.size());
    for (size_t k = 0; k < x.mlp.size(); ++k) expect_same_dense(x.mlp[k], y.mlp[k], a.quantized);
    if (x.kind == LayerKind::kSageConv || x.kind == LayerKind::kGlobalPool) {
      EXPECT_EQ(x.reduce, y.reduce);
    }
    EXPECT_EQ(x.eps, y.eps);
    expect_same_range(x.output_range, y.output_range);
    expect_same_range(x.aggregation_range, y.aggregation_range);
    ASSERT_EQ(x.hidden_ranges.size(), y.hidden_ranges.size());
    for (size_t k = 0; k < x.hidden_ranges.size(); ++k)
      expect_same_range(x.hidden_ranges[k], y.hidden_ranges[k]);
    if (!a.quantized) continue;
    expect_same_quant(x.output, y.output);
    if (x.kind == LayerKind::kGinConv) {
      EXPECT_EQ(x.self_weight_q16, y.self_weight_q16);
    }
    if (x.kind != LayerKind::kLinear && x.kind != LayerKind::kGlobalPool) {
      expect_same_quant(x.aggregation, y.aggregation);
      EXPECT_EQ(x.aggregation_requant.multiplier, y.aggregation_requant.multiplier);
      EXPECT_EQ(x.aggregation_requant.shift, y.aggregation_requant.shift);
    }
    ASSERT_EQ(x.hidden.size(), y.hidden.size());
    for (size_t k = 0; k < x.hidden.size(); ++k) expect_same_quant(x.hidden[k], y.hidden[k]);
    if (x.kind == LayerKind::kGlobalPool) {
      EXPECT_EQ(x.pool_requant.multiplier, y.pool_requant.multiplier);
      EXPECT_EQ(x.pool_requant.shift, y.pool_requant.shift);
    }
  }
}

void expect_round_trip(const ModelDesc& model) {
  const auto bytes = serialize_model(model);
  ASSERT_TRUE(bytes.ok()) << bytes.error;
  ASSERT_GE(bytes.value.size(), 8u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.value.data()) + 4, 4), "QGNN");
  const auto parsed = parse_model(bytes.value);
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  expect_same_model(model, parsed.value);
  EXPECT_TRUE(check_model(parsed.value).ok());
  // The writer is deterministic, so a second trip gives the same bytes.
  const auto again = serialize_model(parsed.value);
  ASSERT_TRUE(again.ok()) << again.error;
  EXPECT_EQ(bytes.value, again.value);
}

TEST(ModelRoundTrip, FloatModelWithEveryLayerKind) {
  std::mt19937 rng(1);
  expect_round_trip(testing::all_kinds_float_model(rng));
}

TEST(ModelRoundTrip, FloatModelWithBatchNormAndStoredRanges) {
  std::mt19937 rng(5);
  ModelDesc model = testing::all_kinds_float_model(rng);
  testing::add_batch_norms(&model, rng);
  testing::add_stored_ranges(&model);
  model.version = kBatchNormFormatVersion;  // what the writer stamps on files with an unfolded BatchNorm
  expect_round_trip(model);
  // Each part on its own, too: neither depends on the other.
  ModelDesc only_bn = testing::all_kinds_float_model(rng);
  testing::add_batch_norms(&only_bn, rng);
  only_bn.version = kBatchNormFormatVersion;
  expect_round_trip(only_bn);
  ModelDesc only_ranges = testing::all_kinds_float_model(rng);
  testing::add_stored_ranges(&only_ranges);
  expect_round_trip(only_ranges);
}

TEST(ModelRoundTrip, BatchNormIsRefusedInAQuantizedModel) {
  std::mt19937 rng(6);
  ModelDesc q = testing::random_quantized_copy(testing::all_kinds_float_model(rng), 8, rng);
  q.layers[3].mlp[0].batch_norm = testing::random_batch_norm(q.layers[3].mlp[0].out_features, rng);
  const auto bytes = serialize_model(q);
  ASSERT_FALSE(bytes.ok());
  EXPECT_NE(bytes.error.find("BatchNorm in a quantized model"), std::string::npos) << bytes.error;
  // The unchecked writer still writes it (for the runtime's negative tests), and the reader reads it back.
  const auto unchecked = serialize_model_unchecked(q);
  ASSERT_TRUE(unchecked.ok()) << unchecked.error;
  const auto parsed = parse_model(unchecked.value);
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  EXPECT_TRUE(parsed.value.layers[3].mlp[0].batch_norm.has_value());
}

TEST(ModelRoundTrip, Int8ModelWithEveryLayerKind) {
  std::mt19937 rng(2);
  expect_round_trip(testing::random_quantized_copy(testing::all_kinds_float_model(rng), 8, rng));
}

TEST(ModelRoundTrip, Int4ModelWithOddSizes) {
  std::mt19937 rng(3);
  // Dims 5x7, 7x9, 9x3, 3x11, 11x5, 5x3: odd element counts, rows starting mid-byte.
  expect_round_trip(testing::random_quantized_copy(testing::all_kinds_float_model(rng), 4, rng));
}

TEST(ModelRoundTrip, NodeClassificationModelWithInt8Input) {
  std::mt19937 rng(4);
  ModelDesc m;
  m.task = Task::kNodeClassification;
  m.input_dim = 3;
  m.layers.push_back(testing::sage_layer(3, 4, Reduce::kMax, true, true, rng));
  m.layers.push_back(testing::gcn_layer(4, 2, false, rng));
  ModelDesc q = testing::random_quantized_copy(m, 8, rng);
  q.input_int8 = true;
  expect_round_trip(m);
  expect_round_trip(q);
}

TEST(ModelRoundTrip, Int4WeightsArePackedLowNibbleFirstAndContiguously) {
  std::mt19937 rng(5);
  ModelDesc m;
  m.task = Task::kNodeClassification;
  m.input_dim = 3;
  m.layers.push_back(testing::linear_layer(3, 1, false, rng));
  ModelDesc q = testing::random_quantized_copy(m, 4, rng);
  q.layers[0].dense.weight_q = {-7, 7, -1};  // 3 elements -> 2 bytes: 0x79, 0x0F
  const auto bytes = serialize_model(q);
  ASSERT_TRUE(bytes.ok()) << bytes.error;
  const std::vector<uint8_t> expected = {0x79, 0x0F};
  // The packed bytes appear in the file, at a 16-byte aligned offset.
  bool found = false;
  for (size_t off = 0; off + 2 <= bytes.value.size(); off += 16) {
    if (bytes.value[off] == 0x79 && bytes.value[off + 1] == 0x0F) found = true;
  }
  EXPECT_TRUE(found);
  const auto parsed = parse_model(bytes.value);
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  EXPECT_EQ(parsed.value.layers[0].dense.weight_q, (std::vector<int8_t>{-7, 7, -1}));
}

TEST(ModelRoundTrip, ParameterBuffersAreSixteenByteAligned) {
  std::mt19937 rng(6);
  ModelDesc m = testing::all_kinds_float_model(rng);
  // Make each float weight recognisable: the first weight of each Dense is a unique value.
  float marker = 1000.0f;
  std::vector<float> markers;
  auto mark = [&](DenseDesc& d) {
    d.weight[0] = marker;
    markers.push_back(marker);
    marker += 1.0f;
  };
  for (LayerDesc& l : m.layers) {
    if (l.kind == LayerKind::kGinConv) {
      for (DenseDesc& d : l.mlp) mark(d);
    } else if (l.kind != LayerKind::kGlobalPool) {
      mark(l.dense);
      if (l.has_root) mark(l.root);
    }
  }
  const auto bytes = serialize_model(m);
  ASSERT_TRUE(bytes.ok()) << bytes.error;
  for (float value : markers) {
    bool aligned = false;
    for (size_t off = 0; off + 4 <= bytes.value.size(); off += 16) {
      float f;
      std::memcpy(&f, bytes.value.data() + off, 4);
      if (f == value) aligned = true;
    }
    EXPECT_TRUE(aligned) << "weight starting with " << value << " is not 16-byte aligned";
  }
}

TEST(ParseModel, RejectsGarbageTruncationAndWrongIdentifier) {
  std::mt19937 rng(7);
  const auto bytes = serialize_model(testing::all_kinds_float_model(rng));
  ASSERT_TRUE(bytes.ok());
  EXPECT_FALSE(parse_model(nullptr, 0).ok());
  EXPECT_FALSE(parse_model(std::vector<uint8_t>(3, 0)).ok());
  std::vector<uint8_t> wrong_id = bytes.value;
  wrong_id[4] = 'X';
  EXPECT_NE(parse_model(wrong_id).error.find("identifier"), std::string::npos);
  for (size_t cut : {size_t{16}, bytes.value.size() / 2, bytes.value.size() - 32}) {
    std::vector<uint8_t> truncated(bytes.value.begin(), bytes.value.begin() + static_cast<long>(cut));
    EXPECT_FALSE(parse_model(truncated).ok()) << "cut at " << cut;
  }
}

TEST(ParseModel, RejectsBufferSizeMismatch) {
  std::mt19937 rng(8);
  ModelDesc m = testing::all_kinds_float_model(rng);
  m.layers[0].dense.weight.pop_back();  // [7, 5] weight with 34 floats
  const auto bytes = serialize_model_unchecked(m);
  ASSERT_TRUE(bytes.ok()) << bytes.error;
  const auto parsed = parse_model(bytes.value);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error.find("136 bytes, expected 140"), std::string::npos) << parsed.error;
}

}  // namespace
}  // namespace converter
}  // namespace qgnn
