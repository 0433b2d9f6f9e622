// sparse_dense_f32 (reference.h): the reference against a double oracle of dense_f32 on the densified rows,
// and every ISA table's twin against the reference within the stated bound, over the packed operand and
// without one. Widths around every vector size, empty rows, ReLU.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "qgnn/kernels/kernel_table.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

struct Case {
  std::vector<int32_t> row_ptr{0};
  std::vector<int32_t> col_idx;
  std::vector<float> values;
  std::vector<float> weights, bias;
  SparseRows rows() const { return {row_ptr.data(), col_idx.data(), values.data()}; }
};

Case MakeCase(std::mt19937& rng, int32_t rows, int32_t in_cols, int32_t out_cols, double density) {
  Case c;
  std::bernoulli_distribution keep(density);
  std::uniform_real_distribution<float> value(-2.0f, 2.0f);
  for (int32_t r = 0; r < rows; ++r) {
    for (int32_t k = 0; k < in_cols; ++k) {
      if (r % 5 == 0 || !keep(rng)) continue;  // every fifth row empty: the bias alone
      c.col_idx.push_back(k);
      c.values.push_back(value(rng));
    }
    c.row_ptr.push_back(static_cast<int32_t>(c.values.size()));
  }
  c.weights.resize(static_cast<size_t>(in_cols) * out_cols);
  for (float& w : c.weights) w = value(rng);
  c.bias.resize(out_cols);
  for (float& b : c.bias) b = value(rng);
  return c;
}

// |twin - reference| <= kRelative * sum_e |v_e * w| + kAbsolute: each product and partial sum rounds once
// per step either way (n steps of 2^-24 relative), fusing a multiply-add only drops one rounding.
constexpr double kRelative = 1e-5;
constexpr double kAbsolute = 1e-6;

double Magnitude(const Case& c, int32_t in_cols, int32_t row, int32_t ch) {
  double m = std::fabs(c.bias[ch]);
  for (int32_t e = c.row_ptr[row]; e < c.row_ptr[row + 1]; ++e)
    m += std::fabs(double{c.values[e]} * c.weights[static_cast<size_t>(ch) * in_cols + c.col_idx[e]]);
  return m;
}

TEST(FloatSparseDense, ReferenceIsDenseOnTheDensifiedRows) {
  std::mt19937 rng(5);
  for (int32_t out_cols : {1, 7, 16, 17, 70}) {
    const int32_t in_cols = 40, rows = 23;
    const Case c = MakeCase(rng, rows, in_cols, out_cols, 0.2);
    std::vector<float> dense(static_cast<size_t>(rows) * in_cols, 0.0f);
    for (int32_t r = 0; r < rows; ++r)
      for (int32_t e = c.row_ptr[r]; e < c.row_ptr[r + 1]; ++e)
        dense[static_cast<size_t>(r) * in_cols + c.col_idx[e]] = c.values[e];
    for (bool relu : {false, true}) {
      std::vector<float> got(static_cast<size_t>(rows) * out_cols, -7.0f), want(got.size(), -9.0f);
      sparse_dense_f32(c.rows(), in_cols, c.weights.data(), nullptr, c.bias.data(), relu, got.data(),
                       out_cols, 0, rows);
      dense_f32(dense.data(), in_cols, c.weights.data(), c.bias.data(), nullptr, relu, want.data(), out_cols,
                0, rows);
      for (int32_t r = 0; r < rows; ++r) {
        for (int32_t ch = 0; ch < out_cols; ++ch) {
          const size_t i = static_cast<size_t>(r) * out_cols + ch;
          EXPECT_NEAR(got[i], want[i], kRelative * Magnitude(c, in_cols, r, ch) + kAbsolute)
              << r << " " << ch;
          if (relu) {
            EXPECT_GE(got[i], 0.0f);
          }
        }
      }
    }
  }
}

TEST(FloatSparseDense, TwinsMatchTheReference) {
  int twins = 0;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512, Isa::kNeon, Isa::kNeonDot}) {
    const KernelTable* table = kernels_for(isa);
    if (table == nullptr) continue;
    ASSERT_NE(table->sparse_dense_f32, nullptr) << isa_name(isa);
    ++twins;
    std::mt19937 rng(11);
    for (int32_t out_cols : {1, 4, 7, 8, 15, 16, 17, 31, 64, 65, 100}) {
      for (int32_t in_cols : {1, 15, 16, 17, 1433}) {
        SCOPED_TRACE(std::string(isa_name(isa)) + " out " + std::to_string(out_cols) + " in " +
                     std::to_string(in_cols));
        const int32_t rows = 19;
        const Case c = MakeCase(rng, rows, in_cols, out_cols, in_cols > 100 ? 0.02 : 0.4);
        std::vector<uint8_t> storage(sparse_dense_f32_packed_bytes(in_cols, out_cols) + 16);
        void* packed =
            reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(storage.data()) + 15) & ~uintptr_t{15});
        sparse_dense_f32_pack(c.weights.data(), in_cols, out_cols, packed);
        for (bool relu : {false, true}) {
          std::vector<float> want(static_cast<size_t>(rows) * out_cols, -9.0f);
          sparse_dense_f32(c.rows(), in_cols, c.weights.data(), nullptr, c.bias.data(), relu, want.data(),
                           out_cols, 0, rows);
          for (const void* operand : {static_cast<const void*>(packed), static_cast<const void*>(nullptr)}) {
            std::vector<float> got(want.size(), -7.0f);
            // Two row ranges: a twin writes exactly its rows.
            table->sparse_dense_f32(c.rows(), in_cols, c.weights.data(), operand, c.bias.data(), relu,
                                    got.data(), out_cols, 0, 6);
            table->sparse_dense_f32(c.rows(), in_cols, c.weights.data(), operand, c.bias.data(), relu,
                                    got.data(), out_cols, 6, rows);
            for (int32_t r = 0; r < rows; ++r) {
              for (int32_t ch = 0; ch < out_cols; ++ch) {
                const size_t i = static_cast<size_t>(r) * out_cols + ch;
                ASSERT_NEAR(got[i], want[i], kRelative * Magnitude(c, in_cols, r, ch) + kAbsolute)
                    << r << " " << ch;
              }
            }
          }
        }
      }
    }
  }
  if (twins == 0) GTEST_SKIP() << "no SIMD table in this build / on this CPU";
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn
