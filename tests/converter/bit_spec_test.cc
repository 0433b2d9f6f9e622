// Bit SPEC grammar (qgnn-convert --bits): precedence, names and indices, and every error.
#include "qgnn/converter/bit_spec.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "test_models.h"

namespace qgnn {
namespace converter {
namespace {

// gcn(#0) -> sage1(#1) -> sage2(#2) -> gin(#3) -> pool(#4) -> linear(#5)
ModelDesc named_model() {
  std::mt19937 rng(3);
  ModelDesc m = testing::all_kinds_float_model(rng);
  m.layers[1].name = "sage1";
  m.layers[2].name = "sage2";
  return m;
}

ComponentBits bits_of(const QuantizerConfig& c, size_t layer) { return layer_bits(c, layer); }

void expect_bits(const ComponentBits& b, int w, int agg, int out) {
  EXPECT_EQ(b.weights, w);
  EXPECT_EQ(b.aggregation, agg);
  EXPECT_EQ(b.output, out);
}

// A bare width sets weights and outputs; the input, the aggregations, the first layer's weights and the
// logits stay 8 bits (docs/converter.md, "Bits").
TEST(BitSpec, BareBitsSetWeightsAndOutputsButNotTheFirstWeightsAndTheLogits) {
  const ModelDesc m = named_model();
  const Result<QuantizerConfig> c = parse_bit_spec("4", m);
  ASSERT_TRUE(c.ok()) << c.error;
  EXPECT_EQ(c.value.input_bits, 8);
  EXPECT_TRUE(c.value.int8_logits);
  expect_bits(bits_of(c.value, 0), 8, 8, 4);                                 // gcn reads the model input
  for (size_t i = 1; i < 4; ++i) expect_bits(bits_of(c.value, i), 4, 8, 4);  // sage1, sage2, gin
  expect_bits(bits_of(c.value, 4), 8, 8, 4);  // pool: no weights, no aggregation
  expect_bits(bits_of(c.value, 5), 4, 8, 8);  // linear: no aggregation, logits stay 8
}

// Every layer that reads the model input keeps 8-bit weights under "*"; naming them sets them.
TEST(BitSpec, InputAndInputReadersWeightsStay8UnlessNamed) {
  ModelDesc m = named_model();
  m.layers[2].inputs = {kModelInput};  // sage2 reads the model input too (a skip from the input)
  Result<QuantizerConfig> c = parse_bit_spec("*=4", m);
  ASSERT_TRUE(c.ok()) << c.error;
  EXPECT_EQ(c.value.input_bits, 8);
  EXPECT_EQ(bits_of(c.value, 0).weights, 8);
  EXPECT_EQ(bits_of(c.value, 1).weights, 4);
  EXPECT_EQ(bits_of(c.value, 2).weights, 8);
  for (const char* text : {"*=4,*.w=4,input=4", "*=4,gcn=4,sage2=4,input=4", "*=4,gcn.w=4,#2.w=4,input=4"}) {
    c = parse_bit_spec(text, m);
    ASSERT_TRUE(c.ok()) << text << ": " << c.error;
    EXPECT_EQ(c.value.input_bits, 4) << text;
    EXPECT_EQ(bits_of(c.value, 0).weights, 4) << text;
    EXPECT_EQ(bits_of(c.value, 2).weights, 4) << text;
  }
}

TEST(BitSpec, MostSpecificSelectorWinsWhateverTheOrder) {
  const ModelDesc m = named_model();
  const Result<QuantizerConfig> c = parse_bit_spec("*=4, gcn.w=8, *.agg=8, sage1=8, sage1.out=4, input=8", m);
  ASSERT_TRUE(c.ok()) << c.error;
  EXPECT_EQ(c.value.input_bits, 8);
  expect_bits(bits_of(c.value, 0), 8, 8, 4);  // gcn: .w explicit, agg from *.agg, out from *
  expect_bits(bits_of(c.value, 1), 8, 8, 4);  // sage1: layer-wide 8 beats *.agg, .out beats the layer
  expect_bits(bits_of(c.value, 2), 4, 8, 4);  // sage2: * and *.agg
  expect_bits(bits_of(c.value, 3), 4, 8, 4);  // gin
  expect_bits(bits_of(c.value, 4), 8, 8, 4);  // pool: no weights, no aggregation (left 8)
  expect_bits(bits_of(c.value, 5), 4, 8, 8);  // linear: logits stay 8
}

// Aggregations, a transform-first layer's messages among them, stay 8 bits unless named.
TEST(BitSpec, AggregationsAndMessagesStay8UnlessNamed) {
  ModelDesc m = named_model();
  m.layers[0].order = LayerOrder::kTransformFirst;  // gcn: its agg component is its messages
  Result<QuantizerConfig> c = parse_bit_spec("*=4", m);
  ASSERT_TRUE(c.ok()) << c.error;
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(bits_of(c.value, i).aggregation, 8) << i;
  for (const char* spec : {"*=4,*.agg=4", "*=4,gcn=4", "*=4,gcn.agg=4", "#0.agg=4"}) {
    c = parse_bit_spec(spec, m);
    ASSERT_TRUE(c.ok()) << c.error;
    EXPECT_EQ(bits_of(c.value, 0).aggregation, 4) << spec;
  }
  c = parse_bit_spec("*=4,sage1=4", m);
  ASSERT_TRUE(c.ok()) << c.error;
  expect_bits(bits_of(c.value, 1), 4, 4, 4);
  EXPECT_EQ(bits_of(c.value, 2).aggregation, 8);
}

// A transform-first SAGE's messages and aggregation are both its agg component: 8 bits under a bare width
// or "*", set together by agg, LAYER.agg and LAYER.
TEST(BitSpec, TransformFirstSageMessagesAndAggregationStay8UnlessNamed) {
  ModelDesc m = named_model();
  ASSERT_EQ(m.layers[1].kind, LayerKind::kSageConv);
  m.layers[1].order = LayerOrder::kTransformFirst;  // sage1
  for (const char* spec : {"4", "*=4"}) {
    const Result<QuantizerConfig> c = parse_bit_spec(spec, m);
    ASSERT_TRUE(c.ok()) << c.error;
    expect_bits(bits_of(c.value, 1), 4, 8, 4);
    expect_bits(bits_of(c.value, 2), 4, 8, 4);  // sage2 aggregates first: every aggregation stays 8
  }
  for (const char* spec : {"*=4,*.agg=4", "*=4,sage1=4", "*=4,sage1.agg=4", "#1.agg=4"}) {
    const Result<QuantizerConfig> c = parse_bit_spec(spec, m);
    ASSERT_TRUE(c.ok()) << c.error;
    EXPECT_EQ(bits_of(c.value, 1).aggregation, 4) << spec;
  }
}

TEST(BitSpec, IndicesAddressLayersAndUnnamedComponentsAre8) {
  const ModelDesc m = named_model();
  const Result<QuantizerConfig> c = parse_bit_spec("#3.weights=4,#0.aggregation=4,#4.output=4", m);
  ASSERT_TRUE(c.ok()) << c.error;
  EXPECT_EQ(c.value.input_bits, 8);
  expect_bits(bits_of(c.value, 0), 8, 4, 8);
  expect_bits(bits_of(c.value, 3), 4, 8, 8);
  expect_bits(bits_of(c.value, 4), 8, 8, 4);
  expect_bits(bits_of(c.value, 5), 8, 8, 8);
}

TEST(BitSpec, ErrorsNameTheProblem) {
  const ModelDesc m = named_model();
  struct Case {
    const char* spec;
    const char* expected;
  };
  for (const Case& k : {Case{"", "empty"}, Case{"conv9.w=4", "unknown layer 'conv9'"},
                        Case{"gcn.w=4,gcn.w=8", "appears twice"}, Case{"gcn.w=3", "expected 4 or 8"},
                        Case{"gcn.bias=4", "unknown component 'bias'"}, Case{"pool.w=4", "has no weights"},
                        Case{"linear.agg=4", "has no aggregation"}, Case{"linear.out=4", "stays 8 bits"},
                        Case{"gcn", "expected SELECTOR=BITS"}, Case{"#6=4", "out of range"},
                        Case{"#x=4", "bad layer index"}, Case{"*=8,,gcn=4", "bad item"}}) {
    const Result<QuantizerConfig> c = parse_bit_spec(k.spec, m);
    ASSERT_FALSE(c.ok()) << k.spec;
    EXPECT_NE(c.error.find(k.expected), std::string::npos) << k.spec << " -> " << c.error;
  }
}

TEST(BitSpec, UnknownLayerErrorListsTheLayers) {
  const Result<QuantizerConfig> c = parse_bit_spec("conv1.w=4", named_model());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error.find("gcn, sage1, sage2, gin, pool, linear"), std::string::npos) << c.error;
}

TEST(BitSpec, DuplicateNamesMustUseIndices) {
  std::mt19937 rng(1);
  ModelDesc m = testing::all_kinds_float_model(rng);  // two layers named "sage"
  const Result<QuantizerConfig> ambiguous = parse_bit_spec("sage.w=4", m);
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_NE(ambiguous.error.find("ambiguous"), std::string::npos) << ambiguous.error;
  EXPECT_TRUE(parse_bit_spec("#1.w=4,#2.w=4", m).ok());
}

// g1(#0, GAT 5 -> 2 x 3 concat) -> g2(#1, GAT 6 -> mean of 2 x 3).
ModelDesc gat_model() {
  std::mt19937 rng(4);
  ModelDesc m;
  m.task = Task::kNodeClassification;
  m.input_dim = 5;
  m.layers.push_back(testing::gat_layer(5, 2, 3, true, true, rng));
  m.layers.back().name = "g1";
  m.layers.push_back(testing::gat_layer(6, 2, 3, false, false, rng));
  m.layers.back().name = "g2";
  return m;
}

// A GATConv's attention logits (`att`) are their own component: 8 bits under "*" and a bare width, like the
// aggregations, set by LAYER.att, *.att and a whole-layer selector; other kinds have none.
TEST(BitSpec, GatAttentionLogitsAreTheirOwnComponent) {
  const ModelDesc m = gat_model();
  struct Case {
    const char* spec;
    int g1, g2;
  };
  for (const Case& k : {Case{"4", 8, 8}, Case{"*=4,*.agg=4", 8, 8}, Case{"g1.att=4", 4, 8},
                        Case{"#1.attention=4", 8, 4}, Case{"*.att=4", 4, 4}, Case{"*.att=4,g2.att=8", 4, 8},
                        Case{"g1=4", 4, 8}, Case{"g1=4,g1.att=8", 8, 8}}) {
    const Result<QuantizerConfig> c = parse_bit_spec(k.spec, m);
    ASSERT_TRUE(c.ok()) << k.spec << ": " << c.error;
    EXPECT_EQ(bits_of(c.value, 0).attention, k.g1) << k.spec;
    EXPECT_EQ(bits_of(c.value, 1).attention, k.g2) << k.spec;
  }
  // The messages are `agg`, apart from the logits.
  const Result<QuantizerConfig> agg = parse_bit_spec("g1.agg=4", m);
  ASSERT_TRUE(agg.ok()) << agg.error;
  EXPECT_EQ(bits_of(agg.value, 0).aggregation, 4);
  EXPECT_EQ(bits_of(agg.value, 0).attention, 8);
  const Result<QuantizerConfig> gcn = parse_bit_spec("gcn.att=4", named_model());
  ASSERT_FALSE(gcn.ok());
  EXPECT_NE(gcn.error.find("has no attention logits"), std::string::npos) << gcn.error;
  const Result<QuantizerConfig> bad = parse_bit_spec("g1.att=2", m);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error.find("expected 4 or 8"), std::string::npos) << bad.error;
}

TEST(BitSpec, FormatRoundTripsGatAttention) {
  const ModelDesc m = gat_model();
  for (const char* spec :
       {"8", "4", "g1.att=4", "*.att=4", "*=4,*.att=4,g2.att=8", "g2=4", "*=4,*.agg=4,g1.att=4"}) {
    const Result<QuantizerConfig> c = parse_bit_spec(spec, m);
    ASSERT_TRUE(c.ok()) << spec << ": " << c.error;
    const std::string formatted = format_bit_spec(c.value, m);
    const Result<QuantizerConfig> again = parse_bit_spec(formatted, m);
    ASSERT_TRUE(again.ok()) << formatted << ": " << again.error;
    for (size_t i = 0; i < m.layers.size(); ++i) {
      const ComponentBits a = bits_of(c.value, i), b = bits_of(again.value, i);
      EXPECT_EQ(a.weights, b.weights) << spec << " vs " << formatted << " layer " << i;
      EXPECT_EQ(a.aggregation, b.aggregation) << spec << " vs " << formatted << " layer " << i;
      EXPECT_EQ(a.attention, b.attention) << spec << " vs " << formatted << " layer " << i;
      EXPECT_EQ(a.output, b.output) << spec << " vs " << formatted << " layer " << i;
    }
  }
  EXPECT_EQ(format_bit_spec(parse_bit_spec("g1.att=4", m).value, m), "*=8,g1.att=4");
  EXPECT_EQ(format_bit_spec(parse_bit_spec("*.att=4", m).value, m), "*=8,g1.att=4,g2.att=4");
}

TEST(BitSpec, FormatRoundTrips) {
  const ModelDesc m = named_model();
  for (const char* spec : {"8", "4", "*=4,gcn.w=8,*.agg=8,input=8", "#3.weights=4,#0.agg=4", "sage2=4",
                           "*=4,*.w=4,input=4", "input=4,gcn=4"}) {
    const Result<QuantizerConfig> c = parse_bit_spec(spec, m);
    ASSERT_TRUE(c.ok()) << spec << ": " << c.error;
    const std::string formatted = format_bit_spec(c.value, m);
    const Result<QuantizerConfig> again = parse_bit_spec(formatted, m);
    ASSERT_TRUE(again.ok()) << formatted << ": " << again.error;
    EXPECT_EQ(again.value.input_bits, c.value.input_bits) << formatted;
    for (size_t i = 0; i < m.layers.size(); ++i) {
      const ComponentBits a = bits_of(c.value, i), b = bits_of(again.value, i);
      EXPECT_EQ(a.weights, b.weights) << spec << " vs " << formatted << " layer " << i;
      EXPECT_EQ(a.aggregation, b.aggregation) << spec << " vs " << formatted << " layer " << i;
      EXPECT_EQ(a.output, b.output) << spec << " vs " << formatted << " layer " << i;
    }
  }
  EXPECT_EQ(format_bit_spec(parse_bit_spec("4", m).value, m), "*=4");
  EXPECT_EQ(format_bit_spec(parse_bit_spec("8", m).value, m), "*=8");
  EXPECT_EQ(format_bit_spec(parse_bit_spec("*=4,*.w=4,input=4", m).value, m), "*=4,input=4,gcn.w=4");
}

}  // namespace
}  // namespace converter
}  // namespace qgnn
