// AVX2 twin of gather_nonzeros_f32 (reference.h). Compiled with the AVX2 flags only.
//
// AVX2 has no compress: the non-zero mask of 8 floats (one compare, movemask) indexes a table of lane
// permutations that moves the kept lanes to the front (vpermps), for the values and for their column
// indices; both are stored whole at the current count (kGatherSlack covers the lanes past it). As in the
// AVX-512 twin, no branch depends on the data but the limit check.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {
namespace {

struct CompressTable {
  int32_t lanes[256][8];
};

constexpr CompressTable MakeCompressTable() {
  CompressTable t{};
  for (int m = 0; m < 256; ++m) {
    int k = 0;
    for (int lane = 0; lane < 8; ++lane) {
      if ((m >> lane) & 1) t.lanes[m][k++] = lane;
    }
    for (; k < 8; ++k) t.lanes[m][k] = 0;
  }
  return t;
}

alignas(32) constexpr CompressTable kCompress = MakeCompressTable();

}  // namespace

int64_t gather_nonzeros_f32_avx2(const float* in, int32_t cols, int32_t rows, int64_t max_nnz,
                                 int32_t* row_ptr, int32_t* col_idx, float* values) {
  alignas(32) static constexpr int32_t kLoadMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                        0,  0,  0,  0,  0,  0,  0,  0};
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256 zero = _mm256_setzero_ps();
  const int32_t tail = cols % 8;
  const __m256i tail_load = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kLoadMask + 8 - tail));
  int64_t n = 0;
  row_ptr[0] = 0;
  for (int32_t r = 0; r < rows; ++r) {
    const float* x = in + static_cast<size_t>(r) * static_cast<size_t>(cols);
    for (int32_t g = 0; g < cols; g += 8) {
      const bool full = cols - g >= 8;
      // The partial load reads only the row's own floats; its other lanes are 0 and so never kept.
      const __m256 v = full ? _mm256_loadu_ps(x + g) : _mm256_maskload_ps(x + g, tail_load);
      const int m = _mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_NEQ_UQ));  // NaN lanes are kept
      const __m256i perm = _mm256_load_si256(reinterpret_cast<const __m256i*>(kCompress.lanes[m]));
      _mm256_storeu_ps(values + n, _mm256_permutevar8x32_ps(v, perm));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(col_idx + n),
                          _mm256_permutevar8x32_epi32(_mm256_add_epi32(iota, _mm256_set1_epi32(g)), perm));
      // Checked after the stores (n <= max_nnz before them, so they stay within the slack): a check before
      // them puts the compare's result on the next store's address path (2x slower in the AVX-512 twin).
      n += __builtin_popcount(static_cast<unsigned>(m));
      if (n > max_nnz) return -1;
    }
    row_ptr[r + 1] = static_cast<int32_t>(n);
  }
  return n;
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
