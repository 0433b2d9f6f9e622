// Layer kind traits (layer_kind.h): one spelling shared with the schema, Dense ops that match the LayerDesc
// every pass reads them from, and the parameter tensors and activations the writer stores for every kind.
#include "qgnn/converter/layer_kind.h"

#include <gtest/gtest.h>

#include <iterator>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "qgnn/schema/qgnn_generated.h"
#include "qgnn/schema/tensor_type.h"
#include "test_models.h"

namespace qgnn {
namespace converter {
namespace {

namespace fbs = ::qgnn::fb;

TEST(LayerKindTest, OneEntryPerKindInEnumOrder) {
  const std::vector<LayerKindTraits>& kinds = all_layer_kinds();
  const LayerKind expected[] = {LayerKind::kLinear,  LayerKind::kGcnConv,    LayerKind::kSageConv,
                                LayerKind::kGinConv, LayerKind::kGlobalPool, LayerKind::kGatConv};
  ASSERT_EQ(kinds.size(), std::size(expected));
  for (size_t i = 0; i < kinds.size(); ++i) {
    EXPECT_EQ(kinds[i].kind, expected[i]);
    EXPECT_EQ(&layer_traits(expected[i]), &kinds[i]);
    ASSERT_NE(kinds[i].dense_ops, nullptr);
    ASSERT_NE(kinds[i].own_tensors, nullptr);
    ASSERT_NE(kinds[i].check, nullptr);
  }
  EXPECT_EQ(find_layer_traits(static_cast<LayerKind>(99)), nullptr);
}

// The canonical names are the schema's LayerOptions members without "Options", both ways.
TEST(LayerKindTest, NamesAreTheSchemaUnionMembers) {
  std::set<std::string> schema;
  for (fbs::LayerOptions o : fbs::EnumValuesLayerOptions()) {
    if (o != fbs::LayerOptions::NONE) schema.insert(fbs::EnumNameLayerOptions(o));
  }
  std::set<std::string> traits;
  for (const LayerKindTraits& t : all_layer_kinds()) {
    traits.insert(std::string(t.name) + "Options");
    const LayerKindTraits* by_name = layer_traits_by_name(t.name);
    ASSERT_NE(by_name, nullptr) << t.name;
    EXPECT_EQ(by_name->kind, t.kind);
  }
  EXPECT_EQ(traits, schema);
  EXPECT_EQ(layer_traits_by_name("GCN"), nullptr);
  EXPECT_EQ(layer_traits_by_name("GINConvOptions"), nullptr);
}

TEST(LayerKindTest, ComponentsOfEachKind) {
  const LayerKindTraits& linear = layer_traits(LayerKind::kLinear);
  EXPECT_TRUE(linear.weights);
  EXPECT_FALSE(linear.aggregation);
  EXPECT_EQ(linear.reduction, Reduction::kNone);
  const LayerKindTraits& pool = layer_traits(LayerKind::kGlobalPool);
  EXPECT_FALSE(pool.weights);
  EXPECT_FALSE(pool.aggregation);
  EXPECT_EQ(pool.reduction, Reduction::kGraphNodes);
  for (LayerKind k : {LayerKind::kGcnConv, LayerKind::kSageConv, LayerKind::kGinConv}) {
    EXPECT_TRUE(layer_traits(k).weights);
    EXPECT_TRUE(layer_traits(k).aggregation);
  }
  // GAT: weights, the messages (SPEC agg) and the attention logits (SPEC att), no Layer.aggregation.
  const LayerKindTraits& gat = layer_traits(LayerKind::kGatConv);
  EXPECT_TRUE(gat.weights);
  EXPECT_FALSE(gat.aggregation);
  EXPECT_TRUE(gat.attention);
  EXPECT_EQ(gat.reduction, Reduction::kAttention);
  for (const LayerKindTraits& t : all_layer_kinds())
    EXPECT_EQ(t.attention, t.kind == LayerKind::kGatConv) << t.name;
  EXPECT_TRUE(layer_traits(LayerKind::kGinConv).hidden);
  EXPECT_TRUE(layer_traits(LayerKind::kSageConv).root);
  // SAGE aggregates by MEAN or MAX only; pooling takes every reduce.
  EXPECT_EQ(layer_traits(LayerKind::kSageConv).reduces, (1u << 1) | (1u << 2));
  EXPECT_EQ(pool.reduces, 7u);
}

// Every Dense of a layer is named by exactly one op, in order, with inputs and outputs that chain.
TEST(LayerKindTest, DenseOpsCoverEveryDenseOfTheModel) {
  std::mt19937 rng(3);
  ModelDesc model = testing::all_kinds_float_model(rng);
  for (LayerDesc& layer : model.layers) {
    const LayerKindTraits& kind = layer_traits(layer.kind);
    const std::vector<DenseOp> ops = kind.dense_ops(layer);
    std::set<const DenseDesc*> seen;
    for (const DenseOp& op : ops) {
      EXPECT_TRUE(seen.insert(&dense_of(layer, op)).second) << layer.name << " " << op.what;
      EXPECT_EQ(&dense_of(static_cast<const LayerDesc&>(layer), op), &dense_of(layer, op));
      EXPECT_FALSE(op.what.empty());
      EXPECT_FALSE(op.report_name.empty());
    }
    const size_t expected = layer.kind == LayerKind::kGinConv      ? layer.mlp.size()
                            : layer.kind == LayerKind::kGlobalPool ? 0
                            : layer.has_root                       ? 2
                                                                   : 1;
    EXPECT_EQ(ops.size(), expected) << layer.name;
    EXPECT_EQ(kind.weights, !ops.empty()) << layer.name;
    if (kind.aggregation) {
      ASSERT_FALSE(ops.empty());
      EXPECT_EQ(ops[0].input, DenseInput::kAggregation) << layer.name;
    }
  }
  // GIN: aggregation -> mlp[0] -> hidden[0] -> mlp[1] -> output.
  const LayerDesc& gin = model.layers[3];
  ASSERT_EQ(gin.kind, LayerKind::kGinConv);
  ASSERT_EQ(gin.mlp.size(), 2u);
  EXPECT_EQ(hidden_count(gin), 1u);
  const std::vector<DenseOp> gin_ops = layer_traits(gin.kind).dense_ops(gin);
  EXPECT_EQ(gin_ops[0].output_hidden, 0);
  EXPECT_EQ(gin_ops[1].input, DenseInput::kHidden);
  EXPECT_EQ(gin_ops[1].input_hidden, 0);
  EXPECT_EQ(gin_ops[1].output_hidden, -1);
  EXPECT_EQ(gin_ops[1].tensor_name, ".mlp.1");
  // SAGE with a root: the root reads the layer input and joins the neighbour Dense's accumulator.
  const LayerDesc& sage = model.layers[1];
  ASSERT_TRUE(sage.has_root);
  const std::vector<DenseOp> sage_ops = layer_traits(sage.kind).dense_ops(sage);
  EXPECT_FALSE(sage_ops[0].joins_previous);
  EXPECT_TRUE(sage_ops[1].joins_previous);
  EXPECT_EQ(sage_ops[1].input, DenseInput::kLayerInput);
  EXPECT_EQ(&dense_of(sage, sage_ops[1]), &sage.root);
  EXPECT_EQ(hidden_count(sage), 0u);
}

TEST(LayerKindTest, KindChecks) {
  std::mt19937 rng(5);
  LayerDesc gin = testing::gin_layer(3, 4, 2, 0.5f, false, rng);
  const LayerKindTraits& t = layer_traits(gin.kind);
  EXPECT_EQ(t.check(gin, false), "");
  gin.eps = std::numeric_limits<float>::infinity();
  EXPECT_EQ(t.check(gin, false), "GINConv eps is not finite");
  gin.eps = 0.5f;
  gin.self_weight_q16 = 1 << 23;
  EXPECT_EQ(t.check(gin, false), "");  // only a quantized model carries the Q16 self weight
  EXPECT_NE(t.check(gin, true), "");
  gin.mlp.clear();
  EXPECT_EQ(t.check(gin, false), "GINConv has an empty MLP");
  EXPECT_TRUE(t.dense_ops(gin).empty());
}

// check_model reads the kind's allowed reduces from the traits.
TEST(LayerKindTest, CheckModelRejectsAReduceTheKindLacks) {
  std::mt19937 rng(9);
  ModelDesc model = testing::all_kinds_float_model(rng);
  ASSERT_TRUE(check_model(model).ok());
  model.layers[1].reduce = Reduce::kSum;
  const Result<bool> r = check_model(model);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error, "layer 1 (sage): SAGEConv reduce must be MEAN or MAX");
}

// Transform-first: GCNConv and MEAN SAGEConv (max does not commute with W_n); auto picks it where the
// (neighbour) Dense narrows; a transform-first SAGE's neighbour Dense reads the layer input and writes the
// messages, its root still joins the output.
TEST(LayerKindTest, TransformFirstTraits) {
  std::mt19937 rng(9);
  EXPECT_TRUE(layer_traits(LayerKind::kGcnConv).transform_first);
  EXPECT_TRUE(layer_traits(LayerKind::kSageConv).transform_first);
  EXPECT_FALSE(layer_traits(LayerKind::kGinConv).transform_first);
  EXPECT_FALSE(layer_traits(LayerKind::kLinear).transform_first);
  LayerDesc mean = testing::sage_layer(32, 8, Reduce::kMean, true, true, rng);
  LayerDesc max = testing::sage_layer(32, 8, Reduce::kMax, true, true, rng);
  EXPECT_TRUE(can_transform_first(mean));
  EXPECT_FALSE(can_transform_first(max));
  EXPECT_EQ(cheaper_order(mean), LayerOrder::kTransformFirst);
  EXPECT_EQ(cheaper_order(max), LayerOrder::kAggregateFirst);
  EXPECT_EQ(cheaper_order(testing::sage_layer(8, 32, Reduce::kMean, true, true, rng)),
            LayerOrder::kAggregateFirst);  // widening
  mean.order = LayerOrder::kTransformFirst;
  const std::vector<DenseOp> ops = layer_traits(LayerKind::kSageConv).dense_ops(mean);
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_TRUE(ops[0].writes_message);
  EXPECT_EQ(ops[0].input, DenseInput::kLayerInput);
  EXPECT_FALSE(ops[1].writes_message);
  EXPECT_TRUE(ops[1].joins_previous);

  ModelDesc model;
  model.input_dim = 32;
  model.task = Task::kNodeClassification;
  model.layers = {max};
  model.layers[0].order = LayerOrder::kTransformFirst;
  const Result<bool> r = check_model(model);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error.find("runs transform-first with MEAN only"), std::string::npos) << r.error;
}

// Only a kind with a root Dense may say it has one (the writer would drop it).
TEST(LayerKindTest, CheckModelRejectsARootTheKindLacks) {
  std::mt19937 rng(9);
  ModelDesc model = testing::all_kinds_float_model(rng);
  model.layers[0].has_root = true;
  model.layers[0].root = model.layers[0].dense;
  const Result<bool> r = check_model(model);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error, "layer 0 (gcn): GCNConv has no root dense");
}

