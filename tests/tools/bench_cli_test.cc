// End-to-end tests of qgnn-bench on the random models of the tools tests: the JSON report's structure (one
// stage per layer plus input and logits, the byte split adding up, ratios against the first model), the
// profiler's stages fitting inside the measured invoke, and clean failures on bad input.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_files.h"
#include "tool_runner.h"

namespace qgnn {
namespace tools {
namespace testing {
namespace {

using nlohmann::json;

class BenchToolTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { files_ = new TestFiles(write_test_files()); }
  static void TearDownTestSuite() {
    std::error_code ignored;
    std::filesystem::remove_all(files_->dir, ignored);
    delete files_;
    files_ = nullptr;
  }
  static const TestFiles& files() { return *files_; }
  static ToolResult bench(const std::vector<std::string>& args) {
    return run_tool(QGNN_BENCH_PATH, args, files_->dir);
  }
  static json bench_json(const std::vector<std::string>& args) {
    std::vector<std::string> a = args;
    a.push_back("--json");
    const ToolResult r = bench(a);
    EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    json j = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON:\n" << r.out;
    return j;
  }

 private:
  static TestFiles* files_;
};
TestFiles* BenchToolTest::files_ = nullptr;

void expect_clean_failure(const ToolResult& r, const std::string& what) {
  EXPECT_TRUE(r.exited) << what << ": " << r.describe();
  EXPECT_NE(r.exit_code, 0) << what << ": " << r.describe();
  EXPECT_FALSE(r.err.empty()) << what << ": no message on stderr";
  EXPECT_EQ(r.err.find("Sanitizer"), std::string::npos) << what << ": " << r.describe();
}

TEST_F(BenchToolTest, ComparesModelsInOneRun) {
  const json j = bench_json({files().graph_f32, files().graph_data, files().graph_int8, files().graph_int4,
                             "--warmup", "1", "--repeat", "3", "--batch", "4"});
  ASSERT_TRUE(j.contains("models")) << j.dump(2);
  ASSERT_EQ(j["models"].size(), 3u);
  EXPECT_EQ(j["graphs_per_pass"], 24);
  EXPECT_EQ(j["invokes_per_pass"], 6);  // 24 graphs in batches of 4
  EXPECT_EQ(j["plan"]["max_graphs"], 4);
  for (size_t i = 0; i < 3; ++i) {
    const json& m = j["models"][i];
    // input, every layer, logits; per-stage samples = invokes of the timed passes.
    ASSERT_EQ(m["stages"].size(), files().graph_layers + 2) << m.dump(2);
    EXPECT_EQ(m["stages"].front()["name"], "input");
    EXPECT_EQ(m["stages"].back()["name"], "logits");
    EXPECT_EQ(m["pass_us"].size(), 3u);
    const json& b = m["model_bytes"];
    EXPECT_EQ(b["weights"].get<size_t>() + b["quant_params"].get<size_t>() + b["structure"].get<size_t>(),
              b["total"].get<size_t>());
    EXPECT_GT(b["weights"].get<size_t>(), 0u);
    EXPECT_EQ(b["quant_params"].get<size_t>() > 0, m["quantized"].get<bool>()) << m.dump(2);
    EXPECT_GT(m["arena_bytes"].get<size_t>(), 0u);
    EXPECT_GT(m["graphs_per_s"].get<double>(), 0.0);
    // The stages partition the invoke: their p50s cannot add up to much more than the invoke's max.
    double stages_p50 = 0;
    for (const json& s : m["stages"]) stages_p50 += s["us"]["p50"].get<double>();
    EXPECT_LE(stages_p50, m["invoke_us"]["max"].get<double>() * 1.01 + 1.0) << m.dump(2);
    EXPECT_EQ(m.contains("vs_first"), i > 0);
  }
  // INT8 and INT4 weights are 4x / 8x smaller than FP32's, biases (int32) aside: clearly smaller either way.
  EXPECT_GT(j["models"][1]["vs_first"]["weight_bytes"].get<double>(), 2.0);
  EXPECT_GT(j["models"][2]["vs_first"]["weight_bytes"].get<double>(),
            j["models"][1]["vs_first"]["weight_bytes"].get<double>());
}

TEST_F(BenchToolTest, NodeClassificationRunsTheWholeGraph) {
  const json j = bench_json({files().node_int8, files().node_data, "--repeat", "2", "--threads", "2"});
  EXPECT_EQ(j["invokes_per_pass"], 1);
  EXPECT_EQ(j["graphs_per_pass"], 1);
  EXPECT_EQ(j["nodes_per_pass"], 60);
  EXPECT_EQ(j["options"]["threads"], 2);
}

TEST_F(BenchToolTest, GatStagesAndBytes) {
  const json j = bench_json({files().gat_f32, files().node_data, files().gat_int8, "--repeat", "2"});
  ASSERT_EQ(j["models"].size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const json& m = j["models"][i];
    ASSERT_EQ(m["stages"].size(), 4u) << m.dump(2);
    EXPECT_EQ(m["stages"][1]["kind"], "GATConv");
    EXPECT_EQ(m["stages"][2]["kind"], "GATConv");
    // The weights, attention vectors and biases are counted as weights, the logits' quantization, requants
    // and exp tables (256 uint16 each) as quantization parameters.
    const json& b = m["model_bytes"];
    const size_t float_bytes = (5 * 6 + 6 + 6 + 6) * 4 + (6 * 6 + 6 + 6 + 3) * 4;
    EXPECT_EQ(b["weights"].get<size_t>(), i == 0 ? float_bytes : size_t{5 * 6 + 6 + 6 + 6 * 4 + 6 * 6 + 6 + 6 + 3 * 4});
    if (i == 1) EXPECT_GT(b["quant_params"].get<size_t>(), 2u * 256 * 2);
  }
}

TEST_F(BenchToolTest, TextReportNamesStagesAndRatios) {
  const ToolResult r = bench({files().graph_f32, files().graph_data, files().graph_int8, "--repeat", "1"});
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
  EXPECT_NE(r.out.find("input"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("GINConv"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("vs model 1"), std::string::npos) << r.out;
}

TEST_F(BenchToolTest, FoldSelectsThatFoldsGraphs) {
  const json j = bench_json({files().graph_f32, files().folds_data, "--split", "train", "--fold", "1",
                             "--warmup", "0", "--repeat", "1"});
  EXPECT_EQ(j["options"]["fold"], 1);
  EXPECT_EQ(j["selection"]["fold"], 1);
  EXPECT_EQ(j["selection"]["graphs"], 12);
  EXPECT_EQ(j["graphs_per_pass"], 12);
  const ToolResult stored =
      bench({files().graph_f32, files().folds_data, "--split", "test", "--warmup", "0", "--repeat", "1"});
  ASSERT_EQ(stored.exit_code, 0) << stored.describe();
  EXPECT_NE(stored.err.find("qgnn-bench: note: split test = fold 0's test graphs"), std::string::npos)
      << stored.err;
  EXPECT_NE(stored.out.find("split test (stored): 6 graphs"), std::string::npos) << stored.out;
  const ToolResult none = bench({files().graph_f32, files().graph_data, "--split", "test", "--fold", "0"});
  expect_clean_failure(none, "--fold without a fold array");
  EXPECT_NE(none.err.find("no fold array"), std::string::npos) << none.err;
}

TEST_F(BenchToolTest, BadInputFailsCleanly) {
  expect_clean_failure(bench({files().dir + "/missing.qgnn", files().graph_data}), "missing model");
  expect_clean_failure(bench({files().graph_f32, files().dir + "/missing.qgd"}), "missing data");
  expect_clean_failure(bench({files().graph_f32, files().node_data}), "task mismatch");
  expect_clean_failure(bench({files().graph_f32, files().graph_data, files().node_int8}), "mixed models");
  expect_clean_failure(bench({files().graph_data, files().graph_data}), "data as a model");
  expect_clean_failure(bench({files().graph_f32, files().graph_data, "--repeat", "0"}), "repeat 0");
}

}  // namespace
}  // namespace testing
}  // namespace tools
}  // namespace qgnn
