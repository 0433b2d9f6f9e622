// The density probe of dense float input (input_probe.h).
#include "input_probe.h"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#endif

namespace qgnn {
namespace runtime {
namespace {

// Bit j set when x[j] is neither 0.0 nor -0.0 (a NaN counts as non-zero; the runtime rejects it first).
uint32_t NonZeroMaskTail(const float* x, int32_t n) {
  uint32_t mask = 0;
  for (int32_t j = 0; j < n; ++j) mask |= (x[j] != 0.0f ? 1u : 0u) << j;
  return mask;
}

#if defined(__SSE2__)
uint32_t NonZeroMask16(const float* x) {
  const __m128 zero = _mm_setzero_ps();
  uint32_t mask = 0;
  for (int j = 0; j < kZeroGroup; j += 4) {
    mask |= static_cast<uint32_t>(_mm_movemask_ps(_mm_cmpneq_ps(_mm_loadu_ps(x + j), zero))) << j;
  }
  return mask;
}
#elif defined(__ARM_NEON)
uint32_t NonZeroMask16(const float* x) {
  // A quick all-zero test first (the common case), then the bits.
  uint32x4_t any = vdupq_n_u32(0);
  for (int j = 0; j < kZeroGroup; j += 4) any = vorrq_u32(any, vtstq_u32(vreinterpretq_u32_f32(vld1q_f32(x + j)), vdupq_n_u32(0x7FFFFFFFu)));
  if (vmaxvq_u32(any) == 0) return 0;
  return NonZeroMaskTail(x, kZeroGroup);
}
#else
uint32_t NonZeroMask16(const float* x) { return NonZeroMaskTail(x, kZeroGroup); }
#endif

int32_t Headroom(int32_t cols) { return cols < kZeroGroup ? cols : kZeroGroup; }

}  // namespace

size_t StreamSlotBytes(int32_t rows, int32_t cols, size_t row_bytes, bool float_input) {
  const size_t chunk = static_cast<size_t>(rows) * row_bytes;
  if (!float_input) return (chunk + 7) & ~static_cast<size_t>(7);
  const size_t nnz = static_cast<size_t>(int64_t{rows} * cols / kProbeDensityDivisor + Headroom(cols));
  const size_t gather = (static_cast<size_t>(rows) + 1) * sizeof(int32_t) + nnz * (sizeof(int32_t) + sizeof(float));
  const size_t bytes = chunk > gather ? chunk : gather;
  return (bytes + 7) & ~static_cast<size_t>(7);
}

bool ParseInputProbe(const char* text, InputProbe* out) {
  if (text == nullptr || text[0] == '\0' || std::strcmp(text, "auto") == 0) {
    *out = InputProbe::kAuto;
  } else if (std::strcmp(text, "dense") == 0) {
    *out = InputProbe::kDense;
  } else if (std::strcmp(text, "sparse") == 0) {
    *out = InputProbe::kSparse;
  } else {
    return false;
  }
  return true;
}

int64_t ProbeLimit(InputProbe probe, int32_t rows, int32_t cols) {
  const int64_t elements = int64_t{rows} * cols;
  switch (probe) {
    case InputProbe::kDense:
      return 0;
    case InputProbe::kSparse:
      return elements;
    case InputProbe::kAuto:
    default:
      return elements / kProbeDensityDivisor;
  }
}

bool GatherSparseTile(const float* in, int32_t cols, int32_t rows, int64_t max_nnz, void* scratch,
                      size_t scratch_bytes, GatheredTile* out) {
  if (max_nnz <= 0 || rows <= 0 || cols <= 0) return false;
  const int32_t block = Headroom(cols);
  const size_t head = (static_cast<size_t>(rows) + 1) * sizeof(int32_t);
  const size_t pair = sizeof(int32_t) + sizeof(float);
  if (scratch_bytes <= head + static_cast<size_t>(block) * pair) return false;
  // col_idx and values after row_ptr; one group of headroom lets a group's stores run unchecked.
  const int64_t capacity = static_cast<int64_t>((scratch_bytes - head) / pair);
  const int64_t stop = max_nnz < capacity - block ? max_nnz : capacity - block;
  int32_t* row_ptr = static_cast<int32_t*>(scratch);
  int32_t* col_idx = row_ptr + rows + 1;
  float* values = reinterpret_cast<float*>(col_idx + capacity);
  int64_t n = 0;
  row_ptr[0] = 0;
  for (int32_t r = 0; r < rows; ++r) {
    const float* x = in + static_cast<size_t>(r) * static_cast<size_t>(cols);
    for (int32_t g = 0; g < cols; g += kZeroGroup) {
      const int32_t width = cols - g < kZeroGroup ? cols - g : kZeroGroup;
      // Bit j: element g + j is not zero. Most groups of a bag-of-words row are all zeros and cost one
      // vector test; a scalar test or store per element measured slower than the dense GEMM on Cora.
      uint32_t mask = width == kZeroGroup ? NonZeroMask16(x + g) : NonZeroMaskTail(x + g, width);
      if (mask == 0) continue;
      if (n > stop) return false;  // the headroom holds a whole group
      while (mask != 0) {
        const int32_t j = __builtin_ctz(mask);
        mask &= mask - 1;
        col_idx[n] = g + j;
        values[n] = x[g + j];
        ++n;
      }
    }
    if (n > stop) return false;
    row_ptr[r + 1] = static_cast<int32_t>(n);
  }
  out->sparse = kernels::SparseRows{row_ptr, col_idx, values};
  out->rows = rows;
  return true;
}

}  // namespace runtime
}  // namespace qgnn
