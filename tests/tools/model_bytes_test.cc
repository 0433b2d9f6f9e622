// qgnn-bench's byte split (tools/bench/model_bytes.cc), which counts layers through parse_model and the layer
// kind traits: for every kind, the split equals what a walk of the FlatBuffer finds; hostile bytes give an
// error, never a crash.
#include "bench/model_bytes.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "every_kind_files.h"
#include "qgnn/converter/layer_kind.h"
#include "qgnn/converter/model_builder.h"
#include "qgnn/schema/qgnn_generated.h"

namespace qgnn {
namespace tools {
namespace testing {
namespace {

namespace cv = ::qgnn::converter;

// The byte model of model_bytes.h, read from the FlatBuffer table by table (each kind's options spelled out
// here, not taken from the traits; a kind without a case fails): the split's independent oracle.
class FileWalk {
 public:
  explicit FileWalk(const fb::Model& m) {
    if (m.input() != nullptr) quant(m.input()->quant());
    for (const fb::Tensor* t : *m.tensors()) {
      if (t->scales() != nullptr) quant_params += t->scales()->size() * sizeof(float);
    }
    for (const fb::Buffer* b : *m.buffers()) weights += b->data()->size();
    for (const fb::Layer* l : *m.layers()) layer(*l);
  }

  size_t weights = 0;
  size_t quant_params = 0;

