// Sparse node features through the tools (issue 14): qgnn-convert calibrates on a sparse .qgd (densified),
// and qgnn-run / qgnn-bench hand them to the runtime (Session::bind_sparse) when the set stores them sparse
// and the model accepts them (--input auto|dense|sparse). Dense and sparse input of the same data give the
// same accuracy and the same outputs_sha256, for node classification (the whole graph) and for graph
// classification cut into batches of several graphs (which slice the feature CSR). The JSON says which form
// ran; --input sparse on a model that does not take it is a clear error.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

constexpr int kFeatures = 64, kClasses = 3;

// Random graphs with features at ~10 % density (bag-of-words-like values in (0, 1]); labels random.
qc::GraphSetDesc random_sparse_set(qc::Task task, int graphs, std::mt19937& rng) {
  const qc::testing::RandomGraphs g = qc::testing::random_graphs(graphs, 3, 9, 3, kFeatures, rng);
  qc::GraphSetDesc set;
  set.name = "random-sparse";
  set.task = task;
  set.feature_dim = kFeatures;
  set.num_classes = kClasses;
  set.graph_ptr = task == qc::Task::kNodeClassification ? std::vector<int32_t>{0, g.num_nodes} : g.graph_ptr;
  set.row_ptr = g.row_ptr;
  set.col_idx = g.col_idx;
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  set.features.resize(static_cast<size_t>(g.num_nodes) * kFeatures);
  for (float& x : set.features) x = u(rng) < 0.1f ? u(rng) + 0.05f : 0.0f;
  const int items = task == qc::Task::kNodeClassification ? g.num_nodes : graphs;
  std::uniform_int_distribution<int> label(0, kClasses - 1);
  for (int k = 0; k < items; ++k) {
    set.labels.push_back(label(rng));
    (k % 3 == 0 ? set.test : set.train).push_back(static_cast<uint32_t>(k));
  }
  if (task == qc::Task::kNodeClassification) {
    // One graph over all nodes: edges may not leave it, and the random graphs' never do.
    set.graph_ptr = {0, g.num_nodes};
  }
  return set;
}

// Linear first (every reader of the input a Dense), so the quantized model accepts sparse features.
qc::ModelDesc float_model(qc::Task task, std::mt19937& rng) {
  qc::ModelDesc m;
  m.name = "sparse-ready";
  m.task = task;
  m.input_dim = kFeatures;
  m.layers.push_back(qc::testing::linear_layer(kFeatures, 12, true, rng));
  m.layers.push_back(qc::testing::gcn_layer(12, 8, true, rng));
  if (task == qc::Task::kGraphClassification) m.layers.push_back(qc::testing::pool_layer(qc::Reduce::kMean));
  m.layers.push_back(qc::testing::linear_layer(8, kClasses, false, rng));
  return m;
}

// An aggregate-first GCN first: its input is aggregated, so no form of the model takes sparse features.
qc::ModelDesc aggregating_float_model(qc::Task task, std::mt19937& rng) {
  qc::ModelDesc m;
  m.name = "aggregates-its-input";
  m.task = task;
  m.input_dim = kFeatures;
  m.layers.push_back(qc::testing::gcn_layer(kFeatures, 8, true, rng));
  if (task == qc::Task::kGraphClassification) m.layers.push_back(qc::testing::pool_layer(qc::Reduce::kMean));
  m.layers.push_back(qc::testing::linear_layer(8, kClasses, false, rng));
  return m;
}

class SparseFeaturesTools : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/qgnn-sparse-features-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = new std::string(pattern);
    std::mt19937 rng(14);
    for (const auto& [task, name] : {std::pair{qc::Task::kNodeClassification, std::string("node")},
                                     std::pair{qc::Task::kGraphClassification, std::string("graph")}}) {
      qc::GraphSetDesc set = random_sparse_set(task, task == qc::Task::kNodeClassification ? 12 : 30, rng);
      write(name + "_dense.qgd", qc::serialize_graph_set(set));
      qc::make_features_sparse(&set);
      write(name + "_sparse.qgd", qc::serialize_graph_set(set));
      write(name + "_f32.qgnn", qc::serialize_model(float_model(task, rng)));
      write(name + "_agg_f32.qgnn", qc::serialize_model(aggregating_float_model(task, rng)));
      // Calibrated on the sparse file: the converter densifies it for its float forward.
      const ToolResult r = run_tool(
          QGNN_CONVERT_PATH,
          {path(name + "_f32.qgnn"), "--calib", path(name + "_sparse.qgd"), "-o", path(name + "_int8.qgnn")},
          *dir_);
      ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    }
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    std::filesystem::remove_all(*dir_, ignored);
    delete dir_;
    dir_ = nullptr;
  }
  static void write(const std::string& name, const qc::Result<std::vector<uint8_t>>& bytes) {
    ASSERT_TRUE(bytes.ok()) << bytes.error;
    ASSERT_TRUE(qc::write_file_atomic(path(name), bytes.value).ok());
  }
  static std::string path(const std::string& name) { return *dir_ + "/" + name; }

  static json run(const std::string& model, const std::string& data, std::vector<std::string> extra) {
    std::vector<std::string> args = {path(model), path(data), "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    const ToolResult r = run_tool(QGNN_RUN_PATH, args, *dir_);
    EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    return r.exit_code == 0 ? json::parse(r.out) : json::object();
  }

  static std::string* dir_;
};

std::string* SparseFeaturesTools::dir_ = nullptr;

