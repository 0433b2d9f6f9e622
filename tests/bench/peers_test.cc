// bench/peers: the engines qgnn-bench-peers times compute the same sums. qgnn's paths against a direct oracle
// (always), and against GraphBLAS's FP32 and integer paths (skipped, with the reason, without GraphBLAS).
// Tolerances: FP32 sums of the same terms in different orders within 2 (d + 1) FLT_EPSILON sum|x| per element
// (peer_check.h), and exactly equal when every partial sum is an exactly representable integer; integer sums
// and their requantization exactly.
#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "kernel_data.h"
#include "peer_check.h"
#include "peer_engines.h"
#include "qgnn/kernels/kernel_table.h"
#include "qgnn/kernels/numerics.h"

namespace qgnn {
namespace bench {
namespace {

constexpr int32_t kCols = 19;  // odd, so every SIMD twin runs its column tail

// A small graph with a hub (node 0 receives from everyone) and an isolated node (the last), on top of random
// undirected edges: degree 0, small degrees and one large degree.
CsrData test_graph() {
  const CsrData base = random_undirected_graph(96, 250, /*seed=*/77);
  CsrData g;
  g.num_nodes = base.num_nodes + 1;
  for (int32_t i = 0; i < base.num_nodes; ++i) {
    for (int32_t e = base.row_ptr[i]; e < base.row_ptr[i + 1]; ++e) g.col_idx.push_back(base.col_idx[e]);
    if (i == 0) {
      for (int32_t j = 1; j < base.num_nodes; ++j) g.col_idx.push_back(j);
    }
    g.row_ptr.push_back(static_cast<int32_t>(g.col_idx.size()));
  }
  g.row_ptr.push_back(static_cast<int32_t>(g.col_idx.size()));  // the isolated node
  g.graph_ptr = {0, g.num_nodes};
  return g;
}

// The sums computed directly in double (exact for the inputs used here): y_i = x_i + sum_j x_j.
class OracleSums final : public PeerEngine {
 public:
  OracleSums(const CsrData& g, std::vector<double> x) : g_(g), y_(x.size()) {
    for (int32_t i = 0; i < g.num_nodes; ++i) {
      for (int32_t c = 0; c < kCols; ++c) {
        double sum = x[static_cast<size_t>(i) * kCols + c];
        for (int32_t e = g.row_ptr[i]; e < g.row_ptr[i + 1]; ++e) {
          sum += x[static_cast<size_t>(g.col_idx[e]) * kCols + c];
        }
        y_[static_cast<size_t>(i) * kCols + c] = sum;
      }
    }
  }
  std::string key() const override { return "oracle"; }
  std::string label() const override { return "oracle"; }
  void run() override {}
  double bytes() const override { return 0; }
  void read_rows(int32_t begin, int32_t end, double* out) const override {
    for (size_t k = static_cast<size_t>(begin) * kCols; k < static_cast<size_t>(end) * kCols; ++k)
      *out++ = y_[k];
  }

