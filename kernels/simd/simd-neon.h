// Vector traits for arm64 NEON (Advanced SIMD, armv8-a): the operations the aggregation and GEMM bodies
// (kernels/aggregate/aggregate-body.h, kernels/dense/gemm-body.h) are written in. Everything is in an
// anonymous namespace, as for the x86 traits, so the dot-product files (simd-neondot.h, compiled with
// +dotprod) never share an out-of-line copy of these functions with code that must run on plain armv8-a
// cores. No load reads past the bytes it
// was given: partial vectors go through a zeroed scalar first.
#ifndef QGNN_KERNELS_SIMD_SIMD_NEON_H_
#define QGNN_KERNELS_SIMD_SIMD_NEON_H_

#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "packed-bytes.h"  // shared with the x86 traits

namespace qgnn {
namespace kernels {
namespace {

/// kNeonCompressBytes[mask]: byte indices (vqtbl1q_u8) moving the int32 lanes set in a 4-bit mask to the
/// front, in order (Neon::knn_compress); the rest read byte 0.
struct NeonCompressRow {
  uint8_t byte[16];
};
struct NeonCompressTable {
  NeonCompressRow row[16];
};
constexpr NeonCompressTable neon_compress_table() {
  NeonCompressTable table{};
  for (int mask = 0; mask < 16; ++mask) {
    int count = 0;
    for (int lane = 0; lane < 4; ++lane) {
      if ((mask >> lane) & 1) {
        for (int b = 0; b < 4; ++b) table.row[mask].byte[4 * count + b] = static_cast<uint8_t>(4 * lane + b);
        ++count;
      }
    }
  }
  return table;
}
constexpr NeonCompressTable kNeonCompressBytes = neon_compress_table();

struct Neon {
  // ---- int32 lanes (SpMM) and int64 lanes (its rescale) ----------------------------------------------
  using I32 = int32x4_t;
  using I64 = int64x2_t;
  static constexpr int kLanes = 4;

  static I32 zero() { return vdupq_n_s32(0); }
  static I32 set1(int32_t v) { return vdupq_n_s32(v); }
  static I32 add(I32 a, I32 b) { return vaddq_s32(a, b); }
  static I32 sub(I32 a, I32 b) { return vsubq_s32(a, b); }
  static I32 max(I32 a, I32 b) { return vmaxq_s32(a, b); }
  static I32 mullo(I32 a, I32 b) { return vmulq_s32(a, b); }
  static I32 srai16(I32 a) { return vshrq_n_s32(a, 16); }
  static I32 min(I32 a, I32 b) { return vminq_s32(a, b); }
  static I32 sra(I32 a, int s) { return vshlq_s32(a, vdupq_n_s32(-s)); }

  /// 4 int8 -> int32 lanes; the partial form reads only n (< 4) bytes.
  static I32 load_s8(const uint8_t* p) { return widen_bytes(load_u64(p, 4)); }
  static I32 load_s8_partial(const uint8_t* p, int n) { return widen_bytes(load_u64(p, n)); }
  /// 4 int4 (2 bytes, element 0 in the low nibble of p[0]) -> int32 lanes; partial reads ceil(n/2) bytes.
  static I32 load_s4(const uint8_t* p) { return widen_s8(vget_low_s8(unpack_nibbles(load_u64(p, 2)))); }
  static I32 load_s4_partial(const uint8_t* p, int n) {
    return widen_s8(vget_low_s8(unpack_nibbles(load_u64(p, (n + 1) / 2))));
  }
  /// Lanes already clamped to int8: writes the first n (<= 4) as bytes.
  static void store_s8(uint8_t* p, I32 v, int n) {
    const int16x4_t words = vmovn_s32(v);
    const int8x8_t bytes = vmovn_s16(vcombine_s16(words, words));
    const uint64_t all = vget_lane_u64(vreinterpret_u64_s8(bytes), 0);
    std::memcpy(p, &all, static_cast<size_t>(n));  // little-endian: byte i is lane i
  }
  /// Lanes already clamped to int4: writes the first n (<= 4) as packed nibbles, (n + 1) / 2 bytes at p
  /// (lane 0 in the low nibble; an odd n's pad nibble is 0).
  static void store_s4(uint8_t* p, I32 v, int n) {
    const int16x4_t words = vmovn_s32(v);
    const int8x8_t bytes = vmovn_s16(vcombine_s16(words, words));
    store_nibbles<kLanes>(p, pack_low_nibbles(vget_lane_u64(vreinterpret_u64_s8(bytes), 0)), n);
  }

