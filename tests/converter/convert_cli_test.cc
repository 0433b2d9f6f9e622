// qgnn-convert end to end: writes a valid quantized model; every error goes to stderr with a non-zero
// exit status and leaves no output file.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "qgnn/converter/dataset.h"
#include "qgnn/converter/model_builder.h"
#include "test_models.h"

namespace qgnn {
namespace converter {
namespace {

struct CliResult {
  int status = -1;
  std::string out;
  std::string err;
};

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class ConvertCli : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/qgnn-convert-cli-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    std::mt19937 rng(51);
    float_model_ = testing::all_kinds_float_model(rng);
    ASSERT_TRUE(write_file_atomic(path("float.qgnn"), serialize_model(float_model_).value).ok());
    // A data set of 20 graphs with 5 features, train = the first 12.
    const testing::RandomGraphs g = testing::random_graphs(20, 2, 10, 3, 5, rng);
    GraphSetDesc set;
    set.name = "random";
    set.feature_dim = 5;
    set.num_classes = 3;
    set.graph_ptr = g.graph_ptr;
    set.row_ptr = g.row_ptr;
    set.col_idx = g.col_idx;
    set.features = g.features;
    set.labels.assign(20, 1);
    for (uint32_t k = 0; k < 12; ++k) set.train.push_back(k);
    const auto set_bytes = serialize_graph_set(set);
    ASSERT_TRUE(set_bytes.ok()) << set_bytes.error;
    ASSERT_TRUE(write_file_atomic(path("data.qgd"), set_bytes.value).ok());
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  CliResult run(const std::string& args) const {
    const std::string command =
        std::string(QGNN_CONVERT_PATH) + " " + args + " >" + path("stdout") + " 2>" + path("stderr");
    CliResult r;
    const int raw = std::system(command.c_str());
    r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    r.out = slurp(path("stdout"));
    r.err = slurp(path("stderr"));
    return r;
  }

  bool exists(const std::string& name) const {
    struct stat info {};
    return ::stat(path(name).c_str(), &info) == 0;
  }

  std::string dir_;
  ModelDesc float_model_;
};

TEST_F(ConvertCli, QuantizesToInt8) {
  const CliResult r =
      run(path("float.qgnn") + " --calibration " + path("data.qgd") + " -o " + path("int8.qgnn"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("calibrated on 12 graphs"), std::string::npos) << r.out;
  const auto bytes = read_file(path("int8.qgnn"));
  ASSERT_TRUE(bytes.ok());
  const auto model = parse_model(bytes.value);
  ASSERT_TRUE(model.ok()) << model.error;
  EXPECT_TRUE(model.value.quantized);
  EXPECT_TRUE(check_model(model.value).ok());
  for (const LayerDesc& l : model.value.layers) EXPECT_EQ(l.output.bits, 8);
  EXPECT_EQ(model.value.layers[0].dense.weight_bits, 8);
}

TEST_F(ConvertCli, Int4KeepsInt8LogitsAndHonoursComponentFlags) {
  const CliResult r = run(path("float.qgnn") + " --calibration " + path("data.qgd") +
                          " --split all --bits 4 --aggregation-bits 8 -o " + path("int4.qgnn"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("calibrated on 20 graphs"), std::string::npos) << r.out;
  const auto model = parse_model(read_file(path("int4.qgnn")).value);
  ASSERT_TRUE(model.ok()) << model.error;
  EXPECT_EQ(model.value.input_quant.bits, 4);
  EXPECT_EQ(model.value.layers[0].dense.weight_bits, 4);
  EXPECT_EQ(model.value.layers[0].aggregation.bits, 8);
  EXPECT_EQ(model.value.layers[0].output.bits, 4);
  EXPECT_EQ(model.value.layers.back().output.bits, 8);
}

TEST_F(ConvertCli, ErrorsGoToStderrWithoutOutput) {
  struct Case {
    std::string args;
    std::string message;
  };
  ASSERT_TRUE(write_file_atomic(path("garbage.qgnn"), {1, 2, 3, 4, 5, 6, 7, 8, 9}).ok());
  ModelDesc wrong_dim = float_model_;
  wrong_dim.input_dim = 4;
  std::mt19937 rng(52);
  wrong_dim.layers[0] = testing::gcn_layer(4, 7, true, rng);
  ASSERT_TRUE(write_file_atomic(path("dim4.qgnn"), serialize_model(wrong_dim).value).ok());
  ASSERT_TRUE(write_file_atomic(path("q.qgnn"),
                                serialize_model(testing::random_quantized_copy(float_model_, 8, rng)).value)
                  .ok());
  const std::string data = " --calibration " + path("data.qgd");
  const std::string out = " -o " + path("out.qgnn");
  for (const Case& c : {
           Case{path("missing.qgnn") + data + out, "missing.qgnn"},
           Case{path("garbage.qgnn") + data + out, "QGNN"},
           Case{path("q.qgnn") + data + out, "already quantized"},
           Case{path("dim4.qgnn") + data + out, "the model expects 4"},
           Case{path("float.qgnn") + " --calibration " + path("float.qgnn") + out, "QGD1"},
           Case{path("float.qgnn") + data + " --split val" + out, "split \"val\""},
           Case{path("float.qgnn") + data + " --bits 6" + out, "--bits"},
           Case{path("float.qgnn") + data, "--output"},
       }) {
    SCOPED_TRACE(c.args);
    const CliResult r = run(c.args);
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_FALSE(exists("out.qgnn"));
  }
  const CliResult unwritable = run(path("float.qgnn") + data + " -o /proc/qgnn-convert-test.qgnn");
  EXPECT_EQ(unwritable.status, 1);
  EXPECT_NE(unwritable.err.find("qgnn-convert: error:"), std::string::npos) << unwritable.err;
}

}  // namespace
}  // namespace converter
}  // namespace qgnn