 private:
  const CsrData& g_;
  std::vector<double> y_;
};

struct Inputs {
  std::vector<float> f32;        // random floats in [-1, 1)
  std::vector<float> f32_ints;   // small integers as floats: every order of summation is exact
  std::vector<int8_t> values8;   // int8 values over the whole range
  std::vector<uint8_t> packed8;  // the same, as an int8 activation
  std::vector<int8_t> values4;   // int4 values over the whole range
  std::vector<uint8_t> packed4;  // the same, packed
};

Inputs make_inputs(const CsrData& g) {
  Rng rng(20240615u);
  Inputs in;
  const size_t n = static_cast<size_t>(g.num_nodes) * kCols;
  in.f32 = random_floats(n, -1.0f, 1.0f, rng);
  in.packed8 = random_activation(g.num_nodes, kCols, 8, rng);
  in.packed4 = random_activation(g.num_nodes, kCols, 4, rng);
  for (size_t k = 0; k < n; ++k) {
    in.f32_ints.push_back(static_cast<float>(rng.between(-20, 20)));
    in.values8.push_back(static_cast<int8_t>(in.packed8[k]));
  }
  const size_t stride = kernels::row_bytes(kCols, 4);
  for (int32_t r = 0; r < g.num_nodes; ++r) {
    for (int32_t c = 0; c < kCols; ++c) {
      in.values4.push_back(static_cast<int8_t>(kernels::load_int4(in.packed4.data() + stride * r, c)));
    }
  }
  return in;
}

template <typename T>
std::vector<double> as_double(const std::vector<T>& v) {
  return std::vector<double>(v.begin(), v.end());
}

// Every table this build and CPU have: the twins must agree with GraphBLAS as the reference does.
std::vector<const kernels::KernelTable*> tables() {
  std::vector<const kernels::KernelTable*> out;
  for (kernels::Isa isa : {kernels::Isa::kReference, kernels::Isa::kAvx2, kernels::Isa::kAvx512,
                           kernels::Isa::kNeon, kernels::Isa::kNeonDot}) {
    if (const kernels::KernelTable* t = kernels::kernels_for(isa)) out.push_back(t);
  }
  return out;
}

const kernels::Rescale kIdentity = rescale_for(1.0);  // exact: out = acc while it fits
const kernels::Rescale kBenchRescale = rescale_for(0.05);

TEST(PeerEngines, QgnnPathsMatchTheOracle) {
  const CsrData g = test_graph();
  const Inputs in = make_inputs(g);
  const OracleSums f32_oracle(g, as_double(in.f32)), int_oracle(g, as_double(in.f32_ints));
  const OracleSums sums8(g, as_double(in.values8)), sums4(g, as_double(in.values4));
  for (const kernels::KernelTable* table : tables()) {
    SCOPED_TRACE(table->name);
    auto f32 = make_qgnn_f32(table, g, in.f32.data(), kCols);
    f32->run();
    const CheckResult close = compare_f32_sums(g, in.f32.data(), kCols, *f32, f32_oracle);
    EXPECT_TRUE(close.ok) << close.message;
    auto ints = make_qgnn_f32(table, g, in.f32_ints.data(), kCols);
    ints->run();
    const CheckResult exact = compare_exact(g, kCols, *ints, int_oracle);
    EXPECT_TRUE(exact.ok) << exact.message;
    // Zero point -1 and a 0.05 rescale, as the benchmark runs them (sums saturate at the hub: clamped alike).
    auto q8 = make_qgnn_quantized(table, g, in.packed8.data(), 8, -1, kBenchRescale, kCols);
    q8->run();
    const CheckResult r8 = compare_requantized(g, kCols, *q8, 8, -1, kBenchRescale, sums8);
    EXPECT_TRUE(r8.ok) << r8.message;
    auto q4 = make_qgnn_quantized(table, g, in.packed4.data(), 4, -1, kBenchRescale, kCols);
    q4->run();
    const CheckResult r4 = compare_requantized(g, kCols, *q4, 4, -1, kBenchRescale, sums4);
    EXPECT_TRUE(r4.ok) << r4.message;
  }
}

TEST(PeerEngines, ChecksReportADifference) {
  // The comparisons this suite relies on must be able to fail: one changed input value is found.
  const CsrData g = test_graph();
  Inputs in = make_inputs(g);
  const OracleSums sums(g, as_double(in.f32_ints));
  in.f32_ints[5 * kCols + 3] += 1.0f;
  const kernels::KernelTable* table = kernels::kernels_for(kernels::Isa::kReference);
  auto changed = make_qgnn_f32(table, g, in.f32_ints.data(), kCols);
  changed->run();
  const CheckResult exact = compare_exact(g, kCols, *changed, sums);
  EXPECT_FALSE(exact.ok);
  EXPECT_EQ(exact.max_abs_diff, 1.0);
  const CheckResult close = compare_f32_sums(g, in.f32_ints.data(), kCols, *changed, sums);
  EXPECT_FALSE(close.ok);
  const OracleSums sums8(g, as_double(in.values8));
  auto q8 = make_qgnn_quantized(table, g, in.packed8.data(), 8, 0, kIdentity, kCols);
  q8->run();
  EXPECT_FALSE(compare_requantized(g, kCols, *q8, 8, -1, kIdentity, sums8).ok);  // wrong zero point
}

// The gather floor ORs every neighbour row and the self row, whatever the row size (the AVX-512 loop for 32
// and 64 bytes, the fixed-size portable loop for 128, the general one for 40) and the prefetch distance
// (past the last edge included).
TEST(PeerEngines, GatherFloorReadsEveryRowOnce) {
  const CsrData g = test_graph();
  Rng rng(0xF100u);
  for (const auto& shape : {std::pair<int, int32_t>{8, 64}, {4, 64}, {8, 128}, {8, 40}}) {
    const int bits = shape.first;
    const int32_t cols = shape.second;
    const size_t row = static_cast<size_t>(cols) * bits / 8;
    std::vector<uint8_t> x(row * static_cast<size_t>(g.num_nodes));
    // Sparse bits, so an OR that skipped a row would show.
    for (uint8_t& b : x) b = static_cast<uint8_t>(rng.below(16) == 0 ? 1u << rng.below(8) : 0u);
    for (int32_t distance : {1, 64, 4096}) {
      SCOPED_TRACE(testing::Message() << "bits " << bits << " cols " << cols << " distance " << distance);
      auto floor = make_gather_floor(g, x.data(), bits, cols, distance);
      EXPECT_EQ(floor->key(), "floor_int" + std::to_string(bits) + "_d" + std::to_string(distance));
      floor->run();
      std::vector<double> got(row * static_cast<size_t>(g.num_nodes));
      floor->read_rows(0, g.num_nodes, got.data());
      for (int32_t i = 0; i < g.num_nodes; ++i) {
        for (size_t b = 0; b < row; ++b) {
          uint8_t want = x[static_cast<size_t>(i) * row + b];
          for (int32_t e = g.row_ptr[i]; e < g.row_ptr[i + 1]; ++e) {
            want = static_cast<uint8_t>(want | x[static_cast<size_t>(g.col_idx[e]) * row + b]);
          }
          ASSERT_EQ(got[static_cast<size_t>(i) * row + b], want) << "node " << i << " byte " << b;
        }
      }
    }
  }
  std::vector<uint8_t> x(12 * static_cast<size_t>(g.num_nodes));
  EXPECT_THROW(make_gather_floor(g, x.data(), 8, 12, 64), std::runtime_error);  // 12-byte rows
  EXPECT_THROW(make_gather_floor(g, x.data(), 4, 16, 0), std::runtime_error);   // no distance
}

TEST(PeerEngines, GraphBlasComputesTheSameSums) {
  std::string why_not;
  if (!graphblas_available(&why_not)) GTEST_SKIP() << why_not;
  const CsrData g = test_graph();
  const Inputs in = make_inputs(g);

  auto gb_f32 = make_graphblas(GraphBlasPath::kFp32, g, in.f32.data(), kCols);
  auto gb_ints = make_graphblas(GraphBlasPath::kFp32, g, in.f32_ints.data(), kCols);
  auto gb8_cast = make_graphblas(GraphBlasPath::kInt8Typecast, g, in.values8.data(), kCols);
  auto gb8 = make_graphblas(GraphBlasPath::kInt32, g, in.values8.data(), kCols);
  auto gb4 = make_graphblas(GraphBlasPath::kInt32, g, in.values4.data(), kCols);
  // Twice: the preset of C must restore the self term, not accumulate onto the previous result.
  for (int k = 0; k < 2; ++k) {
    for (auto* e : {gb_f32.get(), gb_ints.get(), gb8_cast.get(), gb8.get(), gb4.get()}) e->run();
  }
  // GraphBLAS against the oracle first (so a qgnn mismatch below is qgnn's).
  const OracleSums int_oracle(g, as_double(in.f32_ints)), sums8(g, as_double(in.values8));
  const OracleSums sums4(g, as_double(in.values4));
  EXPECT_TRUE(compare_exact(g, kCols, *gb_ints, int_oracle).ok);
  EXPECT_TRUE(compare_exact(g, kCols, *gb8, sums8).ok);
  EXPECT_TRUE(compare_exact(g, kCols, *gb8_cast, sums8).ok);
  EXPECT_TRUE(compare_exact(g, kCols, *gb4, sums4).ok);

  for (const kernels::KernelTable* table : tables()) {
    SCOPED_TRACE(table->name);
    auto f32 = make_qgnn_f32(table, g, in.f32.data(), kCols);
    auto ints = make_qgnn_f32(table, g, in.f32_ints.data(), kCols);
    auto q8 = make_qgnn_quantized(table, g, in.packed8.data(), 8, -1, kBenchRescale, kCols);
    auto q4 = make_qgnn_quantized(table, g, in.packed4.data(), 4, -1, kBenchRescale, kCols);
    for (auto* e : {f32.get(), ints.get(), q8.get(), q4.get()}) e->run();
    const CheckResult close = compare_f32_sums(g, in.f32.data(), kCols, *f32, *gb_f32);
    EXPECT_TRUE(close.ok) << close.message;
    const CheckResult exact = compare_exact(g, kCols, *ints, *gb_ints);
    EXPECT_TRUE(exact.ok) << exact.message;
    for (const PeerEngine* sums : {gb8.get(), gb8_cast.get()}) {
      const CheckResult r8 = compare_requantized(g, kCols, *q8, 8, -1, kBenchRescale, *sums);
      EXPECT_TRUE(r8.ok) << r8.message;
    }
    const CheckResult r4 = compare_requantized(g, kCols, *q4, 4, -1, kBenchRescale, *gb4);
    EXPECT_TRUE(r4.ok) << r4.message;
  }
}

}  // namespace
}  // namespace bench
}  // namespace qgnn