std::vector<ModelDesc> every_kind_models() {
  std::mt19937 rng(21);
  Result<std::vector<ModelDesc>> models = testing::every_kind_models(rng);
  EXPECT_TRUE(models.ok()) << models.error;
  return models.value;
}

std::set<std::string> all_kind_names() {
  std::set<std::string> names;
  for (const LayerKindTraits& t : all_layer_kinds()) names.insert(t.name);
  return names;
}

// The models the tests below (and the tools' tests) run hold every kind the traits list.
TEST(LayerKindTest, EveryKindModelsHoldEveryKind) {
  std::set<std::string> kinds;
  for (const ModelDesc& model : every_kind_models()) {
    for (const LayerDesc& layer : model.layers) kinds.insert(layer_traits(layer.kind).name);
  }
  EXPECT_EQ(kinds, all_kind_names());
}

// layer_tensors is what the writer stores: the file's tensors are every layer's, in order, each with the
// listed name, element type, element count, buffer size and scales.
TEST(LayerKindTest, LayerTensorsAreTheFilesTensors) {
  for (const ModelDesc& model : every_kind_models()) {
    SCOPED_TRACE(model.name + (model.quantized ? " quantized" : " float"));
    const Result<std::vector<uint8_t>> bytes = serialize_model(model);
    ASSERT_TRUE(bytes.ok()) << bytes.error;
    const fbs::Model* file = fbs::GetModel(bytes.value.data());
    std::vector<std::pair<std::string, ParameterTensor>> listed;
    for (const LayerDesc& layer : model.layers) {
      for (const ParameterTensor& t : layer_tensors(layer, model.quantized))
        listed.emplace_back(layer.name, t);
    }
    ASSERT_EQ(file->tensors()->size(), listed.size());
    for (uint32_t i = 0; i < listed.size(); ++i) {
      const fbs::Tensor* t = file->tensors()->Get(i);
      const auto& [layer, expected] = listed[i];
      SCOPED_TRACE(t->name()->str());
      EXPECT_EQ(t->name()->str(), layer + expected.name);
      EXPECT_STREQ(fbs::EnumNameTensorType(t->type()), tensor_element_name(expected.element));
      EXPECT_EQ(fbs::tensor_type_bits(t->type()), tensor_element_bits(expected.element));
      size_t elements = 1;
      for (uint32_t d : *t->shape()) elements *= d;
      EXPECT_EQ(elements, expected.elements);
      EXPECT_EQ(file->buffers()->Get(t->buffer())->data()->size(), expected.bytes());
      EXPECT_EQ(t->scales() != nullptr ? t->scales()->size() : 0u, expected.scales);
    }
  }
}

