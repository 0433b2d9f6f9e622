// End-to-end tests of qgnn-inspect and qgnn-run: each test spawns the built tool and checks its exit
// status, stdout (text and --json) and stderr.
#include <sys/stat.h>

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

class ToolsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { files_ = new TestFiles(write_test_files()); }
  static void TearDownTestSuite() {
    std::error_code ignored;
    std::filesystem::remove_all(files_->dir, ignored);
    delete files_;
    files_ = nullptr;
  }

  static const TestFiles& files() { return *files_; }

  static ToolResult inspect(const std::vector<std::string>& args) {
    return run_tool(QGNN_INSPECT_PATH, args, files_->dir);
  }
  static ToolResult run(const std::vector<std::string>& args) {
    return run_tool(QGNN_RUN_PATH, args, files_->dir);
  }

  // Runs a tool that must succeed with --json and returns the parsed object.
  static json run_json(const ToolResult& r) {
    EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    json j = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON:\n" << r.out;
    return j;
  }

  static std::string bundled(const std::string& name) {
    const std::string path = std::string(QGNN_MODELS_DIR) + "/" + name;
    struct stat st;
    return stat(path.c_str(), &st) == 0 ? path : "";
  }

 private:
  static TestFiles* files_;
};
TestFiles* ToolsTest::files_ = nullptr;

// A failure must be an orderly exit: non-zero status, a message on stderr, no signal, no sanitizer report.
void expect_clean_failure(const ToolResult& r, const std::string& what) {
  EXPECT_TRUE(r.exited) << what << ": " << r.describe();
  EXPECT_NE(r.exit_code, 0) << what << ": " << r.describe();
  EXPECT_FALSE(r.err.empty()) << what << ": no message on stderr";
  EXPECT_EQ(r.err.find("Sanitizer"), std::string::npos) << what << ": " << r.describe();
  EXPECT_EQ(r.err.find("runtime error:"), std::string::npos) << what << ": " << r.describe();
}

