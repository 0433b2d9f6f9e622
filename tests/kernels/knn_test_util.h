// Helpers of the kNN-graph tests (knn_test.cc: the reference against a brute-force oracle; knn_simd_test.cc:
// the twins against the reference): a case (features, segments, k, dilation), a runner that calls a
// knn_graph implementation into poisoned buffers with exactly the documented scratch (misaligned by one
// byte), whole or split into random row chunks, and the oracle, which sorts every candidate of a node by
// (distance, index) in int64 and keeps every dilation-th.
#ifndef QGNN_TESTS_KERNELS_KNN_TEST_UTIL_H_
#define QGNN_TESTS_KERNELS_KNN_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "kernel_test_util.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace knntest {

using testutil::QMatrix;
using testutil::Rng;

using KnnFn = KnnStatus (*)(const KnnGraphParams&, QActivationConst, int32_t, int32_t, int32_t, int32_t*,
                            int32_t*, void*, size_t);

/// How a case's features are drawn.
enum class Values {
  kRandom,      ///< uniform over the whole int8 / int4 range
  kNarrow,      ///< uniform in [-1, 1]: many equal distances
  kEqual,       ///< every feature the same: every distance 0, every tie broken by index
  kDuplicates,  ///< rows copied from a pool of 3 random rows: distance-0 ties between distinct nodes
  kExtremes,    ///< each row all qmin or all qmax: distances 0 or the largest, (qmax - qmin)^2 cols
};

inline const char* values_name(Values v) {
  switch (v) {
    case Values::kRandom:
      return "random";
    case Values::kNarrow:
      return "narrow";
    case Values::kEqual:
      return "equal";
    case Values::kDuplicates:
      return "duplicates";
    case Values::kExtremes:
      return "extremes";
  }
  return "?";
}

struct KnnCase {
  int bits = 8;
  int32_t cols = 1;
  std::vector<int32_t> graph_ptr{0};
  int32_t k = 1, dilation = 1;
  Values values = Values::kRandom;
  QMatrix x{0, 1, 8, 0};

  /// Segments of the given sizes, features drawn as `v` (zero point random: it must not matter).
  static KnnCase make(int bits, int32_t cols, const std::vector<int32_t>& sizes, int32_t k, int32_t dilation,
                      Values v, uint64_t seed) {
    KnnCase c;
    c.bits = bits;
    c.cols = cols;
    c.k = k;
    c.dilation = dilation;
    c.values = v;
    for (int32_t s : sizes) c.graph_ptr.push_back(c.graph_ptr.back() + s);
    Rng rng(seed);
    const int32_t lo = testutil::qmin_of(bits), hi = testutil::qmax_of(bits);
    c.x = QMatrix(c.nodes(), cols, bits, static_cast<int32_t>(rng.uniform_int(lo, hi)));
    switch (v) {
      case Values::kRandom:
        c.x.fill_random(rng);
        break;
      case Values::kNarrow:
        c.x.fill_random(rng, -1, 1);
        break;
      case Values::kEqual:
        c.x.fill(static_cast<int32_t>(rng.uniform_int(lo, hi)));
        break;
      case Values::kDuplicates: {
        QMatrix pool(3, cols, bits, 0);
        pool.fill_random(rng);
        for (int32_t r = 0; r < c.nodes(); ++r) {
          const int32_t from = static_cast<int32_t>(rng.uniform_int(0, 2));
          for (int32_t col = 0; col < cols; ++col) c.x.set(r, col, pool.get(from, col));
        }
        break;
      }
      case Values::kExtremes:
        for (int32_t r = 0; r < c.nodes(); ++r) {
          const int32_t value = rng.chance(0.5) ? lo : hi;
          for (int32_t col = 0; col < cols; ++col) c.x.set(r, col, value);
        }
        break;
    }
    return c;
  }

  int32_t nodes() const { return graph_ptr.back(); }
  int32_t num_graphs() const { return static_cast<int32_t>(graph_ptr.size()) - 1; }
  int32_t largest() const {
    int32_t most = 0;
    for (size_t g = 0; g + 1 < graph_ptr.size(); ++g) most = std::max(most, graph_ptr[g + 1] - graph_ptr[g]);
    return most;
  }
  KnnGraphParams params() const { return KnnGraphParams{graph_ptr.data(), num_graphs(), k, dilation}; }
  size_t scratch_bytes() const { return knn_graph_scratch_bytes(largest(), cols, k, dilation); }

  std::string label() const {
    std::string sizes;
    for (size_t g = 0; g + 1 < graph_ptr.size(); ++g) {
      sizes += (g ? "," : "") + std::to_string(graph_ptr[g + 1] - graph_ptr[g]);
    }
    return "bits " + std::to_string(bits) + " cols " + std::to_string(cols) + " segments [" + sizes + "] k " +
           std::to_string(k) + " dilation " + std::to_string(dilation) + " values " + values_name(values);
  }
};

/// What one implementation wrote (the status of the last call).
struct KnnResult {
  KnnStatus status = KnnStatus::kOk;
  std::vector<int32_t> row_ptr, col_idx;
};

constexpr int32_t kPoison = 0x5A5A5A5A;

