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
#include <vector>

#include "model_metadata.h"
#include "qgnn/converter/batch_norm.h"
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
    for (uint32_t k = 0; k < 20; ++k) set.labels.push_back(k % 3);
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
  const CliResult r = run(path("float.qgnn") + " --calib " + path("data.qgd") + " -o " + path("int8.qgnn"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("calibrated on 12 graphs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pauta, k = 5 (8-bit) / 3 (4-bit)"), std::string::npos) << r.out;  // the default
  const auto bytes = read_file(path("int8.qgnn"));
  ASSERT_TRUE(bytes.ok());
  const auto model = parse_model(bytes.value);
  ASSERT_TRUE(model.ok()) << model.error;
  EXPECT_TRUE(model.value.quantized);
  EXPECT_TRUE(check_model(model.value).ok());
  for (const LayerDesc& l : model.value.layers) EXPECT_EQ(l.output.bits, 8);
  EXPECT_EQ(model.value.layers[0].dense.weight_bits, 8);
  EXPECT_NE(model.value.description.find("bits *=8"), std::string::npos) << model.value.description;
}

// --fold K calibrates on qgnn.train's split of fold K (graph g in fold g % 4 here, stored split = fold 0's).
TEST_F(ConvertCli, FoldSelectsTheCalibrationGraphs) {
  GraphSetDesc set = load_graph_set(read_file(path("data.qgd")).value).value;
  set.train.clear();
  set.val.clear();
  set.test.clear();
  for (uint32_t g = 0; g < 20; ++g) {
    set.fold.push_back(static_cast<uint8_t>(g % 4));
    (g % 4 == 0 ? set.test : g % 4 == 1 ? set.val : set.train).push_back(g);
  }
  ASSERT_TRUE(write_file_atomic(path("folds.qgd"), serialize_graph_set(set).value).ok());
  ModelDesc fold1 = float_model_;
  fold1.description =
      "Trained in float on fold 1 of 4 (test = fold 1, val = fold 2, train = the rest) of x.qgd";
  ASSERT_TRUE(write_file_atomic(path("fold1.qgnn"), serialize_model(fold1).value).ok());

  // Fold 2's train = folds 0 and 1: 10 graphs.
  const CliResult r = run(path("float.qgnn") + " --calib " + path("folds.qgd") + " --fold 2 --report " +
                          path("r.json") + " -o " + path("f2.qgnn"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("calibrated on 10 graphs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("split train of fold 2 of 4 (test = fold 2, val = fold 3, train = the rest)"),
            std::string::npos)
      << r.out;
  const std::string report = slurp(path("r.json"));
  EXPECT_NE(report.find("\"calibration_selection\""), std::string::npos) << report;
  EXPECT_NE(report.find("\"fold\": 2"), std::string::npos) << report;
  EXPECT_NE(parse_model(read_file(path("f2.qgnn")).value).value.description.find("train split of fold 2"),
            std::string::npos);

  // --auto-bits scores the val split of the same fold.
  const CliResult search =
      run(path("float.qgnn") + " --calib " + path("folds.qgd") + " --fold 2 --auto-bits --val " +
          path("folds.qgd") + " --max-drop 100 -o " + path("a.qgnn"));
  ASSERT_EQ(search.status, 0) << search.err;
  EXPECT_NE(search.out.find(
                "validation: split val of fold 2 of 4 (test = fold 2, val = fold 3, train = the rest): 5 "
                "graphs"),
            std::string::npos)
      << search.out;

  // The stored split of a set with folds: a note naming its fold.
  const CliResult stored =
      run(path("float.qgnn") + " --calib " + path("folds.qgd") + " -o " + path("s.qgnn"));
  ASSERT_EQ(stored.status, 0) << stored.err;
  EXPECT_NE(stored.err.find("note: " + path("folds.qgd") + ": split train = fold 0's train graphs"),
            std::string::npos)
      << stored.err;

  // A model trained on fold 1 calibrated on fold 2's graphs: a warning (fold 1's own train split: none).
  const CliResult other =
      run(path("fold1.qgnn") + " --calib " + path("folds.qgd") + " --fold 2 -o " + path("w.qgnn"));
  ASSERT_EQ(other.status, 0) << other.err;
  EXPECT_NE(other.err.find("qgnn-convert: WARNING: " + path("folds.qgd") +
                           ": the model was trained on fold 1 of 4"),
            std::string::npos)
      << other.err;
  const CliResult same =
      run(path("fold1.qgnn") + " --calib " + path("folds.qgd") + " --fold 1 -o " + path("w.qgnn"));
  ASSERT_EQ(same.status, 0) << same.err;
  EXPECT_EQ(same.err.find("warning"), std::string::npos) << same.err;

  // Errors: no fold array, out of range; nothing written.
  const CliResult none =
      run(path("float.qgnn") + " --calib " + path("data.qgd") + " --fold 1 -o " + path("n.qgnn"));
  EXPECT_EQ(none.status, 1);
  EXPECT_NE(none.err.find("no fold array"), std::string::npos) << none.err;
  EXPECT_FALSE(exists("n.qgnn"));
  const CliResult range =
      run(path("float.qgnn") + " --calib " + path("folds.qgd") + " --fold 4 -o " + path("n.qgnn"));
  EXPECT_EQ(range.status, 1);
  EXPECT_NE(range.err.find("--fold 4 outside 0..3"), std::string::npos) << range.err;
  EXPECT_FALSE(exists("n.qgnn"));
}

TEST_F(ConvertCli, RangeMethodsGiveDifferentRanges) {
  std::vector<float> input_scales;
  for (const char* method : {"minmax", "percentile", "pauta"}) {
    const CliResult r = run(path("float.qgnn") + " --calib " + path("data.qgd") + " --calibration " + method +
                            " -o " + path("m.qgnn"));
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find(method), std::string::npos) << r.out;
    const auto model = parse_model(read_file(path("m.qgnn")).value);
    ASSERT_TRUE(model.ok()) << model.error;
    input_scales.push_back(model.value.input_quant.scale);
  }
  // N(0, 1) features: min-max is the widest, the 0.1 / 99.9 percentiles narrower; 8-bit Pauta's mean +- 5
  // sigma reaches the observed min / max of these few thousand samples (it clips only real outliers).
  EXPECT_GT(input_scales[0], input_scales[1]);
  EXPECT_GE(input_scales[0], input_scales[2]);
  const CliResult k2 =
      run(path("float.qgnn") + " --calib " + path("data.qgd") + " --sigma 2 -o " + path("k2.qgnn"));
  ASSERT_EQ(k2.status, 0) << k2.err;
  EXPECT_LT(parse_model(read_file(path("k2.qgnn")).value).value.input_quant.scale, input_scales[2]);
}

// One-hot labels beside a raw attribute at +-(250 ... 500), read by a Linear that uses only the one-hot block
// (float accuracy 1.0): with one input scale (--input-scales tensor) every 1 rounds to 0 and the model
// answers the first class for every node, so the collapse check refuses it (exit 1, nothing written) unless
// --force; the default per-column scales keep it exact.
TEST_F(ConvertCli, CollapsedModelIsRefusedAndPerColumnScalesAvoidIt) {
  constexpr uint32_t kNodes = 60;
  std::mt19937 rng(7);
  GraphSetDesc set;
  set.name = "raw";
  set.task = Task::kNodeClassification;
  set.feature_dim = 4;
  set.num_classes = 3;
  set.graph_ptr = {0, static_cast<int32_t>(kNodes)};
  set.row_ptr.assign(kNodes + 1, 0);
  std::uniform_real_distribution<float> raw(250.0f, 500.0f);
  for (uint32_t n = 0; n < kNodes; ++n) {
    const int32_t label = static_cast<int32_t>(n % 3);
    set.labels.push_back(label);
    set.train.push_back(n);
    for (int32_t c = 0; c < 3; ++c) set.features.push_back(c == label ? 1.0f : 0.0f);
    set.features.push_back((n % 2 == 0 ? 1.0f : -1.0f) * raw(rng));
  }
  ASSERT_TRUE(write_file_atomic(path("raw.qgd"), serialize_graph_set(set).value).ok());
  ModelDesc m;
  m.name = "onehot";
  m.task = Task::kNodeClassification;
  m.input_dim = 4;
  m.layers = {testing::linear_layer(4, 3, false, rng)};
  DenseDesc& d = m.layers[0].dense;
  for (int32_t j = 0; j < 3; ++j) {
    for (int32_t k = 0; k < 4; ++k) d.weight[static_cast<size_t>(j * 4 + k)] = j == k ? 4.0f : 0.0f;
    d.bias[static_cast<size_t>(j)] = 0.0f;
  }
  ASSERT_TRUE(write_file_atomic(path("onehot.qgnn"), serialize_model(m).value).ok());
  const std::string base = path("onehot.qgnn") + " --calib " + path("raw.qgd") + " --split train ";
  const CliResult refused = run(base + "--input-scales tensor -o " + path("t.qgnn"));
  EXPECT_EQ(refused.status, 1);
  EXPECT_NE(refused.err.find("collapsed to majority-class accuracy on the calibration split: 0.3333"),
            std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("float model scores 1.0000"), std::string::npos) << refused.err;
  EXPECT_FALSE(exists("t.qgnn"));
  const CliResult forced = run(base + "--input-scales tensor --force -o " + path("t.qgnn"));
  EXPECT_EQ(forced.status, 0) << forced.err;
  EXPECT_NE(forced.err.find("--force: writing a collapsed model"), std::string::npos) << forced.err;
  EXPECT_TRUE(exists("t.qgnn"));
  const CliResult automatic = run(base + "-o " + path("a.qgnn"));
  EXPECT_EQ(automatic.status, 0) << automatic.err;
  EXPECT_NE(automatic.err.find("per-column input scales (auto)"), std::string::npos) << automatic.err;
  const auto written = parse_model(read_file(path("a.qgnn")).value);
  ASSERT_TRUE(written.ok()) << written.error;
  EXPECT_EQ(written.value.input_column_scales.size(), 4u);
  EXPECT_EQ(written.value.version, kInputColumnsFormatVersion);
}

TEST_F(ConvertCli, MixedSpecGivesExactlyTheRequestedBits) {
  // all_kinds: gcn, sage, sage, gin, pool, linear (two layers named "sage": addressed by index).
  // Under "*" the aggregations and the first layer's weights would stay 8: "*.agg=4" and "gcn.w=4" name them.
  const std::string spec = "*=4,*.agg=4,gcn.agg=8,gcn.w=4,#1.w=8,#2=8,gin.out=8,input=8";
  const CliResult r = run(path("float.qgnn") + " --calib " + path("data.qgd") + " --split all --bits '" +
                          spec + "' -o " + path("mixed.qgnn"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("calibrated on 20 graphs"), std::string::npos) << r.out;
  const auto model = parse_model(read_file(path("mixed.qgnn")).value);
  ASSERT_TRUE(model.ok()) << model.error;
  const std::vector<LayerDesc>& l = model.value.layers;
  EXPECT_EQ(model.value.input_quant.bits, 8);
  EXPECT_EQ(l[0].dense.weight_bits, 4);
  EXPECT_EQ(l[0].aggregation.bits, 8);
  EXPECT_EQ(l[0].output.bits, 4);
  EXPECT_EQ(l[1].dense.weight_bits, 8);
  EXPECT_EQ(l[1].root.weight_bits, 8);
  EXPECT_EQ(l[1].aggregation.bits, 4);
  EXPECT_EQ(l[1].output.bits, 4);
  EXPECT_EQ(l[2].dense.weight_bits, 8);
  EXPECT_EQ(l[2].aggregation.bits, 8);
  EXPECT_EQ(l[2].output.bits, 8);
  for (const DenseDesc& d : l[3].mlp) EXPECT_EQ(d.weight_bits, 4);
  for (const QuantParams& h : l[3].hidden) EXPECT_EQ(h.bits, 8);  // GIN hidden activations follow .out
  EXPECT_EQ(l[3].aggregation.bits, 4);
  EXPECT_EQ(l[3].output.bits, 8);
  EXPECT_EQ(l[4].output.bits, 4);
  EXPECT_EQ(l[5].dense.weight_bits, 4);
  EXPECT_EQ(l[5].output.bits, 8);  // the logits
#ifdef QGNN_INSPECT_PATH
  // The same, as qgnn-inspect --json reports it.
  const std::string json = path("inspect.json");
  ASSERT_EQ(
      std::system((std::string(QGNN_INSPECT_PATH) + " --json " + path("mixed.qgnn") + " >" + json).c_str()),
      0);
  const std::string text = slurp(json);
  EXPECT_NE(text.find("\"weight_type\": \"INT4\""), std::string::npos);
  EXPECT_NE(text.find("\"weight_type\": \"INT8\""), std::string::npos);
#endif
}

TEST_F(ConvertCli, ReportHasSqnrBytesRangesAndOverflowBounds) {
  const CliResult r = run(path("float.qgnn") + " --calib " + path("data.qgd") + " --report " +
                          path("r.json") + " -o " + path("r.qgnn"));
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string report = slurp(path("r.json"));
  for (const char* key :
       {"\"range_method\"", "\"weight_sqnr_db\"", "\"sqnr_db\"", "\"weight_bytes\"", "\"range_min\"",
        "\"clipped_fraction\"", "\"overflow\"", "\"accumulators\"", "\"bits_spec\"", "\"model_bytes\""}) {
    EXPECT_NE(report.find(key), std::string::npos) << key;
  }
}

TEST_F(ConvertCli, DeclaredLimitsAreProvenAndStored) {
  const CliResult r = run(path("float.qgnn") + " --calib " + path("data.qgd") +
                          " --max-degree 64 --max-nodes 500 -o " + path("l.qgnn"));
  ASSERT_EQ(r.status, 0) << r.err;
  const auto model = parse_model(read_file(path("l.qgnn")).value);
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model.value.limits.max_degree, 64u);
  EXPECT_EQ(model.value.limits.max_nodes, 500u);
  // Beyond what the int32 sum of the first sum aggregation (GIN, |x - zx| <= 255) can hold.
  const CliResult overflow = run(path("float.qgnn") + " --calib " + path("data.qgd") +
                                 " --max-degree 4000000000 -o " + path("o.qgnn"));
  EXPECT_EQ(overflow.status, 1);
  EXPECT_NE(overflow.err.find("can overflow"), std::string::npos) << overflow.err;
  EXPECT_NE(overflow.err.find("largest safe max_degree"), std::string::npos) << overflow.err;
  EXPECT_FALSE(exists("o.qgnn"));
}

TEST_F(ConvertCli, AutoBitsRespectsMaxDropAndWritesTheFront) {
  const CliResult r = run(path("float.qgnn") + " --calib " + path("data.qgd") + " --auto-bits --val " +
                          path("data.qgd") + " --val-split all --max-drop 5 --pareto " + path("p.json") +
                          " --pareto-svg " + path("p.svg") + " -o " + path("a.qgnn"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Pareto front"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("<- chosen"), std::string::npos) << r.out;
  EXPECT_NE(slurp(path("p.json")).find("\"explored\""), std::string::npos);
  EXPECT_EQ(slurp(path("p.svg")).rfind("<svg", 0), 0u);
  EXPECT_TRUE(exists("a.qgnn"));
  // A budget no model meets.
  const CliResult impossible =
      run(path("float.qgnn") + " --calib " + path("data.qgd") + " --auto-bits --val " + path("data.qgd") +
          " --val-split all --budget-bytes 10 -o " + path("b.qgnn"));
  EXPECT_EQ(impossible.status, 1);
  EXPECT_NE(impossible.err.find("impossible budget"), std::string::npos) << impossible.err;
  EXPECT_FALSE(exists("b.qgnn"));
}

TEST_F(ConvertCli, StoredQatRangesAreUsedUnlessACalibrationMethodIsGiven) {
  ModelDesc with_ranges = float_model_;
  testing::add_stored_ranges(&with_ranges);  // input range [-0.75, 1.5]
  ASSERT_TRUE(write_file_atomic(path("qat.qgnn"), serialize_model(with_ranges).value).ok());
  // No calibration data needed: the stored ranges are used as they are.
  const CliResult stored = run(path("qat.qgnn") + " -o " + path("s.qgnn"));
  ASSERT_EQ(stored.status, 0) << stored.err;
  EXPECT_NE(stored.out.find("stored in the model"), std::string::npos) << stored.out;
  const ModelDesc s = parse_model(read_file(path("s.qgnn")).value).value;
  EXPECT_FLOAT_EQ(s.input_quant.scale, 2.25f / 255.0f);
  // --calibration recalibrates on the data.
  const CliResult calibrated =
      run(path("qat.qgnn") + " --calib " + path("data.qgd") + " --calibration minmax -o " + path("c.qgnn"));
  ASSERT_EQ(calibrated.status, 0) << calibrated.err;
  EXPECT_NE(calibrated.out.find("calibrated on"), std::string::npos) << calibrated.out;
  EXPECT_NE(parse_model(read_file(path("c.qgnn")).value).value.input_quant.scale, s.input_quant.scale);
}

// --order: auto keeps the widening GCN (5 -> 7) aggregate-first, transform-first forces it (format version
// 5), an unknown order is a usage error, and stored QAT ranges (learned aggregate-first) cannot be forced
// into the other order without recalibrating.
TEST_F(ConvertCli, OrderOfGcnLayers) {
  ASSERT_EQ(float_model_.layers[0].kind, LayerKind::kGcnConv);
  ASSERT_GT(float_model_.layers[0].dense.out_features, float_model_.layers[0].dense.in_features);
  const CliResult automatic =
      run(path("float.qgnn") + " --calib " + path("data.qgd") + " -o " + path("a.qgnn"));
  ASSERT_EQ(automatic.status, 0) << automatic.err;
  EXPECT_NE(automatic.err.find("aggregate-first, aggregates 5 columns"), std::string::npos) << automatic.err;
  const ModelDesc a = parse_model(read_file(path("a.qgnn")).value).value;
  EXPECT_EQ(a.layers[0].order, LayerOrder::kAggregateFirst);
  EXPECT_LT(a.version, kTransformFirstFormatVersion);

  // The model's MAX SAGE cannot run transform-first: a bare transform-first is refused, naming it.
  const CliResult max_sage = run(path("float.qgnn") + " --calib " + path("data.qgd") +
                                 " --order transform-first -o " + path("t.qgnn"));
  EXPECT_EQ(max_sage.status, 1);
  EXPECT_NE(max_sage.err.find("layer 2 (sage) is a SAGEConv with MAX, which cannot run transform-first"),
            std::string::npos)
      << max_sage.err;
  EXPECT_FALSE(exists("t.qgnn"));
  const CliResult forced = run(path("float.qgnn") + " --calib " + path("data.qgd") +
                               " --order GCNConv=transform-first -o " + path("t.qgnn"));
  ASSERT_EQ(forced.status, 0) << forced.err;
  EXPECT_NE(forced.err.find("transform-first, aggregates 7 columns"), std::string::npos) << forced.err;
  const ModelDesc t = parse_model(read_file(path("t.qgnn")).value).value;
  EXPECT_EQ(t.layers[0].order, LayerOrder::kTransformFirst);
  EXPECT_EQ(t.version, kTransformFirstFormatVersion);
  EXPECT_TRUE(check_model(t).ok());

  for (const char* spec :
       {"sideways", "GINConv=transform-first", "SAGEConv=up", "GCNConv=auto,GCNConv=auto"}) {
    const CliResult bad = run(path("float.qgnn") + " --calib " + path("data.qgd") + " --order " + spec +
                              " -o " + path("b.qgnn"));
    EXPECT_GE(bad.status, 2) << spec;
    EXPECT_FALSE(exists("b.qgnn")) << spec;
  }

  // The MEAN SAGE (7 -> 9, widening) forced transform-first: format version 6.
  const CliResult sage = run(path("float.qgnn") + " --calib " + path("data.qgd") +
                             " --order SAGEConv=transform-first -o " + path("s.qgnn"));
  EXPECT_EQ(sage.status, 1);  // the MAX SAGE is named by the same selector
  EXPECT_NE(sage.err.find("SAGEConv with MAX"), std::string::npos) << sage.err;

  ModelDesc with_ranges = float_model_;
  testing::add_stored_ranges(&with_ranges);
  ASSERT_TRUE(write_file_atomic(path("qat.qgnn"), serialize_model(with_ranges).value).ok());
  const CliResult refused = run(path("qat.qgnn") + " --order GCNConv=transform-first -o " + path("r.qgnn"));
  EXPECT_EQ(refused.status, 1);
  EXPECT_NE(refused.err.find("stored ranges were learned aggregate-first"), std::string::npos) << refused.err;
  EXPECT_FALSE(exists("r.qgnn"));
  const CliResult recalibrated =
      run(path("qat.qgnn") + " --calib " + path("data.qgd") +
          " --calibration pauta --order GCNConv=transform-first -o " + path("r.qgnn"));
  ASSERT_EQ(recalibrated.status, 0) << recalibrated.err;
  EXPECT_EQ(parse_model(read_file(path("r.qgnn")).value).value.layers[0].order, LayerOrder::kTransformFirst);
}

TEST_F(ConvertCli, UnfoldedBatchNormIsFoldedFirst) {
  ModelDesc with_bn = float_model_;
  std::mt19937 rng(53);
  testing::add_batch_norms(&with_bn, rng);
  ASSERT_TRUE(write_file_atomic(path("bn.qgnn"), serialize_model(with_bn).value).ok());
  ASSERT_TRUE(
      write_file_atomic(path("folded.qgnn"), serialize_model(fold_batch_norm(with_bn).value).value).ok());
  const CliResult bn = run(path("bn.qgnn") + " --calib " + path("data.qgd") + " -o " + path("q_bn.qgnn"));
  ASSERT_EQ(bn.status, 0) << bn.err;
  EXPECT_NE(bn.err.find("BatchNorm folded"), std::string::npos) << bn.err;
  const CliResult folded =
      run(path("folded.qgnn") + " --calib " + path("data.qgd") + " -o " + path("q_f.qgnn"));
  ASSERT_EQ(folded.status, 0) << folded.err;
  // Converting the unfolded model is converting its folded twin.
  const ModelDesc a = parse_model(read_file(path("q_bn.qgnn")).value).value;
  const ModelDesc b = parse_model(read_file(path("q_f.qgnn")).value).value;
  ASSERT_EQ(a.layers.size(), b.layers.size());
  EXPECT_EQ(a.input_quant.scale, b.input_quant.scale);
  for (size_t i = 0; i < a.layers.size(); ++i) {
    EXPECT_EQ(a.layers[i].output.scale, b.layers[i].output.scale) << i;
    EXPECT_EQ(a.layers[i].dense.weight_q, b.layers[i].dense.weight_q) << i;
  }
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
  const std::string data = " --calib " + path("data.qgd");
  const std::string out = " -o " + path("out.qgnn");
  for (const Case& c : {
           Case{path("missing.qgnn") + data + out, "missing.qgnn"},
           Case{path("garbage.qgnn") + data + out, "QGNN"},
           Case{path("q.qgnn") + data + out, "already quantized"},
           Case{path("dim4.qgnn") + data + out, "the model expects 4"},
           Case{path("float.qgnn") + " --calib " + path("float.qgnn") + out, "QGD1"},
           Case{path("float.qgnn") + data + " --split val" + out, "split \"val\""},
           Case{path("float.qgnn") + out, "--calib"},
           Case{path("float.qgnn") + data + " --bits 6" + out, "--bits"},
           Case{path("float.qgnn") + data + " --bits conv9.w=4" + out, "unknown layer 'conv9'"},
           Case{path("float.qgnn") + data + " --calibration median" + out, "--calibration"},
           Case{path("float.qgnn") + data + " --sigma -1" + out, "sigma"},
           Case{path("float.qgnn") + data + " --calibration percentile --percentile 20" + out, "percentile"},
           Case{path("float.qgnn") + data + " --auto-bits" + out, "--val"},
           Case{path("float.qgnn") + data + " --max-degree 5000000" + out, "above the runtime's cap"},
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
