// Stored activation ranges: written and read back, turned into CalibrationRanges in quantize_model's layout,
// and rejected (by check_model and stored_ranges) when incomplete or meaningless.
#include "qgnn/converter/stored_ranges.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "model_metadata.h"
#include "test_models.h"

namespace qgnn {
namespace converter {
namespace {

ModelDesc model_with_ranges() {
  std::mt19937 rng(21);
  ModelDesc model = testing::all_kinds_float_model(rng);  // GCN, SAGE, SAGE, GIN(2 Dense), pool, Linear
  testing::add_stored_ranges(&model);
  return model;
}

void expect_range(const ActivationRange& actual, const std::optional<StoredRange>& stored) {
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(actual.min, stored->min);
  EXPECT_EQ(actual.max, stored->max);
}

TEST(StoredRanges, AbsentByDefault) {
  std::mt19937 rng(22);
  const ModelDesc model = testing::all_kinds_float_model(rng);
  EXPECT_FALSE(has_stored_ranges(model));
  const Result<CalibrationRanges> r = stored_ranges(model);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error.find("no activation ranges"), std::string::npos) << r.error;
}

TEST(StoredRanges, EveryActivationInQuantizerLayout) {
  const ModelDesc model = model_with_ranges();
  ASSERT_TRUE(has_stored_ranges(model));
  ASSERT_TRUE(check_model(model).ok()) << check_model(model).error;
  const Result<CalibrationRanges> r = stored_ranges(model);
  ASSERT_TRUE(r.ok()) << r.error;
  expect_range(r.value.input, model.input_range);
  ASSERT_EQ(r.value.layers.size(), model.layers.size());
  for (size_t i = 0; i < model.layers.size(); ++i) {
    SCOPED_TRACE("layer " + std::to_string(i));
    const LayerDesc& layer = model.layers[i];
    expect_range(r.value.layers[i].output, layer.output_range);
    if (layer.aggregation_range) expect_range(r.value.layers[i].aggregation, layer.aggregation_range);
    ASSERT_EQ(r.value.layers[i].hidden.size(), layer.hidden_ranges.size());
    for (size_t k = 0; k < layer.hidden_ranges.size(); ++k) {
      expect_range(r.value.layers[i].hidden[k], layer.hidden_ranges[k]);
    }
  }
  EXPECT_EQ(r.value.layers[3].hidden.size(), 1u);      // the GIN MLP has two Dense ops
  EXPECT_TRUE(r.value.layers[4].aggregation.empty());  // pooling has no aggregation
}

TEST(StoredRanges, SurviveTheFileAndQuantizedModelsMayCarryThem) {
  const ModelDesc model = model_with_ranges();
  const auto bytes = serialize_model(model);
  ASSERT_TRUE(bytes.ok()) << bytes.error;
  const auto parsed = parse_model(bytes.value);
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  EXPECT_EQ(parsed.value.ranges_source, "test ranges, 8-bit");
  const Result<CalibrationRanges> a = stored_ranges(model), b = stored_ranges(parsed.value);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a.value.input.min, b.value.input.min);
  for (size_t i = 0; i < model.layers.size(); ++i) {
    EXPECT_EQ(a.value.layers[i].output.max, b.value.layers[i].output.max);
    EXPECT_EQ(a.value.layers[i].aggregation.min, b.value.layers[i].aggregation.min);
    EXPECT_EQ(a.value.layers[i].hidden.size(), b.value.layers[i].hidden.size());
  }
  // Ranges are metadata: a quantized model may keep them (they document its quantization).
  std::mt19937 rng(23);
  ModelDesc q = testing::random_quantized_copy(model, 8, rng);
  q.input_range = model.input_range;
  for (size_t i = 0; i < q.layers.size(); ++i) {
    q.layers[i].output_range = model.layers[i].output_range;
    q.layers[i].aggregation_range = model.layers[i].aggregation_range;
    q.layers[i].hidden_ranges = model.layers[i].hidden_ranges;
  }
  EXPECT_TRUE(check_model(q).ok()) << check_model(q).error;
}

TEST(StoredRanges, IncompleteOrBadRangesAreRejected) {
  struct Case {
    const char* name;
    void (*edit)(ModelDesc&);
    const char* needle;
  };
  const Case cases[] = {
      {"no input", [](ModelDesc& m) { m.input_range.reset(); }, "input"},
      {"no output", [](ModelDesc& m) { m.layers[2].output_range.reset(); }, "layer 2"},
      {"no aggregation", [](ModelDesc& m) { m.layers[0].aggregation_range.reset(); }, "aggregation"},
      {"hidden count", [](ModelDesc& m) { m.layers[3].hidden_ranges.clear(); }, "hidden"},
      {"min > max",
       [](ModelDesc& m) {
         m.layers[1].output_range = StoredRange{2.0f, 1.0f};
       },
       "min > max"},
      {"not finite", [](ModelDesc& m) { m.layers[5].output_range->max = INFINITY; }, "not finite"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ModelDesc m = model_with_ranges();
    c.edit(m);
    const Result<CalibrationRanges> r = stored_ranges(m);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error.find(c.needle), std::string::npos) << r.error;
    const Result<bool> checked = check_model(m);
    ASSERT_FALSE(checked.ok());
    EXPECT_NE(checked.error.find(c.needle), std::string::npos) << checked.error;
  }
  // check_model also refuses an aggregation range where there is no aggregation.
  ModelDesc m = model_with_ranges();
  m.layers[5].aggregation_range = StoredRange{0.0f, 1.0f};
  const Result<bool> checked = check_model(m);
  ASSERT_FALSE(checked.ok());
  EXPECT_NE(checked.error.find("without aggregation"), std::string::npos) << checked.error;
}

}  // namespace
}  // namespace converter
}  // namespace qgnn
