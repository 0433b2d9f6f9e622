// The ONE body of the x86 quantize_rows() twins (model input: float -> int8 / int4), written against a
// vector-traits type V (simd-avx2.h, simd-avx512.h). Include after the traits, from a file compiled with
// the ISA's flags.
//
// Bit-identical to numerics.h's quantize_float per lane, for every float (NaN, infinities included), as long
// as zero_point is in [qmin, qmax] (any other call is handed to the reference whole):
//  - v = x / scale is the same IEEE single division (never a multiplication by 1/scale, which rounds
//    differently); a NaN quotient is replaced by 0, which gives the zero point as the reference's NaN case;
//  - the reference's result clamp(zero_point + rha(clamp(v, -1e6, 1e6)), qmin, qmax) (rha: round half away
//    from zero) equals zero_point + rha(clamp(v, lo, hi)) with lo = qmin - zero_point, hi = qmax -
//    zero_point: rha is monotone and fixes integers, so clamping to integral bounds commutes with it, and
//    [lo, hi] lies inside [-1e6, 1e6]. The clamp is two float min / max, no integer clamp follows;
//  - rha(v) = trunc(v + copysign(kBelowHalf, v)), kBelowHalf = 0.5 - 2^-25, exactly for |v| <= 255: with
//    v = n + f (v >= 0, n = trunc(v)), f < 0.5 means f <= 0.5 - ulp(v) (or v <= 0.5 - 2^-25 when n = 0),
//    so the exact sum stays more than half an ulp below n + 1 (and is representable when n = 0) and the
//    rounded sum truncates to n; f >= 0.5 puts the exact sum at or above n + 1 - 2^-25, which rounds to
//    n + 1 (a tie to the even 1.0 when n = 0) and stays below n + 1.5. Negative v is the mirror image
//    (rounding to nearest is symmetric), and -0.0 gives trunc(-kBelowHalf) = 0;
//  - cvtt of a value in [-256, 256] is exact, and zero_point + r is in [qmin, qmax].
// Per vector: a division, two min / max, the NaN compare and masking, the copysign, an add, cvtt and the zero
// point add (before: the same division, a separate +-1e6 clamp, trunc, fraction compares, an integer clamp
// and a NaN branch). On the 2-core Zen 5 development machine the AVX-512 twin quantizes Cora-sized input
// (2708 x 1433 floats, L3-resident) in 341 us instead of 594 (int8; int4 457 instead of 683), about 45 GB/s
// of floats read, close to a float -> int8 conversion with no arithmetic (bench/kernels/bench_quantize.cc).
#ifndef QGNN_KERNELS_QUANTIZE_QUANTIZE_BODY_H_
#define QGNN_KERNELS_QUANTIZE_QUANTIZE_BODY_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "qgnn/kernels/numerics.h"
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

/// The integral clamp bounds of quantize_lanes, lo = qmin - zero_point and hi = qmax - zero_point.
template <class V>
struct LaneBounds {
  typename V::F32 lo;
  typename V::F32 hi;
  typename V::I32 zero_point;
  LaneBounds(int bits, int32_t zp)
      : lo(V::set1_f32(static_cast<float>(qmin(bits) - zp))),
        hi(V::set1_f32(static_cast<float>(qmax(bits) - zp))),
        zero_point(V::set1(zp)) {}
};

template <class V, int kOutBits>
void quantize_rows_body(const float* in, int32_t cols, float scale, const float* column_scales,
                        QActivation out, int32_t row_begin, int32_t row_end) {
  constexpr int kL = V::kLanes;
  const size_t out_stride = kOutBits == 8 ? static_cast<size_t>(cols) : (static_cast<size_t>(cols) + 1) / 2;
  const typename V::F32 divisor = V::set1_f32(scale);
  const LaneBounds<V> b(kOutBits, out.zero_point);
  for (int32_t row = row_begin; row < row_end; ++row) {
    const float* src = in + static_cast<size_t>(row) * static_cast<size_t>(cols);
    uint8_t* dst = static_cast<uint8_t*>(out.data) + static_cast<size_t>(row) * out_stride;
    for (int32_t col = 0; col < cols; col += kL) {
      const int n = cols - col < kL ? static_cast<int>(cols - col) : kL;
      const typename V::F32 d =
          column_scales != nullptr ? column_divisors<V>(column_scales, col, n) : divisor;
      const typename V::I32 q = V::quantize_lanes(V::load_f32(src + col, n), d, b.lo, b.hi, b.zero_point);
      if (kOutBits == 8) {
        V::store_s8(dst + col, q, n);
      } else {
        V::store_s4(dst + col / 2, q,
                    n);  // col is a multiple of kLanes (even): the row's nibbles start on a byte
      }
    }
  }
}

/// int4 rows of at most kLanes / 2 elements (MUTAG: 7 features), several per vector: a row is
/// (cols + 1) / 2 bytes, so the floats of `per` consecutive rows (contiguous in the input) are quantized
/// as one vector with row r's elements moved to lanes [r * pitch, r * pitch + cols) (pitch = cols rounded
/// up to even), and the pad lanes zeroed, which makes the packed vector exactly the rows' bytes, pad
/// nibbles 0. Per lane the same operations as quantize_rows_body (bit-identical). One division, round and
/// store per `per` rows instead of per row.
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
  const LaneBounds<V> b(4, out.zero_point);
  for (int32_t row = row_begin; row < row_end; row += per) {
    const int rows = row_end - row < per ? static_cast<int>(row_end - row) : per;
    const uint32_t mask = rows == per ? row_mask : row_mask & ((1u << (rows * pitch)) - 1u);
    const float* src = in + static_cast<size_t>(row) * static_cast<size_t>(cols);
    const typename V::F32 x = V::spread_rows(V::load_f32(src, rows * cols), cols, mask);
    const typename V::I32 q = V::quantize_lanes(x, divisor, b.lo, b.hi, b.zero_point);
    V::store_s4(static_cast<uint8_t*>(out.data) + static_cast<size_t>(row) * out_stride,
                V::keep_lanes(q, mask), rows * pitch);
  }
}

template <class V>
void quantize_rows_twin(const float* in, int32_t cols, float scale, const float* column_scales,
                        QActivation out, int32_t row_begin, int32_t row_end) {
  // The lane bounds assume a zero point the output can hold (the runtime's always is).
  if (out.zero_point < qmin(out.bits) || out.zero_point > qmax(out.bits)) {
    quantize_rows(in, cols, scale, column_scales, out, row_begin, row_end);
    return;
  }
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
