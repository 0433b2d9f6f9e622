// AVX2 twin of gather_nonzeros_f32 (reference.h): gather-body.h over 32-float blocks, four compares and
// movemasks into one 32-bit mask. Compiled with the AVX2 flags only.
//
// It replaces a compress by permutation table (per 8 floats: the mask indexed a table of lane permutations,
// vpermps moved the kept values and their columns to the front, both stored whole), which stored two
// vectors per 32 bytes read whatever the density.
#include <immintrin.h>

#include <cstdint>

#include "gather-body.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {
namespace {

struct Avx2Mask {
  static constexpr int32_t kBlock = 32;
  // NEQ_UQ: NaN lanes are non-zero, -0.0 is zero.
  static uint64_t full(const float* x) {
    const __m256 zero = _mm256_setzero_ps();
    const uint32_t m0 =
        static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x), zero, _CMP_NEQ_UQ)));
    const uint32_t m1 =
        static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + 8), zero, _CMP_NEQ_UQ)));
    const uint32_t m2 =
        static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + 16), zero, _CMP_NEQ_UQ)));
    const uint32_t m3 =
        static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + 24), zero, _CMP_NEQ_UQ)));
    return m0 | (m1 << 8) | (m2 << 16) | (m3 << 24);
  }
  // Floats [0, left) at x, left < 32: only those are read (maskload), the other lanes load as 0 and so
  // never count.
  static uint64_t partial(const float* x, int32_t left) {
    alignas(32) static constexpr int32_t kLoadMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                          0,  0,  0,  0,  0,  0,  0,  0};
    const __m256 zero = _mm256_setzero_ps();
    uint64_t bits = 0;
    for (int k = 0; k < 4 && left > 8 * k; ++k) {
      const int32_t n = left - 8 * k < 8 ? left - 8 * k : 8;
      const __m256i lanes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kLoadMask + 8 - n));
      const __m256 v = _mm256_maskload_ps(x + 8 * k, lanes);
      bits |= static_cast<uint64_t>(_mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_NEQ_UQ))) << (8 * k);
    }
    return bits;
  }
};

}  // namespace

int64_t gather_nonzeros_f32_avx2(const float* in, int32_t cols, int32_t rows, int64_t max_nnz,
                                 int32_t* row_ptr, int32_t* col_idx, float* values) {
  return gather_nonzeros_body<Avx2Mask>(in, cols, rows, max_nnz, row_ptr, col_idx, values);
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
