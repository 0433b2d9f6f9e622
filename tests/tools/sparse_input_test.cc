// Issue 13's sparse-input fixture, end to end through qgnn-convert and qgnn-run: a bag-of-words node
// classification set below 1 % density, converted at INT4 with --calibration percentile, keeps an input range
// over its non-zero values, a sane input SQNR and the float model's accuracy; an input that calibrates to
// nothing but zeros warns (stderr and report) and fails under --strict with nothing written.
//
// The data and the float model are built here (no training): 4 classes, each owning a block of 250 of the
// 1000 words; a node holds 8 distinct words (6 of its class, 2 anywhere; 0.8 % density) with random term
// weights, normalised to sum 1 (values ~ 0.04 .. 0.3, like row-normalised bag-of-words features). The model
// is GCN(1000 -> 8, ReLU) -> Linear(8 -> 4): hidden unit h counts the words of block h / 2 around a node.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "qgnn/converter/activation_check.h"
#include "qgnn/converter/dataset.h"
#include "qgnn/converter/model_builder.h"
#include "test_models.h"
#include "tool_runner.h"

namespace qgnn {
namespace tools {
namespace testing {
namespace {

namespace qc = ::qgnn::converter;
using nlohmann::json;

constexpr int kNodes = 400, kWords = 1000, kClasses = 4, kBlock = kWords / kClasses, kHidden = 8;

qc::GraphSetDesc bag_of_words_set(bool all_zero) {
  std::mt19937 rng(13);
  qc::GraphSetDesc set;
  set.name = all_zero ? "zeros" : "bag-of-words";
  set.task = qc::Task::kNodeClassification;
  set.feature_dim = kWords;
  set.num_classes = kClasses;
  set.graph_ptr = {0, kNodes};
  set.features.assign(static_cast<size_t>(kNodes) * kWords, 0.0f);
  std::uniform_int_distribution<int> any_word(0, kWords - 1), block_word(0, kBlock - 1), tf(1, 4);
  for (int n = 0; n < kNodes; ++n) {
    const int c = n % kClasses;
    set.labels.push_back(c);
    std::vector<int> words;
    while (words.size() < 8) {
      const int w = words.size() < 6 ? c * kBlock + block_word(rng) : any_word(rng);
      if (std::find(words.begin(), words.end(), w) == words.end()) words.push_back(w);
    }
    std::vector<float> weight;
    float sum = 0.0f;
    for (size_t k = 0; k < words.size(); ++k) sum += weight.emplace_back(static_cast<float>(tf(rng)));
    for (size_t k = 0; k < words.size(); ++k)
      set.features[static_cast<size_t>(n) * kWords + static_cast<size_t>(words[k])] =
          all_zero ? 0.0f : weight[k] / sum;
  }
  // Each node's in-neighbours: 3 of its class, 1 anywhere (a homophilous graph).
  std::uniform_int_distribution<int> any_node(0, kNodes - 1), same(0, kNodes / kClasses - 1);
  set.row_ptr.push_back(0);
  for (int n = 0; n < kNodes; ++n) {
    for (int k = 0; k < 4; ++k) {
      int m = k < 3 ? (n % kClasses) + kClasses * same(rng) : any_node(rng);
      if (m == n) m = (n + kClasses) % kNodes;
      set.col_idx.push_back(m);
    }
    set.row_ptr.push_back(static_cast<int32_t>(set.col_idx.size()));
  }
  for (uint32_t n = 0; n < static_cast<uint32_t>(kNodes); ++n)
    (n % 5 == 0 ? set.test : set.train).push_back(n);
  set.description = "synthetic bag-of-words written by sparse_input_test";
  return set;
}

qc::ModelDesc bag_of_words_model() {
  std::mt19937 rng(5);
  qc::ModelDesc m;
  m.name = "bag-of-words-gcn";
  m.task = qc::Task::kNodeClassification;
  m.input_dim = kWords;
  m.class_names = {"a", "b", "c", "d"};
  m.layers.push_back(qc::testing::gcn_layer(kWords, kHidden, true, rng));
  m.layers.push_back(qc::testing::linear_layer(kHidden, kClasses, false, rng));
  std::uniform_real_distribution<float> noise(-0.2f, 0.2f);
  qc::DenseDesc& gcn = m.layers[0].dense;
  for (int h = 0; h < kHidden; ++h) {
    for (int w = 0; w < kWords; ++w)
      gcn.weight[static_cast<size_t>(h) * kWords + w] = (w / kBlock == h / 2 ? 4.0f : 0.0f) + noise(rng);
    gcn.bias[static_cast<size_t>(h)] = 0.0f;
  }
  qc::DenseDesc& fc = m.layers[1].dense;
  for (int c = 0; c < kClasses; ++c) {
    for (int h = 0; h < kHidden; ++h)
      fc.weight[static_cast<size_t>(c) * kHidden + h] = h / 2 == c ? 1.0f : -0.3f;
    fc.bias[static_cast<size_t>(c)] = 0.0f;
  }
  return m;
}

class SparseInput : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/qgnn-sparse-input-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = new std::string(pattern);
    ASSERT_TRUE(
        qc::write_file_atomic(path("f32.qgnn"), qc::serialize_model(bag_of_words_model()).value).ok());
    for (bool zeros : {false, true}) {
      const auto bytes = qc::serialize_graph_set(bag_of_words_set(zeros));
      ASSERT_TRUE(bytes.ok()) << bytes.error;
      ASSERT_TRUE(qc::write_file_atomic(path(zeros ? "zeros.qgd" : "bow.qgd"), bytes.value).ok());
    }
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    std::filesystem::remove_all(*dir_, ignored);
    delete dir_;
    dir_ = nullptr;
  }
  static std::string path(const std::string& name) { return *dir_ + "/" + name; }

