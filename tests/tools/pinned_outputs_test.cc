// Pins the integer outputs: the sha256 of every logit qgnn-run produces (its "outputs_sha256") for the
// bundled INT8 MUTAG GIN, for `qgnn-convert --bits 8` / `--bits 4` of the bundled float MUTAG GIN, and for
// the tools tests' random models of every layer kind (and their conversions). A refactoring that must not
// move numerics (kernels, ops, planner, converter) leaves every hash here unchanged; a deliberate change of
// the numerics updates them in the same commit and says why.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "qgnn/converter/model_builder.h"
#include "test_files.h"
#include "test_models.h"
#include "tool_runner.h"

namespace qgnn {
namespace tools {
namespace testing {
namespace {

using nlohmann::json;

const std::string kModels = QGNN_MODELS_DIR;

class PinnedOutputs : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { files_ = new TestFiles(write_test_files()); }
  static void TearDownTestSuite() {
    std::error_code ignored;
    std::filesystem::remove_all(files_->dir, ignored);
    delete files_;
    files_ = nullptr;
  }
  static const TestFiles& files() { return *files_; }

  // qgnn-convert `float_model` on `calibration` with `--bits bits` (a width or a SPEC) into the scratch
  // directory.
  static std::string convert(const std::string& float_model, const std::string& calibration,
                             const std::string& bits, const std::string& name,
                             const std::vector<std::string>& extra = {}) {
    const std::string out = files_->dir + "/" + name;
    std::vector<std::string> args = {float_model, "--calib", calibration, "--bits", bits, "-o", out};
    args.insert(args.end(), extra.begin(), extra.end());
    const ToolResult r = run_tool(QGNN_CONVERT_PATH, args, files_->dir);
    EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    return out;
  }

  // outputs_sha256 of qgnn-run over every graph (or node) of `data`, reference kernels and then the fastest
  // ISA of this machine: both must agree before the hash is compared.
  static std::string outputs_sha256(const std::string& model, const std::string& data) {
    std::string hash;
    for (const char* isa : {"reference", ""}) {
      std::vector<std::string> args = {model, data, "--json", "--split", "all"};
      if (isa[0] != '\0') {
        args.push_back("--isa");
        args.push_back(isa);
      }
      const ToolResult r = run_tool(QGNN_RUN_PATH, args, files_->dir);
      EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe();
      const json j = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded() || !j.contains("outputs_sha256")) {
        ADD_FAILURE() << "qgnn-run printed no outputs_sha256:\n" << r.out;
        return "";
      }
      const std::string h = j["outputs_sha256"].get<std::string>();
      if (!hash.empty()) {
        EXPECT_EQ(h, hash) << model << ": isa " << j["isa"] << " differs from reference";
      }
      hash = h;
    }
    return hash;
  }

