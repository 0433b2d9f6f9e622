// Overflow-safe integer helpers for sizes computed from untrusted model fields and plan limits.
#ifndef QGNN_RUNTIME_CHECKED_MATH_H_
#define QGNN_RUNTIME_CHECKED_MATH_H_

#include <cstddef>
#include <cstdint>

namespace qgnn {
namespace runtime {

/// *out = a * b; false (and *out untouched) when the product exceeds `limit`.
inline bool CheckedMul(uint64_t a, uint64_t b, uint64_t limit, uint64_t* out) {
  if (a != 0 && b > limit / a) return false;
  *out = a * b;
  return true;
}

/// *out = a + b; false when the sum exceeds `limit`.
inline bool CheckedAdd(uint64_t a, uint64_t b, uint64_t limit, uint64_t* out) {
  if (a > limit || b > limit - a) return false;
  *out = a + b;
  return true;
}

/// Arena alignment of every planned tensor and of the arena base.
constexpr size_t kArenaAlignment = 16;

/// Rounds up to a multiple of kArenaAlignment; false when that exceeds `limit`.
inline bool CheckedAlignUp(uint64_t v, uint64_t limit, uint64_t* out) {
  uint64_t padded = 0;
  if (!CheckedAdd(v, kArenaAlignment - 1, limit, &padded)) return false;
  *out = padded & ~static_cast<uint64_t>(kArenaAlignment - 1);
  return true;
}

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_CHECKED_MATH_H_
