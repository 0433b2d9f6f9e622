// Float models whose input only plain Dense ops read (ops/float/input_dense_f32.cc): sparse features
// (qgnn_interpreter_setup_sparse) and dense features on every probe path (QGNN_INPUT_PROBE=dense: the dense
// GEMM; sparse: every block gathered; auto) give the same logits within kTolerance of the largest one (the
// float kernels sum in different orders and may fuse multiply-add), and malformed sparse features are refused
// as for quantized models.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "qgnn/qgnn.h"
#include "test_util.h"

namespace qgnn {
namespace test {
namespace {

// Relative to the largest |logit| of the dense run (plus 1): rounding of sums of ~1433 products of values in
// [-3, 3] is ~1e-6 of that; a missing or doubled non-zero moves a logit by ~1e-2 or more.
constexpr float kTolerance = 1e-4f;

class ProbeEnv {
 public:
  explicit ProbeEnv(const char* value) { setenv("QGNN_INPUT_PROBE", value, 1); }
  ~ProbeEnv() { unsetenv("QGNN_INPUT_PROBE"); }
};

struct FloatRun {
  qgnn_status status = QGNN_OK;
  std::string message;
  std::vector<float> logits;
  int accepts_sparse = -1;
};

struct Sparse {
  std::vector<int32_t> row_ptr{0};
  std::vector<int32_t> col_idx;
  std::vector<float> values;
  qgnn_sparse_features view() const {
    return {static_cast<uint32_t>(values.size()), row_ptr.data(), col_idx.data(), values.data()};
  }
};

Sparse ToSparse(const std::vector<float>& x, uint32_t nodes, int32_t dim) {
  Sparse s;
  for (uint32_t i = 0; i < nodes; ++i) {
    for (int32_t c = 0; c < dim; ++c) {
      const float v = x[static_cast<size_t>(i) * dim + c];
      if (v != 0.0f) {
        s.col_idx.push_back(c);
        s.values.push_back(v);
      }
    }
    s.row_ptr.push_back(static_cast<int32_t>(s.values.size()));
  }
  return s;
}

// Rows all zero, all non-zero or with `density` non-zeros (-0.0 now and then), so blocks of every kind and
// mixed blocks occur.
std::vector<float> Features(std::mt19937& rng, uint32_t nodes, int32_t dim, double density) {
  std::vector<float> x(static_cast<size_t>(nodes) * dim, 0.0f);
  std::uniform_int_distribution<int> kind(0, 5);
  std::bernoulli_distribution keep(density);
  std::uniform_real_distribution<float> value(-3.0f, 3.0f);
  for (uint32_t i = 0; i < nodes; ++i) {
    const int k = kind(rng);
    for (int32_t c = 0; c < dim; ++c) {
      float& v = x[static_cast<size_t>(i) * dim + c];
      if (k == 1 || (k > 1 && keep(rng))) v = value(rng);
      if (k > 1 && c % 17 == 3) v = -0.0f;
    }
  }
  return x;
}

FloatRun RunFloat(const std::vector<uint8_t>& bytes, const Graph& graph, const qgnn_sparse_features* sparse,
                  uint32_t threads) {
  FloatRun r;
  AlignedBuffer buffer(bytes);
  qgnn_error error{};
  qgnn_model* model = nullptr;
  r.status = qgnn_model_create(buffer.data(), buffer.size(), &model, &error);
  if (r.status != QGNN_OK) return {r.status, error.message, {}, -1};
  r.accepts_sparse = qgnn_model_accepts_sparse_features(model);
  const qgnn_plan_limits limits{graph.num_nodes > 0 ? graph.num_nodes : 1, graph.num_edges() + 1, 1};
  size_t arena_bytes = 0;
  EXPECT_EQ(qgnn_arena_size(model, &limits, &arena_bytes, nullptr), QGNN_OK);
  std::vector<uint8_t> arena(arena_bytes);
  qgnn_interpreter_options options;
  qgnn_interpreter_options_init(&options);
  options.num_threads = threads;
  qgnn_interpreter* interpreter = nullptr;
  r.status =
      qgnn_interpreter_create(model, &limits, arena.data(), arena.size(), &options, &interpreter, &error);
  if (r.status == QGNN_OK) {
    qgnn_graph view = graph.view(false);
    if (sparse != nullptr) {
      view.features_f32 = nullptr;
      r.status = qgnn_interpreter_setup_sparse(interpreter, &view, sparse, &error);
      // Nothing may stay bound after a refused setup.
      if (r.status != QGNN_OK) {
        EXPECT_EQ(qgnn_interpreter_invoke(interpreter, nullptr), QGNN_NOT_READY);
      }
    } else {
      r.status = qgnn_interpreter_setup(interpreter, &view, &error);
    }
    if (r.status == QGNN_OK) r.status = qgnn_interpreter_invoke(interpreter, &error);
    qgnn_output out{};
    if (r.status == QGNN_OK && qgnn_interpreter_output(interpreter, &out) == QGNN_OK) {
      r.logits.assign(out.logits_f32, out.logits_f32 + out.rows * out.cols);
    }
  }
  if (r.status != QGNN_OK) r.message = error.message;
  qgnn_interpreter_delete(interpreter);
  qgnn_model_delete(model);
  return r;
}

void ExpectClose(const std::vector<float>& got, const std::vector<float>& want, const char* path) {
  ASSERT_EQ(got.size(), want.size()) << path;
  float largest = 0.0f;
  for (float v : want) largest = std::fmax(largest, std::fabs(v));
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_TRUE(std::isfinite(got[i])) << path << " logit " << i;
    ASSERT_LE(std::fabs(got[i] - want[i]), kTolerance * (1.0f + largest))
        << path << " logit " << i << ": " << got[i] << " vs " << want[i];
  }
}

// Transform-first GCN, Linear (with ReLU and bias) and transform-first SAGE (with and without root) first
// layers, widths around the vector sizes and Cora's 1433, graphs of 0, 1, 37 and 150 nodes (blocks of
// kProbeRowsF32 = 64 rows: one partial block, and several with a partial last one), mostly-zero and denser
// features, 1 and 3 threads.
TEST(FloatSparseInput, EveryPathGivesTheDenseLogits) {
  struct Shape {
    const char* name;
    std::function<void(ModelMaker&)> layers;
  };
  const std::vector<Shape> shapes = {
      {"gcn_tf", [](ModelMaker& m) { m.Gcn(16, true, {}, true).Gcn(5, false, {}, true); }},
      {"linear", [](ModelMaker& m) { m.Linear(12, true).Gcn(6, true, {}, true).Linear(3, false); }},
      {"sage_tf", [](ModelMaker& m) { m.Sage(10, Reduce::kMean, false, true, {}, true).Linear(3, false); }},
      // The root term reads the input a second time (its own sparse_dense_f32 or probed Dense).
      {"sage_tf_root",
       [](ModelMaker& m) { m.Sage(10, Reduce::kMean, true, true, {}, true).Linear(3, false); }},
  };
  int checked = 0;
  for (const Shape& s : shapes) {
    for (int32_t dim : {1, 15, 16, 17, 1433}) {
      for (uint32_t nodes : {0u, 1u, 37u, 150u}) {
        for (double density : {0.01, 0.3}) {
          SCOPED_TRACE(std::string(s.name) + " dim " + std::to_string(dim) + " nodes " +
                       std::to_string(nodes) + " density " + std::to_string(density));
          ModelMaker m(false, Task::kNodeClassification, dim, 71);
          s.layers(m);
          const std::vector<uint8_t> bytes = m.Bytes();
          std::mt19937 rng(static_cast<uint32_t>(dim * 977 + nodes));
          Graph graph = RandomGraph(rng, {nodes}, 5, dim);
          graph.features_f32 = Features(rng, nodes, dim, density);
          const Sparse sparse = ToSparse(graph.features_f32, nodes, dim);
          const qgnn_sparse_features sparse_view = sparse.view();
          for (uint32_t threads : {1u, 3u}) {
            FloatRun dense, gathered, automatic;
            {
              ProbeEnv env("dense");
              dense = RunFloat(bytes, graph, nullptr, threads);
            }
            {
              ProbeEnv env("sparse");
              gathered = RunFloat(bytes, graph, nullptr, threads);
            }
            automatic = RunFloat(bytes, graph, nullptr, threads);
            const FloatRun from_sparse = RunFloat(bytes, graph, &sparse_view, threads);
            ASSERT_EQ(dense.status, QGNN_OK) << dense.message;
            ASSERT_EQ(gathered.status, QGNN_OK) << gathered.message;
            ASSERT_EQ(automatic.status, QGNN_OK) << automatic.message;
            ASSERT_EQ(from_sparse.status, QGNN_OK) << from_sparse.message;
            EXPECT_EQ(dense.accepts_sparse, 1);
            EXPECT_EQ(dense.logits.size(), static_cast<size_t>(nodes) * (s.name[0] == 'g' ? 5 : 3));
            ExpectClose(gathered.logits, dense.logits, "gathered");
            ExpectClose(automatic.logits, dense.logits, "auto");
            ExpectClose(from_sparse.logits, dense.logits, "sparse features");
            if (nodes > 0) ++checked;
          }
        }
      }
    }
  }
  EXPECT_EQ(checked, 4 * 5 * 3 * 2 * 2);
}

// The float model's sparse features are validated as the quantized model's (sparse_features_test.cc):
// each malformed matrix is refused with its status and nothing stays bound; models whose input is
// aggregated do not take them.
TEST(FloatSparseInput, MalformedOnesAreRefused) {
  constexpr int32_t kDim = 10;
  ModelMaker m(false, Task::kNodeClassification, kDim, 2);
  m.Gcn(4, true, {}, true).Linear(2, false);
  const std::vector<uint8_t> bytes = m.Bytes();
  std::mt19937 rng(9);
  Graph graph = RandomGraph(rng, {6}, 5, kDim);
  graph.features_f32 = Features(rng, 6, kDim, 0.4);
  const Sparse good = ToSparse(graph.features_f32, 6, kDim);
  ASSERT_GE(good.values.size(), 8u);
  const qgnn_sparse_features good_view = good.view();
  ASSERT_EQ(RunFloat(bytes, graph, &good_view, 1).status, QGNN_OK);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  struct Case {
    const char* name;
    std::function<void(Sparse&)> edit;
    qgnn_status status;
  };
  const std::vector<Case> cases = {
      {"FirstRowPtr", [](Sparse& s) { s.row_ptr[0] = 1; }, QGNN_INVALID_GRAPH},
      {"Decreasing", [](Sparse& s) { s.row_ptr[3] = s.row_ptr[2] - 1; }, QGNN_INVALID_GRAPH},
      {"ColumnOutOfRange", [](Sparse& s) { s.col_idx.back() = kDim; }, QGNN_INVALID_GRAPH},
      {"NegativeColumn", [](Sparse& s) { s.col_idx.front() = -1; }, QGNN_INVALID_GRAPH},
      {"NaN", [nan](Sparse& s) { s.values.front() = nan; }, QGNN_NON_FINITE_INPUT},
      {"Infinity", [](Sparse& s) { s.values.back() = -std::numeric_limits<float>::infinity(); },
       QGNN_NON_FINITE_INPUT},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Sparse bad = good;
    c.edit(bad);
    const qgnn_sparse_features view = bad.view();
    const FloatRun r = RunFloat(bytes, graph, &view, 1);
    EXPECT_EQ(r.status, c.status) << r.message;
    EXPECT_FALSE(r.message.empty());
  }
  ModelMaker aggregate_first(false, Task::kNodeClassification, kDim, 2);
  aggregate_first.Gcn(4, true).Linear(2, false);
  {
    const FloatRun refused = RunFloat(aggregate_first.Bytes(), graph, &good_view, 1);
    EXPECT_EQ(refused.accepts_sparse, 0);
    EXPECT_EQ(refused.status, QGNN_INVALID_ARGUMENT);
    EXPECT_NE(refused.message.find("does not take sparse features"), std::string::npos) << refused.message;
  }
}

}  // namespace
}  // namespace test
}  // namespace qgnn
