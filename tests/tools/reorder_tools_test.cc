// --reorder through the tools (issue 15, locality): qgnn-run renumbers each batch once at setup and puts the
// per-node outputs back in the original order, so accuracy and outputs_sha256 are those of the unreordered
// run — for integer models of every layer kind (converted with qgnn-convert to INT8 and INT4), node and
// graph classification, batches of several graphs, dense and sparse features. The JSON names the method and
// its time; qgnn-bench measures each model once per order.
#include <unistd.h>

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

constexpr int kFeatures = 16, kClasses = 4;

// Random graphs (directed edges, some isolated nodes) with ~30 % non-zero features; a node-classification
// set is one graph over all of them.
qc::GraphSetDesc random_set(qc::Task task, int graphs, std::mt19937& rng) {
  const qc::testing::RandomGraphs g = qc::testing::random_graphs(graphs, 4, 14, 4, kFeatures, rng);
  qc::GraphSetDesc set;
  set.name = "random-reorder";
  set.task = task;
  set.feature_dim = kFeatures;
  set.num_classes = kClasses;
  set.graph_ptr = task == qc::Task::kNodeClassification ? std::vector<int32_t>{0, g.num_nodes} : g.graph_ptr;
  set.row_ptr = g.row_ptr;
  set.col_idx = g.col_idx;
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  set.features.resize(static_cast<size_t>(g.num_nodes) * kFeatures);
  for (float& x : set.features) x = u(rng) < 0.3f ? 2.0f * u(rng) - 0.5f : 0.0f;
  const int items = task == qc::Task::kNodeClassification ? g.num_nodes : graphs;
  std::uniform_int_distribution<int> label(0, kClasses - 1);
  for (int k = 0; k < items; ++k) {
    set.labels.push_back(label(rng));
    (k % 3 == 0 ? set.test : set.train).push_back(static_cast<uint32_t>(k));
  }
  return set;
}

// Every layer kind: a Linear first (so the INT8 model also takes sparse features), GCN, SAGE (mean with
// root, max), GIN; a mean pool for graph classification.
qc::ModelDesc float_model(qc::Task task, std::mt19937& rng) {
  qc::ModelDesc m;
  m.name = "reorder-kinds";
  m.task = task;
  m.input_dim = kFeatures;
  m.layers.push_back(qc::testing::linear_layer(kFeatures, 12, true, rng));
  m.layers.push_back(qc::testing::gcn_layer(12, 10, true, rng));
  m.layers.push_back(qc::testing::sage_layer(10, 9, qc::Reduce::kMean, true, true, rng));
  m.layers.push_back(qc::testing::sage_layer(9, 8, qc::Reduce::kMax, false, true, rng));
  m.layers.push_back(qc::testing::gin_layer(8, 8, 8, 0.2f, true, rng));
  if (task == qc::Task::kGraphClassification) m.layers.push_back(qc::testing::pool_layer(qc::Reduce::kSum));
  m.layers.push_back(qc::testing::linear_layer(8, kClasses, false, rng));
  return m;
}

class ReorderTools : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/qgnn-reorder-tools-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = new std::string(pattern);
    std::mt19937 rng(15);
    for (const auto& [task, name] : {std::pair{qc::Task::kNodeClassification, std::string("node")},
                                     std::pair{qc::Task::kGraphClassification, std::string("graph")}}) {
      qc::GraphSetDesc set = random_set(task, task == qc::Task::kNodeClassification ? 20 : 30, rng);
      write(name + ".qgd", qc::serialize_graph_set(set));
      qc::make_features_sparse(&set);
      write(name + "_sparse.qgd", qc::serialize_graph_set(set));
      write(name + "_f32.qgnn", qc::serialize_model(float_model(task, rng)));
      for (const std::string bits : {"8", "4"}) {
        const ToolResult r = run_tool(QGNN_CONVERT_PATH,
                                      {path(name + "_f32.qgnn"), "--calib", path(name + ".qgd"), "--bits", bits,
                                       "-o", path(name + "_int" + bits + ".qgnn")},
                                      *dir_);
        ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
      }
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
    std::vector<std::string> args = {path(model), path(data), "--json", "--split", "all"};
    args.insert(args.end(), extra.begin(), extra.end());
    const ToolResult r = run_tool(QGNN_RUN_PATH, args, *dir_);
    EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    return r.exit_code == 0 ? json::parse(r.out) : json::object();
  }

  static std::string* dir_;
};

