// Vector traits for AVX-512 (F, BW, VL, VNNI): the operations the SpMM and GEMM bodies are written in.
// Include only from files compiled with the AVX-512 flags. Everything is in an anonymous namespace so no
// AVX-512 code can be shared with (and picked by the linker for) code compiled for a smaller ISA.
#ifndef QGNN_KERNELS_SIMD_SIMD_AVX512_H_
#define QGNN_KERNELS_SIMD_SIMD_AVX512_H_

// GCC 12's AVX-512 headers form their pass-through operands with self-initialised locals (`__m512i __Y = __Y`
// in _mm512_undefined_*), which -W(maybe-)uninitialized reports once inlined into a caller whose operands are
// constants on some path (GCC bug 105593, fixed in GCC 13): the warning's location is the header line, so it
// is silenced for the header alone and our own code keeps both warnings.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif

#include <cstdint>
#include <cstring>

#include "packed-bytes.h"

namespace qgnn {
namespace kernels {
namespace {

/// kAvx512SpreadIndex[c / 2][j] = j - j / (c + 1) for odd c (1, 3, 5, 7): lane j of row r = j / (c + 1)
/// reads element j % (c + 1) of row r, i.e. float r * c + j % (c + 1) = j - r of the contiguous rows
/// (Avx512::spread_rows).
struct alignas(64) Avx512SpreadRow {
  int32_t lane[16];
};
constexpr Avx512SpreadRow avx512_spread_row(int pitch) {
  Avx512SpreadRow row{};
  for (int j = 0; j < 16; ++j) row.lane[j] = j - j / pitch;
  return row;
}
constexpr Avx512SpreadRow kAvx512SpreadIndex[4] = {avx512_spread_row(2), avx512_spread_row(4),
                                                   avx512_spread_row(6), avx512_spread_row(8)};

struct Avx512 {
  // ---- int32 lanes (SpMM) and int64 lanes (its rescale) ----------------------------------------------
  using I32 = __m512i;
  using I64 = __m512i;
  static constexpr int kLanes = 16;

  static I32 zero() { return _mm512_setzero_si512(); }
  static I32 set1(int32_t v) { return _mm512_set1_epi32(v); }
  static I32 add(I32 a, I32 b) { return _mm512_add_epi32(a, b); }
  static I32 sub(I32 a, I32 b) { return _mm512_sub_epi32(a, b); }
  static I32 max(I32 a, I32 b) { return _mm512_max_epi32(a, b); }
  static I32 mullo(I32 a, I32 b) { return _mm512_mullo_epi32(a, b); }
  static I32 srai16(I32 a) { return _mm512_srai_epi32(a, 16); }
  static I32 min(I32 a, I32 b) { return _mm512_min_epi32(a, b); }
  static I32 sra(I32 a, int s) { return _mm512_sra_epi32(a, _mm_cvtsi32_si128(s)); }