 private:
  static TestFiles* files_;
};
TestFiles* PinnedOutputs::files_ = nullptr;

TEST_F(PinnedOutputs, BundledMutagInt8) {
  EXPECT_EQ(outputs_sha256(kModels + "/mutag_gin_int8.qgnn", kModels + "/mutag.qgd"),
            "dbb2e1d0ac1124a5dc5aca2d82b8ba27736e8a587f0343f573e779c09a33ade9");
}

// The conversions below moved once, on purpose (issue 13), and only through calibration: Pauta's default k is
// now 5 for 8-bit activations (3 for 4-bit ones, as before), so the 8-bit activations - every one of an INT8
// conversion, the logits of an INT4 one - get wider ranges. The bundled model files (above) did not move, and
// the runtime's arithmetic did not change.
TEST_F(PinnedOutputs, ConvertedMutagInt8) {
  const std::string model =
      convert(kModels + "/mutag_gin_f32.qgnn", kModels + "/mutag.qgd", "8", "mutag8.qgnn");
  EXPECT_EQ(outputs_sha256(model, kModels + "/mutag.qgd"),
            "a73e40a52deb5d408eae477ce82bb1425db13d0a5305ca736a68c9df9c5d89c5");
}

// A bare 4 moved when it began leaving the aggregations, the input and the first layer's weights at 8 bits
// (issue 13); naming them at 4 bits gives the hash every component at 4 bits always gave, so the kernels'
// numerics did not move.
TEST_F(PinnedOutputs, ConvertedMutagInt4) {
  const std::string model =
      convert(kModels + "/mutag_gin_f32.qgnn", kModels + "/mutag.qgd", "4", "mutag4.qgnn");
  EXPECT_EQ(outputs_sha256(model, kModels + "/mutag.qgd"),
            "5a6731d856eced0d875d158170fd27c538e264ad86db893d59980f84b9534049");
  const std::string all4 = convert(kModels + "/mutag_gin_f32.qgnn", kModels + "/mutag.qgd",
                                   "*=4,*.w=4,*.agg=4,input=4", "mutag_all4.qgnn");
  EXPECT_EQ(outputs_sha256(all4, kModels + "/mutag.qgd"),
            "e9c9bb9a418c60ca54138854f7c38d8e206f1855c7b8ff7dfbf1c87451cd75d5");
}

// Every layer kind (GCNConv, SAGEConv with a root, GINConv, GlobalPool, Linear) with random parameters.
TEST_F(PinnedOutputs, RandomModelsOfEveryKind) {
  EXPECT_EQ(outputs_sha256(files().graph_int8, files().graph_data),
            "e34c18270c3ada60bd146e66051bc49f9a1cdf71f633a4be42f914fd55ca4839");
  EXPECT_EQ(outputs_sha256(files().graph_int4, files().graph_data),
            "869c4897ac45d6d0cd617200f0fe71e4ce8a4b877f30c30671252cd94adfaa78");
  EXPECT_EQ(outputs_sha256(files().node_int8, files().node_data),
            "659b0a138b6612a1732bbe6aba369a229f2ebacac534643f9f6a069189bc197b");
}

// Moved with Pauta's k at 8 bits (issue 13, see ConvertedMutagInt8); the 4-bit ones with the bare width's
// 8-bit aggregations, input and first-layer weights (see ConvertedMutagInt4).
// SAGE layers aggregate first here, as every conversion did before transform-first SAGEConv: auto now runs
// the node model's narrowing SAGE (8 -> 3) transform-first (ConvertedTransformFirstSage pins that).
TEST_F(PinnedOutputs, ConvertedRandomModelsOfEveryKind) {
  const std::vector<std::string> order = {"--order", "SAGEConv=aggregate-first"};
  for (int bits : {8, 4}) {
    const std::string graph = convert(files().graph_f32, files().graph_data, std::to_string(bits),
                                      "graph" + std::to_string(bits) + ".qgnn", order);
    const std::string node = convert(files().node_f32, files().node_data, std::to_string(bits),
                                     "node" + std::to_string(bits) + ".qgnn", order);
    EXPECT_EQ(outputs_sha256(graph, files().graph_data),
              bits == 8 ? "13b8f1751ef45e14fa411accbfe60777234c9d8b3117168961bec7da6d3554e2"
                        : "cfe895bf86199116ddc8b8d812b5a02e7188d749c423310ed01f9be1904c6d77");
    EXPECT_EQ(outputs_sha256(node, files().node_data),
              bits == 8 ? "aa4159b64c7714f823d8a246424db73c1eb1e8a92864bbd0468fcfde40140b8d"
                        : "8faf4fc126011f4adcdfc74c9a62b04e1ad7159bd8b40b7f9bc1ebe5d59eadc4");
  }
}

// Transform-first GCNConv (issue 14): the random node and graph models converted with every GCN layer
// transform-first, 8 and 4 bits (the 4-bit ones moved when transform-first messages began staying 8 bits, and
// again with the bare width's 8-bit aggregations, input and first-layer weights).
// Their SAGE layers stay as auto puts them (aggregate-first: 7 -> 9 widens, 8 -> 3 is pinned below).
TEST_F(PinnedOutputs, ConvertedTransformFirst) {
  for (int bits : {8, 4}) {
    const std::vector<std::string> order = {"--order", "GCNConv=transform-first,SAGEConv=aggregate-first"};
    const std::string b = std::to_string(bits);
    const std::string graph =
        convert(files().graph_f32, files().graph_data, b, "graph_tf" + b + ".qgnn", order);
    const std::string node = convert(files().node_f32, files().node_data, b, "node_tf" + b + ".qgnn", order);
    EXPECT_EQ(outputs_sha256(graph, files().graph_data),
              bits == 8 ? "d66fe0f2fa7ccb13d680fb84b9257453324089f0cbb817675a1e701aff9014ab"
                        : "54120435f71dad71200fe1e15e6b30fbd0a32756bcb792116c49b0bdc6099c1c");
    EXPECT_EQ(outputs_sha256(node, files().node_data),
              bits == 8 ? "2f4a44243fda9a3ef140b5d51da65e237cdd6e84f67a95559f29a211839a487b"
                        : "0d0eb847e07eedfba487e350b786d92a750654ec45396772f6b89e4aa63b9ca7");
  }
}

// Transform-first SAGEConv (MEAN, with root): the random node model's SAGE layer (8 -> 3) converted
// transform-first, its GCN layer aggregate-first, 8 and 4 bits.
TEST_F(PinnedOutputs, ConvertedTransformFirstSage) {
  for (int bits : {8, 4}) {
    const std::vector<std::string> order = {"--order", "GCNConv=aggregate-first,SAGEConv=transform-first"};
    const std::string node = convert(files().node_f32, files().node_data, std::to_string(bits),
                                     "node_sage_tf" + std::to_string(bits) + ".qgnn", order);
    EXPECT_EQ(outputs_sha256(node, files().node_data),
              bits == 8 ? "622874a5d5d7364cebaffedc7052bf3753285e3d2c10c73bb28770457c370b4d"
                        : "cf4ca6490faa27c805cc5378efd92e0e348feb1dd0d8e87782132948e7c90241");
  }
}

// Explicit dataflow (Layer.inputs): a random quantized model with skip connections, and its conversion. The
// skip model's SAGE layer reads the model input and feeds nothing, so the model must give exactly the bytes
// of the chain without it (gcn -> gin -> pool -> linear, same parameters): the runtime routes each layer to
// the output it names and keeps that output alive until read.
TEST_F(PinnedOutputs, SkipConnectionsRunAsTheChainTheyDescribe) {
  namespace ct = converter::testing;
  std::mt19937 rng(2024);
  const converter::ModelDesc skip_f32 = ct::skip_connection_float_model(rng);
  const converter::ModelDesc skip = ct::random_quantized_copy(skip_f32, 8, rng);
  converter::ModelDesc chain = skip;
  chain.layers.erase(chain.layers.begin() + 1);
  for (converter::LayerDesc& layer : chain.layers) layer.inputs.clear();
  auto write = [&](const converter::ModelDesc& m, const std::string& name) {
    const auto bytes = converter::serialize_model(m);
    EXPECT_TRUE(bytes.ok()) << bytes.error;
    const std::string path = files().dir + "/" + name;
    EXPECT_TRUE(converter::write_file_atomic(path, bytes.value).ok());
    return path;
  };
  const std::string skip_path = write(skip, "skip8.qgnn");
  const std::string chain_path = write(chain, "chain8.qgnn");
  const std::string skip_hash = outputs_sha256(skip_path, files().graph_data);
  EXPECT_EQ(skip_hash, outputs_sha256(chain_path, files().graph_data));
  EXPECT_EQ(skip_hash, "5303bb78d88806dd9a6fc45cf892bc32daf53e7cf333b28f662fe71858e6b20a");
  // qgnn-convert keeps the dataflow: calibration, quantization and the overflow proof follow the inputs
  // (moved with Pauta's k at 8 bits, issue 13).
  const std::string converted =
      convert(write(skip_f32, "skip_f32.qgnn"), files().graph_data, "8", "skip_converted8.qgnn");
  EXPECT_EQ(outputs_sha256(converted, files().graph_data),
            "ea463e7e09455d962d88147bcf1eb88f38e935c652e256063cfe4163ebfe1503");
}

}  // namespace
}  // namespace testing
}  // namespace tools
}  // namespace qgnn