std::string* ReorderTools::dir_ = nullptr;

TEST_F(ReorderTools, IntegerOutputsHashIsUnchanged) {
  for (const std::string task : {"node", "graph"}) {
    for (const std::string model : {"_int8.qgnn", "_int4.qgnn"}) {
      for (const std::string data : {".qgd", "_sparse.qgd"}) {
        for (const std::vector<std::string>& batch : {std::vector<std::string>{}, {"--batch", "7"}}) {
          if (task == "node" && !batch.empty()) continue;
          SCOPED_TRACE(task + model + data + (batch.empty() ? "" : " batch 7"));
          const json plain = run(task + model, task + data, batch);
          ASSERT_TRUE(plain.contains("outputs_sha256"));
          EXPECT_EQ(plain["reorder"]["method"], "none");
          EXPECT_EQ(plain["reorder"]["permutation_us"], 0.0);
          for (const std::string method : {"rcm", "degree"}) {
            std::vector<std::string> extra = batch;
            extra.insert(extra.end(), {"--reorder", method, "--threads", "2"});
            const json reordered = run(task + model, task + data, extra);
            EXPECT_EQ(reordered["outputs_sha256"], plain["outputs_sha256"]) << method;
            EXPECT_EQ(reordered["accuracy"], plain["accuracy"]) << method;
            EXPECT_EQ(reordered["evaluated"], plain["evaluated"]) << method;
            EXPECT_EQ(reordered["input"], plain["input"]) << method;
            EXPECT_EQ(reordered["reorder"]["method"], method);
            EXPECT_GT(reordered["reorder"]["permutation_us"].get<double>(), 0.0) << method;
            EXPECT_GT(reordered["reorder"]["apply_us"].get<double>(), 0.0) << method;
          }
        }
      }
    }
  }
}

// The hash is over the original node order: without undoing the permutation it would differ (a node task's
// logits are per node), which the run above would then catch. Here: the text report names the order.
TEST_F(ReorderTools, TextReportAndBadMethod) {
  const ToolResult r =
      run_tool(QGNN_RUN_PATH, {path("node_int8.qgnn"), path("node.qgd"), "--reorder", "rcm"}, *dir_);
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
  EXPECT_NE(r.out.find("reorder   rcm once at setup: permutation"), std::string::npos) << r.out;
  const ToolResult bad =
      run_tool(QGNN_RUN_PATH, {path("node_int8.qgnn"), path("node.qgd"), "--reorder", "random"}, *dir_);
  EXPECT_TRUE(bad.exited);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("--reorder"), std::string::npos) << bad.err;
}

#ifdef QGNN_BENCH_PATH
TEST_F(ReorderTools, BenchMeasuresEachModelPerOrder) {
  const ToolResult r = run_tool(QGNN_BENCH_PATH,
                                {path("node_int8.qgnn"), path("node_sparse.qgd"), path("node_int4.qgnn"),
                                 "--reorder", "none,rcm,degree", "--warmup", "0", "--repeat", "2", "--json"},
                                *dir_);
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
  const json j = json::parse(r.out);
  ASSERT_EQ(j["models"].size(), 6u);
  const char* orders[] = {"none", "rcm", "degree"};
  for (size_t i = 0; i < 6; ++i) {
    const json& m = j["models"][i];
    EXPECT_EQ(m["reorder"]["method"], orders[i % 3]) << i;
    EXPECT_EQ(m["model"].get<std::string>().find(i < 3 ? "int8" : "int4") != std::string::npos, true) << i;
    if (i % 3 == 0) {
      EXPECT_EQ(m["reorder"]["permutation_us"], 0.0);
    } else {
      EXPECT_GT(m["reorder"]["permutation_us"].get<double>(), 0.0) << i;
    }
    EXPECT_EQ(m["pass_us"].size(), 2u);
  }
  EXPECT_EQ(j["options"]["reorder"], json({"none", "rcm", "degree"}));
}
#endif

}  // namespace
}  // namespace testing
}  // namespace tools
}  // namespace qgnn
