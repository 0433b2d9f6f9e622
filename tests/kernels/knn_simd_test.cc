// The kNN-graph twins (KernelTable::knn_graph of each ISA) against the reference, which knn_test.cc checks
// against brute force: the same status and the same row_ptr / col_idx entries, whole and over random row
// splits, with exactly the documented scratch (misaligned, junk-filled), on random shapes and on the
// adversarial ones: n = 1, k * dilation = n, widths that are no multiple of a vector or of the 4-feature
// groups, node counts on either side of the vector widths, equal rows, duplicate rows, narrow values, the
// largest distances at kKnnMaxCols, the largest segment, int8 and int4 rows, and every refusal.
//
// A twin this build compiled and this CPU can run MUST be in its table: the test then fails instead of
// skipping, so a broken table or CPU detection cannot pass by skipping every comparison.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "kernel_test_util.h"
#include "knn_test_util.h"
#include "qgnn/kernels/kernel_table.h"
#include "qgnn/kernels/reference.h"
#include "simd_test_util.h"

// Set by tests/kernels/CMakeLists.txt from the kernel library's configuration.
#ifndef QGNN_TEST_BUILT_AVX2
#define QGNN_TEST_BUILT_AVX2 0
#endif
#ifndef QGNN_TEST_BUILT_AVX512
#define QGNN_TEST_BUILT_AVX512 0
#endif
#ifndef QGNN_TEST_BUILT_NEON
#define QGNN_TEST_BUILT_NEON 0
#endif
#ifndef QGNN_TEST_CPU_DETECTION
#define QGNN_TEST_CPU_DETECTION 0
#endif

namespace qgnn {
namespace kernels {
namespace {

using knntest::KnnCase;
using knntest::KnnResult;
using knntest::Values;
using testutil::Rng;

/// Whether this CPU has what the ISA's twins need (asked of the compiler's runtime, not of cpuinfo, so the
/// kernel library's detection is checked against an independent answer).
bool cpu_has(Isa isa) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (isa == Isa::kAvx2) return avx2;
  if (isa == Isa::kAvx512) {
    return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vnni");
  }
#elif defined(__aarch64__)
  if (isa == Isa::kNeon) return true;  // Advanced SIMD is part of armv8-a
#endif
  (void)isa;
  return false;
}

/// True when the twin must exist: compiled into this build, a CPU detection to select it, and a CPU with it.
bool twin_expected(Isa isa) {
  bool built = false;
  if (isa == Isa::kAvx2) built = QGNN_TEST_BUILT_AVX2;
  if (isa == Isa::kAvx512) built = QGNN_TEST_BUILT_AVX512;
  if (isa == Isa::kNeon) built = QGNN_TEST_BUILT_NEON;
  return built && QGNN_TEST_CPU_DETECTION && cpu_has(isa);
}

class KnnTwin : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    table_ = kernels_for(GetParam());
    if (table_ == nullptr) {
      if (twin_expected(GetParam())) {
        FAIL() << isa_name(GetParam()) << " twins are compiled into this build and this CPU has the ISA, but "
               << "kernels_for() returned no table";
      }
      GTEST_SKIP() << isa_name(GetParam())
                   << " twins are not compiled into this build or not supported by this CPU";
    }
    // The table must hold the twin, or this compares the reference with itself.
    ASSERT_NE(table_->knn_graph, nullptr);
    ASSERT_NE(table_->knn_graph, &knn_graph) << isa_name(GetParam()) << " has no kNN twin in its table";
  }