/// Output buffers of a case, poisoned (col_idx sized exactly, so ASan sees a write past it).
inline KnnResult poisoned_result(const KnnCase& c) {
  KnnResult r;
  r.row_ptr.assign(static_cast<size_t>(c.nodes()) + 1, kPoison);
  // One entry for an empty batch keeps data() non-null (the kernel refuses null buffers).
  r.col_idx.assign(
      std::max<size_t>(1, static_cast<size_t>(c.nodes()) * static_cast<size_t>(std::max(c.k, 0))), kPoison);
  return r;
}

/// Scratch of exactly `bytes` bytes starting one byte past an aligned allocation, filled with junk: a call
/// may not depend on its alignment or its contents.
class Scratch {
 public:
  explicit Scratch(size_t bytes, uint8_t junk = 0xA5) : storage_(bytes + 1, junk), bytes_(bytes) {}
  void* data() { return storage_.data() + 1; }
  size_t bytes() const { return bytes_; }
  void refill(uint8_t junk) { std::fill(storage_.begin(), storage_.end(), junk); }

 private:
  std::vector<uint8_t> storage_;
  size_t bytes_;
};

/// One call over rows [row_begin, row_end).
inline KnnResult run(KnnFn fn, const KnnCase& c, int32_t row_begin, int32_t row_end) {
  KnnResult r = poisoned_result(c);
  Scratch scratch(c.scratch_bytes());
  r.status = fn(c.params(), c.x.cview(), c.cols, row_begin, row_end, r.row_ptr.data(), r.col_idx.data(),
                scratch.data(), scratch.bytes());
  return r;
}

inline KnnResult run_all(KnnFn fn, const KnnCase& c) { return run(fn, c, 0, c.nodes()); }

/// The rows cut into random chunks run in random order (as a thread pool would), the scratch refilled with
/// other junk before each call.
inline KnnResult run_split(KnnFn fn, const KnnCase& c, Rng& rng) {
  KnnResult r = poisoned_result(c);
  Scratch scratch(c.scratch_bytes());
  uint8_t junk = 0x11;
  for (const auto& chunk : testutil::random_split(0, c.nodes(), rng)) {
    scratch.refill(junk);
    junk = static_cast<uint8_t>(junk * 7 + 3);
    r.status = fn(c.params(), c.x.cview(), c.cols, chunk.first, chunk.second, r.row_ptr.data(),
                  r.col_idx.data(), scratch.data(), scratch.bytes());
    if (r.status != KnnStatus::kOk) break;
  }
  return r;
}

/// The documented neighbours of node i, by brute force: every candidate's distance in int64, all sorted.
inline std::vector<int32_t> oracle_row(const KnnCase& c, int32_t i) {
  const auto segment = std::upper_bound(c.graph_ptr.begin(), c.graph_ptr.end(), i) - 1;
  std::vector<std::pair<int64_t, int32_t>> candidates;
  for (int32_t j = *segment; j < *(segment + 1); ++j) {
    int64_t d = 0;
    for (int32_t col = 0; col < c.cols; ++col) {
      const int64_t diff = int64_t{c.x.get(i, col)} - c.x.get(j, col);
      d += diff * diff;
    }
    candidates.emplace_back(d, j);
  }
  std::sort(candidates.begin(), candidates.end());
  std::vector<int32_t> out;
  for (int32_t t = 0; t < c.k; ++t) out.push_back(candidates[static_cast<size_t>(t * c.dilation)].second);
  return out;
}

inline std::vector<int32_t> oracle_col_idx(const KnnCase& c) {
  std::vector<int32_t> out;
  for (int32_t i = 0; i < c.nodes(); ++i) {
    const std::vector<int32_t> row = oracle_row(c, i);
    out.insert(out.end(), row.begin(), row.end());
  }
  return out;
}

inline std::vector<int32_t> expected_row_ptr(const KnnCase& c) {
  std::vector<int32_t> row_ptr;
  for (int32_t i = 0; i <= c.nodes(); ++i) row_ptr.push_back(i * c.k);
  return row_ptr;
}

/// Asserts equal neighbour lists, naming the first differing node.
inline ::testing::AssertionResult same_neighbours(const std::vector<int32_t>& expected,
                                                  const std::vector<int32_t>& actual, int32_t k) {
  if (expected.size() != actual.size()) {
    return ::testing::AssertionFailure()
           << expected.size() << " entries expected, " << actual.size() << " given";
  }
  for (size_t e = 0; e < expected.size(); ++e) {
    if (expected[e] != actual[e]) {
      return ::testing::AssertionFailure()
             << "node " << e / static_cast<size_t>(k) << " neighbour " << e % static_cast<size_t>(k)
             << ": expected " << expected[e] << ", got " << actual[e];
    }
  }
  return ::testing::AssertionSuccess();
}

/// Every (k, dilation) with k * dilation <= n among a few small ones, for dilations 1..3.
inline std::vector<std::pair<int32_t, int32_t>> neighbourhoods(int32_t n) {
  std::vector<std::pair<int32_t, int32_t>> out;
  for (int32_t dilation : {1, 2, 3}) {
    for (int32_t k : {1, 2, 4, 9, 16}) {
      if (k * dilation <= n) out.emplace_back(k, dilation);
    }
    if (n / dilation >= 1) out.emplace_back(n / dilation, dilation);  // k * dilation as close to n as it gets
  }
  return out;
}

}  // namespace knntest
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_TESTS_KERNELS_KNN_TEST_UTIL_H_