bool is_sha256(const json& v) {
  if (!v.is_string() || v.get<std::string>().size() != 64) return false;
  for (char c : v.get<std::string>()) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

TEST_F(ToolsTest, InspectTextDescribesEveryLayer) {
  const ToolResult r = inspect({files().graph_int8});
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
  for (const char* kind : {"GCNConv", "SAGEConv", "GINConv", "GlobalPool", "Linear"}) {
    EXPECT_NE(r.out.find(kind), std::string::npos) << kind << " missing from:\n" << r.out;
  }
  EXPECT_NE(r.out.find("arena"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("parameters"), std::string::npos) << r.out;
}

TEST_F(ToolsTest, InspectJsonFields) {
  struct Case {
    std::string path;
    bool quantized;
    int weight_bits;
  };
  for (const Case& c : {Case{files().graph_f32, false, 32}, Case{files().graph_int8, true, 8},
                        Case{files().graph_int4, true, 4}}) {
    SCOPED_TRACE(c.path);
    const json j = run_json(inspect({c.path, "--json", "--nodes", "100", "--edges", "300", "--graphs", "4"}));
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["name"], "all-kinds");
    EXPECT_EQ(j["task"], "graph_classification");
    EXPECT_EQ(j["num_classes"], 3);
    EXPECT_EQ(j["class_names"], json({"a", "b", "c"}));
    EXPECT_EQ(j["quantized"], c.quantized);
    EXPECT_EQ(j["input"]["feature_dim"], 5);
    ASSERT_TRUE(j["layers"].is_array());
    ASSERT_EQ(j["layers"].size(), files().graph_layers);
    const std::vector<std::string> kinds = {"GCNConv", "SAGEConv",   "SAGEConv",
                                            "GINConv", "GlobalPool", "Linear"};
    size_t layer_bytes = 0;
    for (size_t k = 0; k < kinds.size(); ++k) {
      const json& l = j["layers"][k];
      EXPECT_EQ(l["kind"], kinds[k]) << k;
      for (const char* field :
           {"in_features", "out_features", "activation", "dense", "bits", "parameter_bytes"}) {
        EXPECT_TRUE(l.contains(field)) << "layer " << k << " lacks " << field;
      }
      for (const json& b : l["bits"]["weights"]) EXPECT_EQ(b, c.weight_bits) << k;
      layer_bytes += l["parameter_bytes"].get<size_t>();
    }
    // Layer dims chain: 5 -> 7 -> 9 -> 3 -> 5 -> 5 -> 3.
    EXPECT_EQ(j["layers"][0]["in_features"], 5);
    EXPECT_EQ(j["layers"][3]["out_features"], 5);
    EXPECT_EQ(j["layers"][5]["out_features"], 3);
    EXPECT_TRUE(j["layers"][4]["bits"]["aggregation"].is_null());  // pooling has no aggregation component
    EXPECT_EQ(j["layers"][3]["dense"].size(), 2u);                 // GIN MLP
    EXPECT_EQ(j["parameter_bytes"].get<size_t>(), layer_bytes);
    EXPECT_EQ(j["arena"]["nodes"], 100);
    EXPECT_EQ(j["arena"]["graphs"], 4);
    EXPECT_GT(j["arena"]["bytes"].get<size_t>(), 0u);
  }
}

TEST_F(ToolsTest, InspectShowsGatAttention) {
  const ToolResult text = inspect({files().gat_int8});
  ASSERT_TRUE(text.exited && text.exit_code == 0) << text.describe();
  for (const char* part : {"GATConv", "attention: 2 heads x 3, concat; a_src/a_dst INT8 (scale ",
                           "attention: 2 heads x 3, mean;", "logits 8-bit, scale ", "exp table 256 x Q15, step ",
                           "alpha 8-bit unsigned"}) {
    EXPECT_NE(text.out.find(part), std::string::npos) << part << " missing from:\n" << text.out;
  }
  const ToolResult float_text = inspect({files().gat_f32});
  ASSERT_TRUE(float_text.exited && float_text.exit_code == 0) << float_text.describe();
  EXPECT_NE(float_text.out.find("a_src/a_dst FLOAT32; logits and alpha float"), std::string::npos) << float_text.out;

  const json j = run_json(inspect({files().gat_int8, "--json"}));
  ASSERT_EQ(j["layers"].size(), 2u);
  size_t layer_bytes = 0;
  for (size_t k = 0; k < 2; ++k) {
    SCOPED_TRACE(k);
    const json& l = j["layers"][k];
    EXPECT_EQ(l["kind"], "GATConv");
    EXPECT_EQ(l["first"], "transform");
    EXPECT_EQ(l["bits"]["message"], 8);
    EXPECT_EQ(l["bits"]["attention"], 8);
    EXPECT_TRUE(l["bits"]["aggregation"].is_null());  // a GATConv has no Layer.aggregation
    const json& a = l["attention"];
    EXPECT_EQ(a["heads"], 2);
    EXPECT_EQ(a["head_dim"], 3);
    EXPECT_EQ(a["heads_combined"], k == 0 ? "concat" : "mean");
    EXPECT_EQ(a["att_type"], "INT8");
    EXPECT_EQ(a["logit_bits"], 8);
    EXPECT_EQ(a["alpha_bits"], 8);
    EXPECT_EQ(a["exp_table_entries"], 256);
    EXPECT_GT(a["att_scale"].get<double>(), 0.0);
    // The converter builds the table for the logits' scale: reading the step back from the table gives it.
    const double logit_scale = a["logit_scale"].get<double>();
    EXPECT_GT(logit_scale, 0.0);
    EXPECT_NEAR(a["exp_table_step"].get<double>(), logit_scale, 0.01 * logit_scale);
    layer_bytes += l["parameter_bytes"].get<size_t>();
  }
  EXPECT_EQ(j["layers"][0]["out_features"], 6);
  EXPECT_EQ(j["layers"][1]["out_features"], 3);
  EXPECT_EQ(j["parameter_bytes"].get<size_t>(), layer_bytes);
  const json f = run_json(inspect({files().gat_f32, "--json"}));
  EXPECT_EQ(f["layers"][0]["attention"]["logit_bits"], 32);
  EXPECT_EQ(f["layers"][0]["attention"]["att_type"], "FLOAT32");
  EXPECT_FALSE(f["layers"][0]["attention"].contains("exp_table_step"));
  EXPECT_EQ(f["parameter_bytes"], f["layers"][0]["parameter_bytes"].get<size_t>() +
                                      f["layers"][1]["parameter_bytes"].get<size_t>());
}

TEST_F(ToolsTest, InspectArenaGrowsWithTheGraph) {
  const json small = run_json(inspect({files().graph_int8, "--json", "--nodes", "10", "--edges", "20"}));
  const json large = run_json(inspect({files().graph_int8, "--json", "--nodes", "1000", "--edges", "4000"}));
  EXPECT_LT(small["arena"]["bytes"].get<size_t>(), large["arena"]["bytes"].get<size_t>());
}

// --isa sizes the arena for one instruction set: "reference" (a microcontroller build) needs no room for
// packed weights, so never more than the default (room for any ISA of this build); the JSON says which.
TEST_F(ToolsTest, InspectArenaForOneIsa) {
  const json any = run_json(inspect({files().graph_int8, "--json"}));
  const json reference = run_json(inspect({files().graph_int8, "--json", "--isa", "reference"}));
  EXPECT_EQ(any["arena"]["isa"], "any");
  EXPECT_EQ(reference["arena"]["isa"], "reference");
  EXPECT_LE(reference["arena"]["bytes"].get<size_t>(), any["arena"]["bytes"].get<size_t>());
  EXPECT_GT(reference["arena"]["bytes"].get<size_t>(), 0u);
  expect_clean_failure(inspect({files().graph_int8, "--isa", "bogus"}), "--isa bogus");
}

TEST_F(ToolsTest, RunJsonFields) {
  for (const std::string& model : {files().graph_f32, files().graph_int8, files().graph_int4}) {
    SCOPED_TRACE(model);
    const json j = run_json(run({model, files().graph_data, "--json", "--split", "test"}));
    ASSERT_TRUE(j.is_object());
    for (const char* field :
         {"accuracy", "graphs", "latency_us", "arena_bytes", "model_bytes", "outputs_sha256"}) {
      EXPECT_TRUE(j.contains(field)) << field;
    }
    EXPECT_EQ(j["graphs"], files().graph_test_split);
    EXPECT_EQ(j["evaluated"], files().graph_test_split);
    EXPECT_GE(j["accuracy"].get<double>(), 0.0);
    EXPECT_LE(j["accuracy"].get<double>(), 1.0);
    EXPECT_GE(j["latency_us"]["p99"].get<double>(), j["latency_us"]["p50"].get<double>());
    EXPECT_GT(j["arena_bytes"].get<size_t>(), 0u);
    EXPECT_GT(j["model_bytes"].get<size_t>(), 0u);
    EXPECT_TRUE(is_sha256(j["outputs_sha256"])) << j["outputs_sha256"];
    // One count per class, every scored graph counted once: a collapsed model shows one non-zero entry.
    ASSERT_TRUE(j["predicted_per_class"].is_array());
    EXPECT_GE(j["predicted_per_class"].size(), 2u);
    uint64_t predicted = 0;
    for (const json& c : j["predicted_per_class"]) predicted += c.get<uint64_t>();
    EXPECT_EQ(predicted, j["evaluated"].get<uint64_t>());
  }
}

TEST_F(ToolsTest, RunTextReportsAccuracyAndLatency) {
  const ToolResult r = run({files().graph_int8, files().graph_data});
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
  EXPECT_NE(r.out.find("accuracy"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("predicted class 0: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("p50"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("p99"), std::string::npos) << r.out;
}

TEST_F(ToolsTest, OutputsIdenticalForOneAndTwoThreads) {
  for (const std::string& model : {files().graph_f32, files().graph_int8, files().graph_int4}) {
    SCOPED_TRACE(model);
    const json one = run_json(run({model, files().graph_data, "--json", "--threads", "1", "--batch", "8"}));
    const json two = run_json(run({model, files().graph_data, "--json", "--threads", "2", "--batch", "8"}));
    EXPECT_EQ(one["outputs_sha256"], two["outputs_sha256"]);
    EXPECT_EQ(one["accuracy"], two["accuracy"]);
  }
  for (const std::string& model : {files().node_f32, files().node_int8}) {
    SCOPED_TRACE(model);
    const json one = run_json(run({model, files().node_data, "--json", "--threads", "1"}));
    const json two = run_json(run({model, files().node_data, "--json", "--threads", "2"}));
    EXPECT_EQ(one["outputs_sha256"], two["outputs_sha256"]);
  }
}

TEST_F(ToolsTest, EveryIsaGivesTheSameOutputs) {
  // --isa forces each kernel table; the ones this build or CPU lacks are refused with a clear error.
  for (const std::string& model : {files().graph_int8, files().graph_int4, files().node_int8}) {
    SCOPED_TRACE(model);
    const std::string& data = model == files().node_int8 ? files().node_data : files().graph_data;
    const json reference = run_json(run({model, data, "--json", "--isa", "reference", "--batch", "8"}));
    EXPECT_EQ(reference["isa"], "reference");
    int ran = 0;
    for (const char* isa : {"avx2", "avx512", "neon", "neondot"}) {
      const ToolResult r = run({model, data, "--json", "--isa", isa, "--batch", "8", "--threads", "2"});
      if (!r.exited || r.exit_code != 0) {
        EXPECT_NE(r.err.find("not available"), std::string::npos) << isa << ": " << r.describe();
        continue;
      }
      const json j = run_json(r);
      EXPECT_EQ(j["isa"], isa);
      EXPECT_EQ(j["outputs_sha256"], reference["outputs_sha256"]) << isa;
      ++ran;
    }
    const json detected = run_json(run({model, data, "--json"}));
    EXPECT_EQ(detected["outputs_sha256"], reference["outputs_sha256"]) << detected["isa"];
    if (detected["isa"] != "reference") {
      EXPECT_GE(ran, 1);
    }
  }
  expect_clean_failure(run({files().graph_int8, files().graph_data, "--isa", "sse9"}), "--isa");
}

TEST_F(ToolsTest, QuantizedOutputsDoNotDependOnBatching) {
  const json single = run_json(run({files().graph_int8, files().graph_data, "--json"}));
  const json batched = run_json(run({files().graph_int8, files().graph_data, "--json", "--batch", "5"}));
  EXPECT_EQ(single["outputs_sha256"], batched["outputs_sha256"]);
  EXPECT_EQ(single["invokes"], 24);
  EXPECT_EQ(batched["invokes"], 5);  // ceil(24 / 5)
  EXPECT_EQ(single["correct"], batched["correct"]);
}

TEST_F(ToolsTest, RepeatCountsInvokesAndIsDeterministic) {
  const json j =
      run_json(run({files().graph_int8, files().graph_data, "--json", "--split", "train", "--repeat", "3"}));
  EXPECT_EQ(j["graphs"], files().graph_train_split);
  EXPECT_EQ(j["invokes"], 3 * files().graph_train_split);
  EXPECT_EQ(j["outputs_deterministic"], true);
}

TEST_F(ToolsTest, NodeClassificationScoresTheSplitNodes) {
  for (const std::string& model : {files().node_f32, files().node_int8}) {
    SCOPED_TRACE(model);
    const json j = run_json(run({model, files().node_data, "--json", "--split", "test"}));
    EXPECT_EQ(j["task"], "node_classification");
    EXPECT_EQ(j["graphs"], 1);
    EXPECT_EQ(j["nodes"], 60);
    EXPECT_EQ(j["evaluated"], files().node_test_split);
    EXPECT_EQ(j["invokes"], 1);
    EXPECT_TRUE(j["accuracy"].is_number());
  }
}

// --fold K runs qgnn.train's split of fold K (test = K, val = K + 1, train = the rest; graph g is in fold g %
// 4).
TEST_F(ToolsTest, RunFoldSelectsThatFoldsGraphs) {
  const json test2 =
      run_json(run({files().graph_int8, files().folds_data, "--json", "--split", "test", "--fold", "2"}));
  EXPECT_EQ(test2["split"], "test");
  EXPECT_EQ(test2["fold"], 2);
  EXPECT_EQ(test2["selection"]["num_folds"], 4);
  EXPECT_EQ(test2["selection"]["graphs"], 6);
  EXPECT_EQ(test2["graphs"], 6);
  EXPECT_EQ(test2["evaluated"], 6);
  EXPECT_TRUE(test2["selection"]["note"].is_null());
  EXPECT_NE(
      test2["selection"]["description"].get<std::string>().find("fold 2 of 4 (test = fold 2, val = fold 3"),
      std::string::npos);
  EXPECT_EQ(run_json(run({files().graph_int8, files().folds_data, "--json", "--split", "train", "--fold",
                          "3"}))["graphs"],
            12);
  // Fold 0 is the stored split; fold 2's test graphs are others, so their (float) logits differ.
  const std::string& f32 = files().graph_f32;
  const json stored = run_json(run({f32, files().folds_data, "--json", "--split", "test"}));
  const json fold0 = run_json(run({f32, files().folds_data, "--json", "--split", "test", "--fold", "0"}));
  const json fold2 = run_json(run({f32, files().folds_data, "--json", "--split", "test", "--fold", "2"}));
  EXPECT_TRUE(stored["fold"].is_null());
  EXPECT_EQ(stored["outputs_sha256"], fold0["outputs_sha256"]);
  EXPECT_NE(fold2["outputs_sha256"], fold0["outputs_sha256"]);
  // The text report names the split used.
  const ToolResult text = run({files().graph_int8, files().folds_data, "--split", "val", "--fold", "3"});
  ASSERT_EQ(text.exit_code, 0) << text.describe();
  EXPECT_NE(
      text.out.find("split val of fold 3 of 4 (test = fold 3, val = fold 0, train = the rest): 6 graphs"),
      std::string::npos)
      << text.out;
}

TEST_F(ToolsTest, RunStoredSplitOfASetWithFoldsSaysWhichFold) {
  const ToolResult r = run({files().graph_int8, files().folds_data, "--split", "test"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.err.find("qgnn-run: note: split test = fold 0's test graphs"), std::string::npos) << r.err;
  const json j = run_json(run({files().graph_int8, files().folds_data, "--json", "--split", "test"}));
  EXPECT_NE(j["selection"]["note"].get<std::string>().find("fold 0's"), std::string::npos);
  // No folds, no note.
  const ToolResult plain = run({files().graph_int8, files().graph_data, "--split", "test"});
  EXPECT_EQ(plain.err.find("note:"), std::string::npos) << plain.err;
}

TEST_F(ToolsTest, RunWarnsWhenTheModelsTrainingFoldDiffers) {
  const std::string& model = files().graph_int8_fold1;
  const ToolResult other = run({model, files().folds_data, "--split", "test", "--fold", "2"});
  ASSERT_EQ(other.exit_code, 0) << other.describe();
  EXPECT_NE(other.err.find("qgnn-run: warning: the model was trained on fold 1 of 4"), std::string::npos)
      << other.err;
  const ToolResult stored = run({model, files().folds_data, "--split", "test"});
  EXPECT_NE(stored.err.find("use --fold 1"), std::string::npos) << stored.err;
  const json same = run_json(run({model, files().folds_data, "--json", "--split", "test", "--fold", "1"}));
  EXPECT_TRUE(same["warning"].is_null());
  const json differs = run_json(run({model, files().folds_data, "--json", "--split", "test", "--fold", "3"}));
  EXPECT_TRUE(differs["warning"].is_string());
  // A model whose description names no fold: nothing to compare.
  const ToolResult unknown = run({files().graph_int8, files().folds_data, "--split", "test", "--fold", "2"});
  EXPECT_EQ(unknown.err.find("warning"), std::string::npos) << unknown.err;
}

TEST_F(ToolsTest, RunFoldErrorsAreClear) {
  const auto expect_error = [](const ToolResult& r, const std::string& part) {
    expect_clean_failure(r, part);
    EXPECT_NE(r.err.find(part), std::string::npos) << r.err;
  };
  expect_error(run({files().graph_int8, files().graph_data, "--split", "test", "--fold", "1"}),
               "no fold array");
  expect_error(run({files().graph_int8, files().folds_data, "--split", "test", "--fold", "4"}),
               "outside 0..3");
  expect_error(run({files().node_int8, files().node_data, "--split", "test", "--fold", "0"}),
               "node classification");
  expect_error(run({files().graph_int8, files().folds_data, "--fold", "1"}), "--split all");
  expect_clean_failure(run({files().graph_int8, files().folds_data, "--split", "test", "--fold", "-1"}),
                       "negative fold");
}

TEST_F(ToolsTest, MismatchedModelAndDataFail) {
  expect_clean_failure(run({files().graph_int8, files().node_data}), "graph model on node data");
  expect_clean_failure(run({files().node_f32, files().graph_data}), "node model on graph data");
}

TEST_F(ToolsTest, UsageErrorsFail) {
  expect_clean_failure(inspect({}), "inspect without arguments");
  expect_clean_failure(run({files().graph_int8}), "run without data");
  expect_clean_failure(run({files().graph_int8, files().graph_data, "--split", "bogus"}), "unknown split");
  expect_clean_failure(run({files().graph_int8, files().graph_data, "--threads", "0"}), "zero threads");
  expect_clean_failure(run({files().graph_int8, files().graph_data, "--batch", "x"}), "non-numeric batch");
  expect_clean_failure(inspect({files().graph_int8, "--nodes", "-3"}), "negative nodes");
}

TEST_F(ToolsTest, HelpSucceeds) {
  for (const char* tool : {QGNN_INSPECT_PATH, QGNN_RUN_PATH}) {
    const ToolResult r = run_tool(tool, {"--help"}, files().dir);
    EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    EXPECT_NE(r.out.find("--json"), std::string::npos) << r.out;
  }
}

// Damaged model files: every tool exits with a message, never with a signal. Bit flips may leave a valid
// model (a flipped weight bit), so for them only a crash is an error.
TEST_F(ToolsTest, MalformedModelsNeverCrash) {
  int rejected_flips = 0;
  for (const std::string& source : {files().graph_int8, files().node_f32}) {
    const std::vector<CorruptFile> corpus = write_corrupt_copies(source, files().dir, "model");
    for (const CorruptFile& c : corpus) {
      const std::string what = source + ": " + c.what;
      const ToolResult i = inspect({c.path, "--json"});
      const ToolResult r = run({c.path, source == files().node_f32 ? files().node_data : files().graph_data});
      for (const ToolResult* t : {&i, &r}) {
        if (c.must_fail) {
          expect_clean_failure(*t, what);
        } else {
          EXPECT_TRUE(t->exited) << what << ": " << t->describe();
          if (t->exit_code != 0) expect_clean_failure(*t, what);
        }
      }
      if (!c.must_fail && i.exit_code != 0) ++rejected_flips;
    }
  }
  EXPECT_GT(rejected_flips, 0) << "no bit flip was detected at all";
}

TEST_F(ToolsTest, MalformedDataNeverCrash) {
  for (const std::string& source : {files().graph_data, files().node_data}) {
    const std::string model = source == files().graph_data ? files().graph_int8 : files().node_int8;
    for (const CorruptFile& c : write_corrupt_copies(source, files().dir, "data")) {
      const std::string what = source + ": " + c.what;
      const ToolResult r = run({model, c.path, "--json"});
      if (c.must_fail) {
        expect_clean_failure(r, what);
      } else {
        EXPECT_TRUE(r.exited) << what << ": " << r.describe();
        if (r.exit_code != 0) expect_clean_failure(r, what);
      }
    }
  }
}

// The bundled demo (models/, made by scripts/make_demo_models.sh) when it is present.
TEST_F(ToolsTest, BundledDemoModels) {
  const std::string data = bundled("mutag.qgd");
  if (data.empty()) GTEST_SKIP() << "models/mutag.qgd not present";
  int ran = 0;
  for (const char* name : {"mutag_gin_f32.qgnn", "mutag_gin_int8.qgnn"}) {
    const std::string model = bundled(name);
    if (model.empty()) continue;
    SCOPED_TRACE(model);
    ++ran;
    const json info = run_json(inspect({model, "--json"}));
    EXPECT_EQ(info["task"], "graph_classification");
    const json one = run_json(run({model, data, "--json", "--split", "test", "--threads", "1"}));
    const json two =
        run_json(run({model, data, "--json", "--split", "test", "--threads", "2", "--batch", "4"}));
    EXPECT_EQ(one["outputs_sha256"], two["outputs_sha256"]);
    EXPECT_EQ(one["accuracy"], two["accuracy"]);
    EXPECT_GT(one["accuracy"].get<double>(), 0.5);
  }
  if (ran == 0) GTEST_SKIP() << "no bundled model present";
}

}  // namespace
}  // namespace testing
}  // namespace tools
}  // namespace qgnn
