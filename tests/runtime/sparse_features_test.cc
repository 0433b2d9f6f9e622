// Sparse node features (qgnn_interpreter_setup_sparse): models whose input only a Dense reads give exactly
// the bytes of the same features passed dense; every malformed sparse matrix and every model that cannot take
// one is refused with its own status, and nothing stays bound.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
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

// Features of `nodes` x `dim` with about `density` non-zeros (node 0 empty, node 1 fully dense), in both
// forms.
struct SparseMatrix {
  std::vector<int32_t> row_ptr{0};
  std::vector<int32_t> col_idx;
  std::vector<float> values;
  std::vector<float> dense;
  qgnn_sparse_features view() const {
    return qgnn_sparse_features{static_cast<uint32_t>(values.size()), row_ptr.data(), col_idx.data(),
                                values.data()};
  }
};

SparseMatrix RandomSparse(std::mt19937& rng, uint32_t nodes, int32_t dim, double density) {
  SparseMatrix m;
  m.dense.assign(static_cast<size_t>(nodes) * dim, 0.0f);
  std::bernoulli_distribution keep(density);
  std::uniform_real_distribution<float> value(-3.0f, 3.0f);
  for (uint32_t i = 0; i < nodes; ++i) {
    for (int32_t k = 0; k < dim; ++k) {
      const bool on = i == 1 || (i != 0 && keep(rng));
      if (!on) continue;
      // An explicit zero now and then: allowed, and it must not change anything.
      const float v = k % 13 == 5 ? 0.0f : value(rng);
      m.col_idx.push_back(k);
      m.values.push_back(v);
      m.dense[static_cast<size_t>(i) * dim + k] = v;
    }
    m.row_ptr.push_back(static_cast<int32_t>(m.values.size()));
  }
  return m;
}

struct SparseRun {
  qgnn_status status = QGNN_OK;
  std::string message;
  std::vector<int8_t> logits;
};

// Creates an interpreter for `graph` and runs it with `sparse` (or the graph's dense features when null).
SparseRun RunWith(const std::vector<uint8_t>& bytes, const Graph& graph, const qgnn_sparse_features* sparse,
                  uint32_t threads) {
  SparseRun r;
  AlignedBuffer buffer(bytes);
  qgnn_error error{};
  qgnn_model* model = nullptr;
  r.status = qgnn_model_create(buffer.data(), buffer.size(), &model, &error);
  if (r.status != QGNN_OK) return {r.status, error.message, {}};
  const qgnn_plan_limits limits{graph.num_nodes, graph.num_edges() + 1, graph.num_graphs};
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
    } else {
      r.status = qgnn_interpreter_setup(interpreter, &view, &error);
    }
    if (r.status != QGNN_OK) {
      r.message = error.message;
      // Nothing may stay bound after a refused setup.
      EXPECT_EQ(qgnn_interpreter_invoke(interpreter, nullptr), QGNN_NOT_READY);
    } else {
      r.status = qgnn_interpreter_invoke(interpreter, &error);
      qgnn_output out{};
      if (r.status == QGNN_OK && qgnn_interpreter_output(interpreter, &out) == QGNN_OK) {
        r.logits.assign(out.logits_q, out.logits_q + out.rows * out.cols);
      } else {
        r.message = error.message;
      }
    }
  } else {
    r.message = error.message;
  }
  qgnn_interpreter_delete(interpreter);
  qgnn_model_delete(model);
  return r;
}

Graph NodeGraphFor(std::mt19937& rng, uint32_t nodes, int32_t dim) {
  return RandomGraph(rng, {nodes}, 5, dim);
}

Graph WithFeatures(Graph g, const SparseMatrix& m) {
  g.features_f32 = m.dense;
  return g;
}

