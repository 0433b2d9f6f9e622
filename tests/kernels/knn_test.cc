// knn_graph() and grid_graph() (kernels/graph/) against brute force written from docs/quantization.md ("kNN
// graph"): the worked example, random shapes and widths (int8 and int4, several segments, dilations 1 to 3,
// k * dilation up to the segment size), ties of every kind (equal rows, duplicate rows, narrow values), the
// largest distances (all qmin / qmax rows at kKnnMaxCols), the largest segment, row splits, every refusal
// (nothing written), and the grid graph of every small shape.
#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <string>
#include <vector>

#include "kernel_test_util.h"
#include "knn_test_util.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

using knntest::KnnCase;
using knntest::KnnResult;
using knntest::Values;
using testutil::QMatrix;
using testutil::Rng;

/// The reference, whole and split, against the oracle.
void check_reference(const KnnCase& c, uint64_t seed) {
  SCOPED_TRACE(c.label());
  const std::vector<int32_t> expected = knntest::oracle_col_idx(c);
  const KnnResult whole = knntest::run_all(&knn_graph, c);
  ASSERT_EQ(whole.status, KnnStatus::kOk);
  ASSERT_EQ(whole.row_ptr, knntest::expected_row_ptr(c));
  ASSERT_TRUE(knntest::same_neighbours(expected, whole.col_idx, c.k));
  Rng rng(seed);
  const KnnResult split = knntest::run_split(&knn_graph, c, rng);
  ASSERT_EQ(split.status, KnnStatus::kOk);
  ASSERT_EQ(split.row_ptr, whole.row_ptr);
  ASSERT_EQ(split.col_idx, whole.col_idx);
}