  static ToolResult convert(const std::string& data, const std::vector<std::string>& extra,
                            const std::string& out) {
    std::vector<std::string> args = {
        path("f32.qgnn"), "--calib",  path(data),          "--bits", "4",      "--calibration",
        "percentile",     "--report", path(out + ".json"), "-o",     path(out)};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_tool(QGNN_CONVERT_PATH, args, *dir_);
  }

  static double accuracy(const std::string& model) {
    const ToolResult r =
        run_tool(QGNN_RUN_PATH, {path(model), path("bow.qgd"), "--json", "--split", "all"}, *dir_);
    EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    return json::parse(r.out)["accuracy"].get<double>();
  }

  static json read_json(const std::string& name) {
    std::ifstream f(path(name));
    std::stringstream s;
    s << f.rdbuf();
    return json::parse(s.str());
  }

  static std::string* dir_;
};

std::string* SparseInput::dir_ = nullptr;

TEST_F(SparseInput, DataSetIsBelowOnePercentDense) {
  const qc::GraphSetDesc set = bag_of_words_set(false);
  const auto nonzero =
      std::count_if(set.features.begin(), set.features.end(), [](float x) { return x != 0; });
  EXPECT_LT(static_cast<double>(nonzero) / static_cast<double>(set.features.size()), 0.01);
}

TEST_F(SparseInput, Int4PercentileKeepsTheNonZeroValuesAndTheAccuracy) {
  const ToolResult r = convert("bow.qgd", {}, "int4.qgnn");
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
  EXPECT_EQ(r.err.find("WARNING"), std::string::npos) << r.err;
  const json report = read_json("int4.qgnn.json");
  const json& in = report["input"][0];
  // The range covers the non-zero values: not the collapsed [0, 0], not an invented [0, 1].
  EXPECT_GT(in["range_max"].get<double>(), 0.2);
  EXPECT_LT(in["range_max"].get<double>(), in["observed_max"].get<double>() + 0.05);
  EXPECT_EQ(in["range_min"].get<double>(), 0.0);
  EXPECT_GT(in["zero_fraction"].get<double>(), 0.99);
  EXPECT_GE(in["sqnr_db"].get<double>(), qc::default_min_sqnr_db(4) + 5.0);
  EXPECT_TRUE(in["warning"].is_null());
  EXPECT_TRUE(report["warnings"].empty()) << report["warnings"].dump();
  const double f32 = accuracy("f32.qgnn");
  EXPECT_GT(f32, 0.9);  // the fixture model works
  EXPECT_GE(accuracy("int4.qgnn"), f32 - 0.03);
}

TEST_F(SparseInput, AnAllZeroInputWarnsAndStrictWritesNothing) {
  const ToolResult r = convert("zeros.qgd", {}, "zeros.qgnn");
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
  EXPECT_NE(r.err.find("WARNING: input: degenerate range"), std::string::npos) << r.err;
  const json report = read_json("zeros.qgnn.json");
  EXPECT_TRUE(report["input"][0]["degenerate"].get<bool>());
  EXPECT_FALSE(report["input"][0]["warning"].is_null());
  ASSERT_FALSE(report["warnings"].empty());
  EXPECT_EQ(report["warnings"][0].get<std::string>().rfind("input: degenerate range", 0), 0u);

  const ToolResult strict = convert("zeros.qgd", {"--strict"}, "strict.qgnn");
  EXPECT_TRUE(strict.exited);
  EXPECT_EQ(strict.exit_code, 1) << strict.describe();
  EXPECT_NE(strict.err.find("--strict"), std::string::npos) << strict.err;
  EXPECT_NE(strict.err.find("input: degenerate range"), std::string::npos) << strict.err;
  EXPECT_FALSE(std::filesystem::exists(path("strict.qgnn")));
  EXPECT_FALSE(std::filesystem::exists(path("strict.qgnn.json")));
}

TEST_F(SparseInput, MinSqnrAboveWhatInt4CanReachWarnsAndFailsUnderStrict) {
  const ToolResult r = convert("bow.qgd", {"--min-sqnr", "60", "--strict"}, "min.qgnn");
  EXPECT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_NE(r.err.find("input: SQNR"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("below 60.0 dB"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(path("min.qgnn")));
  // Without --strict the same conversion warns and writes.
  const ToolResult warned = convert("bow.qgd", {"--min-sqnr", "60"}, "min.qgnn");
  ASSERT_TRUE(warned.exited && warned.exit_code == 0) << warned.describe();
  EXPECT_NE(warned.err.find("WARNING: input: SQNR"), std::string::npos) << warned.err;
  EXPECT_TRUE(std::filesystem::exists(path("min.qgnn")));
}

}  // namespace
}  // namespace testing
}  // namespace tools
}  // namespace qgnn