  // ---- int4 rows as biased nibbles in 16-bit lanes (aggregation sum / max over int4, aggregate-body.h)
  // -----------
  using U16 = uint16x8_t;  ///< 2 * kLanes lanes
  static U16 zero16() { return vdupq_n_u16(0); }
  static U16 add16(U16 a, U16 b) { return vaddq_u16(a, b); }
  static U16 max16(U16 a, U16 b) { return vmaxq_u16(a, b); }
  static U16 set1_16(uint16_t v) { return vdupq_n_u16(v); }
  /// Low 16 bits of the lane products (exact while they are below 2^16).
  static U16 mullo16(U16 a, U16 b) { return vmulq_u16(a, b); }
  /// `bytes` (<= 2 * kLanes) packed bytes at p: lo = even elements + 8, hi = odd elements + 8, in [0, 15].
  static void load_nibbles_biased(const uint8_t* p, int bytes, U16* lo, U16* hi) {
    const uint8x8_t v = veor_u8(vcreate_u8(load_u64(p, bytes)), vdup_n_u8(0x88));
    *lo = vmovl_u8(vand_u8(v, vdup_n_u8(0x0F)));
    *hi = vmovl_u8(vshr_n_u8(v, 4));
  }
  /// `bytes` (<= 2 * kLanes) int8 at p: lo = even elements + 128, hi = odd elements + 128, in [0, 255]
  /// (the wide int8 sum / max of aggregate-body.h): one load, no widening; bytes past `bytes` read as 0.
  static void load_bytes_biased(const uint8_t* p, int bytes, U16* lo, U16* hi) {
    const uint16x8_t w =
        vreinterpretq_u16_u8(veorq_u8(vreinterpretq_u8_s8(load_bytes16(p, bytes)), vdupq_n_u8(0x80)));
    *lo = vandq_u16(w, vdupq_n_u16(0x00FF));
    *hi = vshrq_n_u16(w, 8);
  }
  /// The biased nibbles as int32 lanes without interleaving them: out[0] / out[1] = even / odd elements of
  /// the first 2 * kLanes (out[0] lane i is element 2i, out[1] lane i element 2i + 1), out[2] / out[3] the
  /// same for the next 2 * kLanes; store_s8_interleaved / store_s4_interleaved write that order back.
  /// widen16_pairs' out[0] and out[1] only: all a tile of at most 2 * kLanes elements uses.
  static void widen16_pairs_low(U16 even, U16 odd, I32* out) {
    out[0] = vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(even)));
    out[1] = vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(odd)));
  }
  static void widen16_pairs(U16 even, U16 odd, I32* out) {
    out[0] = vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(even)));
    out[1] = vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(odd)));
    out[2] = vreinterpretq_s32_u32(vmovl_high_u16(even));
    out[3] = vreinterpretq_s32_u32(vmovl_high_u16(odd));
  }
  /// Lanes already clamped to int8: writes elements [0, n) (n <= 2 * kLanes), element 2i = even lane i and
  /// 2i + 1 = odd lane i, as bytes.
  static void store_s8_interleaved(uint8_t* p, I32 even, I32 odd, int n) {
    const int16x4_t e = vmovn_s32(even), o = vmovn_s32(odd);
    const int8x8_t bytes = vmovn_s16(vcombine_s16(vzip1_s16(e, o), vzip2_s16(e, o)));
    const uint64_t all = vget_lane_u64(vreinterpret_u64_s8(bytes), 0);
    std::memcpy(p, &all, static_cast<size_t>(n));  // little-endian: byte i is element i
  }
  /// A whole pair-order tile of requantized int32 lanes, NOT yet clamped (e0 / o0: even / odd elements of
  /// the first 2 * kLanes, e1 / o1 of the next): writes elements [0, n) (n <= 4 * kLanes) as bytes clamped
  /// to [lo, 127], as Avx512::store_s8_pair_tile: saturating narrows to int16 and int8, one zip, a byte max.
  static void store_s8_pair_tile(uint8_t* p, I32 e0, I32 o0, I32 e1, I32 o1, int8_t lo, int n) {
    const int8x8_t even = vqmovn_s16(vqmovn_high_s32(vqmovn_s32(e0), e1));
    const int8x8_t odd = vqmovn_s16(vqmovn_high_s32(vqmovn_s32(o0), o1));
    const int8x16_t ordered = vmaxq_s8(vcombine_s8(vzip1_s8(even, odd), vzip2_s8(even, odd)), vdupq_n_s8(lo));
    if (n == 4 * kLanes) {
      vst1q_s8(reinterpret_cast<int8_t*>(p), ordered);
    } else {
      int8_t buffer[16];
      vst1q_s8(buffer, ordered);
      std::memcpy(p, buffer, static_cast<size_t>(n));
    }
  }
  /// Lanes already clamped to int4: writes elements [0, n) (n <= 2 * kLanes) as packed nibbles, element
  /// 2i = even lane i, 2i + 1 = odd lane i: byte i is (even_i & 0xF) | (odd_i & 0xF) << 4.
  static void store_s4_interleaved(uint8_t* p, I32 even, I32 odd, int n) {
    const int32x4_t pairs =
        vorrq_s32(vandq_s32(even, vdupq_n_s32(0x0F)), vandq_s32(vshlq_n_s32(odd, 4), vdupq_n_s32(0xF0)));
    const int16x4_t words = vmovn_s32(pairs);
    const int8x8_t bytes = vmovn_s16(vcombine_s16(words, words));
    store_nibbles<2 * kLanes>(p, vget_lane_u64(vreinterpret_u64_s8(bytes), 0), n);
  }

  /// n (1..kLanes) int32 from p, the other lanes 0; reads only n.
  static I32 load_i32_partial(const int32_t* p, int n) {
    if (n == kLanes) return vld1q_s32(p);
    int32_t buffer[kLanes] = {};
    std::memcpy(buffer, p, static_cast<size_t>(n) * sizeof(int32_t));
    return vld1q_s32(buffer);
  }
  /// Two vectors of consecutive elements (a: 0..3, b: 4..7) in pair order (widen16_pairs): even = elements
  /// 0, 2, 4, 6 and odd = 1, 3, 5, 7.
  static void unzip(I32 a, I32 b, I32* even, I32* odd) {
    *even = vuzp1q_s32(a, b);
    *odd = vuzp2q_s32(a, b);
  }

  static I64 widen_lo(I32 v) { return vmovl_s32(vget_low_s32(v)); }
  static I64 widen_hi(I32 v) { return vmovl_high_s32(v); }
  /// Low 32 bits of every int64 lane, lo's lanes first.
  static I32 narrow(I64 lo, I64 hi) { return vcombine_s32(vmovn_s64(lo), vmovn_s64(hi)); }
  static I64 set1_64(int64_t v) { return vdupq_n_s64(v); }
  /// The int32 lanes as the low dwords of two int64 vectors, for lane-wise int64 work that reads only the
  /// low dwords; join64 puts them back. Halves here (sxtl / xtn are cheap on NEON).
  static void split64(I32 v, I64* a, I64* b) {
    *a = widen_lo(v);
    *b = widen_hi(v);
  }
  static I32 join64(I64 a, I64 b) { return narrow(a, b); }
  /// High dwords of a and b to the lanes split64 took a's and b's low dwords from.
  static I32 join_high64(I64 a, I64 b) { return vcombine_s32(vshrn_n_s64(a, 32), vshrn_n_s64(b, 32)); }
  static I64 add64(I64 a, I64 b) { return vaddq_s64(a, b); }
  static I64 and64(I64 a, I64 b) { return vandq_s64(a, b); }
  /// Signed low dword x signed low dword -> int64 per lane (vmovn keeps the low dwords).
  static I64 mul_lo32(I64 a, I64 b) { return vmull_s32(vmovn_s64(a), vmovn_s64(b)); }
  /// Unsigned low dword x unsigned low dword -> uint64 per lane.
  static I64 mulu_lo32(I64 a, I64 b) {
    return vreinterpretq_s64_u64(
        vmull_u32(vmovn_u64(vreinterpretq_u64_s64(a)), vmovn_u64(vreinterpretq_u64_s64(b))));
  }
  static I64 shl32(I64 a) { return vshlq_n_s64(a, 32); }
  static I64 shr32(I64 a) { return vreinterpretq_s64_u64(vshrq_n_u64(vreinterpretq_u64_s64(a), 32)); }
  /// sshl by a negative count is an arithmetic (flooring) shift right, like the reference's >>.
  static I64 srai64(I64 a, int s) { return vshlq_s64(a, vdupq_n_s64(-s)); }
  static I64 min64(I64 a, I64 b) { return vbslq_s64(vcgtq_s64(a, b), b, a); }
  static I64 max64(I64 a, I64 b) { return vbslq_s64(vcgtq_s64(a, b), a, b); }
  static I32 load_i32(const int32_t* p) { return vld1q_s32(p); }
  /// Lane l = v[idx[l]], idx in [0, kLanes): a byte table lookup with byte indices 4 idx + 0..3.
  static I32 permute(I32 v, I32 idx) {
    const int32x4_t bytes = vaddq_s32(vmulq_n_s32(idx, 0x04040404), vdupq_n_s32(0x03020100));
    return vreinterpretq_s32_u8(vqtbl1q_u8(vreinterpretq_u8_s32(v), vreinterpretq_u8_s32(bytes)));
  }
  /// GAT's softmax reciprocal per lane (as Avx512::softmax_reciprocal), S in [0, 2^31): in doubles with
  /// the same exact correction.
  static I32 softmax_reciprocal(I32 sums) {
    const float64x2_t one = vdupq_n_f64(1.0);
    auto half = [&](int64x2_t s) {
      const float64x2_t sd = vcvtq_f64_s64(s);
      const float64x2_t num = vaddq_f64(vcvtq_f64_s64(vshrq_n_s64(s, 1)), vdupq_n_f64(140737488355328.0));
      float64x2_t q = vrndq_f64(vdivq_f64(num, sd));
      const float64x2_t r = vsubq_f64(num, vmulq_f64(q, sd));
      q = vbslq_f64(vcltzq_f64(r), vsubq_f64(q, one), q);
      q = vbslq_f64(vcgeq_f64(r, sd), vaddq_f64(q, one), q);
      q = vbslq_f64(vcgtzq_f64(sd), vminq_f64(q, vdupq_n_f64(4294967295.0)), vdupq_n_f64(0.0));
      return vcvtq_u64_f64(q);
    };
    const uint64x2_t lo = half(vmovl_s32(vget_low_s32(sums))), hi = half(vmovl_high_s32(sums));
    return vreinterpretq_s32_u32(vcombine_u32(vmovn_u64(lo), vmovn_u64(hi)));
  }
  /// Lanes [0, n) = base[idx[l]], the others 0; reads only those n elements (NEON has no gather).
  static I32 gather_i32(const int32_t* base, I32 idx, int n) {
    int32_t index[kLanes], lanes[kLanes] = {};
    vst1q_s32(index, idx);
    for (int l = 0; l < n && l < kLanes; ++l) lanes[l] = base[index[l]];
    return vld1q_s32(lanes);
  }
  static I64 load_i64(const int64_t* p) { return vld1q_s64(p); }
  /// Variable arithmetic (flooring) shift right of each int64 lane: sshl by the negated count.
  static I64 srav64(I64 a, I64 s) { return vshlq_s64(a, vnegq_s64(s)); }

  // ---- Input quantization (sparse-dense-body.h): float lanes, as the x86 traits' (quantize-body.h) ----
  using F32 = float32x4_t;
  static F32 set1_f32(float s) { return vdupq_n_f32(s); }
  /// n (<= kLanes) floats, the other lanes 0; reads only n.
  static F32 load_f32(const float* p, int n) {
    if (n == kLanes) return vld1q_f32(p);
    // Lane loads, not a variable-length memcpy (a library call per neighbour row in the FP32 aggregation).
    float32x4_t v = vdupq_n_f32(0.0f);
    if (n > 0) v = vld1q_lane_f32(p, v, 0);
    if (n > 1) v = vld1q_lane_f32(p + 1, v, 1);
    if (n > 2) v = vld1q_lane_f32(p + 2, v, 2);
    return v;
  }
  static bool any_nan(F32 v) { return vminvq_u32(vceqq_f32(v, v)) == 0; }
  // ---- FP32 aggregation (f32-aggregate-body.h): IEEE operations, lane by lane -------------------------
  static F32 add_f32(F32 a, F32 b) { return vaddq_f32(a, b); }
  static F32 mul_f32(F32 a, F32 b) { return vmulq_f32(a, b); }
  static F32 div_f32(F32 a, F32 b) { return vdivq_f32(a, b); }
  /// a > b ? a : b per lane (b when either is NaN, or for two zeros), as x86's vmaxps; fmax differs there.
  static F32 select_gt_f32(F32 a, F32 b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
  /// Writes the first n (<= kLanes) lanes only.
  static void store_f32(float* p, F32 v, int n) {
    if (n == kLanes) return vst1q_f32(p, v);
    vst1q_lane_f32(p, v, 0);
    if (n > 1) vst1q_lane_f32(p + 1, v, 1);
    if (n > 2) vst1q_lane_f32(p + 2, v, 2);
  }
  /// round_half_away(clamp(x / scale, -1e6, 1e6)) for non-NaN lanes, the steps of the x86 traits (proof in
  /// quantize-body.h): an IEEE division, fcvtzs truncates exactly (|v| <= 1e6), frac = v - t is exact.
  static I32 round_quotient(F32 x, F32 scale) {
    float32x4_t v = vdivq_f32(x, scale);
    v = vminq_f32(vmaxq_f32(v, vdupq_n_f32(-1.0e6f)), vdupq_n_f32(1.0e6f));
    const int32x4_t t = vcvtq_s32_f32(v);
    const float32x4_t frac = vsubq_f32(v, vcvtq_f32_s32(t));
    // All-ones lanes read -1: t - up + down.
    const int32x4_t up = vreinterpretq_s32_u32(vcgeq_f32(frac, vdupq_n_f32(0.5f)));
    const int32x4_t down = vreinterpretq_s32_u32(vcleq_f32(frac, vdupq_n_f32(-0.5f)));
    return vaddq_s32(vsubq_s32(t, up), down);
  }
  static I32 clamp32(I32 v, int32_t lo, int32_t hi) {
    return vminq_s32(vmaxq_s32(v, vdupq_n_s32(lo)), vdupq_n_s32(hi));
  }
  static void store_acc(void* p, I32 v) { vst1q_s32(static_cast<int32_t*>(p), v); }

  // ---- Dense of sparse float rows (sparse-dense-body.h): W^T as int16 [k][channel] ---------------------
  static constexpr int kSparseGroup = 1;
  using SWord = int16x4_t;
  /// The non-zero's factor d (|d| <= 255), in every int16 lane.
  static SWord sparse_word(int32_t d) { return vdup_n_s16(static_cast<int16_t>(d)); }
  /// acc + w[c] * d per channel lane c: one smlal, exact in int32.
  static I32 sparse_mac(I32 acc, SWord d, const int16_t* w) { return vmlal_s16(acc, vld1_s16(w), d); }
  /// Per lane, the term of a non-zero in column k with factor d: the int16-element offset k * stride of its
  /// weights, and d itself (sparse_word's argument).
  static void sparse_terms(I32 k, I32 d, I32 stride, I32* offset, I32* word) {
    *offset = vmulq_s32(k, stride);
    *word = d;
  }

  // ---- GEMM: 16 int8 per step; int8 x int8 products are exact in int16 (|p| <= 2^14) ------------------
  using X = int8x16_t;
  using W = int8x16_t;
  using Acc = int32x4_t;
  static constexpr int kStep = 16;
  static constexpr int32_t kXOffset = 0;  // signed operands: the correction is zx * sum(w)

  static Acc acc_zero() { return vdupq_n_s32(0); }
  static X load_x_s8(const uint8_t* p, int n) { return load_bytes16(p, n); }
  static X load_x_s4(const uint8_t* p, int n) { return unpack_nibbles(load_u64(p, (n + 1) / 2)); }
  static W load_w_s8(const uint8_t* p, int n) { return load_bytes16(p, n); }
  /// n (<= 16) int4 weights from element `index` of a contiguously packed matrix (may start mid-byte);
  /// lanes >= n are zero so padded activations contribute nothing.
  static W load_w_s4(const uint8_t* base, uint64_t index, int n) {
    const uint64_t packed = load_int4_run_u64(base, index, n);
    const int8x16_t w = unpack_nibbles(packed);
    if (n == kStep) return w;
    static constexpr uint8_t kOnes[32] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                          0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0,    0,    0,    0,    0,    0,
                                          0,    0,    0,    0,    0,    0,    0,    0,    0,    0};
    return vandq_s8(w, vreinterpretq_s8_u8(vld1q_u8(kOnes + 16 - n)));
  }
  /// smull + sadalp: the int16 products are summed pairwise into the int32 lanes.
  static Acc dot(Acc acc, X x, W w) {
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(x), vget_low_s8(w)));
    return vpadalq_s16(acc, vmull_high_s8(x, w));
  }
  static Acc wsum(Acc acc, W w) { return vpadalq_s16(acc, vpaddlq_s8(w)); }
  static int32_t hsum(Acc acc) { return vaddvq_s32(acc); }

  // ---- kNN distances (knn-body.h): candidate nodes in lanes, each lane a word of 4 int8 features -------
  /// smull + sadalp as the GEMM's dot, on 4 candidates x 4 features: int8 products are exact in int16.
  static constexpr int32_t kKnnOffset = 0;
  static constexpr int kKnnQueryWords = 1;
  static constexpr int kKnnTileVectors = 2;  ///< 16 accumulator registers for 4 rows (two per vector)
  using KnnX = int8x16_t;
  using KnnW = int8x16_t;
  /// Pair sums: val[0] = candidates 0, 1 (features 0 + 1, 2 + 3 each), val[1] = candidates 2, 3.
  using KnnAcc = int32x4x2_t;
  static void knn_query(uint32_t group, uint32_t* words) { words[0] = group; }
  static KnnX knn_bcast(const uint32_t* words) { return vreinterpretq_s8_u32(vdupq_n_u32(words[0])); }
  static KnnW knn_load(const uint32_t* p) { return vreinterpretq_s8_u32(vld1q_u32(p)); }
  static KnnAcc knn_acc_zero() { return KnnAcc{{vdupq_n_s32(0), vdupq_n_s32(0)}}; }
  static KnnAcc knn_dot(KnnAcc acc, KnnX x, KnnW w) {
    return KnnAcc{{vpadalq_s16(acc.val[0], vmull_s8(vget_low_s8(x), vget_low_s8(w))),
                   vpadalq_s16(acc.val[1], vmull_high_s8(x, w))}};
  }
  static KnnAcc knn_square(KnnAcc acc, KnnW w) { return knn_dot(acc, w, w); }
  static I32 knn_finish(KnnAcc acc) { return vpaddq_s32(acc.val[0], acc.val[1]); }
  /// Bit l set where a[l] <= b[l].
  static uint32_t knn_le_mask(I32 a, I32 b) {
    static constexpr uint32_t kBits[4] = {1, 2, 4, 8};
    return vaddvq_u32(vandq_u32(vcleq_s32(a, b), vld1q_u32(kBits)));
  }
  /// The lanes of v set in mask, in lane order, at out[0, popcount(mask)); writes kLanes entries.
  static void knn_compress(int32_t* out, I32 v, uint32_t mask) {
    const uint8x16_t moved =
        vqtbl1q_u8(vreinterpretq_u8_s32(v), vld1q_u8(kNeonCompressBytes.row[mask & 0xFu].byte));
    vst1q_s32(out, vreinterpretq_s32_u8(moved));
  }

 protected:
  /// n (0..8) bytes, zero-extended.
  static uint64_t load_u64(const uint8_t* p, int n) { return load_u64_partial(p, n); }
  /// n (0..16) bytes, zero-extended.
  static int8x16_t load_bytes16(const uint8_t* p, int n) {
    if (n == 16) return vld1q_s8(reinterpret_cast<const int8_t*>(p));
    uint8_t buffer[16] = {};
    std::memcpy(buffer, p, static_cast<size_t>(n));
    return vreinterpretq_s8_u8(vld1q_u8(buffer));
  }
  /// The low 4 bytes of `bytes` as sign-extended int32 lanes.
  static I32 widen_bytes(uint64_t bytes) { return widen_s8(vcreate_s8(bytes)); }
  static I32 widen_s8(int8x8_t v) { return vmovl_s16(vget_low_s16(vmovl_s8(v))); }
  /// 8 packed bytes -> 16 sign-extended int8, element 2k from the low nibble of byte k. Shifting the nibble
  /// to the top of the byte and back (arithmetic) sign-extends it.
  static int8x16_t unpack_nibbles(uint64_t packed) {
    const int8x8_t v = vcreate_s8(packed);
    const int8x8_t lo = vshr_n_s8(vshl_n_s8(v, 4), 4);
    const int8x8_t hi = vshr_n_s8(v, 4);
    return vcombine_s8(vzip1_s8(lo, hi), vzip2_s8(lo, hi));
  }
};

}  // namespace
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_SIMD_SIMD_NEON_H_
