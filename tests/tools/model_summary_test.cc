// qgnn-inspect's summary (tools/inspect/model_summary.cc), which reads layers through parse_model and the
// layer kind traits: every kind the traits list is described, each fact checked against the description, the
// file and the runtime; hostile bytes give an error, never a crash.
#include "inspect/model_summary.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "every_kind_files.h"
#include "qgnn/converter/layer_kind.h"
#include "qgnn/converter/model_builder.h"
#include "qgnn/schema/qgnn_generated.h"
#include "qgnn/session.hpp"

namespace qgnn {
namespace tools {
namespace testing {
namespace {

namespace cv = ::qgnn::converter;

// What the summary must say of a layer, spelled out per kind here (not read from the traits), so that a kind
// the summary described wrongly fails, and a kind without a case fails too.
struct Expected {
  std::string kind;
  std::string first;  ///< "", "aggregate" or "transform"
  bool message = false;
  bool aggregation = false;
  bool mlp = false;  ///< hidden bits and eps
  bool attention = false;
  bool reduce = false;
};

Expected expected_summary(const cv::LayerDesc& l) {
  const bool transform_first = l.order == cv::LayerOrder::kTransformFirst;
  const std::string first = transform_first ? "transform" : "aggregate";
  switch (l.kind) {
    case cv::LayerKind::kLinear:
      return {"Linear", "", false, false, false, false, false};
    case cv::LayerKind::kGcnConv:  // transform-first: its messages take the aggregation's place
      return {"GCNConv", first, transform_first, !transform_first, false, false, false};
    case cv::LayerKind::kSageConv:  // transform-first: its messages and their mean
      return {"SAGEConv", first, transform_first, true, false, false, true};
    case cv::LayerKind::kGinConv:
      return {"GINConv", "aggregate", false, true, true, false, false};
    case cv::LayerKind::kGlobalPool:
      return {"GlobalPool", "", false, false, false, false, true};
    case cv::LayerKind::kGatConv:
      return {"GATConv", "transform", true, false, false, true, false};
  }
  ADD_FAILURE() << "no expected summary for layer kind " << static_cast<int>(l.kind);
  return {};
}

class ModelSummaryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cv::Result<std::vector<ModelFile>> files = every_kind_model_files();
    ASSERT_TRUE(files.ok()) << files.error;
    files_ = new std::vector<ModelFile>(std::move(files.value));
  }
  static void TearDownTestSuite() {
    delete files_;
    files_ = nullptr;
  }
  static const std::vector<ModelFile>& files() { return *files_; }

  static const ModelFile& first_file(bool quantized, cv::LayerKind kind) {
    for (const ModelFile& f : files()) {
      if (f.desc.quantized == quantized && f.desc.layers.front().kind == kind) return f;
    }
    ADD_FAILURE() << "no such model";
    return files().front();
  }

