// AVX-512 twin of gather_nonzeros_f32 (reference.h). Compiled with the AVX-512 flags only.
//
// Per block of 64 floats: four compares give one 64-bit non-zero mask (loads and compares only, at the speed
// of a plain read), then four set bits are extracted without a branch (bit scan, store the column and the
// value, clear the bit; past the count the stores are overwritten later or fall in the slack), and only a
// block with more than four non-zeros loops on. Bag-of-words rows (Cora: 1.3 % non-zeros, ~0.8 per block)
// rarely take that loop, so no branch depends on the data in the common case. The previous form, a compress
// of values and columns per 16 floats, stored two whole vectors per 64 bytes read and ran at ~37 GB/s;
// a form that skips all-zero groups by a branch mispredicts on every irregular row (measured ~2x slower).
// GCC < 13 warns inside its own avx512fintrin.h (bug 105593); silenced for the header alone, as
// simd-avx512.h.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif

#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {

namespace {

// The non-zero mask of floats [0, 64) at x (lanes past `cols - first` off).
inline uint64_t BlockMask(const float* x, int32_t left) {
  const __m512 zero = _mm512_setzero_ps();
  uint64_t bits = 0;
  for (int k = 0; k < 4; ++k) {
    const int32_t n = left - 16 * k;
    if (n <= 0) break;
    const __mmask16 lanes = n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
    const __m512 v = _mm512_maskz_loadu_ps(lanes, x + 16 * k);
    // NEQ_UQ: NaN lanes are non-zero, as the reference's x != 0 test; -0.0 compares equal to 0.
    bits |= static_cast<uint64_t>(_mm512_mask_cmp_ps_mask(lanes, v, zero, _CMP_NEQ_UQ)) << (16 * k);
  }
  return bits;
}

}  // namespace

int64_t gather_nonzeros_f32_avx512(const float* in, int32_t cols, int32_t rows, int64_t max_nnz,
                                   int32_t* row_ptr, int32_t* col_idx, float* values) {
  static_assert(kGatherSlack >= 4, "four entries are stored past the count");
  int64_t n = 0;
  row_ptr[0] = 0;
  for (int32_t r = 0; r < rows; ++r) {
    const float* x = in + static_cast<size_t>(r) * static_cast<size_t>(cols);
    for (int32_t first = 0; first < cols; first += 64) {
      uint64_t bits = BlockMask(x + first, cols - first);
      const int64_t count = __builtin_popcountll(bits);
      // Checked before any store: n + count <= max_nnz keeps every store below max_nnz + 4.
      if (n + count > max_nnz) return -1;
      for (int k = 0; k < 4; ++k) {
        // An empty mask scans to bit 63 of the block; the column is clamped into the row for the load.
        const int32_t c = first + static_cast<int32_t>(__builtin_ctzll(bits | (uint64_t{1} << 63)));
        const int32_t safe = c < cols ? c : first;
        col_idx[n + k] = c;
        values[n + k] = x[safe];
        bits &= bits - 1;
      }
      for (int64_t k = 4; bits != 0; ++k) {  // more than four non-zeros in the block
        const int32_t c = first + static_cast<int32_t>(__builtin_ctzll(bits));
        col_idx[n + k] = c;
        values[n + k] = x[c];
        bits &= bits - 1;
      }
      n += count;
    }
    row_ptr[r + 1] = static_cast<int32_t>(n);
  }
  return n;
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
