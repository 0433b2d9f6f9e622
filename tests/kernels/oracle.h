// Independent oracles for the reference kernels, written from the formulas in docs/quantization.md with
// wide (__int128 / long double / double) arithmetic and none of the kernels' helpers. Where a formula
// says "round half up" the oracle computes floor((2p + q) / 2q) exactly instead of the kernels'
// add-then-shift, so the two implementations share no code.
#ifndef QGNN_TESTS_KERNELS_ORACLE_H_
#define QGNN_TESTS_KERNELS_ORACLE_H_

#include <cmath>
#include <cstdint>

namespace qgnn {
namespace kernels {
namespace oracle {

using int128 = __int128;

/// floor(numerator / denominator), denominator > 0.
inline int128 floor_div(int128 numerator, int128 denominator) {
  int128 quotient = numerator / denominator;  // truncates toward zero
  if (numerator % denominator != 0 && numerator < 0) --quotient;
  return quotient;
}

/// round(p / q) with halves toward +infinity, q > 0: floor(p / q + 1/2) = floor((2p + q) / 2q).
inline int64_t round_half_up(int128 p, int128 q) { return static_cast<int64_t>(floor_div(2 * p + q, 2 * q)); }

inline int32_t saturate(int128 value, int bits) {
  const int128 lo = -(int128{1} << (bits - 1)), hi = (int128{1} << (bits - 1)) - 1;
  return static_cast<int32_t>(value < lo ? lo : (value > hi ? hi : value));
}

/// round(acc * multiplier / 2^shift), halves up.
inline int64_t rescale(int64_t acc, int64_t multiplier, int shift) {
  return round_half_up(int128{acc} * multiplier, int128{1} << shift);
}

/// The documented mean rescale: e = ceil(log2(count)), multiplier' = round_half_up(m * 2^e / count),
/// shift' = shift + e.
struct MeanRescale {
  int64_t multiplier;
  int shift;
};
inline MeanRescale mean_rescale(int64_t multiplier, int shift, int64_t count) {
  int e = 0;
  while ((int64_t{1} << e) < count) ++e;  // smallest e with 2^e >= count
  return MeanRescale{round_half_up(int128{multiplier} << e, count), shift + e};
}

/// round(2^15 / sqrt(d)) evaluated in long double. No d >= 1 sits exactly on a half (that would need
/// (2n + 1)^2 * d = 2^32), and the nearest miss is ~2^-33 relative, well inside long double precision.
inline int32_t gcn_norm_q15(uint64_t degree) {
  const long double value = 32768.0L / std::sqrt(static_cast<long double>(degree));
  return static_cast<int32_t>(std::floor(value + 0.5L));
}

/// quantize_float: the quotient is a binary32 division (as specified), then rounded half away from zero,
/// offset by the zero point and saturated.
inline int32_t quantize(float x, float scale, int32_t zero_point, int bits) {
  const float quotient = x / scale;
  double q = static_cast<double>(quotient);
  if (q > 1e12) q = 1e12;  // +inf / huge: saturates anyway
  if (q < -1e12) q = -1e12;
  const double rounded = q >= 0 ? std::floor(q + 0.5) : -std::floor(-q + 0.5);
  return saturate(static_cast<int128>(rounded) + zero_point, bits);
}

/// GIN self term: round_half_up((x_i - zx) * w / 2^16).
inline int64_t self_term(int64_t centered, int64_t self_weight_q16) {
  return round_half_up(int128{centered} * self_weight_q16, int128{1} << 16);
}

}  // namespace oracle
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_TESTS_KERNELS_ORACLE_H_