 private:
  void quant(const fb::QuantParams* q) { quant_params += q != nullptr ? 1 + 4 + 4 : 0; }
  void requant(const fb::Requant* r) {
    if (r == nullptr) return;
    quant_params +=
        4 * ((r->multiplier() ? r->multiplier()->size() : 0) + (r->shift() ? r->shift()->size() : 0));
  }
  void dense(const fb::Dense* d) {
    if (d == nullptr) return;
    requant(d->requant());
    if (const fb::BatchNorm* bn = d->batch_norm())
      weights += (bn->mean()->size() + bn->var()->size() + bn->gamma()->size() + bn->beta()->size()) * 4;
  }
  void layer(const fb::Layer& l) {
    quant(l.output());
    quant(l.aggregation());
    switch (l.options_type()) {
      case fb::LayerOptions::LinearOptions:
        dense(l.options_as_LinearOptions()->dense());
        return;
      case fb::LayerOptions::GCNConvOptions: {
        const auto* o = l.options_as_GCNConvOptions();
        dense(o->dense());
        requant(o->aggregation_requant());
        quant(o->message());
        return;
      }
      case fb::LayerOptions::SAGEConvOptions: {
        const auto* o = l.options_as_SAGEConvOptions();
        dense(o->neighbor());
        dense(o->root());
        requant(o->aggregation_requant());
        quant(o->message());
        requant(o->output_requant());
        return;
      }
      case fb::LayerOptions::GINConvOptions: {
        const auto* o = l.options_as_GINConvOptions();
        for (const fb::Dense* d : *o->mlp()) dense(d);
        if (o->hidden() != nullptr) {
          for (const fb::QuantParams* q : *o->hidden()) quant(q);
        }
        requant(o->aggregation_requant());
        return;
      }
      case fb::LayerOptions::GATConvOptions: {
        const auto* o = l.options_as_GATConvOptions();
        dense(o->dense());
        quant(o->message());
        quant(o->logit());
        requant(o->logit_requant());
        requant(o->logit_negative_requant());
        requant(o->output_requant());
        if (o->exp_table() != nullptr) quant_params += o->exp_table()->size() * sizeof(uint16_t);
        return;
      }
      case fb::LayerOptions::GlobalPoolOptions:
        requant(l.options_as_GlobalPoolOptions()->requant());
        return;
      case fb::LayerOptions::NONE:
        break;
    }
    ADD_FAILURE() << "no walk for " << fb::EnumNameLayerOptions(l.options_type());
  }
};

std::vector<ModelFile> every_kind_files_with_batch_norm() {
  cv::Result<std::vector<ModelFile>> files = every_kind_model_files();
  EXPECT_TRUE(files.ok()) << files.error;
  // A float model with an unfolded BatchNorm: its vectors are weights too.
  for (const ModelFile& f : files.value) {
    if (f.desc.quantized || f.desc.layers.front().kind != cv::LayerKind::kGcnConv) continue;
    ModelFile with_norm = f;
    with_norm.desc.name += "-batch-norm";
    cv::DenseDesc& dense = with_norm.desc.layers.front().dense;
    const size_t n = static_cast<size_t>(dense.out_features);
    dense.batch_norm = cv::BatchNormDesc{std::vector<float>(n, 0.1f), std::vector<float>(n, 2.0f),
                                         std::vector<float>(n, 0.5f), std::vector<float>(n, -0.1f), 1e-5f};
    const cv::Result<std::vector<uint8_t>> bytes = cv::serialize_model(with_norm.desc);
    EXPECT_TRUE(bytes.ok()) << bytes.error;
    with_norm.bytes = bytes.value;
    files.value.push_back(std::move(with_norm));
    break;
  }
  return files.value;
}

TEST(ModelBytes, EveryLayerKindIsCounted) {
  std::set<std::string> counted;
  size_t batch_norm_models = 0;
  for (const ModelFile& f : every_kind_files_with_batch_norm()) {
    SCOPED_TRACE(f.label());
    ModelBytes bytes;
    std::string error;
    ASSERT_TRUE(analyze_model_bytes(f.bytes.data(), f.bytes.size(), &bytes, &error)) << error;
    const FileWalk walk(*fb::GetModel(f.bytes.data()));
    EXPECT_EQ(bytes.total, f.bytes.size());
    EXPECT_EQ(bytes.weights, walk.weights);
    EXPECT_EQ(bytes.quant_params, walk.quant_params);
    if (!f.desc.quantized) {
      EXPECT_EQ(bytes.quant_params, 0u);
    }
    EXPECT_EQ(bytes.weights + bytes.quant_params + bytes.structure, bytes.total);
    ASSERT_EQ(bytes.layer_kinds.size(), f.desc.layers.size());
    ASSERT_EQ(bytes.layer_names.size(), f.desc.layers.size());
    for (size_t i = 0; i < f.desc.layers.size(); ++i) {
      EXPECT_EQ(bytes.layer_names[i], f.desc.layers[i].name);
      EXPECT_EQ(bytes.layer_kinds[i], cv::layer_traits(f.desc.layers[i].kind).name);
      counted.insert(bytes.layer_kinds[i]);
    }
    batch_norm_models += f.desc.layers.front().dense.batch_norm.has_value();
  }
  EXPECT_EQ(batch_norm_models, 1u);
  std::set<std::string> kinds;
  for (const cv::LayerKindTraits& t : cv::all_layer_kinds()) kinds.insert(t.name);
  EXPECT_EQ(counted, kinds);
}

// A transform-first layer's messages are quantization parameters like any other activation's (the split once
// left them, and a transform-first SAGEConv's output requant, in the structure).
TEST(ModelBytes, TransformFirstMessagesAreQuantizationParameters) {
  cv::Result<std::vector<ModelFile>> files = every_kind_model_files();
  ASSERT_TRUE(files.ok()) << files.error;
  size_t checked = 0;
  for (const ModelFile& f : files.value) {
    if (!f.desc.quantized || f.desc.layers[0].order != cv::LayerOrder::kTransformFirst) continue;
    ModelBytes transform_first;
    std::string error;
    ASSERT_TRUE(analyze_model_bytes(f.bytes.data(), f.bytes.size(), &transform_first, &error)) << error;
    // The same numbers aggregate-first: GCNConv's messages replace its aggregation, SAGEConv adds messages
    // (9 bytes) and a one-entry output requant (8 bytes) to its aggregation.
    cv::ModelDesc desc = f.desc;
    desc.layers[0].order = desc.layers[1].order = cv::LayerOrder::kAggregateFirst;
    desc.layers[1].output_requant = {};
    const cv::Result<std::vector<uint8_t>> aggregate_first = cv::serialize_model(desc);
    ASSERT_TRUE(aggregate_first.ok()) << aggregate_first.error;
    ModelBytes bytes;
    ASSERT_TRUE(
        analyze_model_bytes(aggregate_first.value.data(), aggregate_first.value.size(), &bytes, &error))
        << error;
    EXPECT_EQ(transform_first.quant_params, bytes.quant_params + 9 + 8) << f.label();
    ++checked;
  }
  EXPECT_EQ(checked, 2u);  // 8 and 4 bits
}

TEST(ModelBytes, HostileBytesGiveAnError) {
  cv::Result<std::vector<ModelFile>> files = every_kind_model_files();
  ASSERT_TRUE(files.ok()) << files.error;
  const std::vector<uint8_t>& good = files.value[1].bytes;
  const auto analyze = [](const std::vector<uint8_t>& bytes) {
    ModelBytes split;
    std::string error;
    EXPECT_FALSE(analyze_model_bytes(bytes.data(), bytes.size(), &split, &error));
    EXPECT_FALSE(error.empty());
    return error;
  };
  EXPECT_NE(analyze({}).find("too small"), std::string::npos);
  EXPECT_NE(analyze(std::vector<uint8_t>(good.begin(), good.begin() + good.size() / 2)).find("verifier"),
            std::string::npos);
  std::vector<uint8_t> bad_index = good;
  fb::GetMutableModel(bad_index.data())->mutable_tensors()->GetMutableObject(0)->mutate_buffer(999);
  EXPECT_NE(analyze(bad_index).find("buffer index 999 out of range"), std::string::npos);
}

}  // namespace
}  // namespace testing
}  // namespace tools
}  // namespace qgnn
