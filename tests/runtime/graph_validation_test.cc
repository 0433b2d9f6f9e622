// qgnn_interpreter_setup: every graph error has its status; invoke/output state machine; arena checks.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "test_util.h"

namespace qgnn {
namespace test {
namespace {

// A loaded model with an interpreter planned for (nodes, edges, graphs).
class Fixture {
 public:
  Fixture(const std::vector<uint8_t>& bytes, qgnn_plan_limits limits) : buffer_(bytes), limits_(limits) {
    EXPECT_EQ(qgnn_model_create(buffer_.data(), buffer_.size(), &model_, nullptr), QGNN_OK);
    size_t bytes_needed = 0;
    EXPECT_EQ(qgnn_arena_size(model_, &limits_, &bytes_needed, nullptr), QGNN_OK);
    arena_.resize(bytes_needed);
    EXPECT_EQ(qgnn_interpreter_create(model_, &limits_, arena_.data(), arena_.size(), nullptr, &interpreter_,
                                      nullptr),
              QGNN_OK);
  }
  ~Fixture() {
    qgnn_interpreter_delete(interpreter_);
    qgnn_model_delete(model_);
  }
  qgnn_status Setup(const qgnn_graph& g, std::string* message = nullptr) {
    qgnn_error error{};
    const qgnn_status status = qgnn_interpreter_setup(interpreter_, &g, &error);
    EXPECT_EQ(status, error.status);
    if (message != nullptr) *message = error.message;
    return status;
  }
  qgnn_interpreter* interpreter() { return interpreter_; }
  qgnn_model* model() { return model_; }

