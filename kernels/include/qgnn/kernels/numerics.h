// Integer numerics shared by every qgnn kernel: the single source of truth for rounding, saturation,
// rescaling and int4 packing. docs/quantization.md states the same rules in prose; the Python simulator
// (python/qgnn/sim) mirrors them. Everything here is integer-only, so it runs on cores without an FPU,
// except the two functions at the model's edges (quantize_float, dequantize).
#ifndef QGNN_KERNELS_NUMERICS_H_
#define QGNN_KERNELS_NUMERICS_H_

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace qgnn {
namespace kernels {

/// Smallest / largest integer representable with `bits` (4 or 8) bits, two's complement.
constexpr int32_t qmin(int bits) { return -(1 << (bits - 1)); }
constexpr int32_t qmax(int bits) { return (1 << (bits - 1)) - 1; }

/// Bytes of one row of `cols` elements of `bits` bits: activations are packed row by row so every row
/// starts on a byte boundary (the unused high nibble of an odd int4 row is zero).
constexpr size_t row_bytes(size_t cols, int bits) { return (cols * static_cast<size_t>(bits) + 7) / 8; }

/// Fixed-point rescale: round(acc * multiplier / 2^shift), rounding halves toward +infinity:
///   (acc * multiplier + 2^(shift-1)) >> shift   in int64, arithmetic shift.
/// Preconditions (checked when the model is loaded): 0 <= multiplier < 2^32, 1 <= shift <= 62,
/// |acc * multiplier| < 2^62.
inline int64_t rescale(int64_t acc, int64_t multiplier, int shift) {
  return (acc * multiplier + (int64_t{1} << (shift - 1))) >> shift;
}

/// Saturate to [lo, hi].
inline int32_t clamp_i64(int64_t v, int32_t lo, int32_t hi) {
  return v < lo ? lo : (v > hi ? hi : static_cast<int32_t>(v));
}

/// Arithmetic right shift with rounding half toward +infinity, shift >= 1.
inline int64_t rounding_shift_right(int64_t v, int shift) {
  return (v + (int64_t{1} << (shift - 1))) >> shift;
}

/// The multiplier/shift pair that rescales a SUM of `count` terms into their MEAN:
/// multiplier_out = round((multiplier << e) / count) with e the smallest integer such that 2^e >= count
/// (round half up, integer division), shift_out = shift + e. count >= 1, count <= 2^22, shift <= 40,
/// multiplier < 2^31, so multiplier_out < 2^32 and shift_out <= 62.
struct MeanRescale {
  int64_t multiplier;
  int shift;
};
inline MeanRescale mean_rescale(int32_t multiplier, int shift, uint32_t count) {
  int e = 0;
  while ((uint64_t{1} << e) < count) ++e;
  const int64_t numerator = static_cast<int64_t>(multiplier) << e;
  return MeanRescale{(numerator + static_cast<int64_t>(count >> 1)) / static_cast<int64_t>(count), shift + e};
}

/// GCN normalisation factor of a node of degree `degree` (self-loop included, so degree >= 1), in Q15:
/// round(2^15 / sqrt(degree)) = the largest n >= 1 with (2n - 1)^2 * degree <= 2^32, found by integer
/// bisection (exact, no floating point).
inline int32_t gcn_norm_q15(uint32_t degree) {
  uint32_t lo = 1, hi = 32768;  // invariant: answer in [lo, hi]
  while (lo < hi) {
    const uint32_t mid = (lo + hi + 1) / 2;
    const uint64_t odd = 2ull * mid - 1ull;
    // odd^2 <= 2^32 and degree <= 2^32, so compare without overflow via division.
    if (odd * odd <= (uint64_t{1} << 32) / degree) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return static_cast<int32_t>(lo);
}

/// Read element `index` of an int4 array packed low nibble first (sign-extended).
inline int32_t load_int4(const uint8_t* packed, size_t index) {
  const uint8_t byte = packed[index >> 1];
  const int32_t nibble = (index & 1) ? (byte >> 4) : (byte & 0x0F);
  return nibble >= 8 ? nibble - 16 : nibble;
}

/// Write element `index` of an int4 array packed low nibble first. `value` must be in [-8, 7].
inline void store_int4(uint8_t* packed, size_t index, int32_t value) {
  uint8_t& byte = packed[index >> 1];
  const uint8_t nibble = static_cast<uint8_t>(value) & 0x0F;
  byte = (index & 1) ? static_cast<uint8_t>((byte & 0x0F) | (nibble << 4))
                     : static_cast<uint8_t>((byte & 0xF0) | nibble);
}

/// Quantize one float at the model input: q = clamp(zero_point + round_half_away(x / scale)). Infinities
/// saturate; NaN gives the zero point (real 0), so the function is total (the runtime rejects NaN/Inf features
/// before calling it, but tools and twins may pass anything).
inline int32_t quantize_float(float x, float scale, int32_t zero_point, int bits) {
  float v = x / scale;
  if (v != v) return clamp_i64(zero_point, qmin(bits), qmax(bits));  // NaN: std::round(NaN) -> int64 is UB
  // Clamp before converting: the float -> int conversion of a huge value is undefined behaviour.
  const float limit = 1.0e6f;
  v = v < -limit ? -limit : (v > limit ? limit : v);
  const int64_t r = static_cast<int64_t>(std::round(v));
  return clamp_i64(r + zero_point, qmin(bits), qmax(bits));
}

/// real = scale * (q - zero_point).
inline float dequantize(int32_t q, float scale, int32_t zero_point) {
  return scale * static_cast<float>(q - zero_point);
}

}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_NUMERICS_H_
