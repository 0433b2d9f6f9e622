// The ONE body of the x86 quantize_rows() twins (model input: float -> int8 / int4), written against a
// vector-traits type V (simd-avx2.h, simd-avx512.h). Include after the traits, from a file compiled with
// the ISA's flags.
//
// Bit-identical to numerics.h's quantize_float per lane, for every non-NaN float:
//  - v = x / scale is the same IEEE single division (never a multiplication by 1/scale, which rounds
//    differently), and min/max with +-1e6 equals the reference clamp (no NaN is left at that point);
//  - t = cvtt(v) is trunc(v) exactly (|v| <= 1e6 < 2^31), and frac = v - t is exact: t = 0, or t and v
//    have the same sign with |v| / 2 <= |t| <= |v| (Sterbenz), so |frac| >= 0.5 decides round half away
//    from zero (std::round) exactly: r = t + 1 when frac >= 0.5, t - 1 when frac <= -0.5;
//  - zero_point + r fits int32 (|r| <= 1e6), then the same clamp to [qmin, qmax].
// A row holding a NaN is handed to the reference kernel whole (the runtime rejects non-finite features
// before this kernel runs; the reference's result for NaN is whatever its float -> int conversion gives).
#ifndef QGNN_KERNELS_QUANTIZE_QUANTIZE_BODY_H_
#define QGNN_KERNELS_QUANTIZE_QUANTIZE_BODY_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

/// Divisors of lanes [col, col + n) with per-column scales: the pad lanes of a row's last vector divide by
/// 1 (never 0 / 0), whatever the ISA's partial load leaves there.
template <class V>
typename V::F32 column_divisors(const float* column_scales, int32_t col, int n) {
  if (n == V::kLanes) return V::load_f32(column_scales + col, n);
  float lanes[V::kLanes];
  for (int i = 0; i < V::kLanes; ++i) lanes[i] = i < n ? column_scales[col + i] : 1.0f;
  return V::load_f32(lanes, V::kLanes);
}

template <class V, int kOutBits>
void quantize_rows_body(const float* in, int32_t cols, float scale, const float* column_scales,
                        QActivation out, int32_t row_begin, int32_t row_end) {
  constexpr int kL = V::kLanes;
  constexpr int32_t kMin = kOutBits == 8 ? -128 : -8;
  constexpr int32_t kMax = kOutBits == 8 ? 127 : 7;
  const size_t out_stride = kOutBits == 8 ? static_cast<size_t>(cols) : (static_cast<size_t>(cols) + 1) / 2;
  const typename V::F32 divisor = V::set1_f32(scale);
  const typename V::I32 zero_point = V::set1(out.zero_point);
  for (int32_t row = row_begin; row < row_end; ++row) {
    const float* src = in + static_cast<size_t>(row) * static_cast<size_t>(cols);
    uint8_t* dst = static_cast<uint8_t*>(out.data) + static_cast<size_t>(row) * out_stride;
    bool nan = false;
    for (int32_t col = 0; col < cols && !nan; col += kL) {
      const int n = cols - col < kL ? static_cast<int>(cols - col) : kL;
      const typename V::F32 x = V::load_f32(src + col, n);
      if (V::any_nan(x)) {
        nan = true;
        break;
      }
      const typename V::F32 d =
          column_scales != nullptr ? column_divisors<V>(column_scales, col, n) : divisor;
      const typename V::I32 q = V::clamp32(V::add(V::round_quotient(x, d), zero_point), kMin, kMax);
      if (kOutBits == 8) {
        V::store_s8(dst + col, q, n);
        continue;
      }
      // col is a multiple of kLanes (even), so the row's nibbles start on a byte.
      V::store_s4(dst + col / 2, q, n);
    }
    if (nan) quantize_rows(in, cols, scale, column_scales, out, row, row + 1);
  }
}

/// int4 rows of at most kLanes / 2 elements (MUTAG: 7 features), several per vector: a row is
/// (cols + 1) / 2 bytes, so the floats of `per` consecutive rows (contiguous in the input) are quantized
/// as one vector with row r's elements moved to lanes [r * pitch, r * pitch + cols) (pitch = cols rounded
/// up to even), and the pad lanes zeroed, which makes the packed vector exactly the rows' bytes, pad
/// nibbles 0. Per lane the same operations as quantize_rows_body (bit-identical); a vector holding a NaN
/// hands its rows to the reference, as the one-row body does. One division, round and store per `per`
/// rows instead of per row.
template <class V>
void quantize_rows_s4_packed(const float* in, int32_t cols, float scale, const float* column_scales,
                             QActivation out, int32_t row_begin, int32_t row_end) {
  constexpr int kL = V::kLanes;
  const int pitch = (cols + 1) & ~1;
  const int per = kL / pitch;  // >= 2
  const size_t out_stride = static_cast<size_t>(pitch / 2);
  uint32_t row_mask = 0;  // lanes of real elements, `per` rows
  for (int r = 0; r < per; ++r) row_mask |= ((1u << cols) - 1u) << (r * pitch);
  // Per-column scales sit in the lanes the spread rows occupy; pad lanes divide by 1.
  float lanes[kL];
  for (int i = 0; i < kL; ++i) {
    const int col = i % pitch;
    lanes[i] = column_scales == nullptr ? scale : col < cols ? column_scales[col] : 1.0f;
  }
  const typename V::F32 divisor = V::load_f32(lanes, kL);
  const typename V::I32 zero_point = V::set1(out.zero_point);
  for (int32_t row = row_begin; row < row_end; row += per) {
    const int rows = row_end - row < per ? static_cast<int>(row_end - row) : per;
    const uint32_t mask = rows == per ? row_mask : row_mask & ((1u << (rows * pitch)) - 1u);
    const float* src = in + static_cast<size_t>(row) * static_cast<size_t>(cols);
    const typename V::F32 x = V::spread_rows(V::load_f32(src, rows * cols), cols, mask);
    if (V::any_nan(x)) {
      quantize_rows(in, cols, scale, column_scales, out, row, row + rows);
      continue;
    }
    const typename V::I32 q = V::clamp32(V::add(V::round_quotient(x, divisor), zero_point), -8, 7);
    V::store_s4(static_cast<uint8_t*>(out.data) + static_cast<size_t>(row) * out_stride,
                V::keep_lanes(q, mask), rows * pitch);
  }
}

template <class V>
void quantize_rows_twin(const float* in, int32_t cols, float scale, const float* column_scales,
                        QActivation out, int32_t row_begin, int32_t row_end) {
  if constexpr (V::kRowsPerVector) {
    if (out.bits == 4 && cols > 0 && 2 * ((cols + 1) & ~1) <= V::kLanes) {
      quantize_rows_s4_packed<V>(in, cols, scale, column_scales, out, row_begin, row_end);
      return;
    }
  }
  if (out.bits == 4) {
    quantize_rows_body<V, 4>(in, cols, scale, column_scales, out, row_begin, row_end);
  } else {
    quantize_rows_body<V, 8>(in, cols, scale, column_scales, out, row_begin, row_end);
  }
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_QUANTIZE_QUANTIZE_BODY_H_