TEST(KnnGraph, WorkedExampleOfTheDocs) {
  // docs/quantization.md, "kNN graph": five nodes of two int8 features (zero point 5, which cancels), k = 2,
  // dilation 2. Node 3 duplicates node 1, so node 3's nearest is node 1 (distance 0, smaller index).
  KnnCase c;
  c.cols = 2;
  c.graph_ptr = {0, 5};
  c.k = 2;
  c.dilation = 2;
  c.x = QMatrix(5, 2, 8, 5);
  const int32_t features[5][2] = {{0, 0}, {1, 0}, {0, 2}, {1, 0}, {3, 3}};
  for (int32_t i = 0; i < 5; ++i) {
    for (int32_t f = 0; f < 2; ++f) c.x.set(i, f, features[i][f]);
  }
  const KnnResult r = knntest::run_all(&knn_graph, c);
  ASSERT_EQ(r.status, KnnStatus::kOk);
  EXPECT_EQ(r.row_ptr, (std::vector<int32_t>{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ(r.col_idx, (std::vector<int32_t>{0, 3, 1, 0, 2, 1, 1, 0, 4, 1}));
  EXPECT_EQ(r.col_idx, knntest::oracle_col_idx(c));
}

TEST(KnnGraph, RandomShapesMatchBruteForce) {
  uint64_t seed = 1;
  for (int bits : {8, 4}) {
    for (int32_t cols : {1, 2, 3, 4, 5, 17, 63, 64, 65, 129}) {
      for (Values v : {Values::kRandom, Values::kNarrow, Values::kDuplicates}) {
        Rng rng(++seed);
        std::vector<int32_t> sizes;
        const int32_t segments = static_cast<int32_t>(rng.uniform_int(1, 3));
        for (int32_t s = 0; s < segments; ++s) sizes.push_back(static_cast<int32_t>(rng.uniform_int(9, 70)));
        const int32_t smallest = *std::min_element(sizes.begin(), sizes.end());
        // The largest k * dilation the segments allow, and two others.
        const auto all = knntest::neighbourhoods(smallest);
        for (const auto& kd : {all.back(), rng.pick(all), rng.pick(all)}) {
          ++seed;
          check_reference(KnnCase::make(bits, cols, sizes, kd.first, kd.second, v, seed), seed);
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST(KnnGraph, EqualRowsBreakEveryTieByIndex) {
  // Every distance is 0: node i of segment [s, e) gets s, s + d, s + 2 d, ... whatever i is.
  for (int bits : {8, 4}) {
    for (int32_t dilation : {1, 2, 3}) {
      const KnnCase c = KnnCase::make(bits, 5, {12, 9}, 3, dilation, Values::kEqual, 7);
      const KnnResult r = knntest::run_all(&knn_graph, c);
      ASSERT_EQ(r.status, KnnStatus::kOk);
      std::vector<int32_t> expected;
      for (int32_t i = 0; i < 21; ++i) {
        const int32_t s = i < 12 ? 0 : 12;
        for (int32_t t = 0; t < 3; ++t) expected.push_back(s + t * dilation);
      }
      EXPECT_EQ(r.col_idx, expected) << c.label();
      check_reference(c, 8);
    }
  }
}

TEST(KnnGraph, LargestDistancesAtTheWidestRows) {
  // All-qmin and all-qmax rows at kKnnMaxCols: distances 0 and 255^2 * 2^15 = 2,130,739,200 (int8), the
  // largest the bound allows; a wrapped sum would order the far rows first.
  for (int bits : {8, 4}) {
    KnnCase c = KnnCase::make(bits, kKnnMaxCols, {6}, 2, 3, Values::kExtremes, 11);
    const int32_t lo = testutil::qmin_of(bits), hi = testutil::qmax_of(bits);
    const int32_t rows[6] = {lo, hi, hi, lo, hi, lo};
    for (int32_t i = 0; i < 6; ++i) {
      for (int32_t col = 0; col < c.cols; ++col) c.x.set(i, col, rows[i]);
    }
    const KnnResult r = knntest::run_all(&knn_graph, c);
    ASSERT_EQ(r.status, KnnStatus::kOk);
    // The three equal rows (distance 0) by index, then the three far ones: positions 0 and 3.
    EXPECT_EQ(r.col_idx, (std::vector<int32_t>{0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 0, 1})) << "bits " << bits;
    EXPECT_EQ(r.col_idx, knntest::oracle_col_idx(c));
  }
}

TEST(KnnGraph, EdgeShapes) {
  uint64_t seed = 100;
  // One node, one neighbour: itself.
  for (int bits : {8, 4}) {
    const KnnCase one = KnnCase::make(bits, 3, {1}, 1, 1, Values::kRandom, ++seed);
    const KnnResult r = knntest::run_all(&knn_graph, one);
    ASSERT_EQ(r.status, KnnStatus::kOk);
    EXPECT_EQ(r.row_ptr, (std::vector<int32_t>{0, 1}));
    EXPECT_EQ(r.col_idx, (std::vector<int32_t>{0}));
    // Many one-node images.
    ++seed;
    check_reference(KnnCase::make(bits, 7, {1, 1, 1, 1}, 1, 1, Values::kRandom, seed), seed);
    // k * dilation == n: every node of the segment is ranked.
    for (int32_t dilation : {1, 2, 3}) {
      ++seed;
      check_reference(
          KnnCase::make(bits, 17, {6 * dilation, 6 * dilation}, 6, dilation, Values::kRandom, seed), seed);
      check_reference(KnnCase::make(bits, 3, {5 * dilation}, 5, dilation, Values::kDuplicates, seed),
                      seed + 1);
    }
    // An empty batch writes nothing and succeeds.
    const KnnCase none = KnnCase::make(bits, 3, {}, 1, 1, Values::kRandom, ++seed);
    const KnnResult empty = knntest::run_all(&knn_graph, none);
    EXPECT_EQ(empty.status, KnnStatus::kOk);
    EXPECT_EQ(empty.row_ptr, (std::vector<int32_t>{knntest::kPoison}));
  }
}

TEST(KnnGraph, LargestSegment) {
  // kKnnMaxNodes nodes of 3 narrow features: lots of ties, a long row for the buffer.
  const KnnCase c = KnnCase::make(8, 3, {kKnnMaxNodes}, 9, 2, Values::kNarrow, 5);
  const KnnResult r = knntest::run_all(&knn_graph, c);
  ASSERT_EQ(r.status, KnnStatus::kOk);
  EXPECT_EQ(r.row_ptr, knntest::expected_row_ptr(c));
  // The oracle for a sample of rows (a full sort per node is slow at this size).
  for (int32_t i = 0; i < c.nodes(); i += 97) {
    const std::vector<int32_t> got(r.col_idx.begin() + i * c.k, r.col_idx.begin() + (i + 1) * c.k);
    ASSERT_EQ(got, knntest::oracle_row(c, i)) << "node " << i;
  }
}

// ---- Refusals ----------------------------------------------------------------------------------------

struct Call {
  KnnGraphParams params;
  QActivationConst in;
  int32_t cols, row_begin, row_end;
  int32_t* row_ptr;
  int32_t* col_idx;
  void* scratch;
  size_t scratch_bytes;
  KnnStatus run(knntest::KnnFn fn) const {
    return fn(params, in, cols, row_begin, row_end, row_ptr, col_idx, scratch, scratch_bytes);
  }
};

/// Every malformed variation of a valid call, with the status it must get; the outputs must stay untouched.
void check_refusals(knntest::KnnFn fn) {
  KnnCase c = KnnCase::make(8, 5, {6, 4}, 2, 2, Values::kRandom, 3);
  KnnResult out = knntest::poisoned_result(c);
  knntest::Scratch scratch(c.scratch_bytes());
  const Call valid{c.params(),         c.x.cview(),    c.cols,         0, c.nodes(), out.row_ptr.data(),
                   out.col_idx.data(), scratch.data(), scratch.bytes()};
  ASSERT_EQ(knn_graph_check(valid.params, valid.in, valid.cols, valid.row_begin, valid.row_end, valid.row_ptr,
                            valid.col_idx, valid.scratch, valid.scratch_bytes),
            KnnStatus::kOk);
  const std::vector<int32_t> backwards{0, 6, 4}, shifted{1, 7, 11};
  std::vector<int32_t> huge{0, kKnnMaxNodes + 1}, many{0};
  for (int32_t g = 0; g < 600; ++g) many.push_back(many.back() + kKnnMaxNodes);
  struct Case {
    const char* what;
    Call call;
    KnnStatus expected;
  };
  std::vector<Case> cases;
  auto with = [&](const char* what, KnnStatus expected, auto change) {
    Call call = valid;
    change(call);
    cases.push_back(Case{what, call, expected});
  };
  with("null graph_ptr", KnnStatus::kNullPointer, [](Call& k) { k.params.graph_ptr = nullptr; });
  with("null features", KnnStatus::kNullPointer, [](Call& k) { k.in.data = nullptr; });
  with("null row_ptr", KnnStatus::kNullPointer, [](Call& k) { k.row_ptr = nullptr; });
  with("null col_idx", KnnStatus::kNullPointer, [](Call& k) { k.col_idx = nullptr; });
  with("null scratch", KnnStatus::kNullPointer, [](Call& k) { k.scratch = nullptr; });
  with("2 bits", KnnStatus::kBadBits, [](Call& k) { k.in.bits = 2; });
  with("16 bits", KnnStatus::kBadBits, [](Call& k) { k.in.bits = 16; });
  with("0 cols", KnnStatus::kBadCols, [](Call& k) { k.cols = 0; });
  with("negative cols", KnnStatus::kBadCols, [](Call& k) { k.cols = -3; });
  with("cols past the bound", KnnStatus::kBadCols, [](Call& k) { k.cols = kKnnMaxCols + 1; });
  with("k = 0", KnnStatus::kBadK, [](Call& k) { k.params.k = 0; });
  with("k < 0", KnnStatus::kBadK, [](Call& k) { k.params.k = -2; });
  with("dilation = 0", KnnStatus::kBadK, [](Call& k) { k.params.dilation = 0; });
  with("negative graph count", KnnStatus::kBadGraphPtr, [](Call& k) { k.params.num_graphs = -1; });
  with("graph_ptr[0] != 0", KnnStatus::kBadGraphPtr, [&](Call& k) { k.params.graph_ptr = shifted.data(); });
  with("graph_ptr decreasing", KnnStatus::kBadGraphPtr,
       [&](Call& k) { k.params.graph_ptr = backwards.data(); });
  with("k * dilation > n (second segment)", KnnStatus::kTooFewNodes, [](Call& k) { k.params.k = 3; });
  with("k * dilation > n (k = n + 1)", KnnStatus::kTooFewNodes, [](Call& k) {
    k.params.k = 7;
    k.params.dilation = 1;
  });
  with("k * dilation overflowing int32", KnnStatus::kTooFewNodes, [](Call& k) {
    k.params.k = 1 << 20;
    k.params.dilation = 1 << 20;
  });
  with("segment past kKnnMaxNodes", KnnStatus::kTooManyNodes, [&](Call& k) {
    k.params.graph_ptr = huge.data();
    k.params.num_graphs = 1;
  });
  with("2^31 CSR entries", KnnStatus::kTooManyEdges, [&](Call& k) {
    k.params.graph_ptr = many.data();
    k.params.num_graphs = 600;
    k.params.k = 1000;
    k.params.dilation = 1;
    k.row_end = 0;
  });
  with("negative row_begin", KnnStatus::kBadRowRange, [](Call& k) { k.row_begin = -1; });
  with("row_begin > row_end", KnnStatus::kBadRowRange, [](Call& k) {
    k.row_begin = 5;
    k.row_end = 4;
  });
  with("row_end past the nodes", KnnStatus::kBadRowRange, [](Call& k) { k.row_end = 11; });
  with("scratch one byte short", KnnStatus::kScratchTooSmall, [](Call& k) { --k.scratch_bytes; });
  with("no scratch bytes", KnnStatus::kScratchTooSmall, [](Call& k) { k.scratch_bytes = 0; });
  for (const Case& bad : cases) {
    EXPECT_EQ(bad.call.run(fn), bad.expected) << bad.what;
    const Call& k = bad.call;
    EXPECT_EQ(knn_graph_check(k.params, k.in, k.cols, k.row_begin, k.row_end, k.row_ptr, k.col_idx, k.scratch,
                              k.scratch_bytes),
              bad.expected)
        << bad.what;
    EXPECT_EQ(out.row_ptr, std::vector<int32_t>(out.row_ptr.size(), knntest::kPoison)) << bad.what;
    EXPECT_EQ(out.col_idx, std::vector<int32_t>(out.col_idx.size(), knntest::kPoison)) << bad.what;
  }
  // The valid call itself works (and the buffers above were the live ones).
  ASSERT_EQ(valid.run(fn), KnnStatus::kOk);
  EXPECT_EQ(out.col_idx, knntest::oracle_col_idx(c));
}

TEST(KnnGraph, RefusesMalformedCallsAndWritesNothing) { check_refusals(&knn_graph); }

TEST(KnnGraph, ScratchBytes) {
  EXPECT_EQ(knn_graph_scratch_bytes(0, 64, 1, 1), 0u);
  EXPECT_EQ(knn_graph_scratch_bytes(kKnnMaxNodes + 1, 64, 1, 1), 0u);
  EXPECT_EQ(knn_graph_scratch_bytes(196, 0, 9, 1), 0u);
  EXPECT_EQ(knn_graph_scratch_bytes(196, kKnnMaxCols + 1, 9, 1), 0u);
  EXPECT_EQ(knn_graph_scratch_bytes(196, 64, 0, 1), 0u);
  EXPECT_EQ(knn_graph_scratch_bytes(196, 64, 9, 0), 0u);
  EXPECT_EQ(knn_graph_scratch_bytes(8, 64, 3, 3), 0u);  // k * dilation > max_nodes
  // docs/quantization.md's formula and example: (4 * 16 + 32) * 256 + 32 * 16 + 8 * (9 + 1) + 576.
  EXPECT_EQ(knn_graph_scratch_bytes(196, 64, 9, 1), 25744u);
  // Grows with every argument; a ViG-Ti image (196 patches of 192 features, k = 9) needs ~60 KB.
  const size_t vig = knn_graph_scratch_bytes(196, 192, 9, 1);
  EXPECT_GT(vig, 0u);
  EXPECT_LT(vig, 64u * 1024u);
  EXPECT_LT(knn_graph_scratch_bytes(195, 192, 9, 1), knn_graph_scratch_bytes(260, 192, 9, 1));
  EXPECT_LT(vig, knn_graph_scratch_bytes(196, 196, 9, 1));
  EXPECT_LT(vig, knn_graph_scratch_bytes(196, 192, 9, 2));
}

// ---- The grid graph ----------------------------------------------------------------------------------

TEST(GridGraph, EveryShapeMatchesBruteForce) {
  for (int32_t h = 1; h <= 6; ++h) {
    for (int32_t w = 1; w <= 6; ++w) {
      for (int32_t graphs : {0, 1, 3}) {
        for (bool self : {false, true}) {
          SCOPED_TRACE(std::to_string(h) + " x " + std::to_string(w) + " x " + std::to_string(graphs) +
                       (self ? " with self-loops" : ""));
          std::vector<int32_t> row_ptr{0}, col_idx;
          for (int32_t b = 0; b < graphs; ++b) {
            for (int32_t i = 0; i < h * w; ++i) {
              for (int32_t j = 0; j < h * w; ++j) {
                const int32_t dy = j / w - i / w, dx = j % w - i % w;
                if (dy < -1 || dy > 1 || dx < -1 || dx > 1 || (i == j && !self)) continue;
                col_idx.push_back(b * h * w + j);
              }
              row_ptr.push_back(static_cast<int32_t>(col_idx.size()));
            }
          }
          ASSERT_EQ(grid_graph_edges(h, w, graphs, self), static_cast<int64_t>(col_idx.size()));
          std::vector<int32_t> got_ptr(row_ptr.size(), knntest::kPoison),
              got_idx(col_idx.size() + 1, knntest::kPoison);
          ASSERT_EQ(grid_graph(h, w, graphs, self, got_ptr.data(), got_idx.data()), KnnStatus::kOk);
          EXPECT_EQ(got_ptr, row_ptr);
          EXPECT_EQ(got_idx.back(), knntest::kPoison);
          got_idx.pop_back();
          EXPECT_EQ(got_idx, col_idx);
        }
      }
    }
  }
  // ViG's 14 x 14 patches: 4 corners of 3, 48 border nodes of 5, 144 inner ones of 8.
  EXPECT_EQ(grid_graph_edges(14, 14, 1, false), 4 * 3 + 48 * 5 + 144 * 8);
  EXPECT_EQ(grid_graph_edges(14, 14, 2, true), 2 * (4 * 3 + 48 * 5 + 144 * 8 + 196));
}

TEST(GridGraph, RefusesMalformedCallsAndWritesNothing) {
  std::vector<int32_t> row_ptr(8, knntest::kPoison), col_idx(64, knntest::kPoison);
  EXPECT_EQ(grid_graph(2, 3, 1, false, nullptr, col_idx.data()), KnnStatus::kNullPointer);
  EXPECT_EQ(grid_graph(2, 3, 1, false, row_ptr.data(), nullptr), KnnStatus::kNullPointer);
  EXPECT_EQ(grid_graph(0, 3, 1, false, row_ptr.data(), col_idx.data()), KnnStatus::kTooFewNodes);
  EXPECT_EQ(grid_graph(2, -1, 1, false, row_ptr.data(), col_idx.data()), KnnStatus::kTooFewNodes);
  EXPECT_EQ(grid_graph(2, 3, -1, false, row_ptr.data(), col_idx.data()), KnnStatus::kBadGraphPtr);
  EXPECT_EQ(grid_graph(65, 64, 1, false, row_ptr.data(), col_idx.data()), KnnStatus::kTooManyNodes);
  EXPECT_EQ(grid_graph(64, 64, 70000, true, row_ptr.data(), col_idx.data()), KnnStatus::kTooManyEdges);
  EXPECT_EQ(row_ptr, std::vector<int32_t>(8, knntest::kPoison));
  EXPECT_EQ(col_idx, std::vector<int32_t>(64, knntest::kPoison));
  EXPECT_EQ(grid_graph_edges(0, 3, 1, false), -1);
  EXPECT_EQ(grid_graph_edges(2, 3, -1, false), -1);
  EXPECT_EQ(grid_graph_edges(65, 64, 1, false), -1);
  EXPECT_EQ(grid_graph_edges(64, 64, 70000, true), -1);
  EXPECT_EQ(grid_graph_edges(64, 64, 0, true), 0);
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn
