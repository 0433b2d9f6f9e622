// Node reordering end to end: a model run on the permuted graph and features, its per-node outputs brought
// back with qgnn_rows_unpermute, gives exactly the bytes of the unpermuted run — for every layer kind,
// quantized (INT8, INT4, int8 input, sparse features) and float node classification; per-graph outputs of
// graph classification need no unpermuting and are identical for quantized models, while float SUM / MEAN
// pooling adds a graph's nodes in the new order (within the float rounding bound).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "qgnn/qgnn.h"
#include "test_util.h"

namespace qgnn {
namespace test {
namespace {

const qgnn_reorder_method kMethods[] = {QGNN_REORDER_RCM, QGNN_REORDER_DEGREE};

// `graph` renumbered with `method` through the C API (perm[i]: new index of node i).
Graph Permute(const Graph& graph, qgnn_reorder_method method, std::vector<int32_t>* perm) {
  const qgnn_graph view = graph.view(!graph.features_i8.empty() && graph.features_f32.empty());
  size_t bytes = 0;
  EXPECT_EQ(qgnn_graph_reorder_scratch_size(graph.num_nodes, method, &bytes, nullptr), QGNN_OK);
  std::vector<uint8_t> scratch(bytes);
  perm->assign(graph.num_nodes, 0);
  qgnn_error error{};
  EXPECT_EQ(qgnn_graph_reorder(&view, method, perm->data(), scratch.data(), bytes, &error), QGNN_OK)
      << error.message;
  Graph out = graph;
  // Both feature arrays are permuted (the test graphs carry both); the C API takes one at a time.
  for (int form = 0; form < 2; ++form) {
    qgnn_graph in = view;
    in.features_f32 = form == 0 ? graph.features_f32.data() : nullptr;
    in.features_i8 = form == 1 ? graph.features_i8.data() : nullptr;
    if ((form == 0 && graph.features_f32.empty()) || (form == 1 && graph.features_i8.empty())) {
      in.features_f32 = nullptr;
      in.features_i8 = nullptr;
    }
    qgnn_graph permuted{};
    EXPECT_EQ(
        qgnn_graph_permute(&in, static_cast<uint32_t>(graph.feature_dim), perm->data(), out.row_ptr.data(),
                           out.col_idx.data(), in.features_f32 ? out.features_f32.data() : nullptr,
                           in.features_i8 ? out.features_i8.data() : nullptr, &permuted, &error),
        QGNN_OK)
        << error.message;
  }
  return out;
}

template <typename T>
std::vector<T> Unpermute(const std::vector<T>& rows, uint32_t cols, const std::vector<int32_t>& perm) {
  std::vector<T> out(rows.size());
  if (rows.empty()) return out;  // a float model's int8 logits
  qgnn_error error{};
  EXPECT_EQ(qgnn_rows_unpermute(perm.data(), static_cast<uint32_t>(perm.size()), cols * sizeof(T),
                                rows.data(), out.data(), &error),
            QGNN_OK)
      << error.message;
  return out;
}

// The reorder must change something for the test to mean anything.
void ExpectNotIdentity(const std::vector<int32_t>& perm) {
  size_t moved = 0;
  for (size_t i = 0; i < perm.size(); ++i) moved += perm[i] != static_cast<int32_t>(i);
  EXPECT_GT(moved, perm.size() / 2) << "the permutation barely moves nodes";
}

// Runs `maker`'s model on `graph` and on its reorderings; per-node (or per-graph) outputs must be identical
// bytes, for 1 and 3 threads.
// `float_tolerance` > 0: float logits need only agree within it (relative), for XNNPACK (below).
void ExpectSameOutputs(const ModelMaker& maker, const Graph& graph, const char* fp32 = nullptr,
                       double float_tolerance = 0) {
  const std::vector<uint8_t> bytes = maker.Bytes();
  const bool node_task = const_cast<ModelMaker&>(maker).desc().task == Task::kNodeClassification;
  const RunResult base = RunModel(bytes, graph, 1, fp32);
  ASSERT_EQ(base.status, QGNN_OK) << base.message;
  const std::set<float> distinct(base.logits_f32.begin(), base.logits_f32.end());
  ASSERT_GE(distinct.size(), 3u) << "degenerate test model";
  for (qgnn_reorder_method method : kMethods) {
    SCOPED_TRACE(method == QGNN_REORDER_RCM ? "rcm" : "degree");
    std::vector<int32_t> perm;
    const Graph permuted = Permute(graph, method, &perm);
    ExpectNotIdentity(perm);
    for (uint32_t threads : {1u, 3u}) {
      const RunResult r = RunModel(bytes, permuted, threads, fp32);
      ASSERT_EQ(r.status, QGNN_OK) << r.message;
      ASSERT_EQ(r.rows, base.rows);
      std::vector<int8_t> q = r.logits_q;
      std::vector<float> f = r.logits_f32;
      if (node_task) {
        q = Unpermute(q, r.cols, perm);
        f = Unpermute(f, r.cols, perm);
        // The permuted run's own rows differ from the original's (the test would be blind otherwise).
        EXPECT_NE(0, std::memcmp(r.logits_f32.data(), base.logits_f32.data(), f.size() * sizeof(float)));
      }
      EXPECT_EQ(q, base.logits_q) << threads << " thread(s)";
      ASSERT_EQ(f.size(), base.logits_f32.size());
      if (float_tolerance > 0) {
        for (size_t k = 0; k < f.size(); ++k) {
          EXPECT_NEAR(f[k], base.logits_f32[k], float_tolerance * (1.0 + std::fabs(base.logits_f32[k])))
              << "logit " << k;
        }
      } else {
        EXPECT_EQ(0, std::memcmp(f.data(), base.logits_f32.data(), f.size() * sizeof(float)))
            << threads << " thread(s)";
      }
    }
  }
}

Graph NodeGraph(uint32_t seed, uint32_t nodes, int32_t dim, int int8_bits = 8) {
  std::mt19937 rng(seed);
  return RandomGraph(rng, {nodes}, 6, dim, int8_bits);
}

Graph Batch(uint32_t seed, int32_t dim) {
  std::mt19937 rng(seed);
  return RandomGraph(rng, {17, 0, 23, 1, 19, 30}, 4, dim);
}

TEST(ReorderOutputs, QuantizedEveryLayerKind) {
  {
    ModelMaker m(true, Task::kNodeClassification, 6, 101);
    m.Linear(8, true).Gcn(8, true).Gcn(6, true, {}, true).Linear(5, false);
    ExpectSameOutputs(m, NodeGraph(1, 120, 6));
  }
  {
    ModelMaker m(true, Task::kNodeClassification, 6, 102);
    m.Sage(8, Reduce::kMean, true, true)
        .Sage(7, Reduce::kMax, false, true)
        .Sage(5, Reduce::kMean, true, false, {}, true);
    ExpectSameOutputs(m, NodeGraph(2, 120, 6));
  }
  {
    ModelMaker m(true, Task::kNodeClassification, 6, 103);
    m.Gin({8, 6}, 0.25f, true).Gin({5}, 0.0f, false);
    ExpectSameOutputs(m, NodeGraph(3, 120, 6));
  }
}

TEST(ReorderOutputs, QuantizedInt4AndInt8Input) {
  {
    const Bits int4{4, 4, 4, 4};
    ModelMaker m(true, Task::kNodeClassification, 5, 104);
    m.Input(4, 1);
    m.Gcn(7, true, int4)
        .Sage(6, Reduce::kMean, true, true, int4)
        .Gin({5, 5}, 0.5f, false, int4)
        .Linear(5, false, int4);
    ExpectSameOutputs(m, NodeGraph(4, 120, 5));
  }
  {
    ModelMaker m(true, Task::kNodeClassification, 5, 105);
    m.Input(8, -3, true);
    m.Sage(6, Reduce::kMax, true, true).Gcn(6, true).Linear(4, false);
    ExpectSameOutputs(m, NodeGraph(5, 120, 5));
  }
}

// Graph classification: a graph's nodes are renumbered within its own range, so the pooled rows keep their
// order and integer pooling (exact sums, maxima) gives the same bytes.
TEST(ReorderOutputs, QuantizedGraphClassificationEachPooling) {
  for (Reduce reduce : {Reduce::kSum, Reduce::kMean, Reduce::kMax}) {
    SCOPED_TRACE(static_cast<int>(reduce));
    ModelMaker m(true, Task::kGraphClassification, 5, 110 + static_cast<uint32_t>(reduce));
    m.Gcn(8, true).Gin({8}, 0.1f, true).Pool(reduce).Linear(6, true).Linear(3, false);
    ExpectSameOutputs(m, Batch(6, 5));
  }
}

// Sparse features permuted with qgnn_sparse_features_permute give the bytes of the unpermuted dense run.
TEST(ReorderOutputs, QuantizedSparseFeatures) {
  ModelMaker m(true, Task::kNodeClassification, 12, 120);
  m.Linear(8, true).Gcn(6, true).Linear(4, false);
  const std::vector<uint8_t> bytes = m.Bytes();
  Graph graph = NodeGraph(7, 150, 12);
  std::vector<int32_t> f_row_ptr{0}, f_col;
  std::vector<float> f_val;
  for (uint32_t i = 0; i < graph.num_nodes; ++i) {
    for (int32_t k = 0; k < graph.feature_dim; ++k) {
      float& x = graph.features_f32[i * static_cast<size_t>(graph.feature_dim) + k];
      if ((i + static_cast<uint32_t>(k)) % 3 != 0) {
        x = 0.0f;
        continue;
      }
      f_col.push_back(k);
      f_val.push_back(x);
    }
    f_row_ptr.push_back(static_cast<int32_t>(f_col.size()));
  }
  const RunResult base = RunModel(bytes, graph, 1);
  ASSERT_EQ(base.status, QGNN_OK) << base.message;

  std::vector<int32_t> perm;
  const Graph permuted = Permute(graph, QGNN_REORDER_RCM, &perm);
  const qgnn_sparse_features sparse{static_cast<uint32_t>(f_val.size()), f_row_ptr.data(), f_col.data(),
                                    f_val.data()};
  std::vector<int32_t> p_row_ptr(f_row_ptr.size()), p_col(f_col.size());
  std::vector<float> p_val(f_val.size());
  qgnn_sparse_features p_sparse{};
  const qgnn_graph view = graph.view(false);
  qgnn_error error{};
  ASSERT_EQ(qgnn_sparse_features_permute(&view, &sparse, perm.data(), p_row_ptr.data(), p_col.data(),
                                         p_val.data(), &p_sparse, &error),
            QGNN_OK)
      << error.message;

  AlignedBuffer buffer(bytes);
  qgnn_model* model = nullptr;
  ASSERT_EQ(qgnn_model_create(buffer.data(), buffer.size(), &model, &error), QGNN_OK) << error.message;
  ASSERT_EQ(qgnn_model_accepts_sparse_features(model), 1);
  const qgnn_plan_limits limits{permuted.num_nodes, permuted.num_edges(), 1};
  size_t arena_bytes = 0;
  ASSERT_EQ(qgnn_arena_size(model, &limits, &arena_bytes, &error), QGNN_OK);
  std::vector<uint8_t> arena(arena_bytes);
  qgnn_interpreter* interpreter = nullptr;
  ASSERT_EQ(
      qgnn_interpreter_create(model, &limits, arena.data(), arena.size(), nullptr, &interpreter, &error),
      QGNN_OK)
      << error.message;
  qgnn_graph pview = permuted.view(false);
  pview.features_f32 = nullptr;
  ASSERT_EQ(qgnn_interpreter_setup_sparse(interpreter, &pview, &p_sparse, &error), QGNN_OK) << error.message;
  ASSERT_EQ(qgnn_interpreter_invoke(interpreter, &error), QGNN_OK) << error.message;
  qgnn_output out{};
  ASSERT_EQ(qgnn_interpreter_output(interpreter, &out), QGNN_OK);
  const std::vector<int8_t> logits(out.logits_q, out.logits_q + static_cast<size_t>(out.rows) * out.cols);
  EXPECT_EQ(Unpermute(logits, out.cols, perm), base.logits_q);
  qgnn_interpreter_delete(interpreter);
  qgnn_model_delete(model);
}

// Float node classification: each permuted row adds the same neighbours in the same order, and every other
// float operation of the reference FP32 backend is per row in a fixed order, so the logits are identical
// bytes. XNNPACK's GEMM may round a row differently at another place in its row tiles (Cora's float GCN
// changes its outputs hash under --reorder with XNNPACK, not with QGNN_FP32=reference): within the float
// bound there.
TEST(ReorderOutputs, FloatNodeClassification) {
  ModelMaker m(false, Task::kNodeClassification, 6, 130);
  m.Gcn(8, true)
      .Gcn(8, true, {}, true)
      .Sage(7, Reduce::kMean, true, true)
      .Sage(7, Reduce::kMax, false, true)
      .Gin({8, 6}, 0.3f, true)
      .Linear(4, false);
  ExpectSameOutputs(m, NodeGraph(8, 120, 6), "reference");
  ExpectSameOutputs(m, NodeGraph(9, 120, 6), nullptr, 1e-5);  // the default backend (XNNPACK where available)
}

// Float graph classification: MAX pooling and the per-node layers are order-free, but SUM / MEAN pooling
// adds a graph's nodes in their new order, so logits agree within the float bound, with the same argmax
// wherever the margin exceeds it.
TEST(ReorderOutputs, FloatGraphClassificationWithinRounding) {
  for (Reduce reduce : {Reduce::kSum, Reduce::kMean, Reduce::kMax}) {
    SCOPED_TRACE(static_cast<int>(reduce));
    ModelMaker m(false, Task::kGraphClassification, 5, 140 + static_cast<uint32_t>(reduce));
    m.Gcn(8, true).Pool(reduce).Linear(6, true).Linear(3, false);
    const std::vector<uint8_t> bytes = m.Bytes();
    const Graph graph = Batch(10, 5);
    const RunResult base = RunModel(bytes, graph, 1, "reference");
    ASSERT_EQ(base.status, QGNN_OK) << base.message;
    for (qgnn_reorder_method method : kMethods) {
      std::vector<int32_t> perm;
      const RunResult r = RunModel(bytes, Permute(graph, method, &perm), 1, "reference");
      ASSERT_EQ(r.status, QGNN_OK) << r.message;
      ASSERT_EQ(r.logits_f32.size(), base.logits_f32.size());
      for (size_t k = 0; k < r.logits_f32.size(); ++k) {
        EXPECT_NEAR(r.logits_f32[k], base.logits_f32[k], 1e-5 * (1.0 + std::fabs(base.logits_f32[k])))
            << "logit " << k;
      }
      if (reduce == Reduce::kMax) {
        EXPECT_EQ(
            0, std::memcmp(r.logits_f32.data(), base.logits_f32.data(), r.logits_f32.size() * sizeof(float)));
      }
    }
  }
}

}  // namespace
}  // namespace test
}  // namespace qgnn