TEST_F(SparseFeaturesTools, SparseFileIsSmaller) {
  EXPECT_LT(std::filesystem::file_size(path("node_sparse.qgd")) * 3,
            std::filesystem::file_size(path("node_dense.qgd")));
}

TEST_F(SparseFeaturesTools, DenseAndSparseInputGiveIdenticalOutputs) {
  for (const std::string& task : {std::string("node"), std::string("graph")}) {
    for (const std::vector<std::string>& batch :
         {std::vector<std::string>{}, std::vector<std::string>{"--batch", "4"},
          std::vector<std::string>{"--batch", "7"}}) {
      if (task == "node" && !batch.empty()) continue;
      SCOPED_TRACE(task + (batch.empty() ? "" : " batch " + batch[1]));
      std::vector<std::string> all = batch;
      all.insert(all.end(), {"--split", "all"});
      const json dense = run(task + "_int8.qgnn", task + "_dense.qgd", all);
      EXPECT_EQ(dense.value("input", ""), "dense");  // auto on a dense file
      std::vector<std::string> forced = all;
      forced.insert(forced.end(), {"--input", "sparse"});
      const json auto_sparse = run(task + "_int8.qgnn", task + "_sparse.qgd", all);
      const json sparse_of_dense = run(task + "_int8.qgnn", task + "_dense.qgd", forced);
      forced.back() = "dense";
      const json dense_of_sparse = run(task + "_int8.qgnn", task + "_sparse.qgd", forced);
      EXPECT_EQ(auto_sparse.value("input", ""), "sparse");
      EXPECT_EQ(sparse_of_dense.value("input", ""), "sparse");
      EXPECT_EQ(dense_of_sparse.value("input", ""), "dense");
      ASSERT_TRUE(dense.contains("outputs_sha256"));
      EXPECT_EQ(dense["outputs_sha256"].get<std::string>().size(), 64u);
      EXPECT_TRUE(dense["accuracy"].is_number());
      for (const json* other : {&auto_sparse, &sparse_of_dense, &dense_of_sparse}) {
        EXPECT_EQ((*other)["outputs_sha256"], dense["outputs_sha256"]);
        EXPECT_EQ((*other)["accuracy"], dense["accuracy"]);
        EXPECT_EQ((*other)["evaluated"], dense["evaluated"]);
      }
    }
  }
}

// A float model whose input a Dense reads takes the sparse features (sparse_dense_f32: the dense logits to
// rounding, so the same predictions up to a near-tie); one that aggregates its input runs dense and refuses
// --input sparse.
TEST_F(SparseFeaturesTools, FloatModelsTakeSparseFeaturesWhenADenseReadsTheInput) {
  const json f32 = run("node_f32.qgnn", "node_sparse.qgd", {});
  const json f32_dense = run("node_f32.qgnn", "node_sparse.qgd", {"--input", "dense"});
  EXPECT_EQ(f32.value("input", ""), "sparse");
  EXPECT_EQ(f32_dense.value("input", ""), "dense");
  ASSERT_TRUE(f32["accuracy"].is_number() && f32_dense["accuracy"].is_number());
  const double evaluated = f32["evaluated"].get<double>();
  EXPECT_GT(evaluated, 0.0);
  EXPECT_LE(std::abs(f32["accuracy"].get<double>() - f32_dense["accuracy"].get<double>()) * evaluated,
            1.0001);
  const json agg = run("node_agg_f32.qgnn", "node_sparse.qgd", {});
  EXPECT_EQ(agg.value("input", ""), "dense");  // auto: this model does not take sparse features
  const ToolResult r = run_tool(
      QGNN_RUN_PATH, {path("node_agg_f32.qgnn"), path("node_sparse.qgd"), "--input", "sparse"}, *dir_);
  EXPECT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_NE(
      r.err.find("--input sparse: the model does not accept sparse features (its input is read by more"),
      std::string::npos)
      << r.err;
}

TEST_F(SparseFeaturesTools, TextReportNamesTheInputForm) {
  const ToolResult r =
      run_tool(QGNN_RUN_PATH, {path("graph_int8.qgnn"), path("graph_sparse.qgd"), "--batch", "5"}, *dir_);
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
  EXPECT_NE(r.out.find("kernels, sparse input, 5 graph(s) per invoke"), std::string::npos) << r.out;
}

#ifdef QGNN_BENCH_PATH
TEST_F(SparseFeaturesTools, BenchRunsEachModelInItsForm) {
  const ToolResult r =
      run_tool(QGNN_BENCH_PATH,
               {path("graph_agg_f32.qgnn"), path("graph_sparse.qgd"), path("graph_int8.qgnn"),
                path("graph_f32.qgnn"), "--batch", "4", "--warmup", "0", "--repeat", "1", "--json"},
               *dir_);
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
  const json j = json::parse(r.out);
  ASSERT_EQ(j["models"].size(), 3u);
  EXPECT_EQ(j["models"][0]["input"], "dense");
  EXPECT_EQ(j["models"][1]["input"], "sparse");
  EXPECT_EQ(j["models"][2]["input"], "sparse");  // a float model whose input a Linear reads
  const ToolResult refused = run_tool(QGNN_BENCH_PATH,
                                      {path("graph_agg_f32.qgnn"), path("graph_sparse.qgd"), "--input",
                                       "sparse", "--warmup", "0", "--repeat", "1"},
                                      *dir_);
  EXPECT_EQ(refused.exit_code, 1) << refused.describe();
  EXPECT_NE(refused.err.find("does not accept sparse features"), std::string::npos) << refused.err;
}
#endif

}  // namespace
}  // namespace testing
}  // namespace tools
}  // namespace qgnn
