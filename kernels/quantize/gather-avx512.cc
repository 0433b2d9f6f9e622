// AVX-512 twin of gather_nonzeros_f32 (reference.h): gather-body.h over 64-float blocks, four compares into
// one 64-bit mask. Compiled with the AVX-512 flags only.
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

#include "gather-body.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {
namespace {

struct Avx512Mask {
  static constexpr int32_t kBlock = 64;
  // Whole vectors, the masks joined by kunpck (no shifts). NEQ_UQ: NaN lanes are non-zero, -0.0 is zero.
  static uint64_t full(const float* x) {
    const __m512 zero = _mm512_setzero_ps();
    const __mmask16 m0 = _mm512_cmp_ps_mask(_mm512_loadu_ps(x), zero, _CMP_NEQ_UQ);
    const __mmask16 m1 = _mm512_cmp_ps_mask(_mm512_loadu_ps(x + 16), zero, _CMP_NEQ_UQ);
    const __mmask16 m2 = _mm512_cmp_ps_mask(_mm512_loadu_ps(x + 32), zero, _CMP_NEQ_UQ);
    const __mmask16 m3 = _mm512_cmp_ps_mask(_mm512_loadu_ps(x + 48), zero, _CMP_NEQ_UQ);
    return _cvtmask64_u64(_mm512_kunpackd(_mm512_kunpackw(m3, m2), _mm512_kunpackw(m1, m0)));
  }
  // Floats [0, left) at x, left < 64: only those are read (masked loads), the other lanes are off.
  static uint64_t partial(const float* x, int32_t left) {
    const __m512 zero = _mm512_setzero_ps();
    uint64_t bits = 0;
    for (int k = 0; k < 4 && left > 16 * k; ++k) {
      const int32_t n = left - 16 * k;
      const __mmask16 lanes =
          n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
      const __m512 v = _mm512_maskz_loadu_ps(lanes, x + 16 * k);
      bits |= static_cast<uint64_t>(_mm512_mask_cmp_ps_mask(lanes, v, zero, _CMP_NEQ_UQ)) << (16 * k);
    }
    return bits;
  }
};

}  // namespace

int64_t gather_nonzeros_f32_avx512(const float* in, int32_t cols, int32_t rows, int64_t max_nnz,
                                   int32_t* row_ptr, int32_t* col_idx, float* values) {
  return gather_nonzeros_body<Avx512Mask>(in, cols, rows, max_nnz, row_ptr, col_idx, values);
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