// Sparse and dense give the same bytes: transform-first GCN and Linear first layers, one input scale and
// per-column scales, int8 and int4, 1 and 3 threads.
TEST(SparseFeatures, SameBytesAsDenseFeatures) {
  struct Shape {
    const char* name;
    std::function<void(ModelMaker&)> layers;
    bool column_scales;
  };
  const std::vector<Shape> shapes = {
      {"gcn_tf", [](ModelMaker& m) { m.Gcn(16, true, {}, true).Gcn(5, false, {}, true); }, false},
      {"gcn_tf_int4",
       [](ModelMaker& m) {
         m.Gcn(9, true, Bits{4, 4, 4}, true).Linear(4, false);
       },
       false},
      {"sage_tf_without_root",
       [](ModelMaker& m) { m.Sage(8, Reduce::kMean, false, true, {}, true).Linear(4, false); }, false},
      // The root term reads the input again in the output step (quantize_sparse_rows, tile by tile).
      {"sage_tf_with_root",
       [](ModelMaker& m) { m.Sage(8, Reduce::kMean, true, true, {}, true).Linear(4, false); }, false},
      {"sage_tf_with_root_int4_columns",
       [](ModelMaker& m) {
         m.Sage(7, Reduce::kMean, true, true, Bits{4, 4, 4}, true).Linear(4, false);
       },
       true},
      {"linear_columns", [](ModelMaker& m) { m.Linear(12, true).Gcn(6, true, {}, true).Linear(3, false); },
       true},
  };
  constexpr int32_t kDim = 57;
  for (const Shape& s : shapes) {
    SCOPED_TRACE(s.name);
    ModelMaker m(true, Task::kNodeClassification, kDim, 61);
    s.layers(m);
    if (s.column_scales) {
      std::mt19937 rng(3);
      std::uniform_real_distribution<float> scale(0.005f, 0.2f);
      m.desc().input_column_scales.resize(kDim);
      for (float& c : m.desc().input_column_scales) c = scale(rng);
    }
    const std::vector<uint8_t> bytes = m.Bytes();
    std::mt19937 rng(7);
    Graph graph = NodeGraphFor(rng, 90, kDim);
    const SparseMatrix sparse = RandomSparse(rng, graph.num_nodes, kDim, 0.08);
    graph = WithFeatures(graph, sparse);
    const qgnn_sparse_features view = sparse.view();
    for (uint32_t threads : {1u, 3u}) {
      const SparseRun dense = RunWith(bytes, graph, nullptr, threads);
      const SparseRun from_sparse = RunWith(bytes, graph, &view, threads);
      ASSERT_EQ(dense.status, QGNN_OK) << dense.message;
      ASSERT_EQ(from_sparse.status, QGNN_OK) << from_sparse.message;
      EXPECT_EQ(from_sparse.logits, dense.logits);
      // The integer oracle knows one input scale only; with per-column scales dense == sparse is the check.
      if (!s.column_scales) {
        const std::vector<int32_t> oracle = OracleQuantized(m.desc(), graph);
        EXPECT_EQ(from_sparse.logits, std::vector<int8_t>(oracle.begin(), oracle.end()));
      }
    }
  }
}

TEST(SparseFeatures, WhichModelsAcceptThem) {
  auto accepts = [](const ModelMaker& m) {
    const std::vector<uint8_t> bytes = m.Bytes();
    AlignedBuffer buffer(bytes);
    qgnn_model* model = nullptr;
    EXPECT_EQ(qgnn_model_create(buffer.data(), buffer.size(), &model, nullptr), QGNN_OK);
    const int accepted = qgnn_model_accepts_sparse_features(model);
    qgnn_model_delete(model);
    return accepted;
  };
  {
    ModelMaker m(true, Task::kNodeClassification, 8, 1);
    m.Gcn(4, true, {}, true).Linear(2, false);
    EXPECT_EQ(accepts(m), 1);
  }
  {
    ModelMaker m(true, Task::kNodeClassification, 8, 1);  // the first layer aggregates its input
    m.Gcn(4, true).Linear(2, false);
    EXPECT_EQ(accepts(m), 0);
  }
  {
    ModelMaker m(true, Task::kNodeClassification, 8, 1);  // transform-first SAGE: one Dense reads the input
    m.Sage(4, Reduce::kMean, false, true, {}, true).Linear(2, false);
    EXPECT_EQ(accepts(m), 1);
  }
  {
    ModelMaker m(true, Task::kNodeClassification, 8, 1);  // its root term reads the input again, streamed too
    m.Sage(4, Reduce::kMean, true, true, {}, true).Linear(2, false);
    EXPECT_EQ(accepts(m), 1);
  }
  {
    ModelMaker m(false, Task::kNodeClassification, 8,
                 1);  // float: sparse_dense_f32 (float_sparse_input_test)
    m.Gcn(4, true, {}, true).Linear(2, false);
    EXPECT_EQ(accepts(m), 1);
  }
  {
    ModelMaker m(false, Task::kNodeClassification, 8, 1);  // a float model aggregating its input
    m.Gcn(4, true).Linear(2, false);
    EXPECT_EQ(accepts(m), 0);
  }
  {
    ModelMaker m(true, Task::kNodeClassification, 8, 1);  // int8 features
    m.Input(4, 0, true);
    m.Linear(2, false);
    EXPECT_EQ(accepts(m), 0);
  }
  EXPECT_EQ(qgnn_model_accepts_sparse_features(nullptr), 0);
}

