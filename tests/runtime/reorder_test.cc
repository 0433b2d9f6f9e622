// Node reordering utilities of the C API (qgnn_graph_reorder and friends): every permutation is a bijection
// that keeps each graph's node range, RCM gives the expected orders on small graphs and a small bandwidth on
// shuffled ones, the permuted graph and features carry exactly the original's rows, and every hostile input
// is refused with its status.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "qgnn/qgnn.h"

namespace qgnn {
namespace test {
namespace {

// An adjacency list turned into CSR (row i = in-neighbours of i, in the given order).
struct Csr {
  std::vector<int32_t> row_ptr{0};
  std::vector<int32_t> col_idx;
  std::vector<int32_t> graph_ptr;  // empty: one graph
  qgnn_graph view() const {
    qgnn_graph g{};
    g.num_nodes = static_cast<uint32_t>(row_ptr.size() - 1);
    g.num_edges = static_cast<uint32_t>(col_idx.size());
    g.num_graphs = graph_ptr.empty() ? 1u : static_cast<uint32_t>(graph_ptr.size() - 1);
    g.row_ptr = row_ptr.data();
    g.col_idx = col_idx.data();
    g.graph_ptr = graph_ptr.empty() ? nullptr : graph_ptr.data();
    return g;
  }
};

Csr FromLists(const std::vector<std::vector<int32_t>>& rows) {
  Csr c;
  for (const auto& r : rows) {
    c.col_idx.insert(c.col_idx.end(), r.begin(), r.end());
    c.row_ptr.push_back(static_cast<int32_t>(c.col_idx.size()));
  }
  return c;
}

// Undirected edges stored both ways.
Csr Undirected(int32_t n, const std::vector<std::pair<int32_t, int32_t>>& edges) {
  std::vector<std::vector<int32_t>> rows(static_cast<size_t>(n));
  for (const auto& [a, b] : edges) {
    rows[static_cast<size_t>(a)].push_back(b);
    if (a != b) rows[static_cast<size_t>(b)].push_back(a);
  }
  return FromLists(rows);
}

struct Reordered {
  qgnn_status status = QGNN_OK;
  std::string message;
  std::vector<int32_t> perm;
};

Reordered Reorder(const qgnn_graph& g, qgnn_reorder_method method) {
  Reordered r;
  qgnn_error error{};
  size_t bytes = 0;
  r.status = qgnn_graph_reorder_scratch_size(g.num_nodes, method, &bytes, &error);
  if (r.status != QGNN_OK) return {r.status, error.message, {}};
  std::vector<uint8_t> scratch(bytes);
  r.perm.assign(g.num_nodes, -7);
  r.status = qgnn_graph_reorder(&g, method, r.perm.data(), scratch.data(), scratch.size(), &error);
  r.message = error.message;
  EXPECT_EQ(error.status, r.status);
  return r;
}

// perm is a bijection of [0, n) mapping each graph's range onto itself.
void ExpectValidPermutation(const qgnn_graph& g, const std::vector<int32_t>& perm) {
  ASSERT_EQ(perm.size(), g.num_nodes);
  std::vector<int> seen(g.num_nodes, 0);
  for (uint32_t k = 0; k < g.num_graphs; ++k) {
    const int32_t begin = g.graph_ptr ? g.graph_ptr[k] : 0;
    const int32_t end = g.graph_ptr ? g.graph_ptr[k + 1] : static_cast<int32_t>(g.num_nodes);
    for (int32_t i = begin; i < end; ++i) {
      ASSERT_GE(perm[i], begin) << "node " << i;
      ASSERT_LT(perm[i], end) << "node " << i;
      ++seen[static_cast<size_t>(perm[i])];
    }
  }
  for (uint32_t p = 0; p < g.num_nodes; ++p) ASSERT_EQ(seen[p], 1) << "new index " << p;
}

// Largest |perm[i] - perm[j]| over the edges.
int32_t Bandwidth(const Csr& c, const std::vector<int32_t>& perm) {
  int32_t b = 0;
  for (size_t i = 0; i + 1 < c.row_ptr.size(); ++i)
    for (int32_t e = c.row_ptr[i]; e < c.row_ptr[i + 1]; ++e)
      b = std::max(b, std::abs(perm[i] - perm[static_cast<size_t>(c.col_idx[static_cast<size_t>(e)])]));
  return b;
}

const qgnn_reorder_method kMethods[] = {QGNN_REORDER_NONE, QGNN_REORDER_RCM, QGNN_REORDER_DEGREE};

TEST(Reorder, ScratchSizes) {
  size_t bytes = 99;
  ASSERT_EQ(qgnn_graph_reorder_scratch_size(1000, QGNN_REORDER_NONE, &bytes, nullptr), QGNN_OK);
  EXPECT_EQ(bytes, 0u);
  ASSERT_EQ(qgnn_graph_reorder_scratch_size(1000, QGNN_REORDER_DEGREE, &bytes, nullptr), QGNN_OK);
  EXPECT_GE(bytes, 4000u);
  ASSERT_EQ(qgnn_graph_reorder_scratch_size(1000, QGNN_REORDER_RCM, &bytes, nullptr), QGNN_OK);
  EXPECT_GE(bytes, 8000u);
  EXPECT_LT(bytes, 8100u);
  ASSERT_EQ(qgnn_graph_reorder_scratch_size(QGNN_MAX_NODES, QGNN_REORDER_RCM, &bytes, nullptr), QGNN_OK);
  qgnn_error error{};
  EXPECT_EQ(qgnn_graph_reorder_scratch_size(QGNN_MAX_NODES + 1, QGNN_REORDER_RCM, &bytes, &error),
            QGNN_GRAPH_TOO_LARGE);
  EXPECT_NE(std::string(error.message).find("cap"), std::string::npos) << error.message;
  EXPECT_EQ(qgnn_graph_reorder_scratch_size(10, static_cast<qgnn_reorder_method>(3), &bytes, &error),
            QGNN_INVALID_ARGUMENT);
  EXPECT_NE(std::string(error.message).find("unknown reorder method 3"), std::string::npos) << error.message;
  EXPECT_EQ(qgnn_graph_reorder_scratch_size(10, QGNN_REORDER_RCM, nullptr, nullptr), QGNN_INVALID_ARGUMENT);
}

// A path whose ids are shuffled: RCM numbers it end to end (bandwidth 1), starting from an end.
TEST(Reorder, RcmPath) {
  const std::vector<int32_t> along = {3, 0, 6, 4, 1, 5, 2};  // the path visits these ids in order
  std::vector<std::pair<int32_t, int32_t>> edges;
  for (size_t k = 0; k + 1 < along.size(); ++k) edges.emplace_back(along[k], along[k + 1]);
  const Csr c = Undirected(7, edges);
  const Reordered r = Reorder(c.view(), QGNN_REORDER_RCM);
  ASSERT_EQ(r.status, QGNN_OK) << r.message;
  ExpectValidPermutation(c.view(), r.perm);
  EXPECT_EQ(Bandwidth(c, r.perm), 1);
  // Both ends have degree 1; the lower id (2) is the Cuthill-McKee start, so it is last after reversal.
  EXPECT_EQ(r.perm[2], 6);
  EXPECT_EQ(r.perm[3], 0);
}

// A star: Cuthill-McKee from the lowest leaf, then the centre, then the other leaves by id; reversed.
TEST(Reorder, RcmStar) {
  const Csr c = Undirected(6, {{0, 1}, {0, 2}, {0, 3}, {0, 4}, {0, 5}});
  const Reordered r = Reorder(c.view(), QGNN_REORDER_RCM);
  ASSERT_EQ(r.status, QGNN_OK) << r.message;
  EXPECT_EQ(r.perm, (std::vector<int32_t>{4, 5, 3, 2, 1, 0}));
  // Degree order: the centre first, the leaves by id.
  const Reordered d = Reorder(c.view(), QGNN_REORDER_DEGREE);
  ASSERT_EQ(d.status, QGNN_OK) << d.message;
  EXPECT_EQ(d.perm, (std::vector<int32_t>{0, 1, 2, 3, 4, 5}));
  const Csr c2 = Undirected(6, {{3, 0}, {3, 1}, {3, 2}, {3, 4}, {3, 5}});
  EXPECT_EQ(Reorder(c2.view(), QGNN_REORDER_DEGREE).perm, (std::vector<int32_t>{1, 2, 3, 0, 4, 5}));
}

// Two paths, a triangle and isolated nodes, interleaved ids: each component gets a contiguous block of new
// ids (RCM), isolated nodes included.
TEST(Reorder, RcmDisconnectedAndIsolated) {
  // Path A: 0-4-8, path B: 1-5-9-11, triangle 2-6-10, isolated 3 and 7.
  const Csr c = Undirected(12, {{0, 4}, {4, 8}, {1, 5}, {5, 9}, {9, 11}, {2, 6}, {6, 10}, {10, 2}});
  const Reordered r = Reorder(c.view(), QGNN_REORDER_RCM);
  ASSERT_EQ(r.status, QGNN_OK) << r.message;
  ExpectValidPermutation(c.view(), r.perm);
  for (const std::vector<int32_t>& component :
       {std::vector<int32_t>{0, 4, 8}, {1, 5, 9, 11}, {2, 6, 10}, {3}, {7}}) {
    int32_t lo = INT32_MAX, hi = INT32_MIN;
    for (int32_t v : component) {
      lo = std::min(lo, r.perm[static_cast<size_t>(v)]);
      hi = std::max(hi, r.perm[static_cast<size_t>(v)]);
    }
    EXPECT_EQ(hi - lo + 1, static_cast<int32_t>(component.size())) << "component of " << component[0];
  }
  EXPECT_LE(Bandwidth(c, r.perm), 2);  // the triangle needs 2
  // Only isolated nodes: components in id order, reversed.
  const Csr isolated = FromLists({{}, {}, {}, {}});
  EXPECT_EQ(Reorder(isolated.view(), QGNN_REORDER_RCM).perm, (std::vector<int32_t>{3, 2, 1, 0}));
}

// Self-loops are edges to a node already placed: they change nothing but the degree.
TEST(Reorder, SelfLoops) {
  Csr c = FromLists({{0, 1}, {1, 0, 2}, {2, 1, 3}, {3, 2}});
  const Reordered r = Reorder(c.view(), QGNN_REORDER_RCM);
  ASSERT_EQ(r.status, QGNN_OK) << r.message;
  ExpectValidPermutation(c.view(), r.perm);
  EXPECT_EQ(Bandwidth(c, r.perm), 1);
  const Csr only_loops = FromLists({{0}, {1, 1}, {2}});
  for (qgnn_reorder_method m : kMethods) {
    const Reordered o = Reorder(only_loops.view(), m);
    ASSERT_EQ(o.status, QGNN_OK) << o.message;
    ExpectValidPermutation(only_loops.view(), o.perm);
  }
}

TEST(Reorder, EmptyGraph) {
  const Csr c;  // 0 nodes
  for (qgnn_reorder_method m : kMethods) {
    qgnn_graph g = c.view();
    size_t bytes = 1;
    ASSERT_EQ(qgnn_graph_reorder_scratch_size(0, m, &bytes, nullptr), QGNN_OK);
    EXPECT_EQ(qgnn_graph_reorder(&g, m, nullptr, nullptr, 0, nullptr), QGNN_OK) << m;
    int32_t row_ptr[1] = {5};
    qgnn_graph out{};
    ASSERT_EQ(qgnn_graph_permute(&g, 0, nullptr, row_ptr, nullptr, nullptr, nullptr, &out, nullptr), QGNN_OK);
    EXPECT_EQ(row_ptr[0], 0);
    EXPECT_EQ(out.num_nodes, 0u);
  }
}

// A shuffled 2-D grid: RCM brings the bandwidth near the grid's width; the shuffled ids have ~n.
TEST(Reorder, RcmShrinksBandwidthOfShuffledGrid) {
  constexpr int32_t kW = 30, kN = kW * kW;
  std::mt19937 rng(7);
  std::vector<int32_t> id(kN);
  std::iota(id.begin(), id.end(), 0);
  std::shuffle(id.begin(), id.end(), rng);
  std::vector<std::pair<int32_t, int32_t>> edges;
  for (int32_t y = 0; y < kW; ++y) {
    for (int32_t x = 0; x < kW; ++x) {
      if (x + 1 < kW) edges.emplace_back(id[y * kW + x], id[y * kW + x + 1]);
      if (y + 1 < kW) edges.emplace_back(id[y * kW + x], id[(y + 1) * kW + x]);
    }
  }
  const Csr c = Undirected(kN, edges);
  std::vector<int32_t> identity(kN);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_GT(Bandwidth(c, identity), kN / 2);
  const Reordered r = Reorder(c.view(), QGNN_REORDER_RCM);
  ASSERT_EQ(r.status, QGNN_OK) << r.message;
  ExpectValidPermutation(c.view(), r.perm);
  EXPECT_LE(Bandwidth(c, r.perm), 2 * kW) << "bandwidth " << Bandwidth(c, r.perm);
  // Deterministic.
  EXPECT_EQ(Reorder(c.view(), QGNN_REORDER_RCM).perm, r.perm);
}

// Batches: every method keeps each graph's node range (empty graphs included), on random graphs with
// directed edges, duplicates and self-loops.
TEST(Reorder, BatchesKeepGraphRanges) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 20; ++trial) {
    Csr c;
    c.graph_ptr = {0};
    std::vector<std::vector<int32_t>> rows;
    const int graphs = 1 + trial % 5;
    for (int k = 0; k < graphs; ++k) {
      const int32_t begin = c.graph_ptr.back();
      const int32_t size = static_cast<int32_t>(rng() % 40);  // 0 .. 39
      for (int32_t i = 0; i < size; ++i) {
        std::vector<int32_t> row;
        const int degree = static_cast<int>(rng() % 6);
        for (int d = 0; d < degree; ++d) row.push_back(begin + static_cast<int32_t>(rng() % size));
        rows.push_back(row);
      }
      c.graph_ptr.push_back(begin + size);
    }
    const Csr lists = FromLists(rows);
    c.row_ptr = lists.row_ptr;
    c.col_idx = lists.col_idx;
    for (qgnn_reorder_method m : kMethods) {
      const Reordered r = Reorder(c.view(), m);
      ASSERT_EQ(r.status, QGNN_OK) << r.message;
      ExpectValidPermutation(c.view(), r.perm);
      if (m == QGNN_REORDER_NONE) {
        std::vector<int32_t> identity(r.perm.size());
        std::iota(identity.begin(), identity.end(), 0);
        EXPECT_EQ(r.perm, identity);
      }
    }
  }
}

// The permuted graph: node perm[i]'s row is node i's, neighbours renamed, in the same order; features move
// with their node; graph_ptr is the caller's.
TEST(Reorder, PermuteGraphAndFeatures) {
  Csr c = FromLists({{1, 2, 1}, {0}, {2, 0, 3}, {}, {4}});
  c.graph_ptr = {0, 4, 5};
  const qgnn_graph g0 = c.view();
  constexpr uint32_t kDim = 3;
  std::vector<float> f32(5 * kDim);
  std::vector<int8_t> i8(5 * kDim);
  for (size_t k = 0; k < f32.size(); ++k) {
    f32[k] = 0.5f * static_cast<float>(k);
    i8[k] = static_cast<int8_t>(k);
  }
  const std::vector<int32_t> perm = {2, 0, 3, 1, 4};
  for (int form = 0; form < 2; ++form) {
    qgnn_graph g = g0;
    if (form == 0) {
      g.features_f32 = f32.data();
    } else {
      g.features_i8 = i8.data();
    }
    std::vector<int32_t> row_ptr(6, -9), col_idx(g.num_edges, -9);
    std::vector<float> out_f32(f32.size(), -1.0f);
    std::vector<int8_t> out_i8(i8.size(), -1);
    qgnn_graph out{};
    qgnn_error error{};
    ASSERT_EQ(qgnn_graph_permute(&g, kDim, perm.data(), row_ptr.data(), col_idx.data(),
                                 form == 0 ? out_f32.data() : nullptr, form == 1 ? out_i8.data() : nullptr,
                                 &out, &error),
              QGNN_OK)
        << error.message;
    EXPECT_EQ(row_ptr, (std::vector<int32_t>{0, 1, 1, 4, 7, 8}));
    // new 0 = old 1: {0} -> {2}; new 1 = old 3: {}; new 2 = old 0: {1,2,1} -> {0,3,0};
    // new 3 = old 2: {2,0,3} -> {3,2,1}; new 4 = old 4: {4} -> {4}.
    EXPECT_EQ(col_idx, (std::vector<int32_t>{2, 0, 3, 0, 3, 2, 1, 4}));
    EXPECT_EQ(out.num_nodes, 5u);
    EXPECT_EQ(out.num_edges, 8u);
    EXPECT_EQ(out.num_graphs, 2u);
    EXPECT_EQ(out.graph_ptr, c.graph_ptr.data());
    EXPECT_EQ(out.row_ptr, row_ptr.data());
    EXPECT_EQ(out.col_idx, col_idx.data());
    for (uint32_t i = 0; i < 5; ++i) {
      for (uint32_t k = 0; k < kDim; ++k) {
        const size_t from = i * kDim + k, to = static_cast<size_t>(perm[i]) * kDim + k;
        if (form == 0) {
          EXPECT_EQ(out.features_f32, out_f32.data());
          EXPECT_EQ(out.features_i8, nullptr);
          EXPECT_EQ(out_f32[to], f32[from]);
        } else {
          EXPECT_EQ(out.features_i8, out_i8.data());
          EXPECT_EQ(out.features_f32, nullptr);
          EXPECT_EQ(out_i8[to], i8[from]);
        }
      }
    }
  }
}

TEST(Reorder, PermuteSparseFeaturesAndUnpermuteRows) {
  const Csr c = FromLists({{1}, {0}, {}});
  const qgnn_graph g = c.view();
  const std::vector<int32_t> f_row_ptr = {0, 2, 2, 3};
  const std::vector<int32_t> f_col = {1, 4, 0};
  const std::vector<float> f_val = {1.5f, -2.0f, 3.0f};
  const qgnn_sparse_features f{3, f_row_ptr.data(), f_col.data(), f_val.data()};
  const std::vector<int32_t> perm = {1, 2, 0};
  std::vector<int32_t> row_ptr(4), col(3);
  std::vector<float> val(3);
  qgnn_sparse_features out{};
  qgnn_error error{};
  ASSERT_EQ(
      qgnn_sparse_features_permute(&g, &f, perm.data(), row_ptr.data(), col.data(), val.data(), &out, &error),
      QGNN_OK)
      << error.message;
  EXPECT_EQ(row_ptr, (std::vector<int32_t>{0, 1, 3, 3}));
  EXPECT_EQ(col, (std::vector<int32_t>{0, 1, 4}));
  EXPECT_EQ(val, (std::vector<float>{3.0f, 1.5f, -2.0f}));
  EXPECT_EQ(out.nnz, 3u);
  EXPECT_EQ(out.values, val.data());

  // Rows of the permuted graph back to the original order.
  const std::vector<int16_t> permuted_rows = {10, 11, 20, 21, 30, 31};  // new rows 0, 1, 2
  std::vector<int16_t> rows(6, 0);
  ASSERT_EQ(
      qgnn_rows_unpermute(perm.data(), 3, 2 * sizeof(int16_t), permuted_rows.data(), rows.data(), &error),
      QGNN_OK)
      << error.message;
  EXPECT_EQ(rows, (std::vector<int16_t>{20, 21, 30, 31, 10, 11}));
}

// ---- Hostile inputs: each refused with its status and a message naming what is wrong; nothing crashes.

TEST(ReorderHostile, Reorder) {
  Csr c = FromLists({{1}, {0, 2}, {1}});
  qgnn_graph g = c.view();
  std::vector<int32_t> perm(3);
  std::vector<uint8_t> scratch(64);
  qgnn_error error{};
  auto reorder = [&](const qgnn_graph* graph, qgnn_reorder_method m, int32_t* p, void* s, size_t bytes) {
    error = qgnn_error{};
    return qgnn_graph_reorder(graph, m, p, s, bytes, &error);
  };
  EXPECT_EQ(reorder(nullptr, QGNN_REORDER_RCM, perm.data(), scratch.data(), 64), QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(reorder(&g, static_cast<qgnn_reorder_method>(-1), perm.data(), scratch.data(), 64),
            QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(reorder(&g, QGNN_REORDER_RCM, nullptr, scratch.data(), 64), QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(reorder(&g, QGNN_REORDER_RCM, perm.data(), nullptr, 64), QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(reorder(&g, QGNN_REORDER_RCM, perm.data(), scratch.data(), 20), QGNN_INVALID_ARGUMENT);
  EXPECT_NE(std::string(error.message).find("too small"), std::string::npos) << error.message;
  // Any alignment of the scratch works (its size includes the slack).
  size_t bytes = 0;
  ASSERT_EQ(qgnn_graph_reorder_scratch_size(3, QGNN_REORDER_RCM, &bytes, nullptr), QGNN_OK);
  for (size_t offset = 0; offset < 4; ++offset)
    EXPECT_EQ(reorder(&g, QGNN_REORDER_RCM, perm.data(), scratch.data() + offset, bytes), QGNN_OK) << offset;

  c.col_idx[1] = 3;  // out of range
  g = c.view();
  EXPECT_EQ(reorder(&g, QGNN_REORDER_RCM, perm.data(), scratch.data(), 64), QGNN_INVALID_GRAPH);
  EXPECT_NE(std::string(error.message).find("out of range"), std::string::npos) << error.message;
  c.col_idx[1] = -1;
  g = c.view();
  EXPECT_EQ(reorder(&g, QGNN_REORDER_DEGREE, perm.data(), scratch.data(), 64), QGNN_INVALID_GRAPH);
  c.col_idx[1] = 0;
  c.row_ptr[2] = 0;  // decreasing
  g = c.view();
  EXPECT_EQ(reorder(&g, QGNN_REORDER_RCM, perm.data(), scratch.data(), 64), QGNN_INVALID_GRAPH);
  c = FromLists({{1}, {0, 2}, {1}});
  c.graph_ptr = {0, 2, 3};  // edge 1 <- 2 crosses graphs
  g = c.view();
  EXPECT_EQ(reorder(&g, QGNN_REORDER_RCM, perm.data(), scratch.data(), 64), QGNN_INVALID_GRAPH);
  EXPECT_NE(std::string(error.message).find("crosses"), std::string::npos) << error.message;
  c.graph_ptr = {0, 2, 4};  // past num_nodes
  g = c.view();
  EXPECT_EQ(reorder(&g, QGNN_REORDER_RCM, perm.data(), scratch.data(), 64), QGNN_INVALID_GRAPH);
  g = c.view();
  g.graph_ptr = nullptr;  // several graphs need it
  EXPECT_EQ(reorder(&g, QGNN_REORDER_RCM, perm.data(), scratch.data(), 64), QGNN_INVALID_ARGUMENT);
  g = c.view();
  g.num_graphs = 0;
  EXPECT_EQ(reorder(&g, QGNN_REORDER_RCM, perm.data(), scratch.data(), 64), QGNN_INVALID_GRAPH);
  // Counts beyond the caps are refused before any array is read.
  qgnn_graph huge{};
  huge.num_graphs = 1;
  huge.num_nodes = QGNN_MAX_NODES + 1;
  EXPECT_EQ(reorder(&huge, QGNN_REORDER_RCM, perm.data(), scratch.data(), 64), QGNN_GRAPH_TOO_LARGE);
  huge.num_nodes = 3;
  huge.num_edges = QGNN_MAX_EDGES + 1;
  EXPECT_EQ(reorder(&huge, QGNN_REORDER_RCM, perm.data(), scratch.data(), 64), QGNN_GRAPH_TOO_LARGE);
  huge.num_edges = 0;
  huge.num_graphs = QGNN_MAX_GRAPHS + 1;
  EXPECT_EQ(reorder(&huge, QGNN_REORDER_RCM, perm.data(), scratch.data(), 64), QGNN_GRAPH_TOO_LARGE);
  huge.num_graphs = 1;
  EXPECT_EQ(reorder(&huge, QGNN_REORDER_RCM, perm.data(), scratch.data(), 64), QGNN_INVALID_ARGUMENT);
  EXPECT_NE(std::string(error.message).find("row_ptr is NULL"), std::string::npos) << error.message;
}

TEST(ReorderHostile, Permute) {
  Csr c = FromLists({{1}, {0, 2}, {1}, {}});
  c.graph_ptr = {0, 3, 4};
  const qgnn_graph g = c.view();
  std::vector<int32_t> row_ptr(5), col_idx(4);
  qgnn_graph out{};
  out.num_nodes = 77;
  qgnn_error error{};
  auto permute = [&](const qgnn_graph& graph, std::vector<int32_t> perm, uint32_t dim = 0, float* f = nullptr,
                     int8_t* q = nullptr) {
    error = qgnn_error{};
    return qgnn_graph_permute(&graph, dim, perm.data(), row_ptr.data(), col_idx.data(), f, q, &out, &error);
  };
  EXPECT_EQ(permute(g, {0, 1, 4, 3}), QGNN_INVALID_ARGUMENT);  // out of range
  EXPECT_NE(std::string(error.message).find("perm[2] = 4"), std::string::npos) << error.message;
  EXPECT_EQ(permute(g, {0, 1, -1, 3}), QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(permute(g, {0, 1, 3, 2}), QGNN_INVALID_ARGUMENT);  // node 2 leaves graph 0
  EXPECT_NE(std::string(error.message).find("outside graph 0"), std::string::npos) << error.message;
  EXPECT_EQ(permute(g, {0, 1, 1, 3}), QGNN_INVALID_ARGUMENT);  // not a bijection
  EXPECT_NE(std::string(error.message).find("repeats"), std::string::npos) << error.message;
  EXPECT_EQ(out.num_nodes, 77u) << "permuted written on failure";

  std::vector<float> f32(8, 1.0f), out_f32(8);
  std::vector<int8_t> i8(8, 1);
  qgnn_graph with = g;
  with.features_f32 = f32.data();
  EXPECT_EQ(permute(with, {0, 1, 2, 3}, 0, out_f32.data()), QGNN_INVALID_ARGUMENT);  // dim 0
  EXPECT_EQ(permute(with, {0, 1, 2, 3}, QGNN_MAX_FEATURES + 1, out_f32.data()), QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(permute(with, {0, 1, 2, 3}, 2, nullptr), QGNN_INVALID_ARGUMENT);     // no output
  EXPECT_EQ(permute(with, {0, 1, 2, 3}, 2, f32.data()), QGNN_INVALID_ARGUMENT);  // in place
  EXPECT_NE(std::string(error.message).find("overlaps"), std::string::npos) << error.message;
  with.features_i8 = i8.data();
  EXPECT_EQ(permute(with, {0, 1, 2, 3}, 2, out_f32.data()), QGNN_INVALID_ARGUMENT);  // both kinds
  // Outputs aliasing the graph's own arrays.
  error = qgnn_error{};
  const std::vector<int32_t> identity = {0, 1, 2, 3};
  EXPECT_EQ(qgnn_graph_permute(&g, 0, identity.data(), c.row_ptr.data(), col_idx.data(), nullptr, nullptr,
                               &out, &error),
            QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(qgnn_graph_permute(&g, 0, identity.data(), row_ptr.data(), const_cast<int32_t*>(c.col_idx.data()),
                               nullptr, nullptr, &out, &error),
            QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(
      qgnn_graph_permute(&g, 0, identity.data(), row_ptr.data(), nullptr, nullptr, nullptr, &out, &error),
      QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(
      qgnn_graph_permute(&g, 0, nullptr, row_ptr.data(), col_idx.data(), nullptr, nullptr, &out, &error),
      QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(qgnn_graph_permute(&g, 0, identity.data(), row_ptr.data(), col_idx.data(), nullptr, nullptr,
                               nullptr, &error),
            QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(qgnn_graph_permute(nullptr, 0, identity.data(), row_ptr.data(), col_idx.data(), nullptr, nullptr,
                               &out, &error),
            QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(out.num_nodes, 77u);

  // Sparse features: the same perm checks, and a malformed row_ptr.
  std::vector<int32_t> f_row_ptr = {0, 1, 1, 2, 2}, f_col = {0, 1}, o_row_ptr(5), o_col(2);
  std::vector<float> f_val = {1, 2}, o_val(2);
  qgnn_sparse_features f{2, f_row_ptr.data(), f_col.data(), f_val.data()}, fo{};
  EXPECT_EQ(qgnn_sparse_features_permute(&g, &f, identity.data(), o_row_ptr.data(), o_col.data(),
                                         o_val.data(), &fo, &error),
            QGNN_OK)
      << error.message;
  const std::vector<int32_t> bad = {0, 0, 1, 2};
  EXPECT_EQ(qgnn_sparse_features_permute(&g, &f, bad.data(), o_row_ptr.data(), o_col.data(), o_val.data(),
                                         &fo, &error),
            QGNN_INVALID_ARGUMENT);
  f_row_ptr[2] = 0;
  EXPECT_EQ(qgnn_sparse_features_permute(&g, &f, identity.data(), o_row_ptr.data(), o_col.data(),
                                         o_val.data(), &fo, &error),
            QGNN_INVALID_GRAPH);
  f_row_ptr[2] = 1;
  f.nnz = 3;  // row_ptr ends at 2
  EXPECT_EQ(qgnn_sparse_features_permute(&g, &f, identity.data(), o_row_ptr.data(), o_col.data(),
                                         o_val.data(), &fo, &error),
            QGNN_INVALID_GRAPH);
  f.nnz = 2;
  EXPECT_EQ(qgnn_sparse_features_permute(&g, &f, identity.data(), o_row_ptr.data(), f_col.data(),
                                         o_val.data(), &fo, &error),
            QGNN_INVALID_ARGUMENT);  // output aliases input
  EXPECT_EQ(qgnn_sparse_features_permute(&g, nullptr, identity.data(), o_row_ptr.data(), o_col.data(),
                                         o_val.data(), &fo, &error),
            QGNN_INVALID_ARGUMENT);
}

TEST(ReorderHostile, Unpermute) {
  const std::vector<int32_t> perm = {1, 3, 0, 2};
  std::vector<uint8_t> in(8), out(8);
  qgnn_error error{};
  EXPECT_EQ(qgnn_rows_unpermute(perm.data(), 4, 2, in.data(), out.data(), &error), QGNN_OK);
  const std::vector<int32_t> bad = {1, 4, 0, 2};
  EXPECT_EQ(qgnn_rows_unpermute(bad.data(), 4, 2, in.data(), out.data(), &error), QGNN_INVALID_ARGUMENT);
  EXPECT_NE(std::string(error.message).find("perm[1] = 4"), std::string::npos) << error.message;
  EXPECT_EQ(qgnn_rows_unpermute(perm.data(), 4, SIZE_MAX / 2, in.data(), out.data(), &error),
            QGNN_LIMIT_EXCEEDED);
  EXPECT_EQ(qgnn_rows_unpermute(nullptr, 4, 2, in.data(), out.data(), &error), QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(qgnn_rows_unpermute(perm.data(), 4, 2, in.data(), in.data() + 1, &error), QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(qgnn_rows_unpermute(nullptr, 0, 2, nullptr, nullptr, &error), QGNN_OK);  // nothing to do
}

}  // namespace
}  // namespace test
}  // namespace qgnn
