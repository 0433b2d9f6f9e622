// Sparse float rows for the sparse_dense() tests (reference identity and SIMD twins): CSR rows of chosen
// shapes (empty, one non-zero, fully dense, random density) and values chosen to stress the on-the-fly
// quantization (saturating, tiny, exact half steps, negative), plus per-column scales.
#ifndef QGNN_TESTS_KERNELS_SPARSE_TEST_UTIL_H_
#define QGNN_TESTS_KERNELS_SPARSE_TEST_UTIL_H_

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernel_test_util.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace testutil {

/// What the non-zero values look like.
enum class SparseValues {
  kRandom,     ///< uniform in about [-6, 6] quantization steps
  kExtreme,    ///< huge / infinite / denormal / tiny values of both signs: saturation and the 1e6 clamp
  kHalfSteps,  ///< exactly (n + 0.5) steps (power-of-two scales, so the quotient is exact): the rounding
  kHuge        ///< always +1e30: every non-zero saturates at qmax (the largest |x - zx| when zx = qmin)
};

/// Owning CSR rows (reference.h SparseRows) and, optionally, per-column scales.
struct SparseMatrix {
  int32_t rows = 0, cols = 0;
  std::vector<int32_t> row_ptr{0};
  std::vector<int32_t> col_idx;
  std::vector<float> values;
  SparseRows view() const { return SparseRows{row_ptr.data(), col_idx.data(), values.data()}; }

  /// Row-major dense copy (zeros where no non-zero is stored).
  std::vector<float> densify() const {
    std::vector<float> dense(static_cast<size_t>(rows) * static_cast<size_t>(cols), 0.0f);
    for (int32_t r = 0; r < rows; ++r) {
      for (int32_t e = row_ptr[static_cast<size_t>(r)]; e < row_ptr[static_cast<size_t>(r) + 1]; ++e) {
        dense[static_cast<size_t>(r) * static_cast<size_t>(cols) + static_cast<size_t>(col_idx[e])] =
            values[e];
      }
    }
    return dense;
  }
};

/// Scales of the input quantization: one scale, or one per column (power-of-two ones for kHalfSteps).
inline std::vector<float> random_column_scales(int32_t cols, SparseValues kind, Rng& rng) {
  std::vector<float> scales;
  for (int32_t k = 0; k < cols; ++k) {
    scales.push_back(kind == SparseValues::kHalfSteps
                         ? std::ldexp(1.0f, static_cast<int>(rng.uniform_int(-8, 2)))
                         : static_cast<float>(rng.uniform_real(0.002, 2.0)));
  }
  return scales;
}

/// One non-zero value for a column of quantization scale `scale`.
inline float random_value(SparseValues kind, float scale, Rng& rng) {
  switch (kind) {
    case SparseValues::kExtreme: {
      static const float kValues[] = {1.0e30f,
                                      -1.0e30f,
                                      std::numeric_limits<float>::infinity(),
                                      -std::numeric_limits<float>::infinity(),
                                      std::numeric_limits<float>::max(),
                                      -std::numeric_limits<float>::max(),
                                      std::numeric_limits<float>::denorm_min(),
                                      -std::numeric_limits<float>::denorm_min(),
                                      1.0e-30f,
                                      -1.0e-30f,
                                      0.0f,
                                      -0.0f,
                                      3.0e6f,
                                      -3.0e6f,
                                      std::numeric_limits<float>::quiet_NaN()};
      return kValues[rng.uniform_int(0, sizeof kValues / sizeof kValues[0] - 1)];
    }
    case SparseValues::kHuge:
      return 1.0e30f;
    case SparseValues::kHalfSteps:
      return (static_cast<float>(rng.uniform_int(-140, 140)) + 0.5f) * scale;
    case SparseValues::kRandom:
    default:
      return static_cast<float>(rng.uniform_real(-6.0, 6.0)) * scale;
  }
}

/// Random CSR rows over `cols` columns: row kinds cycle through empty, one non-zero, fully dense (when
/// `dense_rows`) and `density` random non-zeros, in random order.
inline SparseMatrix random_sparse(int32_t rows, int32_t cols, double density, bool dense_rows,
                                  SparseValues kind, const std::vector<float>& column_scales, float scale,
                                  Rng& rng) {
  SparseMatrix m;
  m.rows = rows;
  m.cols = cols;
  auto push = [&](int32_t k) {
    m.col_idx.push_back(k);
    const float s = column_scales.empty() ? scale : column_scales[static_cast<size_t>(k)];
    m.values.push_back(random_value(kind, s, rng));
  };
  for (int32_t r = 0; r < rows; ++r) {
    const int64_t shape = rng.uniform_int(0, 9);
    if (shape == 1) {
      push(static_cast<int32_t>(rng.uniform_int(0, cols - 1)));  // one non-zero
    } else if (shape != 0) {                                     // shape 0: an empty row
      const bool all = shape == 2 && dense_rows;
      for (int32_t k = 0; k < cols; ++k) {
        if (all || rng.chance(density)) push(k);
      }
    }
    m.row_ptr.push_back(static_cast<int32_t>(m.col_idx.size()));
  }
  return m;
}

}  // namespace testutil
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_TESTS_KERNELS_SPARSE_TEST_UTIL_H_