TEST(SparseFeatures, MalformedOnesAreRefused) {
  constexpr int32_t kDim = 10;
  ModelMaker m(true, Task::kNodeClassification, kDim, 2);
  m.Gcn(4, true, {}, true).Linear(2, false);
  const std::vector<uint8_t> bytes = m.Bytes();
  std::mt19937 rng(9);
  Graph graph = NodeGraphFor(rng, 6, kDim);
  const SparseMatrix good = RandomSparse(rng, graph.num_nodes, kDim, 0.3);
  graph = WithFeatures(graph, good);
  const qgnn_sparse_features good_view = good.view();
  ASSERT_EQ(RunWith(bytes, graph, &good_view, 1).status, QGNN_OK);

  struct Case {
    const char* name;
    std::function<void(SparseMatrix&)> edit;
    qgnn_status status;
    const char* needle;
  };
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<Case> cases = {
      {"FirstRowPtr", [](SparseMatrix& s) { s.row_ptr[0] = 1; }, QGNN_INVALID_GRAPH, "row_ptr[0]"},
      {"Decreasing", [](SparseMatrix& s) { s.row_ptr[3] = s.row_ptr[2] - 1; }, QGNN_INVALID_GRAPH,
       "decreases"},
      {"LastNotNnz",
       [](SparseMatrix& s) {
         s.values.push_back(1.0f);
         s.col_idx.push_back(0);
       },
       QGNN_INVALID_GRAPH, "expected nnz"},
      {"ColumnOutOfRange", [](SparseMatrix& s) { s.col_idx.back() = kDim; }, QGNN_INVALID_GRAPH,
       "out of range"},
      {"NegativeColumn", [](SparseMatrix& s) { s.col_idx[s.row_ptr[1]] = -1; }, QGNN_INVALID_GRAPH,
       "out of range"},
      {"RepeatedColumn", [](SparseMatrix& s) { s.col_idx[s.row_ptr[1] + 1] = s.col_idx[s.row_ptr[1]]; },
       QGNN_INVALID_GRAPH, "strictly increasing"},
      {"NaN", [nan](SparseMatrix& s) { s.values[s.row_ptr[1]] = nan; }, QGNN_NON_FINITE_INPUT, "not finite"},
      {"Infinity", [](SparseMatrix& s) { s.values.back() = std::numeric_limits<float>::infinity(); },
       QGNN_NON_FINITE_INPUT, "not finite"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    SparseMatrix bad = good;
    c.edit(bad);
    const qgnn_sparse_features view = bad.view();
    const SparseRun r = RunWith(bytes, graph, &view, 1);
    EXPECT_EQ(r.status, c.status) << r.message;
    EXPECT_NE(r.message.find(c.needle), std::string::npos) << r.message;
  }
  {
    SCOPED_TRACE("NullArrays");
    qgnn_sparse_features view = good.view();
    view.col_idx = nullptr;
    const SparseRun r = RunWith(bytes, graph, &view, 1);
    EXPECT_EQ(r.status, QGNN_INVALID_ARGUMENT) << r.message;
    view = good.view();
    view.row_ptr = nullptr;
    EXPECT_EQ(RunWith(bytes, graph, &view, 1).status, QGNN_INVALID_ARGUMENT);
  }
  {
    SCOPED_TRACE("ModelWithoutSparseInput");
    ModelMaker af(true, Task::kNodeClassification, kDim, 2);
    af.Gcn(4, true).Linear(2, false);
    const qgnn_sparse_features view = good.view();
    const SparseRun r = RunWith(af.Bytes(), graph, &view, 1);
    EXPECT_EQ(r.status, QGNN_INVALID_ARGUMENT);
    EXPECT_NE(r.message.find("does not take sparse features"), std::string::npos) << r.message;
  }
}

}  // namespace
}  // namespace test
}  // namespace qgnn
