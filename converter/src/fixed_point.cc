// Fixed-point requantization multipliers (schema Requant, docs/quantization.md "Rescale").
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

#include "qgnn/converter/model_builder.h"

namespace qgnn {
namespace converter {
namespace {

// std::to_string prints a tiny factor (2^-40) as "0.000000".
std::string format_real(double real) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.6g", real);
  return text;
}

}  // namespace

Result<std::pair<int32_t, int32_t>> quantize_multiplier(double real, int32_t max_shift) {
  using R = Result<std::pair<int32_t, int32_t>>;
  if (max_shift < kRequantShiftMin || max_shift > kDenseRequantShiftMax) {
    return R::failure("requant max shift " + std::to_string(max_shift) + " is outside [" +
                      std::to_string(kRequantShiftMin) + ", " + std::to_string(kDenseRequantShiftMax) + "]");
  }
  if (!std::isfinite(real)) return R::failure("requant multiplier " + format_real(real) + " is not finite");
  if (real <= 0.0) return R::failure("requant multiplier " + format_real(real) + " is not > 0");
  // real = mantissa * 2^exponent with mantissa in [0.5, 1); the 31-bit multiplier is round(mantissa * 2^31).
  int exponent = 0;
  const double mantissa = std::frexp(real, &exponent);
  int64_t multiplier = std::llround(std::ldexp(mantissa, 31));
  if (multiplier == (int64_t{1} << 31)) {  // mantissa rounded up to 1.0
    multiplier = int64_t{1} << 30;
    ++exponent;
  }
  const int64_t shift = 31 - static_cast<int64_t>(exponent);
  if (shift > max_shift) {
    return R::failure("requant multiplier " + format_real(real) + " is below the representable minimum 2^" +
                      std::to_string(30 - max_shift) + " (shift <= " + std::to_string(max_shift) + ")");
  }
  if (shift < kRequantShiftMin) {
    return R::failure("requant multiplier " + format_real(real) + " is above the representable maximum 2^30");
  }
  R r;
  r.value = {static_cast<int32_t>(multiplier), static_cast<int32_t>(shift)};
  return r;
}

}  // namespace converter
}  // namespace qgnn