 private:
  AlignedBuffer buffer_;
  qgnn_plan_limits limits_;
  std::vector<uint8_t> arena_;
  qgnn_model* model_ = nullptr;
  qgnn_interpreter* interpreter_ = nullptr;
};

std::vector<uint8_t> GraphModel(bool quantized) {
  ModelMaker m(quantized, Task::kGraphClassification, 3, 7);
  m.Gcn(4, true).Pool(Reduce::kSum).Linear(2, false);
  return m.Bytes();
}

// Two graphs: nodes {0, 1, 2} and {3, 4}; edges 1->0, 2->0, 0->1, 4->3.
struct SmallGraph {
  std::vector<int32_t> row_ptr{0, 2, 3, 3, 4, 4};
  std::vector<int32_t> col_idx{1, 2, 0, 4};
  std::vector<int32_t> graph_ptr{0, 3, 5};
  std::vector<float> features = std::vector<float>(15, 0.5f);
  std::vector<int8_t> features_i8 = std::vector<int8_t>(15, 3);
  qgnn_graph view() const {
    return qgnn_graph{5, 4, 2, row_ptr.data(), col_idx.data(), graph_ptr.data(), features.data(), nullptr};
  }
};

const qgnn_plan_limits kLimits{8, 10, 3};

TEST(GraphValidation, ValidGraphRuns) {
  Fixture f(GraphModel(true), kLimits);
  SmallGraph g;
  EXPECT_EQ(f.Setup(g.view()), QGNN_OK);
  EXPECT_EQ(qgnn_interpreter_invoke(f.interpreter(), nullptr), QGNN_OK);
  qgnn_output out{};
  EXPECT_EQ(qgnn_interpreter_output(f.interpreter(), &out), QGNN_OK);
  EXPECT_EQ(out.rows, 2u);
  EXPECT_EQ(out.cols, 2u);
  // A single graph may omit graph_ptr.
  qgnn_graph one = g.view();
  one.num_graphs = 1;
  one.graph_ptr = nullptr;
  EXPECT_EQ(f.Setup(one), QGNN_OK);  // edges of a single graph cannot cross
  EXPECT_EQ(qgnn_interpreter_invoke(f.interpreter(), nullptr), QGNN_OK);
}

struct GraphCase {
  const char* name;
  void (*edit)(SmallGraph&, qgnn_graph&);
  qgnn_status status;
  const char* needle;
};

const GraphCase kGraphCases[] = {
    {"RowPtrStartsAtOne", [](SmallGraph& s, qgnn_graph&) { s.row_ptr[0] = 1; }, QGNN_INVALID_GRAPH,
     "row_ptr[0]"},
    {"RowPtrDecreases", [](SmallGraph& s, qgnn_graph&) { s.row_ptr[2] = 1; }, QGNN_INVALID_GRAPH,
     "decreases"},
    {"RowPtrLastNotNumEdges", [](SmallGraph& s, qgnn_graph& g) { g.num_edges = 3; }, QGNN_INVALID_GRAPH,
     "num_edges"},
    {"ColIdxNegative", [](SmallGraph& s, qgnn_graph&) { s.col_idx[1] = -1; }, QGNN_INVALID_GRAPH,
     "out of range"},
    {"ColIdxTooLarge", [](SmallGraph& s, qgnn_graph&) { s.col_idx[3] = 5; }, QGNN_INVALID_GRAPH,
     "out of range"},
    {"EdgeCrossesGraphs", [](SmallGraph& s, qgnn_graph&) { s.col_idx[3] = 0; }, QGNN_INVALID_GRAPH,
     "crosses"},
    {"GraphPtrStartsAtOne", [](SmallGraph& s, qgnn_graph&) { s.graph_ptr[0] = 1; }, QGNN_INVALID_GRAPH,
     "graph_ptr[0]"},
    {"GraphPtrDecreases",
     [](SmallGraph& s, qgnn_graph&) {
       s.graph_ptr[1] = 6;
       s.graph_ptr[2] = 5;
     },
     QGNN_INVALID_GRAPH, "decreases"},
    {"GraphPtrLastNotNumNodes", [](SmallGraph& s, qgnn_graph&) { s.graph_ptr[2] = 4; }, QGNN_INVALID_GRAPH,
     "num_nodes"},
    {"ZeroGraphs", [](SmallGraph&, qgnn_graph& g) { g.num_graphs = 0; }, QGNN_INVALID_GRAPH, "num_graphs"},
    {"TooManyNodes", [](SmallGraph&, qgnn_graph& g) { g.num_nodes = 9; }, QGNN_GRAPH_TOO_LARGE, "max_nodes"},
    {"TooManyEdges", [](SmallGraph&, qgnn_graph& g) { g.num_edges = 11; }, QGNN_GRAPH_TOO_LARGE, "max_edges"},
    {"TooManyGraphs", [](SmallGraph&, qgnn_graph& g) { g.num_graphs = 4; }, QGNN_GRAPH_TOO_LARGE,
     "max_graphs"},
    {"NaNFeature", [](SmallGraph& s, qgnn_graph&) { s.features[7] = std::nanf(""); }, QGNN_NON_FINITE_INPUT,
     "feature 1 of node 2"},
    {"InfFeature",
     [](SmallGraph& s, qgnn_graph&) { s.features[14] = -std::numeric_limits<float>::infinity(); },
     QGNN_NON_FINITE_INPUT, "not finite"},
    {"NullRowPtr", [](SmallGraph&, qgnn_graph& g) { g.row_ptr = nullptr; }, QGNN_INVALID_ARGUMENT, "row_ptr"},
    {"NullColIdx", [](SmallGraph&, qgnn_graph& g) { g.col_idx = nullptr; }, QGNN_INVALID_ARGUMENT, "col_idx"},
    {"NullGraphPtrWithTwoGraphs", [](SmallGraph&, qgnn_graph& g) { g.graph_ptr = nullptr; },
     QGNN_INVALID_ARGUMENT, "graph_ptr"},
    {"NullFeatures", [](SmallGraph&, qgnn_graph& g) { g.features_f32 = nullptr; }, QGNN_INVALID_ARGUMENT,
     "features_f32"},
    {"Int8FeaturesForFloatInput", [](SmallGraph& s, qgnn_graph& g) { g.features_i8 = s.features_i8.data(); },
     QGNN_INVALID_ARGUMENT, "features_i8"},
};

class InvalidGraph : public ::testing::TestWithParam<GraphCase> {};

TEST_P(InvalidGraph, RejectedWithItsStatus) {
  for (bool quantized : {true, false}) {
    Fixture f(GraphModel(quantized), kLimits);
    SmallGraph s;
    qgnn_graph g = s.view();
    GetParam().edit(s, g);
    std::string message;
    EXPECT_EQ(f.Setup(g, &message), GetParam().status) << message;
    EXPECT_NE(message.find(GetParam().needle), std::string::npos) << message;
    // A failed setup leaves nothing bound.
    qgnn_error error{};
    EXPECT_EQ(qgnn_interpreter_invoke(f.interpreter(), &error), QGNN_NOT_READY);
    EXPECT_EQ(error.status, QGNN_NOT_READY);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, InvalidGraph, ::testing::ValuesIn(kGraphCases),
                         [](const ::testing::TestParamInfo<GraphCase>& info) {
                           return std::string(info.param.name);
                         });

// The feature check scans blocks of 4096 floats branch-free and rescans a block with a hit: a non-finite value
// on either side of a block edge, at the first and the last feature, is reported at its own position; the
// largest finite values and denormals pass.
TEST(GraphValidation, NonFiniteFeatureAcrossScanBlocks) {
  constexpr int32_t kDim = 1000;  // 5 nodes: 5000 floats, two scan blocks
  ModelMaker m(false, Task::kGraphClassification, kDim, 3);
  m.Gcn(4, true).Pool(Reduce::kSum).Linear(2, false);
  Fixture f(m.Bytes(), kLimits);
  const float inf = std::numeric_limits<float>::infinity();
  for (size_t at : {size_t{0}, size_t{4095}, size_t{4096}, size_t{4999}}) {
    for (float bad : {std::nanf(""), inf, -inf}) {
      SmallGraph s;
      s.features.assign(5 * kDim, std::numeric_limits<float>::max());
      s.features[1] = std::numeric_limits<float>::denorm_min();
      s.features[4097] = -std::numeric_limits<float>::max();
      qgnn_graph g = s.view();
      std::string message;
      EXPECT_EQ(f.Setup(g, &message), QGNN_OK) << message;
      s.features[at] = bad;
      EXPECT_EQ(f.Setup(g, &message), QGNN_NON_FINITE_INPUT) << at;
      const std::string where =
          "feature " + std::to_string(at % kDim) + " of node " + std::to_string(at / kDim) + " is not finite";
      EXPECT_NE(message.find(where), std::string::npos) << message;
    }
  }
}

TEST(GraphValidation, DegreeAboveModelLimit) {
  ModelMaker m(true, Task::kGraphClassification, 3, 8);
  m.Gcn(4, true).Pool(Reduce::kSum).Linear(2, false);
  m.desc().limits.max_degree = 1;
  Fixture f(m.Bytes(), kLimits);
  SmallGraph s;
  std::string message;
  EXPECT_EQ(f.Setup(s.view(), &message), QGNN_GRAPH_TOO_LARGE);
  EXPECT_NE(message.find("node 0 has in-degree 2"), std::string::npos) << message;
}

TEST(GraphValidation, Int8InputModel) {
  ModelMaker m(true, Task::kGraphClassification, 3, 9);
  m.Input(4, 0, /*int8_input=*/true);
  m.Gcn(4, true).Pool(Reduce::kSum).Linear(2, false);
  Fixture f(m.Bytes(), kLimits);
  SmallGraph s;
  qgnn_graph g = s.view();
  std::string message;
  EXPECT_EQ(f.Setup(g, &message), QGNN_INVALID_ARGUMENT) << message;  // float features for an int8 model
  g.features_f32 = nullptr;
  g.features_i8 = s.features_i8.data();
  EXPECT_EQ(f.Setup(g, &message), QGNN_OK) << message;
  s.features_i8[4] = 8;  // outside the 4-bit input range
  EXPECT_EQ(f.Setup(g, &message), QGNN_INVALID_ARGUMENT);
  EXPECT_NE(message.find("4-bit"), std::string::npos) << message;
  g.features_i8 = nullptr;
  EXPECT_EQ(f.Setup(g, &message), QGNN_INVALID_ARGUMENT);
}

TEST(GraphValidation, EmptyGraphsAndNoEdges) {
  Fixture f(GraphModel(true), kLimits);
  const std::vector<int32_t> row_ptr{0, 0, 0};
  const std::vector<int32_t> graph_ptr{0, 0, 2, 2};
  const std::vector<float> features(6, 1.0f);
  const qgnn_graph g{2, 0, 3, row_ptr.data(), nullptr, graph_ptr.data(), features.data(), nullptr};
  std::string message;
  ASSERT_EQ(f.Setup(g, &message), QGNN_OK) << message;
  ASSERT_EQ(qgnn_interpreter_invoke(f.interpreter(), nullptr), QGNN_OK);
  qgnn_output out{};
  ASSERT_EQ(qgnn_interpreter_output(f.interpreter(), &out), QGNN_OK);
  EXPECT_EQ(out.rows, 3u);
  // Empty graphs pool to the same row.
  EXPECT_EQ(out.logits_q[0], out.logits_q[4]);
  EXPECT_EQ(out.logits_q[1], out.logits_q[5]);
}

TEST(InterpreterState, NotReadyBeforeSetupAndInvoke) {
  Fixture f(GraphModel(false), kLimits);
  qgnn_output out{};
  float values[4];
  int32_t classes[2];
  EXPECT_EQ(qgnn_interpreter_invoke(f.interpreter(), nullptr), QGNN_NOT_READY);
  EXPECT_EQ(qgnn_interpreter_output(f.interpreter(), &out), QGNN_NOT_READY);
  EXPECT_EQ(qgnn_interpreter_output_float(f.interpreter(), values, 4), QGNN_NOT_READY);
  EXPECT_EQ(qgnn_interpreter_argmax(f.interpreter(), classes, 2), QGNN_NOT_READY);
  SmallGraph s;
  ASSERT_EQ(f.Setup(s.view()), QGNN_OK);
  EXPECT_EQ(qgnn_interpreter_output(f.interpreter(), &out), QGNN_NOT_READY);  // setup alone has no output
  ASSERT_EQ(qgnn_interpreter_invoke(f.interpreter(), nullptr), QGNN_OK);
  EXPECT_EQ(qgnn_interpreter_output(f.interpreter(), &out), QGNN_OK);
  EXPECT_EQ(out.logits_q, nullptr);
  EXPECT_NE(out.logits_f32, nullptr);
  EXPECT_EQ(qgnn_interpreter_output_float(f.interpreter(), values, 3),
            QGNN_INVALID_ARGUMENT);  // 2 x 2 needed
  EXPECT_EQ(qgnn_interpreter_output_float(f.interpreter(), values, 4), QGNN_OK);
  EXPECT_EQ(qgnn_interpreter_argmax(f.interpreter(), classes, 1), QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(qgnn_interpreter_argmax(f.interpreter(), classes, 2), QGNN_OK);
  // Invoke may repeat on the bound graph; a new setup drops the output.
  EXPECT_EQ(qgnn_interpreter_invoke(f.interpreter(), nullptr), QGNN_OK);
  ASSERT_EQ(f.Setup(s.view()), QGNN_OK);
  EXPECT_EQ(qgnn_interpreter_output(f.interpreter(), &out), QGNN_NOT_READY);
}

TEST(InterpreterState, NullArguments) {
  Fixture f(GraphModel(true), kLimits);
  qgnn_error error{};
  EXPECT_EQ(qgnn_interpreter_setup(nullptr, nullptr, &error), QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(qgnn_interpreter_setup(f.interpreter(), nullptr, &error), QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(qgnn_interpreter_invoke(nullptr, &error), QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(qgnn_interpreter_output(nullptr, nullptr), QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(qgnn_interpreter_output_float(nullptr, nullptr, 0), QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(qgnn_interpreter_argmax(nullptr, nullptr, 0), QGNN_INVALID_ARGUMENT);
  qgnn_interpreter_delete(nullptr);
}

// ---- Arena
// --------------------------------------------------------------------------------------------------

TEST(Arena, TooSmallIsRejected) {
  const std::vector<uint8_t> bytes = GraphModel(true);
  AlignedBuffer buffer(bytes);
  qgnn_model* model = nullptr;
  ASSERT_EQ(qgnn_model_create(buffer.data(), buffer.size(), &model, nullptr), QGNN_OK);
  size_t needed = 0;
  ASSERT_EQ(qgnn_arena_size(model, &kLimits, &needed, nullptr), QGNN_OK);
  AlignedBuffer arena(needed);
  qgnn_interpreter* interpreter = nullptr;
  qgnn_error error{};
  EXPECT_EQ(qgnn_interpreter_create(model, &kLimits, arena.data(), needed - 1, nullptr, &interpreter, &error),
            QGNN_ARENA_TOO_SMALL);
  EXPECT_EQ(error.status, QGNN_ARENA_TOO_SMALL);
  EXPECT_EQ(interpreter, nullptr);
  EXPECT_EQ(qgnn_interpreter_create(model, &kLimits, nullptr, needed, nullptr, &interpreter, &error),
            QGNN_INVALID_ARGUMENT);
  qgnn_model_delete(model);
}

TEST(Arena, AnyAlignmentWorksWithTheReportedSize) {
  const std::vector<uint8_t> bytes = GraphModel(true);
  AlignedBuffer buffer(bytes);
  qgnn_model* model = nullptr;
  ASSERT_EQ(qgnn_model_create(buffer.data(), buffer.size(), &model, nullptr), QGNN_OK);
  size_t needed = 0;
  ASSERT_EQ(qgnn_arena_size(model, &kLimits, &needed, nullptr), QGNN_OK);
  SmallGraph s;
  std::vector<int8_t> reference;
  for (size_t offset = 0; offset < 16; ++offset) {
    AlignedBuffer arena(needed, offset);  // exactly `needed` bytes at every alignment: ASan checks the bound
    qgnn_interpreter* interpreter = nullptr;
    ASSERT_EQ(qgnn_interpreter_create(model, &kLimits, arena.data(), needed, nullptr, &interpreter, nullptr),
              QGNN_OK);
    const qgnn_graph g = s.view();
    ASSERT_EQ(qgnn_interpreter_setup(interpreter, &g, nullptr), QGNN_OK);
    ASSERT_EQ(qgnn_interpreter_invoke(interpreter, nullptr), QGNN_OK);
    qgnn_output out{};
    ASSERT_EQ(qgnn_interpreter_output(interpreter, &out), QGNN_OK);
    std::vector<int8_t> logits(out.logits_q, out.logits_q + out.rows * out.cols);
    if (offset == 0) reference = logits;
    EXPECT_EQ(logits, reference) << offset;
    qgnn_interpreter_delete(interpreter);
  }
  qgnn_model_delete(model);
}

TEST(Arena, PlanLimitsChecked) {
  ModelMaker m(false, Task::kGraphClassification, 3, 10);
  m.Gcn(4, true).Pool(Reduce::kSum).Linear(2, false);
  m.desc().limits = {100, 200, 0, 4};
  const std::vector<uint8_t> bytes = m.Bytes();
  AlignedBuffer buffer(bytes);
  qgnn_model* model = nullptr;
  ASSERT_EQ(qgnn_model_create(buffer.data(), buffer.size(), &model, nullptr), QGNN_OK);
  size_t needed = 0;
  qgnn_error error{};
  qgnn_plan_limits limits{100, 200, 4};
  EXPECT_EQ(qgnn_arena_size(model, &limits, &needed, &error), QGNN_OK);
  limits = {101, 200, 4};
  EXPECT_EQ(qgnn_arena_size(model, &limits, &needed, &error), QGNN_LIMIT_EXCEEDED);
  EXPECT_NE(std::string(error.message).find("max_nodes"), std::string::npos) << error.message;
  limits = {100, 201, 4};
  EXPECT_EQ(qgnn_arena_size(model, &limits, &needed, &error), QGNN_LIMIT_EXCEEDED);
  limits = {100, 200, 5};
  EXPECT_EQ(qgnn_arena_size(model, &limits, &needed, &error), QGNN_LIMIT_EXCEEDED);
  limits = {100, 200, 0};
  EXPECT_EQ(qgnn_arena_size(model, &limits, &needed, &error), QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(qgnn_arena_size(model, nullptr, &needed, &error), QGNN_INVALID_ARGUMENT);
  qgnn_model_delete(model);
}

TEST(Arena, RuntimeCapsApply) {
  const std::vector<uint8_t> bytes = GraphModel(true);
  AlignedBuffer buffer(bytes);
  qgnn_model* model = nullptr;
  ASSERT_EQ(qgnn_model_create(buffer.data(), buffer.size(), &model, nullptr), QGNN_OK);
  size_t needed = 0;
  qgnn_plan_limits limits{1u << 22, 1u << 28, 1u << 22};
  EXPECT_EQ(qgnn_arena_size(model, &limits, &needed, nullptr), QGNN_OK);
  limits.max_nodes = (1u << 22) + 1;
  EXPECT_EQ(qgnn_arena_size(model, &limits, &needed, nullptr), QGNN_LIMIT_EXCEEDED);
  limits = {1u << 22, (1u << 28) + 1, 1};
  EXPECT_EQ(qgnn_arena_size(model, &limits, &needed, nullptr), QGNN_LIMIT_EXCEEDED);
  limits = {1, 1, (1u << 22) + 1};
  EXPECT_EQ(qgnn_arena_size(model, &limits, &needed, nullptr), QGNN_LIMIT_EXCEEDED);
  qgnn_model_delete(model);
}

}  // namespace
}  // namespace test
}  // namespace qgnn