 private:
  static std::vector<ModelFile>* files_;
};
std::vector<ModelFile>* ModelSummaryTest::files_ = nullptr;

session::Session load(const ModelFile& f) {
  auto loaded = session::Session::load(f.bytes);
  EXPECT_TRUE(loaded.ok()) << f.label() << ": " << loaded.error;
  return std::move(loaded.value);
}

TEST_F(ModelSummaryTest, EveryLayerKindIsSummarized) {
  std::set<std::string> summarized;
  for (const ModelFile& f : files()) {
    SCOPED_TRACE(f.label());
    const session::Session s = load(f);
    ModelSummary summary;
    std::string error;
    ASSERT_TRUE(summarize_model(s.model_data(), s.model_bytes(), s.model().get(), &summary, &error)) << error;
    ASSERT_EQ(summary.layers.size(), f.desc.layers.size());
    EXPECT_EQ(summary.input_bits, f.desc.quantized ? f.desc.input_quant.bits : 32);
    size_t parameter_bytes = 0;
    for (size_t i = 0; i < f.desc.layers.size(); ++i) {
      const cv::LayerDesc& l = f.desc.layers[i];
      const LayerSummary& ls = summary.layers[i];
      const Expected e = expected_summary(l);
      SCOPED_TRACE(l.name);
      summarized.insert(ls.kind);
      EXPECT_EQ(ls.kind, e.kind);
      EXPECT_EQ(ls.name, l.name);
      EXPECT_EQ(ls.first, e.first);
      EXPECT_EQ(ls.message_bits != 0, e.message);
      EXPECT_EQ(ls.aggregation_bits != 0, e.aggregation);
      EXPECT_EQ(ls.output_bits, f.desc.quantized ? l.output.bits : 32);
      if (e.message && f.desc.quantized) {
        const cv::QuantParams& message = l.kind == cv::LayerKind::kGcnConv ? l.aggregation : l.message;
        EXPECT_EQ(ls.message_bits, message.bits);
      }
      if (e.aggregation) {
        EXPECT_EQ(ls.aggregation_bits, f.desc.quantized ? l.aggregation.bits : 32);
      }
      EXPECT_EQ(ls.hidden_bits.has_value(), e.mlp);
      EXPECT_EQ(ls.eps.has_value(), e.mlp);
      if (e.mlp) {
        EXPECT_EQ(ls.hidden_bits->size(), l.mlp.size() - 1);
        EXPECT_EQ(*ls.eps, l.eps);
      }
      EXPECT_EQ(ls.attention.has_value(), e.attention);
      if (e.attention) {
        EXPECT_EQ(ls.attention->heads, static_cast<uint32_t>(l.heads));
        EXPECT_EQ(ls.attention->concat, l.concat);
        EXPECT_EQ(ls.attention->logit_bits, f.desc.quantized ? l.logit.bits : 32);
        EXPECT_EQ(ls.attention->exp_table_entries, f.desc.quantized ? 256u : 0u);
      }
      EXPECT_EQ(!ls.reduce.empty(), e.reduce);
      // One Dense per weight tensor the file stores for the layer; the parameters are the layer's buffers.
      const LayerTensorsInFile in_file = layer_tensors_in_file(f.bytes, l.name);
      EXPECT_EQ(ls.dense.size(), in_file.weights);
      for (const DenseSummary& d : ls.dense) {
        EXPECT_EQ(d.weight_type, !f.desc.quantized ? "FLOAT32" : d.weight_bits == 4 ? "INT4" : "INT8");
      }
      EXPECT_EQ(ls.parameter_bytes, in_file.bytes);
      parameter_bytes += ls.parameter_bytes;
      if (i + 1 < f.desc.layers.size() && f.desc.layers[i + 1].inputs.empty() &&
          !summary.layers[i + 1].dense.empty()) {
        EXPECT_EQ(summary.layers[i + 1].in_features, ls.out_features);
      }
    }
    // The runtime counts the parameters on its own.
    EXPECT_EQ(parameter_bytes, summary.info.parameter_bytes);
    EXPECT_EQ(summary.layers.back().out_features, summary.info.num_classes);
  }
  std::set<std::string> kinds;
  for (const cv::LayerKindTraits& t : cv::all_layer_kinds()) kinds.insert(t.name);
  EXPECT_EQ(summarized, kinds);
}

// The summary re-checks what it follows: handed bytes the runtime would refuse (here with a model the runtime
// did accept), it reports an error instead of reading outside the buffer.
TEST_F(ModelSummaryTest, HostileBytesGiveAnError) {
  const ModelFile& gcn = first_file(/*quantized=*/true, cv::LayerKind::kGcnConv);
  const ModelFile& gat = first_file(/*quantized=*/true, cv::LayerKind::kGatConv);
  const session::Session s = load(gcn);
  const auto summarize = [&s](const std::vector<uint8_t>& bytes) {
    ModelSummary summary;
    std::string error;
    EXPECT_FALSE(summarize_model(bytes.data(), bytes.size(), s.model().get(), &summary, &error));
    EXPECT_FALSE(error.empty());
    return error;
  };
  const auto mutated = [](const std::vector<uint8_t>& bytes, auto mutate) {
    std::vector<uint8_t> copy = bytes;
    mutate(fb::GetMutableModel(copy.data()));
    return copy;
  };
  EXPECT_NE(summarize({}).find("too small"), std::string::npos);
  EXPECT_NE(summarize(std::vector<uint8_t>(gcn.bytes.begin(), gcn.bytes.begin() + gcn.bytes.size() / 2))
                .find("verifier"),
            std::string::npos);
  const std::string weight = summarize(mutated(gcn.bytes, [](fb::Model* m) {
    auto* options =
        static_cast<fb::GCNConvOptions*>(m->mutable_layers()->GetMutableObject(0)->mutable_options());
    options->mutable_dense()->mutate_weight(999);
  }));
  EXPECT_NE(weight.find("tensor index 999 out of range"), std::string::npos) << weight;
  const std::string buffer = summarize(mutated(
      gcn.bytes, [](fb::Model* m) { m->mutable_tensors()->GetMutableObject(0)->mutate_buffer(999); }));
  EXPECT_NE(buffer.find("buffer index 999 out of range"), std::string::npos) << buffer;
  const std::string attention = summarize(mutated(gat.bytes, [](fb::Model* m) {
    static_cast<fb::GATConvOptions*>(m->mutable_layers()->GetMutableObject(0)->mutable_options())
        ->mutate_att_src(-7);
  }));
  EXPECT_NE(attention.find("att_src: tensor index -7 out of range"), std::string::npos) << attention;
  // Layer.inputs naming a later layer, or nothing: parse_model leaves them to check_model, the summary
  // checks.
  for (const int32_t input : {1, 5, -2}) {
    cv::ModelDesc desc = gcn.desc;
    desc.layers[1].inputs = {input};
    const cv::Result<std::vector<uint8_t>> bytes = cv::serialize_model_unchecked(desc);
    ASSERT_TRUE(bytes.ok()) << bytes.error;
    const std::string error = summarize(bytes.value);
    EXPECT_NE(error.find("layer 1: input " + std::to_string(input) + " is neither"), std::string::npos)
        << error;
  }
}

}  // namespace
}  // namespace testing
}  // namespace tools
}  // namespace qgnn