// Which activations a layer quantizes follows from its kind and order, each read from the field the reader
// and writer use for it.
TEST(LayerKindTest, ActivationsOfEachKindAndOrder) {
  using Role = ActivationRole;
  const auto roles = [](const LayerDesc& layer) {
    std::vector<Role> r;
    for (const LayerActivation& a : layer_activations(layer)) r.push_back(a.role);
    return r;
  };
  std::mt19937 rng(13);
  std::set<std::string> covered;
  const auto cover = [&covered](const LayerDesc& layer) { covered.insert(layer_traits(layer.kind).name); };

  const LayerDesc linear = testing::linear_layer(4, 2, false, rng);
  cover(linear);
  EXPECT_EQ(roles(linear), std::vector<Role>{Role::kOutput});
  EXPECT_EQ(layer_activations(linear).back().quant, &linear.output);
  const LayerDesc pool = testing::pool_layer(Reduce::kMax);
  cover(pool);
  EXPECT_EQ(roles(pool), std::vector<Role>{Role::kOutput});

  LayerDesc gcn = testing::gcn_layer(4, 2, true, rng);
  cover(gcn);
  EXPECT_EQ(roles(gcn), (std::vector<Role>{Role::kAggregation, Role::kOutput}));
  EXPECT_EQ(layer_activations(gcn)[0].quant, &gcn.aggregation);
  gcn.order = LayerOrder::kTransformFirst;  // its messages take the aggregation's place
  EXPECT_EQ(roles(gcn), (std::vector<Role>{Role::kMessage, Role::kOutput}));
  EXPECT_EQ(layer_activations(gcn)[0].quant, &gcn.aggregation);
  EXPECT_FALSE(has_activation(gcn, Role::kAggregation));

  LayerDesc sage = testing::sage_layer(4, 2, Reduce::kMean, true, true, rng);
  cover(sage);
  EXPECT_EQ(roles(sage), (std::vector<Role>{Role::kAggregation, Role::kOutput}));
  sage.order = LayerOrder::kTransformFirst;  // messages, then their mean
  EXPECT_EQ(roles(sage), (std::vector<Role>{Role::kMessage, Role::kAggregation, Role::kOutput}));
  EXPECT_EQ(layer_activations(sage)[0].quant, &sage.message);
  EXPECT_EQ(layer_activations(sage)[1].quant, &sage.aggregation);

  LayerDesc gin = testing::gin_layer(4, 5, 2, 0.5f, true, rng);
  cover(gin);
  EXPECT_EQ(roles(gin), (std::vector<Role>{Role::kAggregation, Role::kHidden, Role::kOutput}));
  EXPECT_EQ(layer_activations(gin)[1].hidden, 0);
  EXPECT_EQ(layer_activations(gin)[1].quant, nullptr);  // a float description has no hidden quantization
  gin.hidden.resize(1);
  EXPECT_EQ(layer_activations(gin)[1].quant, &gin.hidden[0]);

  const LayerDesc gat = testing::gat_layer(4, 2, 3, false, false, rng);
  cover(gat);
  EXPECT_EQ(roles(gat), (std::vector<Role>{Role::kMessage, Role::kLogit, Role::kOutput}));
  EXPECT_EQ(layer_activations(gat)[0].quant, &gat.message);
  EXPECT_EQ(layer_activations(gat)[1].quant, &gat.logit);

  EXPECT_EQ(covered, all_kind_names());
  LayerDesc corrupt = linear;
  corrupt.kind = static_cast<LayerKind>(99);
  EXPECT_EQ(roles(corrupt), std::vector<Role>{Role::kOutput});
  EXPECT_TRUE(layer_tensors(corrupt, false).empty());
}

TEST(LayerKindTest, OutputFeaturesAndReduceNames) {
  std::mt19937 rng(17);
  EXPECT_EQ(output_features(testing::gcn_layer(4, 6, true, rng), 4), 6);
  EXPECT_EQ(output_features(testing::sage_layer(4, 3, Reduce::kMean, true, true, rng), 4), 3);
  EXPECT_EQ(output_features(testing::gin_layer(4, 9, 2, 0.0f, true, rng), 4), 2);
  EXPECT_EQ(output_features(testing::pool_layer(Reduce::kSum), 7), 7);
  EXPECT_EQ(output_features(testing::gat_layer(4, 2, 3, /*concat=*/true, false, rng), 4), 6);
  EXPECT_EQ(output_features(testing::gat_layer(4, 2, 3, /*concat=*/false, false, rng), 4), 3);
  EXPECT_STREQ(reduce_name(Reduce::kSum), "SUM");
  EXPECT_STREQ(reduce_name(Reduce::kMean), "MEAN");
  EXPECT_STREQ(reduce_name(Reduce::kMax), "MAX");
  EXPECT_EQ(reduce_name(static_cast<Reduce>(3)), nullptr);
}

}  // namespace
}  // namespace converter
}  // namespace qgnn