  /// The twin whole and split against the reference whole (same status, same entries).
  void check(const KnnCase& c, uint64_t seed) {
    SCOPED_TRACE(c.label());
    const KnnResult expected = knntest::run_all(&knn_graph, c);
    ASSERT_EQ(expected.status, KnnStatus::kOk);
    const KnnResult whole = knntest::run_all(table_->knn_graph, c);
    ASSERT_EQ(whole.status, KnnStatus::kOk);
    ASSERT_EQ(whole.row_ptr, expected.row_ptr);
    ASSERT_TRUE(knntest::same_neighbours(expected.col_idx, whole.col_idx, c.k));
    Rng rng(seed);
    const KnnResult split = knntest::run_split(table_->knn_graph, c, rng);
    ASSERT_EQ(split.status, KnnStatus::kOk);
    ASSERT_EQ(split.row_ptr, expected.row_ptr);
    ASSERT_TRUE(knntest::same_neighbours(expected.col_idx, split.col_idx, c.k));
  }

  const KernelTable* table_ = nullptr;
};

TEST_P(KnnTwin, RandomShapesMatchTheReference) {
  uint64_t seed = 10;
  for (int bits : {8, 4}) {
    for (int32_t cols : {1, 2, 3, 4, 5, 7, 8, 16, 17, 63, 64, 65, 129, 192}) {
      for (Values v : {Values::kRandom, Values::kNarrow, Values::kDuplicates}) {
        Rng rng(++seed);
        std::vector<int32_t> sizes;
        const int32_t segments = static_cast<int32_t>(rng.uniform_int(1, 3));
        for (int32_t s = 0; s < segments; ++s) sizes.push_back(static_cast<int32_t>(rng.uniform_int(1, 120)));
        const int32_t smallest = *std::min_element(sizes.begin(), sizes.end());
        const auto all = knntest::neighbourhoods(smallest);
        for (const auto& kd : {all.back(), rng.pick(all), rng.pick(all)}) {
          ++seed;
          check(KnnCase::make(bits, cols, sizes, kd.first, kd.second, v, seed), seed);
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST_P(KnnTwin, NodeCountsAroundTheVectorWidths) {
  // Segments of n nodes for n on either side of 4, 8, 16 (the lanes), 32 and 64 (tiles of vectors), with
  // k * dilation from 1 to n.
  uint64_t seed = 500;
  for (int32_t n : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 100, 196}) {
    for (const auto& kd : knntest::neighbourhoods(n)) {
      ++seed;
      const int bits = seed % 3 == 0 ? 4 : 8;
      check(KnnCase::make(bits, seed % 2 == 0 ? 17 : 64, {n}, kd.first, kd.second, Values::kRandom, seed),
            seed);
      if (HasFatalFailure()) return;
    }
  }
}

TEST_P(KnnTwin, TiesOfEveryKind) {
  uint64_t seed = 900;
  for (int bits : {8, 4}) {
    for (Values v : {Values::kEqual, Values::kDuplicates, Values::kNarrow}) {
      for (int32_t dilation : {1, 2, 3}) {
        for (int32_t cols : {1, 3, 17, 63, 65, 129}) {
          ++seed;
          check(KnnCase::make(bits, cols, {40, 9 * dilation + 8, 9 * dilation}, 9, dilation, v, seed), seed);
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST_P(KnnTwin, LargestDistancesAtTheWidestRows) {
  // All-qmin / all-qmax rows at kKnnMaxCols: every distance is 0 or 255^2 2^15 (int8), the int32 lanes'
  // largest values (AVX-512's offset dot products too: 255 * 128 * 2^15 < 2^31).
  uint64_t seed = 1300;
  for (int bits : {8, 4}) {
    for (int32_t n : {3, 6, 17}) {
      ++seed;
      check(KnnCase::make(bits, kKnnMaxCols, {n}, 1, 3, Values::kExtremes, seed), seed);
      check(KnnCase::make(bits, kKnnMaxCols - 1, {n, 3}, 3, 1, Values::kExtremes, seed + 7), seed);
      if (HasFatalFailure()) return;
    }
    // Random values at the widest rows, on few nodes.
    ++seed;
    check(KnnCase::make(bits, kKnnMaxCols, {5}, 2, 2, Values::kRandom, seed), seed);
  }
}

TEST_P(KnnTwin, LargestSegment) {
  for (int bits : {8, 4}) {
    check(KnnCase::make(bits, 5, {kKnnMaxNodes}, 9, 2, Values::kNarrow, 71), 71);
    check(KnnCase::make(bits, 16, {kKnnMaxNodes}, 9, 1, Values::kRandom, 72), 72);
  }
}

TEST_P(KnnTwin, RefusesWhatTheReferenceRefuses) {
  // Each refusal of knn_test.cc's list, through the twin: the same status, and nothing written.
  KnnCase c = KnnCase::make(8, 5, {6, 4}, 2, 2, Values::kRandom, 3);
  KnnResult out = knntest::poisoned_result(c);
  knntest::Scratch scratch(c.scratch_bytes());
  auto call = [&](KnnGraphParams p, QActivationConst in, int32_t cols, int32_t begin, int32_t end,
                  size_t bytes, bool null_scratch) {
    const KnnStatus twin = table_->knn_graph(p, in, cols, begin, end, out.row_ptr.data(), out.col_idx.data(),
                                             null_scratch ? nullptr : scratch.data(), bytes);
    const KnnStatus reference = knn_graph(p, in, cols, begin, end, out.row_ptr.data(), out.col_idx.data(),
                                          null_scratch ? nullptr : scratch.data(), bytes);
    EXPECT_EQ(twin, reference);
    EXPECT_EQ(out.row_ptr, std::vector<int32_t>(out.row_ptr.size(), knntest::kPoison));
    EXPECT_EQ(out.col_idx, std::vector<int32_t>(out.col_idx.size(), knntest::kPoison));
    return twin;
  };
  const KnnGraphParams p = c.params();
  const QActivationConst in = c.x.cview();
  const size_t bytes = scratch.bytes();
  EXPECT_EQ(call(KnnGraphParams{nullptr, 2, 2, 2}, in, 5, 0, 10, bytes, false), KnnStatus::kNullPointer);
  EXPECT_EQ(call(p, in, 5, 0, 10, bytes, true), KnnStatus::kNullPointer);
  EXPECT_EQ(call(p, QActivationConst{in.data, 2, 0}, 5, 0, 10, bytes, false), KnnStatus::kBadBits);
  EXPECT_EQ(call(p, in, 0, 0, 10, bytes, false), KnnStatus::kBadCols);
  EXPECT_EQ(call(p, in, kKnnMaxCols + 1, 0, 10, bytes, false), KnnStatus::kBadCols);
  EXPECT_EQ(call(KnnGraphParams{p.graph_ptr, 2, 0, 2}, in, 5, 0, 10, bytes, false), KnnStatus::kBadK);
  EXPECT_EQ(call(KnnGraphParams{p.graph_ptr, 2, 2, 0}, in, 5, 0, 10, bytes, false), KnnStatus::kBadK);
  EXPECT_EQ(call(KnnGraphParams{p.graph_ptr, -1, 2, 2}, in, 5, 0, 10, bytes, false), KnnStatus::kBadGraphPtr);
  EXPECT_EQ(call(KnnGraphParams{p.graph_ptr, 2, 3, 2}, in, 5, 0, 10, bytes, false), KnnStatus::kTooFewNodes);
  const int32_t huge[] = {0, kKnnMaxNodes + 1};
  EXPECT_EQ(call(KnnGraphParams{huge, 1, 2, 2}, in, 5, 0, 0, bytes, false), KnnStatus::kTooManyNodes);
  EXPECT_EQ(call(p, in, 5, 3, 2, bytes, false), KnnStatus::kBadRowRange);
  EXPECT_EQ(call(p, in, 5, 0, 11, bytes, false), KnnStatus::kBadRowRange);
  EXPECT_EQ(call(p, in, 5, 0, 10, bytes - 1, false), KnnStatus::kScratchTooSmall);
}

INSTANTIATE_TEST_SUITE_P(Isa, KnnTwin, ::testing::ValuesIn(simdtest::twin_isas()), simdtest::isa_label);

}  // namespace
}  // namespace kernels
}  // namespace qgnn