  /// 16 int8 -> int32 lanes; the partial form reads only n (< 16) bytes.
  static I32 load_s8(const uint8_t* p) { return _mm512_cvtepi8_epi32(_mm_loadu_si128(cast128(p))); }
  static I32 load_s8_partial(const uint8_t* p, int n) {
    return _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(static_cast<__mmask16>((1u << n) - 1u), p));
  }
  /// 16 int4 (8 bytes, element 0 in the low nibble of p[0]) -> int32 lanes; partial reads ceil(n/2) bytes.
  /// Lanes already clamped to int4: writes the first n (<= 16) as packed nibbles, (n + 1) / 2 bytes at p
  /// (lane 0 in the low nibble; an odd n's pad nibble is 0). Pairs of bytes b0 | b1 << 8 become
  /// (b0 & 0xF) | (b1 & 0xF) << 4 in 16-bit lanes, narrowed to bytes, stored from the vector register.
  static void store_s4(uint8_t* p, I32 v, int n) {
    if (n < kLanes) v = _mm512_maskz_mov_epi32(static_cast<__mmask16>((1u << n) - 1u), v);  // pad nibble 0
    const __m128i bytes = _mm512_cvtepi32_epi8(v);
    const __m128i lo = _mm_and_si128(bytes, _mm_set1_epi16(0x000F));
    const __m128i hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), _mm_set1_epi16(0x00F0));
    store_bytes8(p, _mm_packus_epi16(_mm_or_si128(lo, hi), _mm_setzero_si128()), (n + 1) / 2);
  }
  static I32 load_s4(const uint8_t* p) {
    return _mm512_cvtepi8_epi32(unpack_nibbles(_mm_loadl_epi64(cast128(p))));
  }
  static I32 load_s4_partial(const uint8_t* p, int n) {
    const unsigned bytes = static_cast<unsigned>(n + 1) / 2u;
    return _mm512_cvtepi8_epi32(
        unpack_nibbles(_mm_maskz_loadu_epi8(static_cast<__mmask16>((1u << bytes) - 1u), p)));
  }
  /// Lanes already clamped to int8: writes the first n (<= 16) as bytes.
  static void store_s8(uint8_t* p, I32 v, int n) {
    const __m128i bytes = _mm512_cvtepi32_epi8(v);
    if (n == kLanes) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p), bytes);
    } else {
      _mm_mask_storeu_epi8(p, static_cast<__mmask16>((1u << n) - 1u), bytes);
    }
  }

  // ---- int4 rows as biased nibbles in 16-bit lanes (aggregation sum / max over int4, aggregate-body.h)
  // -----------
  using U16 = __m512i;  ///< 2 * kLanes lanes
  static U16 zero16() { return _mm512_setzero_si512(); }
  static U16 add16(U16 a, U16 b) { return _mm512_add_epi16(a, b); }
  static U16 max16(U16 a, U16 b) { return _mm512_max_epu16(a, b); }
  static U16 set1_16(uint16_t v) { return _mm512_set1_epi16(static_cast<int16_t>(v)); }
  /// Low 16 bits of the lane products (exact while they are below 2^16).
  static U16 mullo16(U16 a, U16 b) { return _mm512_mullo_epi16(a, b); }
  /// `bytes` (<= 2 * kLanes) packed bytes at p: lo = even elements + 8, hi = odd elements + 8, in [0, 15].
  static void load_nibbles_biased(const uint8_t* p, int bytes, U16* lo, U16* hi) {
    const __m512i w =
        _mm512_xor_si512(_mm512_cvtepu8_epi16(load_stored32(p, bytes)), _mm512_set1_epi16(0x88));
    *lo = _mm512_and_si512(w, _mm512_set1_epi16(0x0F));
    *hi = _mm512_srli_epi16(w, 4);
  }
  /// `bytes` (<= 2 * kLanes) int8 at p: lo = even elements + 128, hi = odd elements + 128, in [0, 255]
  /// (the wide int8 sum / max of aggregate-body.h): one load, no widening; bytes past `bytes` read as 0.
  static void load_bytes_biased(const uint8_t* p, int bytes, U16* lo, U16* hi) {
    const __m512i w = _mm512_xor_si512(load_bytes64(p, bytes), _mm512_set1_epi8(-128));
    *lo = _mm512_and_si512(w, _mm512_set1_epi16(0x00FF));
    *hi = _mm512_srli_epi16(w, 8);
  }
  /// The wide int8 sum's rows (aggregate-wide.h), as whole biased words: `bytes` (<= 4 * kLanes = 64) int8
  /// at p XOR 0x80, so word i is (element 2i + 128) + 256 * (element 2i + 1 + 128); bytes past `bytes` read
  /// as 0x80 (lanes a tile never stores). One load and one operation; the split into even / odd elements is
  /// left to the sums (high_bytes16, low_bytes16).
  static constexpr bool kWideSums = true;
  static U16 load_words_biased(const uint8_t* p, int bytes) {
    return _mm512_xor_si512(load_bytes64(p, bytes), _mm512_set1_epi8(-128));
  }
  /// The high byte of each word (the odd element + 128).
  static U16 high_bytes16(U16 w) { return _mm512_srli_epi16(w, 8); }
  /// The sum of the low bytes, from the wrapping sum of the words and the (exact) sum of the high bytes:
  /// total - 256 * high modulo 2^16, exact while the low bytes' sum is below 2^16.
  static U16 low_bytes16(U16 total, U16 high) { return _mm512_sub_epi16(total, _mm512_slli_epi16(high, 8)); }
  /// Sums of the even / odd elements of a tile of 4 * kLanes int8 columns (words, as high_bytes16 and
  /// low_bytes16 leave them) as int32 lanes in "unpacked" order: out[0] / out[1] hold the even elements
  /// 16j + 0, 2, 4, 6 / 16j + 8, .., 14 of each 128-bit lane j, out[2] / out[3] the odd ones. Four unpacks,
  /// where widen16_pairs takes two extracts and four widenings; store_s8_unpacked_tile writes the order back.
  static void widen16_unpacked(U16 even, U16 odd, I32* out) {
    const __m512i z = _mm512_setzero_si512();
    out[0] = _mm512_unpacklo_epi16(even, z);
    out[1] = _mm512_unpackhi_epi16(even, z);
    out[2] = _mm512_unpacklo_epi16(odd, z);
    out[3] = _mm512_unpackhi_epi16(odd, z);
  }
  /// store_s8_pair_tile for widen16_unpacked's order (lanes NOT yet clamped): the packs leave each 128-bit
  /// lane j as the even elements of 16j .. 16j + 15, then the odd ones, so one in-lane byte shuffle puts the
  /// lane in element order (no cross-lane permute).
  static void store_s8_unpacked_tile(uint8_t* p, I32 e0, I32 e1, I32 o0, I32 o1, int8_t lo, int n) {
    const __m512i packed = _mm512_packs_epi16(_mm512_packs_epi32(e0, e1), _mm512_packs_epi32(o0, o1));
    const __m512i ordered = _mm512_max_epi8(
        _mm512_shuffle_epi8(packed, _mm512_broadcast_i32x4(
                                        _mm_setr_epi8(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15))),
        _mm512_set1_epi8(lo));
    if (n == 4 * kLanes) {
      _mm512_storeu_si512(p, ordered);
    } else {
      _mm512_mask_storeu_epi8(p, (__mmask64{1} << n) - 1u, ordered);
    }
  }
  /// The wide int4 sum's rows (aggregate-wide4.h), as biased nibble pairs in words: `bytes` (<= 2 * kLanes
  /// = 32) packed bytes at p, each zero-extended to a word and XORed with 0x88, so word i is (element 2i + 8)
  /// + 16 * (element 2i + 1 + 8), in [0, 255]; bytes past `bytes` read as 0x88 (lanes a tile never stores).
  /// One load-widen and one operation; the split into even / odd elements is left to the sums
  /// (high_nibbles16, low_nibbles16), as for the wide int8 sum's words.
  static U16 load_nibble_words_biased(const uint8_t* p, int bytes) {
    return _mm512_xor_si512(_mm512_cvtepu8_epi16(load_bytes32(p, bytes)), _mm512_set1_epi16(0x88));
  }
  /// The high nibble of each word (the odd element + 8).
  static U16 high_nibbles16(U16 w) { return _mm512_srli_epi16(w, 4); }
  /// The sum of the low nibbles: total - 16 * high (exact while total is below 2^16).
  static U16 low_nibbles16(U16 total, U16 high) {
    return _mm512_sub_epi16(total, _mm512_slli_epi16(high, 4));
  }
  /// Lanes NOT yet clamped, in widen16_unpacked's order (of nibble-pair words: e0 / e1 the even elements
  /// of pairs 8j .. 8j + 3 / 8j + 4 .. 8j + 7 of each 128-bit lane j, o0 / o1 the odd ones): writes
  /// elements [0, n) (n <= 4 * kLanes), clamped to [lo, 7], as (n + 1) / 2 packed bytes. As
  /// store_s8_unpacked_tile, the saturating packs leave lane j's even elements in its bytes 0..7 and the odd
  /// ones in bytes 8..15, so the clamp takes two byte operations on one vector (not a max and a min on four
  /// int32 vectors); a byte shift brings the odd elements under the even ones, one ternary logic forms each
  /// pair's byte, and one permute gathers the four lanes' low halves. An odd n's pad nibble is written 0.
  static void store_s4_unpacked_tile(uint8_t* p, I32 e0, I32 e1, I32 o0, I32 o1, int8_t lo, int n) {
    const __m512i packed = _mm512_packs_epi16(_mm512_packs_epi32(e0, e1), _mm512_packs_epi32(o0, o1));
    const __m512i clamped =
        _mm512_min_epi8(_mm512_max_epi8(packed, _mm512_set1_epi8(lo)), _mm512_set1_epi8(7));
    const __m512i odd_high = _mm512_slli_epi16(_mm512_bsrli_epi128(clamped, 8), 4);
    // (clamped & 0x0F) | (odd_high & 0xF0): imm 0xE4 takes each bit from A (clamped) where C (the mask) is
    // set, else from B (odd_high).
    const __m512i pairs = _mm512_ternarylogic_epi32(clamped, odd_high, _mm512_set1_epi8(0x0F), 0xE4);
    const __m256i bytes =
        _mm512_castsi512_si256(_mm512_permutexvar_epi64(_mm512_setr_epi64(0, 2, 4, 6, 0, 2, 4, 6), pairs));
    if (n == 4 * kLanes) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), bytes);
      return;
    }
    const int count = (n + 1) / 2;
    _mm256_mask_storeu_epi8(p, static_cast<__mmask32>(mask64(count)), bytes);
    if (n % 2 != 0) p[count - 1] = static_cast<uint8_t>(p[count - 1] & 0x0F);
  }
  /// The biased nibbles as int32 lanes without interleaving them: out[0] / out[1] = even / odd elements of
  /// the first 2 * kLanes (out[0] lane i is element 2i, out[1] lane i element 2i + 1), out[2] / out[3] the
  /// same for the next 2 * kLanes. Lane-wise work keeps that order; store_s8_interleaved /
  /// store_s4_interleaved write it back in element order (for int4, as bytes without any shuffle).
  /// widen16_pairs' out[0] and out[1] only: all a tile of at most 2 * kLanes elements uses.
  static void widen16_pairs_low(U16 even, U16 odd, I32* out) {
    out[0] = _mm512_cvtepu16_epi32(_mm512_castsi512_si256(even));
    out[1] = _mm512_cvtepu16_epi32(_mm512_castsi512_si256(odd));
  }
  static void widen16_pairs(U16 even, U16 odd, I32* out) {
    out[0] = _mm512_cvtepu16_epi32(_mm512_castsi512_si256(even));
    out[1] = _mm512_cvtepu16_epi32(_mm512_castsi512_si256(odd));
    out[2] = _mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(even, 1));
    out[3] = _mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(odd, 1));
  }
  /// Lanes already clamped to int8: writes elements [0, n) (n <= 2 * kLanes), element 2i = even lane i and
  /// 2i + 1 = odd lane i, as bytes: the pair is formed in the int32 lane and narrowed to 16 bits once.
  static void store_s8_interleaved(uint8_t* p, I32 even, I32 odd, int n) {
    const __m256i pairs = _mm512_cvtepi32_epi16(
        _mm512_or_si512(_mm512_and_si512(even, _mm512_set1_epi32(0xFF)), _mm512_slli_epi32(odd, 8)));
    if (n == 2 * kLanes) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), pairs);
    } else {
      _mm256_mask_storeu_epi8(p, static_cast<__mmask32>((1u << n) - 1u), pairs);
    }
  }
  /// A whole pair-order tile of requantized int32 lanes, NOT yet clamped (e0 / o0: even / odd elements of
  /// the first 2 * kLanes, e1 / o1 of the next): writes elements [0, n) (n <= 4 * kLanes) as bytes clamped
  /// to [lo, 127]. Saturating packs to int16 and on to int8 clamp to the int8 range (saturating first
  /// changes no clamped value, the clamp being monotone), one in-lane byte shuffle and one qword permute
  /// put the elements in order, one byte max raises the floor to lo (a fused ReLU's zero point): 64
  /// outputs in 7 operations and one store, where clamping and storing each half costs 20.
  static void store_s8_pair_tile(uint8_t* p, I32 e0, I32 o0, I32 e1, I32 o1, int8_t lo, int n) {
    // Lane j of the packs: elements 8j, 8j + 2, .., 8j + 6, 32 + 8j, .., 32 + 8j + 6, then the odd ones.
    const __m512i packed = _mm512_packs_epi16(_mm512_packs_epi32(e0, e1), _mm512_packs_epi32(o0, o1));
    const __m512i in_lane = _mm512_shuffle_epi8(
        packed, _mm512_broadcast_i32x4(_mm_setr_epi8(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15)));
    // Qword 2j now holds elements 8j .. 8j + 7, qword 2j + 1 elements 32 + 8j .. 32 + 8j + 7.
    const __m512i ordered = _mm512_max_epi8(
        _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7), in_lane), _mm512_set1_epi8(lo));
    if (n == 4 * kLanes) {
      _mm512_storeu_si512(p, ordered);
    } else {
      _mm512_mask_storeu_epi8(p, (__mmask64{1} << n) - 1u, ordered);
    }
  }
  /// Lanes already clamped to int4: writes elements [0, n) (n <= 2 * kLanes) as packed nibbles, element
  /// 2i = even lane i, 2i + 1 = odd lane i: byte i is (even_i & 0xF) | (odd_i & 0xF) << 4, (n + 1) / 2
  /// bytes; an odd n's pad nibble (odd lane n / 2) is zeroed first.
  static void store_s4_interleaved(uint8_t* p, I32 even, I32 odd, int n) {
    if (n < 2 * kLanes) odd = _mm512_maskz_mov_epi32(static_cast<__mmask16>((1u << (n / 2)) - 1u), odd);
    const __m128i bytes = _mm512_cvtepi32_epi8(
        _mm512_or_si512(_mm512_and_si512(even, _mm512_set1_epi32(0x0F)),
                        _mm512_and_si512(_mm512_slli_epi32(odd, 4), _mm512_set1_epi32(0xF0))));
    if (n == 2 * kLanes) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p), bytes);
    } else {
      _mm_mask_storeu_epi8(p, static_cast<__mmask16>((1u << ((n + 1) / 2)) - 1u), bytes);
    }
  }

  /// A tile of at most kLanes elements in pair order uses only the low kLanes / 2 lanes of its even and
  /// odd vectors: join_half_pairs puts them in one vector (even elements in lanes [0, 8), odd ones in
  /// [8, 16)), so the lane-wise requantization runs once, not twice (aggregate-body.h, store_tile).
  static constexpr bool kHalfPairs = true;
  static I32 join_half_pairs(I32 even, I32 odd) {
    return _mm512_inserti64x4(even, _mm512_castsi512_si256(odd), 1);
  }
  /// Lanes already clamped to int8, joined by join_half_pairs: writes elements [0, n) (n <= kLanes),
  /// element 2i = lane i, 2i + 1 = lane 8 + i.
  static void store_s8_half_pairs(uint8_t* p, I32 v, int n) {
    const __m128i bytes = _mm512_cvtepi32_epi8(v);
    const __m128i elements = _mm_unpacklo_epi8(bytes, _mm_srli_si128(bytes, 8));
    if (n == kLanes) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p), elements);
    } else {
      _mm_mask_storeu_epi8(p, static_cast<__mmask16>((1u << n) - 1u), elements);
    }
  }
  /// Lanes already clamped to int4, joined by join_half_pairs: writes elements [0, n) (n <= kLanes) as
  /// (n + 1) / 2 bytes, byte i = (lane i & 0xF) | (lane 8 + i & 0xF) << 4; an odd n's pad nibble (lane
  /// 8 + n / 2) is zeroed first.
  static void store_s4_half_pairs(uint8_t* p, I32 v, int n) {
    if (n < kLanes) {
      v = _mm512_maskz_mov_epi32(
          static_cast<__mmask16>(((1u << ((n + 1) / 2)) - 1u) | (((1u << (n / 2)) - 1u) << 8)), v);
    }
    const __m128i bytes = _mm512_cvtepi32_epi8(v);
    // The 16-bit shift moves each odd byte's low nibble up; the 0xF0 mask drops what crosses from its
    // neighbour. Bytes 8.. are junk and never stored ((n + 1) / 2 <= 8).
    const __m128i packed =
        _mm_or_si128(_mm_and_si128(bytes, _mm_set1_epi8(0x0F)),
                     _mm_and_si128(_mm_slli_epi16(_mm_srli_si128(bytes, 8), 4), _mm_set1_epi8(-16)));
    store_bytes8(p, packed, (n + 1) / 2);
  }
  static I64 widen_lo(I32 v) { return _mm512_cvtepi32_epi64(_mm512_castsi512_si256(v)); }
  static I64 widen_hi(I32 v) { return _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(v, 1)); }
  /// Low 32 bits of every int64 lane, lo's lanes first.
  static I32 narrow(I64 lo, I64 hi) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi64_epi32(lo)), _mm512_cvtepi64_epi32(hi),
                              1);
  }
  static I64 set1_64(int64_t v) { return _mm512_set1_epi64(v); }
  /// The int32 lanes as the low dwords of two int64 vectors (high dwords unspecified), for lane-wise
  /// int64 work that reads only the low dwords (mul_lo32, mulu_lo32); join64 puts them back. Even / odd
  /// dwords: one shift, no cross-lane shuffle (widen_lo / narrow cost 3 each).
  static void split64(I32 v, I64* a, I64* b) {
    *a = v;
    *b = _mm512_srli_epi64(v, 32);
  }
  /// Low dwords of a and b to the lanes split64 took them from.
  static I32 join64(I64 a, I64 b) { return _mm512_mask_blend_epi32(0xAAAA, a, _mm512_slli_epi64(b, 32)); }
  /// High dwords of a and b to the lanes split64 took a's and b's low dwords from.
  /// One two-source permute, where a shift and a blend take two operations (the aggregation's 32-bit
  /// requantization joins four pairs per 64 outputs).
  static I32 join_high64(I64 a, I64 b) {
    return _mm512_permutex2var_epi32(
        a, _mm512_setr_epi32(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31), b);
  }
  /// Lanes already clamped to int4, even channels in `even` (lane i: channel 2i) and odd ones in `odd`:
  /// writes channels [0, n) (n <= 16) as packed nibbles, (n + 1) / 2 bytes at p (an odd n's pad nibble is 0).
  /// Byte i is (even_i & 0xF) | (odd_i & 0xF) << 4, formed in the int64 lanes and narrowed once.
  /// Stored straight from the vector register: a trip through a general register (vmovq + scalar store)
  /// was the slowest step of an int4 dense row.
  static void store_s4_pairs(uint8_t* p, I64 even, I64 odd, int n) {
    if (n < kLanes) odd = _mm512_maskz_mov_epi64(static_cast<__mmask8>((1u << (n / 2)) - 1u), odd);  // pad 0
    store_bytes8(p, pack_s4_pairs(even, odd), (n + 1) / 2);
  }
  /// Int64 lane i's low byte = (even_i & 0xF) | (odd_i & 0xF) << 4 (the other bytes are junk): one shift
  /// and one bit select.
  static I64 pair_nibbles(I64 even, I64 odd) {
    // vpternlogq 0xE4: bits of `even` where the mask is set, of `odd << 4` elsewhere.
    return _mm512_ternarylogic_epi64(even, _mm512_slli_epi64(odd, 4), _mm512_set1_epi64(0x0F), 0xE4);
  }
  /// The 8 bytes (even_i & 0xF) | (odd_i & 0xF) << 4, formed in the int64 lanes and narrowed once.
  static __m128i pack_s4_pairs(I64 even, I64 odd) { return _mm512_cvtepi64_epi8(pair_nibbles(even, odd)); }
  /// store_s4_pairs of channels [0, n) (16 < n <= 32) from two vectors of pairs (channels 0..15, 16..31),
  /// as one 16-byte store when n == 32 (see load_stored32). The 16 pair bytes are formed in the low bytes
  /// of the int64 lanes, gathered into 16 dwords by one two-source permute and narrowed ONCE: two
  /// narrowings (vpmovqb) and a join cost twice as much in the int4 dense row (Zen 5, MUTAG).
  static void store_s4_quads(uint8_t* p, I64 even0, I64 odd0, I64 even1, I64 odd1, int n) {
    if (n < 2 * kLanes)
      odd1 = _mm512_maskz_mov_epi64(static_cast<__mmask8>((1u << ((n - kLanes) / 2)) - 1u), odd1);
    // Dword 2i of a pair vector is the low dword of int64 lane i: dwords 0, 2, .., 14 of the first vector,
    // then of the second.
    const __m512i even_dwords = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m128i bytes = _mm512_cvtepi32_epi8(
        _mm512_permutex2var_epi32(pair_nibbles(even0, odd0), even_dwords, pair_nibbles(even1, odd1)));
    if (n == 2 * kLanes) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p), bytes);
    } else {
      _mm_mask_storeu_epi8(p, static_cast<__mmask16>((1u << ((n + 1) / 2)) - 1u), bytes);
    }
  }
  static I64 add64(I64 a, I64 b) { return _mm512_add_epi64(a, b); }
  static I64 and64(I64 a, I64 b) { return _mm512_and_si512(a, b); }
  /// Signed low dword x signed low dword -> int64 per lane.
  static I64 mul_lo32(I64 a, I64 b) { return _mm512_mul_epi32(a, b); }
  /// Unsigned low dword x unsigned low dword -> uint64 per lane.
  static I64 mulu_lo32(I64 a, I64 b) { return _mm512_mul_epu32(a, b); }
  static I64 shl32(I64 a) { return _mm512_slli_epi64(a, 32); }
  static I64 shr32(I64 a) { return _mm512_srli_epi64(a, 32); }
  static I64 srai64(I64 a, int s) { return _mm512_sra_epi64(a, _mm_cvtsi32_si128(s)); }
  static I64 min64(I64 a, I64 b) { return _mm512_min_epi64(a, b); }
  static I64 max64(I64 a, I64 b) { return _mm512_max_epi64(a, b); }

  // ---- GEMM: 64 int8 per step, vpdpbusd (unsigned activations x signed weights) ----------------------
  using X = __m512i;    ///< 64 activations + 128 as uint8
  using W = __m512i;    ///< 64 int8 weights
  using Acc = __m512i;  ///< int32 partial sums
  static constexpr int kStep = 64;
  /// vpdpbusd wants unsigned activations: x + 128 (x ^ 0x80), corrected with 128 * sum(w) afterwards.
  static constexpr int32_t kXOffset = 128;

  static Acc acc_zero() { return _mm512_setzero_si512(); }
  static X load_x_s8(const uint8_t* p, int n) {
    return _mm512_xor_si512(load_bytes64(p, n), _mm512_set1_epi8(-128));
  }
  /// Activation rows start on a byte boundary and k is a multiple of kStep, so p is a whole byte.
  /// Each nibble is moved into its own byte (bit 7 clear) and looked up (vpshufb) in a table of x + 128,
  /// x its sign-extended value: 4 operations where unpack_nibbles64 and the offset take 8.
  static X load_x_s4(const uint8_t* p, int n) {
    const __m512i words = _mm512_cvtepu8_epi16(load_stored32(p, (n + 1) / 2));
    // Word k = packed byte k: its low nibble to byte 2k, its high nibble to byte 2k + 1.
    const __m512i nibbles =
        _mm512_and_si512(_mm512_or_si512(words, _mm512_slli_epi16(words, 4)), _mm512_set1_epi16(0x0F0F));
    const __m512i offset_values = _mm512_broadcast_i32x4(_mm_setr_epi8(
        -128, -127, -126, -125, -124, -123, -122, -121, 120, 121, 122, 123, 124, 125, 126, 127));
    return _mm512_shuffle_epi8(offset_values, nibbles);
  }
  static W load_w_s8(const uint8_t* p, int n) { return load_bytes64(p, n); }
  /// n (<= 64) int4 weights from element `index` of a contiguously packed matrix (may start mid-byte);
  /// lanes >= n are zero so padded activations contribute nothing.
  static W load_w_s4(const uint8_t* base, uint64_t index, int n) {
    const uint8_t* p = base + index / 2;
    __m256i packed;
    if ((index & 1u) == 0) {
      packed = load_bytes32(p, (n + 1) / 2);
    } else {
      // Shift the nibble stream by one element: byte i = high nibble of p[i] | low nibble of p[i + 1] << 4.
      const int bytes = n / 2 + 1;
      const __m256i first = load_bytes32(p, bytes < 32 ? bytes : 32);
      const __m256i second = load_bytes32(p + 1, bytes - 1);
      packed = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(first, 4), _mm256_set1_epi8(0x0F)),
                               _mm256_and_si256(_mm256_slli_epi16(second, 4), _mm256_set1_epi8(-16)));
    }
    const __m512i w = unpack_nibbles64(packed);
    return n == kStep ? w : _mm512_maskz_mov_epi8(mask64(n), w);
  }
  static Acc dot(Acc acc, X x, W w) { return _mm512_dpbusd_epi32(acc, x, w); }
  static Acc wsum(Acc acc, W w) { return _mm512_dpbusd_epi32(acc, _mm512_set1_epi8(1), w); }
  static int32_t hsum(Acc acc) { return _mm512_reduce_add_epi32(acc); }

  // ---- Input quantization (quantize-body.h): float lanes -----------------------------------------------
  using F32 = __m512;
  /// n (<= kLanes) floats, the other lanes 0.
  static F32 set1_f32(float s) { return _mm512_set1_ps(s); }
  static F32 load_f32(const float* p, int n) {
    return n == kLanes ? _mm512_loadu_ps(p)
                       : _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1u), p);
  }
  static bool any_nan(F32 v) { return _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) != 0; }
  // ---- FP32 aggregation (f32-aggregate-body.h): IEEE operations, lane by lane -------------------------
  static F32 add_f32(F32 a, F32 b) { return _mm512_add_ps(a, b); }
  static F32 mul_f32(F32 a, F32 b) { return _mm512_mul_ps(a, b); }
  static F32 div_f32(F32 a, F32 b) { return _mm512_div_ps(a, b); }
  /// a > b ? a : b per lane (b when either is NaN, or for two zeros): vmaxps's own definition.
  static F32 select_gt_f32(F32 a, F32 b) { return _mm512_max_ps(a, b); }
  /// Writes the first n (<= kLanes) lanes only.
  static void store_f32(float* p, F32 v, int n) {
    _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1u), v);
  }
  /// Several short int4 rows per vector (quantize-body.h, quantize_rows_s4_packed): the floats of
  /// consecutive rows of `cols` (<= 8) elements, contiguous in v, moved so row r starts at lane r * pitch
  /// (pitch = cols rounded up to even), lanes outside `mask` zeroed. Odd widths take one lane permute
  /// (vpermps) from a table: vexpandps does the same move but measured ~40% slower than one row per vector
  /// on Zen 5. Even widths are already in place.
  static constexpr bool kRowsPerVector = true;
  static F32 spread_rows(F32 v, int cols, uint32_t mask) {
    const __mmask16 m = static_cast<__mmask16>(mask);
    if ((cols & 1) == 0) return _mm512_maskz_mov_ps(m, v);
    return _mm512_maskz_permutexvar_ps(m, _mm512_load_si512(kAvx512SpreadIndex[cols / 2].lane), v);
  }
  /// v's lanes set in mask, the others 0.
  static I32 keep_lanes(I32 v, uint32_t mask) {
    return _mm512_maskz_mov_epi32(static_cast<__mmask16>(mask), v);
  }
  /// round_half_away(clamp(x / scale, -1e6, 1e6)) for non-NaN lanes (proof in quantize-body.h).
  static I32 round_quotient(F32 x, F32 scale) {
    __m512 v = _mm512_div_ps(x, scale);
    v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(-1.0e6f)), _mm512_set1_ps(1.0e6f));
    const __m512i t = _mm512_cvttps_epi32(v);
    const __m512 frac = _mm512_sub_ps(v, _mm512_cvtepi32_ps(t));
    const __mmask16 up = _mm512_cmp_ps_mask(frac, _mm512_set1_ps(0.5f), _CMP_GE_OQ);
    const __mmask16 down = _mm512_cmp_ps_mask(frac, _mm512_set1_ps(-0.5f), _CMP_LE_OQ);
    const __m512i one = _mm512_set1_epi32(1);
    return _mm512_mask_sub_epi32(_mm512_mask_add_epi32(t, up, t, one), down, t, one);
  }
  static I32 clamp32(I32 v, int32_t lo, int32_t hi) {
    return _mm512_min_epi32(_mm512_max_epi32(v, _mm512_set1_epi32(lo)), _mm512_set1_epi32(hi));
  }
  /// The float just below 0.5 (0.5 - 2^-25): trunc(v + copysign(kBelowHalf, v)) rounds half away from zero.
  static constexpr float kBelowHalf = 0x1.fffffep-2f;
  /// zero_point + round_half_away(clamp(x / divisor, lo, hi)), a NaN quotient read as 0; lo, hi integral
  /// (proof of equality with quantize_float in quantize-body.h).
  static I32 quantize_lanes(F32 x, F32 divisor, F32 lo, F32 hi, I32 zero_point) {
    const __m512 q = _mm512_div_ps(x, divisor);
    const __m512 v = _mm512_min_ps(_mm512_maskz_max_ps(_mm512_cmp_ps_mask(q, q, _CMP_ORD_Q), q, lo), hi);
    // copysign(kBelowHalf, v): (v & sign) | kBelowHalf in one ternary-logic op.
    const __m512i half = _mm512_ternarylogic_epi32(_mm512_castps_si512(v), _mm512_set1_epi32(INT32_MIN),
                                                   _mm512_castps_si512(_mm512_set1_ps(kBelowHalf)), 0xEA);
    return _mm512_add_epi32(_mm512_cvttps_epi32(_mm512_add_ps(v, _mm512_castsi512_ps(half))), zero_point);
  }

  // ---- Dense with channels in lanes (dense-body.h): weights packed [k / kGroup][channel][kGroup] -------
  using PackedW = int8_t;            ///< vpdpbusd's signed operand
  static constexpr int kGroup = 4;   ///< k per 32-bit lane group
  static constexpr int kXBytes = 1;  ///< bytes of one activation in an X vector (x + 128, uint8)
  /// 4 activations (x + 128) broadcast to every lane, times the 16 channels' 4 weights each.
  static Acc dot_bcast(Acc acc, const uint8_t* x, Acc w) {
    int32_t group;
    std::memcpy(&group, x, sizeof group);
    return _mm512_dpbusd_epi32(acc, _mm512_set1_epi32(group), w);
  }
  static Acc load_acc(const void* p) { return _mm512_loadu_si512(p); }
  static void store_acc(void* p, Acc v) { _mm512_storeu_si512(p, v); }
  static void store_x(uint8_t* p, X v) { _mm512_storeu_si512(p, v); }
  static I32 load_i32(const int32_t* p) { return _mm512_loadu_si512(p); }
  /// n (1..kLanes) int32 from p, the other lanes 0; reads only n (a masked load).
  static I32 load_i32_partial(const int32_t* p, int n) {
    return n == kLanes ? load_i32(p) : _mm512_maskz_loadu_epi32(static_cast<__mmask16>((1u << n) - 1u), p);
  }
  /// Lane l = v[idx[l]], idx in [0, kLanes).
  static I32 permute(I32 v, I32 idx) { return _mm512_permutexvar_epi32(idx, v); }
  /// GAT's softmax reciprocal per lane (gat-body.h, gat_reciprocal): S in [0, 2^31) -> 0 for S = 0, else
  /// min((2^47 + S / 2) / S, 2^32 - 1) as uint32 bits, through doubles: the rounded quotient is within one of
  /// the integer one and the exact remainder num - q S (< 2^53) corrects it.
  static I32 softmax_reciprocal(I32 sums) {
    auto half = [](__m256i s) {
      const __m512d one = _mm512_set1_pd(1.0), zero = _mm512_setzero_pd();
      const __m512d sd = _mm512_cvtepi32_pd(s);
      const __m512d num = _mm512_add_pd(_mm512_cvtepi32_pd(_mm256_srai_epi32(s, 1)), _mm512_set1_pd(140737488355328.0));
      __m512d q = _mm512_roundscale_pd(_mm512_div_pd(num, sd), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
      const __m512d r = _mm512_sub_pd(num, _mm512_mul_pd(q, sd));
      q = _mm512_mask_sub_pd(q, _mm512_cmp_pd_mask(r, zero, _CMP_LT_OQ), q, one);
      q = _mm512_mask_add_pd(q, _mm512_cmp_pd_mask(r, sd, _CMP_GE_OQ), q, one);
      q = _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(sd, zero, _CMP_GT_OQ), _mm512_min_pd(q, _mm512_set1_pd(4294967295.0)));
      return _mm512_cvttpd_epu32(q);
    };
    return _mm512_inserti64x4(_mm512_castsi256_si512(half(_mm512_castsi512_si256(sums))),
                              half(_mm512_extracti64x4_epi64(sums, 1)), 1);
  }
  /// Lanes [0, n) = base[idx[l]], the others 0; reads only those n elements (a masked gather).
  static I32 gather_i32(const int32_t* base, I32 idx, int n) {
    const __mmask16 mask = n >= kLanes ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
    return _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), mask, idx, base, 4);
  }
  /// Two vectors of consecutive elements (a: 0..15, b: 16..31) in pair order (widen16_pairs): even =
  /// elements 0, 2, .., 30 and odd = 1, 3, .., 31, one two-source permute each.
  static void unzip(I32 a, I32 b, I32* even, I32* odd) {
    const __m512i even_index = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    *even = _mm512_permutex2var_epi32(a, even_index, b);
    *odd = _mm512_permutex2var_epi32(a, _mm512_add_epi32(even_index, _mm512_set1_epi32(1)), b);
  }
  static I64 load_i64(const int64_t* p) { return _mm512_loadu_si512(p); }
  /// Variable arithmetic shift of each int64 lane.
  static I64 srav64(I64 a, I64 s) { return _mm512_srav_epi64(a, s); }
  /// Variable left shift of each int64 lane (wrapping).
  static I64 sllv64(I64 a, I64 s) { return _mm512_sllv_epi64(a, s); }
  /// Even dwords from a, odd dwords from b.
  static I32 blend_odd(I32 a, I32 b) { return _mm512_mask_blend_epi32(0xAAAA, a, b); }

  // ---- Dense of sparse float rows (sparse-dense-body.h): W^T as int16 pairs [k / 2][channel][k % 2] ----
  static constexpr int kSparseGroup = 2;
  using SWord = __m512i;
  /// One 32-bit word of two int16 factors (d_k, d_k+1), broadcast to every lane.
  static SWord sparse_word(int32_t word) { return _mm512_set1_epi32(word); }
  /// acc + (w[2c] * d_k + w[2c + 1] * d_k+1) per channel lane c: one vpdpwssd, exact in int32.
  static I32 sparse_mac(I32 acc, SWord word, const int16_t* w) {
    return _mm512_dpwssd_epi32(acc, word, _mm512_loadu_si512(w));
  }
  /// Per lane, the term of a non-zero in column k with factor d (|d| <= 255): the int16-element offset
  /// (k / 2) * stride of its column pair's weights and the word holding d in k's half of the pair (the other
  /// half 0), so the pair's multiply adds d * w_k alone.
  static void sparse_terms(I32 k, I32 d, I32 stride, I32* offset, I32* word) {
    *offset = _mm512_mullo_epi32(_mm512_srli_epi32(k, 1), stride);
    *word = _mm512_sllv_epi32(_mm512_and_si512(d, _mm512_set1_epi32(0xFFFF)),
                              _mm512_slli_epi32(_mm512_and_si512(k, _mm512_set1_epi32(1)), 4));
  }

  // ---- kNN distances (knn-body.h): candidate nodes in lanes, each lane a word of 4 int8 features -------
  /// vpdpbusd wants an unsigned operand: the query's features + 128 (x ^ 0x80), so a dot is
  /// sum (x + 128) w = x . w + 128 sum(w), corrected through the candidate's column term.
  static constexpr int32_t kKnnOffset = 128;
  static constexpr int kKnnQueryWords = 1;   ///< 32-bit words of a query group's operand
  static constexpr int kKnnTileVectors = 4;  ///< candidate vectors per tile: 16 accumulators for 4 rows
  using KnnX = __m512i;
  using KnnW = __m512i;
  using KnnAcc = __m512i;
  static void knn_query(uint32_t group, uint32_t* words) { words[0] = group ^ 0x80808080u; }
  static KnnX knn_bcast(const uint32_t* words) { return _mm512_set1_epi32(static_cast<int32_t>(words[0])); }
  static KnnW knn_load(const uint32_t* p) { return _mm512_loadu_si512(p); }
  static KnnAcc knn_acc_zero() { return _mm512_setzero_si512(); }
  /// acc + sum_f (x_f + 128) w_lane,f: |each lane's sum| <= 255 * 128 * 2^15 < 2^31 (kKnnMaxCols).
  static KnnAcc knn_dot(KnnAcc acc, KnnX x, KnnW w) { return _mm512_dpbusd_epi32(acc, x, w); }
  /// acc + sum_f w_lane,f^2: the even and odd bytes sign-extended to int16, squared and paired by vpdpwssd.
  static KnnAcc knn_square(KnnAcc acc, KnnW w) {
    const __m512i even = _mm512_srai_epi16(_mm512_slli_epi16(w, 8), 8), odd = _mm512_srai_epi16(w, 8);
    return _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(acc, even, even), odd, odd);
  }
  /// acc + sum_f w_lane,f (the offset's correction).
  static I32 knn_sum(I32 acc, KnnW w) { return _mm512_dpbusd_epi32(acc, _mm512_set1_epi8(1), w); }
  static I32 knn_finish(KnnAcc acc) { return acc; }
  /// Bit l set where a[l] <= b[l].
  static uint32_t knn_le_mask(I32 a, I32 b) { return _mm512_cmple_epi32_mask(a, b); }
  /// The lanes of v set in mask, in lane order, at out[0, popcount(mask)); writes kLanes entries. The
  /// register form of vpcompressd (the memory form is microcoded and far slower on Zen 4).
  static void knn_compress(int32_t* out, I32 v, uint32_t mask) {
    _mm512_storeu_si512(out, _mm512_maskz_compress_epi32(static_cast<__mmask16>(mask), v));
  }

 private:
  static const __m128i* cast128(const uint8_t* p) { return reinterpret_cast<const __m128i*>(p); }
  /// The low `bytes` (<= 8) bytes of v.
  static void store_bytes8(uint8_t* p, __m128i v, int bytes) {
    if (bytes == 8) {
      _mm_storel_epi64(reinterpret_cast<__m128i*>(p), v);
    } else {
      _mm_mask_storeu_epi8(p, static_cast<__mmask16>((1u << bytes) - 1u), v);
    }
  }
  static __mmask64 mask64(int n) { return n >= 64 ? ~__mmask64{0} : ((__mmask64{1} << n) - 1u); }
  static __m512i load_bytes64(const uint8_t* p, int n) {
    return n == 64 ? _mm512_loadu_si512(p) : _mm512_maskz_loadu_epi8(mask64(n), p);
  }
  static __m256i load_bytes32(const uint8_t* p, int n) {
    return n == 32 ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))
                   : _mm256_maskz_loadu_epi8(static_cast<__mmask32>(mask64(n)), p);
  }
  // int4 activation rows are read by the next layer right after this one wrote them, often still in the
  // store buffer, where a load is forwarded only when it is unmasked and lies within one store. The int4
  // outputs of the dense and aggregation twins write each aligned 16 bytes of a row with one store
  // (store_s4_quads, store_s4_interleaved), so int4 rows are read in the same 16-byte pieces (measured on
  // Zen 5, MUTAG int4: ~8% of an invoke; for int8 rows a single masked load measured faster).
  /// n (<= 16) bytes as one piece.
  static __m128i load_piece(const uint8_t* p, int n) {
    return n >= 16 ? _mm_loadu_si128(cast128(p))
                   : _mm_maskz_loadu_epi8(static_cast<__mmask16>((1u << n) - 1u), p);
  }
  /// n (<= 32) activation bytes (zero past n), in 16-byte pieces.
  static __m256i load_stored32(const uint8_t* p, int n) {
    const __m128i lo = load_piece(p, n);
    return n > 16 ? _mm256_inserti128_si256(_mm256_castsi128_si256(lo), load_piece(p + 16, n - 16), 1)
                  : _mm256_zextsi128_si256(lo);
  }
  /// 8 packed bytes (low half) -> 16 sign-extended int8, element 2k from the low nibble of byte k.
  static __m128i unpack_nibbles(__m128i packed) {
    const __m128i words = _mm_cvtepu8_epi16(packed);
    const __m128i pairs = _mm_or_si128(_mm_and_si128(words, _mm_set1_epi16(0x000F)),
                                       _mm_slli_epi16(_mm_and_si128(words, _mm_set1_epi16(0x00F0)), 4));
    // (v ^ 8) - 8 sign-extends a nibble held in a byte.
    return _mm_sub_epi8(_mm_xor_si128(pairs, _mm_set1_epi8(8)), _mm_set1_epi8(8));
  }
  static __m512i unpack_nibbles64(__m256i packed) {
    const __m512i words = _mm512_cvtepu8_epi16(packed);
    const __m512i pairs =
        _mm512_or_si512(_mm512_and_si512(words, _mm512_set1_epi16(0x000F)),
                        _mm512_slli_epi16(_mm512_and_si512(words, _mm512_set1_epi16(0x00F0)), 4));
    return _mm512_sub_epi8(_mm512_xor_si512(pairs, _mm512_set1_epi8(8)), _mm512_set1_epi8(8));
  }
};

}  // namespace
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_SIMD_SIMD_AVX512_H_
