// Vector traits for AVX2: the operations the SpMM and GEMM bodies are written in. Include only from files
// compiled with the AVX2 flags. Everything is in an anonymous namespace so no AVX2 code can be shared with
// (and picked by the linker for) code compiled for a smaller ISA. AVX2 has no byte-masked loads, so partial
// loads go through a small zeroed buffer; no load ever reads past the bytes it was given.
#ifndef QGNN_KERNELS_SIMD_SIMD_AVX2_H_
#define QGNN_KERNELS_SIMD_SIMD_AVX2_H_

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "packed-bytes.h"

namespace qgnn {
namespace kernels {
namespace {

/// kAvx2CompressIndex[mask]: the lanes set in an 8-bit mask, in order, then zeros (Avx2::knn_compress).
struct Avx2CompressRow {
  uint8_t lane[8];
};
struct Avx2CompressTable {
  Avx2CompressRow row[256];
};
constexpr Avx2CompressTable avx2_compress_table() {
  Avx2CompressTable table{};
  for (int mask = 0; mask < 256; ++mask) {
    int count = 0;
    for (int lane = 0; lane < 8; ++lane) {
      if ((mask >> lane) & 1) table.row[mask].lane[count++] = static_cast<uint8_t>(lane);
    }
  }
  return table;
}
constexpr Avx2CompressTable kAvx2CompressIndex = avx2_compress_table();

struct Avx2 {
  // ---- int32 lanes (SpMM) and int64 lanes (its rescale) ----------------------------------------------
  using I32 = __m256i;
  using I64 = __m256i;
  static constexpr int kLanes = 8;

  static I32 zero() { return _mm256_setzero_si256(); }
  static I32 set1(int32_t v) { return _mm256_set1_epi32(v); }
  static I32 add(I32 a, I32 b) { return _mm256_add_epi32(a, b); }
  static I32 sub(I32 a, I32 b) { return _mm256_sub_epi32(a, b); }
  static I32 max(I32 a, I32 b) { return _mm256_max_epi32(a, b); }
  static I32 mullo(I32 a, I32 b) { return _mm256_mullo_epi32(a, b); }
  static I32 srai16(I32 a) { return _mm256_srai_epi32(a, 16); }
  static I32 min(I32 a, I32 b) { return _mm256_min_epi32(a, b); }
  static I32 sra(I32 a, int s) { return _mm256_sra_epi32(a, _mm_cvtsi32_si128(s)); }

  /// 8 int8 -> int32 lanes; the partial form reads only n (< 8) bytes.
  static I32 load_s8(const uint8_t* p) { return _mm256_cvtepi8_epi32(_mm_loadl_epi64(cast128(p))); }
  static I32 load_s8_partial(const uint8_t* p, int n) {
    return _mm256_cvtepi8_epi32(_mm_cvtsi64_si128(static_cast<long long>(load_u64(p, n))));
  }
  /// 8 int4 (4 bytes, element 0 in the low nibble of p[0]) -> int32 lanes; partial reads ceil(n/2) bytes.
  /// Lanes already clamped to int4: writes the first n (<= 8) as packed nibbles, (n + 1) / 2 bytes at p
  /// (lane 0 in the low nibble; an odd n's pad nibble is 0).
  static void store_s4(uint8_t* p, I32 v, int n) {
    const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    const __m128i bytes = _mm_packs_epi16(words, words);
    store_nibbles<kLanes>(p, pack_low_nibbles(static_cast<uint64_t>(_mm_cvtsi128_si64(bytes))), n);
  }
  static I32 load_s4(const uint8_t* p) {
    return _mm256_cvtepi8_epi32(unpack_nibbles(_mm_cvtsi64_si128(static_cast<long long>(load_u64(p, 4)))));
  }
  static I32 load_s4_partial(const uint8_t* p, int n) {
    return _mm256_cvtepi8_epi32(
        unpack_nibbles(_mm_cvtsi64_si128(static_cast<long long>(load_u64(p, (n + 1) / 2)))));
  }
  /// Lanes already clamped to int8: writes the first n (<= 8) as bytes.
  static void store_s8(uint8_t* p, I32 v, int n) {
    const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    const __m128i bytes = _mm_packs_epi16(words, words);
    if (n == kLanes) {
      _mm_storel_epi64(reinterpret_cast<__m128i*>(p), bytes);
    } else {
      const uint64_t all = static_cast<uint64_t>(_mm_cvtsi128_si64(bytes));
      std::memcpy(p, &all, static_cast<size_t>(n));  // little-endian: byte i is lane i
    }
  }

  // ---- int4 rows as biased nibbles in 16-bit lanes (aggregation sum / max over int4, aggregate-body.h)
  // -----------
  using U16 = __m256i;  ///< 2 * kLanes lanes
  static U16 zero16() { return _mm256_setzero_si256(); }
  static U16 add16(U16 a, U16 b) { return _mm256_add_epi16(a, b); }
  static U16 max16(U16 a, U16 b) { return _mm256_max_epu16(a, b); }
  static U16 set1_16(uint16_t v) { return _mm256_set1_epi16(static_cast<int16_t>(v)); }
  /// Low 16 bits of the lane products (exact while they are below 2^16).
  static U16 mullo16(U16 a, U16 b) { return _mm256_mullo_epi16(a, b); }
  /// `bytes` (<= 2 * kLanes) packed bytes at p: lo = even elements + 8, hi = odd elements + 8, in [0, 15].
  static void load_nibbles_biased(const uint8_t* p, int bytes, U16* lo, U16* hi) {
    const __m256i w = _mm256_xor_si256(_mm256_cvtepu8_epi16(load_bytes16(p, bytes)), _mm256_set1_epi16(0x88));
    *lo = _mm256_and_si256(w, _mm256_set1_epi16(0x0F));
    *hi = _mm256_srli_epi16(w, 4);
  }
  /// `bytes` (<= 2 * kLanes) int8 at p: lo = even elements + 128, hi = odd elements + 128, in [0, 255]
  /// (the wide int8 sum / max of aggregate-body.h): one load, no widening; bytes past `bytes` read as 0.
  static void load_bytes_biased(const uint8_t* p, int bytes, U16* lo, U16* hi) {
    const __m256i w = _mm256_xor_si256(load_bytes32(p, bytes), _mm256_set1_epi8(-128));
    *lo = _mm256_and_si256(w, _mm256_set1_epi16(0x00FF));
    *hi = _mm256_srli_epi16(w, 8);
  }
  /// The wide int8 sum's rows (aggregate-wide.h), as whole biased words: `bytes` (<= 4 * kLanes = 32) int8
  /// at p XOR 0x80, so word i is (element 2i + 128) + 256 * (element 2i + 1 + 128); bytes past `bytes` read
  /// as 0x80 (lanes a tile never stores). One load and one operation; the split into even / odd elements is
  /// left to the sums (high_bytes16, low_bytes16).
  static constexpr bool kWideSums = true;
  static U16 load_words_biased(const uint8_t* p, int bytes) {
    return _mm256_xor_si256(load_bytes32(p, bytes), _mm256_set1_epi8(-128));
  }
  /// The high byte of each word (the odd element + 128).
  static U16 high_bytes16(U16 w) { return _mm256_srli_epi16(w, 8); }
  /// The sum of the low bytes, from the wrapping sum of the words and the (exact) sum of the high bytes:
  /// total - 256 * high modulo 2^16, exact while the low bytes' sum is below 2^16.
  static U16 low_bytes16(U16 total, U16 high) { return _mm256_sub_epi16(total, _mm256_slli_epi16(high, 8)); }
  /// Sums of the even / odd elements of a tile of 4 * kLanes int8 columns (words, as high_bytes16 and
  /// low_bytes16 leave them) as int32 lanes in "unpacked" order: out[0] / out[1] hold the even elements
  /// 16j + 0, 2, 4, 6 / 16j + 8, .., 14 of each 128-bit lane j, out[2] / out[3] the odd ones. Four unpacks,
  /// where widen16_pairs takes two extracts and four widenings; store_s8_unpacked_tile writes the order back.
  static void widen16_unpacked(U16 even, U16 odd, I32* out) {
    const __m256i z = _mm256_setzero_si256();
    out[0] = _mm256_unpacklo_epi16(even, z);
    out[1] = _mm256_unpackhi_epi16(even, z);
    out[2] = _mm256_unpacklo_epi16(odd, z);
    out[3] = _mm256_unpackhi_epi16(odd, z);
  }
  /// store_s8_pair_tile for widen16_unpacked's order (lanes NOT yet clamped): the packs leave each 128-bit
  /// lane j as the even elements of 16j .. 16j + 15, then the odd ones, so one in-lane byte shuffle puts the
  /// lane in element order (no cross-lane permute).
  static void store_s8_unpacked_tile(uint8_t* p, I32 e0, I32 e1, I32 o0, I32 o1, int8_t lo, int n) {
    const __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(e0, e1), _mm256_packs_epi32(o0, o1));
    const __m256i ordered = _mm256_max_epi8(
        _mm256_shuffle_epi8(packed, _mm256_broadcastsi128_si256(
                                        _mm_setr_epi8(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15))),
        _mm256_set1_epi8(lo));
    if (n == 4 * kLanes) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), ordered);
    } else {
      alignas(32) uint8_t buffer[32];
      _mm256_store_si256(reinterpret_cast<__m256i*>(buffer), ordered);
      std::memcpy(p, buffer, static_cast<size_t>(n));
    }
  }
  /// The wide int4 sum's rows (aggregate-wide4.h), as biased nibble pairs in words: `bytes` (<= 2 * kLanes
  /// = 16) packed bytes at p, each zero-extended to a word and XORed with 0x88, so word i is (element 2i + 8)
  /// + 16 * (element 2i + 1 + 8), in [0, 255]; bytes past `bytes` read as 0x88 (lanes a tile never stores).
  static U16 load_nibble_words_biased(const uint8_t* p, int bytes) {
    return _mm256_xor_si256(_mm256_cvtepu8_epi16(load_bytes16(p, bytes)), _mm256_set1_epi16(0x88));
  }
  /// The high nibble of each word (the odd element + 8).
  static U16 high_nibbles16(U16 w) { return _mm256_srli_epi16(w, 4); }
  /// The sum of the low nibbles: total - 16 * high (exact while total is below 2^16).
  static U16 low_nibbles16(U16 total, U16 high) {
    return _mm256_sub_epi16(total, _mm256_slli_epi16(high, 4));
  }
  /// Lanes NOT yet clamped, in widen16_unpacked's order (as Avx512::store_s4_unpacked_tile): writes
  /// elements [0, n) (n <= 4 * kLanes), clamped to [lo, 7], as (n + 1) / 2 packed bytes; an odd n's pad
  /// nibble is 0.
  static void store_s4_unpacked_tile(uint8_t* p, I32 e0, I32 e1, I32 o0, I32 o1, int8_t lo, int n) {
    const __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(e0, e1), _mm256_packs_epi32(o0, o1));
    const __m256i clamped =
        _mm256_min_epi8(_mm256_max_epi8(packed, _mm256_set1_epi8(lo)), _mm256_set1_epi8(7));
    const __m256i odd_high = _mm256_slli_epi16(_mm256_bsrli_epi128(clamped, 8), 4);
    const __m256i pairs =
        _mm256_or_si256(_mm256_and_si256(clamped, _mm256_set1_epi8(0x0F)),
                        _mm256_and_si256(odd_high, _mm256_set1_epi8(static_cast<char>(0xF0))));
    // Lane j's bytes 0..7 are the pairs 8j .. 8j + 7: the low quadwords of the two lanes, in order.
    const __m128i bytes = _mm256_castsi256_si128(_mm256_permute4x64_epi64(pairs, 0x08));
    if (n == 4 * kLanes) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p), bytes);
      return;
    }
    const int count = (n + 1) / 2;
    alignas(16) uint8_t buffer[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(buffer), bytes);
    if (n % 2 != 0) buffer[count - 1] = static_cast<uint8_t>(buffer[count - 1] & 0x0F);
    std::memcpy(p, buffer, static_cast<size_t>(count));
  }

  /// The biased nibbles as int32 lanes without interleaving them: out[0] / out[1] = even / odd elements of
  /// the first 2 * kLanes (out[0] lane i is element 2i, out[1] lane i element 2i + 1), out[2] / out[3] the
  /// same for the next 2 * kLanes; store_s8_interleaved / store_s4_interleaved write that order back.
  /// widen16_pairs' out[0] and out[1] only: all a tile of at most 2 * kLanes elements uses.
  static void widen16_pairs_low(U16 even, U16 odd, I32* out) {
    out[0] = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(even));
    out[1] = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(odd));
  }
  static void widen16_pairs(U16 even, U16 odd, I32* out) {
    out[0] = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(even));
    out[1] = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(odd));
    out[2] = _mm256_cvtepu16_epi32(_mm256_extracti128_si256(even, 1));
    out[3] = _mm256_cvtepu16_epi32(_mm256_extracti128_si256(odd, 1));
  }
  /// Lanes already clamped to int8: writes elements [0, n) (n <= 2 * kLanes), element 2i = even lane i and
  /// 2i + 1 = odd lane i, as bytes (the pair formed in the int32 lane, packed to 16 bits).
  static void store_s8_interleaved(uint8_t* p, I32 even, I32 odd, int n) {
    const __m256i pairs =
        _mm256_or_si256(_mm256_and_si256(even, _mm256_set1_epi32(0xFF)),
                        _mm256_and_si256(_mm256_slli_epi32(odd, 8), _mm256_set1_epi32(0xFF00)));
    const __m128i bytes = _mm_packus_epi32(_mm256_castsi256_si128(pairs), _mm256_extracti128_si256(pairs, 1));
    if (n == 2 * kLanes) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p), bytes);
    } else {
      alignas(16) uint8_t buffer[16];
      _mm_store_si128(reinterpret_cast<__m128i*>(buffer), bytes);
      std::memcpy(p, buffer, static_cast<size_t>(n));
    }
  }
  /// A whole pair-order tile of requantized int32 lanes, NOT yet clamped (e0 / o0: even / odd elements of
  /// the first 2 * kLanes, e1 / o1 of the next): writes elements [0, n) (n <= 4 * kLanes) as bytes clamped
  /// to [lo, 127], as Avx512::store_s8_pair_tile (saturating packs, an in-lane byte shuffle, a qword
  /// permute, a byte max).
  static void store_s8_pair_tile(uint8_t* p, I32 e0, I32 o0, I32 e1, I32 o1, int8_t lo, int n) {
    // Lane j of the packs: elements 8j, 8j + 2, .., 8j + 6, 16 + 8j, .., 16 + 8j + 6, then the odd ones.
    const __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(e0, e1), _mm256_packs_epi32(o0, o1));
    const __m256i in_lane =
        _mm256_shuffle_epi8(packed, _mm256_setr_epi8(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15, 0,
                                                     8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15));
    // Qwords: elements 0..7, 16..23, 8..15, 24..31.
    const __m256i ordered = _mm256_max_epi8(_mm256_permute4x64_epi64(in_lane, 0xD8), _mm256_set1_epi8(lo));
    if (n == 4 * kLanes) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), ordered);
    } else {
      alignas(32) uint8_t buffer[32];
      _mm256_store_si256(reinterpret_cast<__m256i*>(buffer), ordered);
      std::memcpy(p, buffer, static_cast<size_t>(n));
    }
  }
  /// Lanes already clamped to int4: writes elements [0, n) (n <= 2 * kLanes) as packed nibbles, element
  /// 2i = even lane i, 2i + 1 = odd lane i: byte i is (even_i & 0xF) | (odd_i & 0xF) << 4.
  static void store_s4_interleaved(uint8_t* p, I32 even, I32 odd, int n) {
    const __m256i pairs =
        _mm256_or_si256(_mm256_and_si256(even, _mm256_set1_epi32(0x0F)),
                        _mm256_and_si256(_mm256_slli_epi32(odd, 4), _mm256_set1_epi32(0xF0)));
    const __m128i words = _mm_packus_epi32(_mm256_castsi256_si128(pairs), _mm256_extracti128_si256(pairs, 1));
    store_nibbles<2 * kLanes>(p, static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_packus_epi16(words, words))), n);
  }

  static I64 widen_lo(I32 v) { return _mm256_cvtepi32_epi64(_mm256_castsi256_si128(v)); }
  static I64 widen_hi(I32 v) { return _mm256_cvtepi32_epi64(_mm256_extracti128_si256(v, 1)); }
  /// Low 32 bits of every int64 lane, lo's lanes first.
  static I32 narrow(I64 lo, I64 hi) {
    const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    return _mm256_permute2x128_si256(_mm256_permutevar8x32_epi32(lo, even),
                                     _mm256_permutevar8x32_epi32(hi, even), 0x20);
  }
  static I64 set1_64(int64_t v) { return _mm256_set1_epi64x(v); }
  /// The int32 lanes as the low dwords of two int64 vectors (high dwords unspecified), for lane-wise
  /// int64 work that reads only the low dwords; join64 puts them back. Even / odd dwords: no permute.
  static void split64(I32 v, I64* a, I64* b) {
    *a = v;
    *b = _mm256_srli_epi64(v, 32);
  }
  /// Low dwords of a and b to the lanes split64 took them from.
  static I32 join64(I64 a, I64 b) { return _mm256_blend_epi32(a, _mm256_slli_epi64(b, 32), 0xAA); }
  /// High dwords of a and b to the lanes split64 took a's and b's low dwords from.
  static I32 join_high64(I64 a, I64 b) { return _mm256_blend_epi32(_mm256_srli_epi64(a, 32), b, 0xAA); }
  /// Lanes already clamped to int4, even channels in `even` (lane i: channel 2i) and odd ones in `odd`:
  /// writes channels [0, n) (n <= 8) as packed nibbles, (n + 1) / 2 bytes at p (an odd n's pad nibble is 0).
  /// Byte i is (even_i & 0xF) | (odd_i & 0xF) << 4, formed in the int64 lanes and gathered by one shuffle.
  static void store_s4_pairs(uint8_t* p, I64 even, I64 odd, int n) {
    const __m256i bytes =
        _mm256_or_si256(_mm256_and_si256(even, _mm256_set1_epi64x(0x0F)),
                        _mm256_and_si256(_mm256_slli_epi64(odd, 4), _mm256_set1_epi64x(0xF0)));
    // Bytes 0 and 8 of each 128-bit half to the half's bytes 0 and 1.
    const __m256i gathered = _mm256_shuffle_epi8(
        bytes, _mm256_setr_epi8(0, 8, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 8, -1, -1,
                                -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
    const uint32_t four = static_cast<uint32_t>(_mm256_extract_epi16(gathered, 0)) |
                          static_cast<uint32_t>(_mm256_extract_epi16(gathered, 8)) << 16;
    store_nibbles<kLanes>(p, four, n);
  }
  static I64 add64(I64 a, I64 b) { return _mm256_add_epi64(a, b); }
  static I64 and64(I64 a, I64 b) { return _mm256_and_si256(a, b); }
  static I64 mul_lo32(I64 a, I64 b) { return _mm256_mul_epi32(a, b); }
  static I64 mulu_lo32(I64 a, I64 b) { return _mm256_mul_epu32(a, b); }
  static I64 shl32(I64 a) { return _mm256_slli_epi64(a, 32); }
  static I64 shr32(I64 a) { return _mm256_srli_epi64(a, 32); }
  /// AVX2 has no 64-bit arithmetic shift: floor(a / 2^s) = ~((~a) >>> s) for negative a.
  static I64 srai64(I64 a, int s) {
    const __m256i sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), a);
    return _mm256_xor_si256(_mm256_srl_epi64(_mm256_xor_si256(a, sign), _mm_cvtsi32_si128(s)), sign);
  }
  static I64 min64(I64 a, I64 b) { return _mm256_blendv_epi8(a, b, _mm256_cmpgt_epi64(a, b)); }
  static I64 max64(I64 a, I64 b) { return _mm256_blendv_epi8(b, a, _mm256_cmpgt_epi64(a, b)); }

  // ---- GEMM: 16 int8 per step as int16 lanes, vpmaddwd (exact: no saturation, unlike vpmaddubsw) ------
  using X = __m256i;
  using W = __m256i;
  using Acc = __m256i;
  static constexpr int kStep = 16;
  static constexpr int32_t kXOffset = 0;  // signed operands: the correction is zx * sum(w)

  static Acc acc_zero() { return _mm256_setzero_si256(); }
  static X load_x_s8(const uint8_t* p, int n) { return _mm256_cvtepi8_epi16(load_bytes16(p, n)); }
  static X load_x_s4(const uint8_t* p, int n) {
    return _mm256_cvtepi8_epi16(
        unpack_nibbles(_mm_cvtsi64_si128(static_cast<long long>(load_u64(p, (n + 1) / 2)))));
  }
  static W load_w_s8(const uint8_t* p, int n) { return _mm256_cvtepi8_epi16(load_bytes16(p, n)); }
  /// n (<= 16) int4 weights from element `index` of a contiguously packed matrix (may start mid-byte);
  /// lanes >= n are zero so padded activations contribute nothing.
  static W load_w_s4(const uint8_t* base, uint64_t index, int n) {
    const uint64_t packed = load_int4_run_u64(base, index, n);
    const __m256i w = _mm256_cvtepi8_epi16(unpack_nibbles(_mm_cvtsi64_si128(static_cast<long long>(packed))));
    if (n == kStep) return w;
    alignas(32) static constexpr int16_t kOnes[32] = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                                      -1, -1, -1, -1, -1, 0,  0,  0,  0,  0,  0,
                                                      0,  0,  0,  0,  0,  0,  0,  0,  0,  0};
    return _mm256_and_si256(w, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kOnes + 16 - n)));
  }
  static Acc dot(Acc acc, X x, W w) { return _mm256_add_epi32(acc, _mm256_madd_epi16(x, w)); }
  static Acc wsum(Acc acc, W w) { return _mm256_add_epi32(acc, _mm256_madd_epi16(w, _mm256_set1_epi16(1))); }
  // ---- Input quantization (quantize-body.h): float lanes -----------------------------------------------
  using F32 = __m256;
  /// n (<= kLanes) floats, the other lanes 0.
  static F32 set1_f32(float s) { return _mm256_set1_ps(s); }
  static F32 load_f32(const float* p, int n) {
    if (n == kLanes) return _mm256_loadu_ps(p);
    alignas(32) static constexpr int32_t kMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_maskload_ps(p, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMask + 8 - n)));
  }
  static bool any_nan(F32 v) { return _mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)) != 0; }
  // ---- FP32 aggregation (f32-aggregate-body.h): IEEE operations, lane by lane -------------------------
  static F32 add_f32(F32 a, F32 b) { return _mm256_add_ps(a, b); }
  static F32 mul_f32(F32 a, F32 b) { return _mm256_mul_ps(a, b); }
  static F32 div_f32(F32 a, F32 b) { return _mm256_div_ps(a, b); }
  /// a > b ? a : b per lane (b when either is NaN, or for two zeros): vmaxps's own definition.
  static F32 select_gt_f32(F32 a, F32 b) { return _mm256_max_ps(a, b); }
  /// Writes the first n (<= kLanes) lanes only.
  static void store_f32(float* p, F32 v, int n) {
    if (n == kLanes) return _mm256_storeu_ps(p, v);
    alignas(32) static constexpr int32_t kMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    _mm256_maskstore_ps(p, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMask + 8 - n)), v);
  }
  /// No several-rows-per-vector int4 quantization (quantize-body.h): 8 lanes hold one short row anyway.
  static constexpr bool kRowsPerVector = false;
  /// round_half_away(clamp(x / scale, -1e6, 1e6)) for non-NaN lanes (proof in quantize-body.h).
  static I32 round_quotient(F32 x, F32 scale) {
    __m256 v = _mm256_div_ps(x, scale);
    v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-1.0e6f)), _mm256_set1_ps(1.0e6f));
    const __m256i t = _mm256_cvttps_epi32(v);
    const __m256 frac = _mm256_sub_ps(v, _mm256_cvtepi32_ps(t));
    // All-ones lanes read -1: t - up + down.
    const __m256i up = _mm256_castps_si256(_mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ));
    const __m256i down = _mm256_castps_si256(_mm256_cmp_ps(frac, _mm256_set1_ps(-0.5f), _CMP_LE_OQ));
    return _mm256_add_epi32(_mm256_sub_epi32(t, up), down);
  }
  static I32 clamp32(I32 v, int32_t lo, int32_t hi) {
    return _mm256_min_epi32(_mm256_max_epi32(v, _mm256_set1_epi32(lo)), _mm256_set1_epi32(hi));
  }
  /// The float just below 0.5 (0.5 - 2^-25): trunc(v + copysign(kBelowHalf, v)) rounds half away from zero.
  static constexpr float kBelowHalf = 0x1.fffffep-2f;
  /// zero_point + round_half_away(clamp(x / divisor, lo, hi)), a NaN quotient read as 0; lo, hi integral
  /// (proof of equality with quantize_float in quantize-body.h).
  static I32 quantize_lanes(F32 x, F32 divisor, F32 lo, F32 hi, I32 zero_point) {
    __m256 v = _mm256_div_ps(x, divisor);
    v = _mm256_and_ps(v, _mm256_cmp_ps(v, v, _CMP_ORD_Q));
    v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
    const __m256 half = _mm256_or_ps(_mm256_and_ps(v, _mm256_set1_ps(-0.0f)), _mm256_set1_ps(kBelowHalf));
    return _mm256_add_epi32(_mm256_cvttps_epi32(_mm256_add_ps(v, half)), zero_point);
  }

  // ---- Dense with channels in lanes (dense-body.h): weights packed [k / kGroup][channel][kGroup] -------
  using PackedW = int16_t;           ///< vpmaddwd operands are int16 pairs
  static constexpr int kGroup = 2;   ///< k per 32-bit lane group
  static constexpr int kXBytes = 2;  ///< bytes of one activation in an X vector (int16)
  /// 2 activations (int16) broadcast to every lane, times the 8 channels' 2 weights each.
  static Acc dot_bcast(Acc acc, const uint8_t* x, Acc w) {
    int32_t group;
    std::memcpy(&group, x, sizeof group);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_set1_epi32(group), w));
  }
  static Acc load_acc(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
  static void store_acc(void* p, Acc v) { _mm256_storeu_si256(static_cast<__m256i*>(p), v); }
  static void store_x(uint8_t* p, X v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static I32 load_i32(const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  /// n (1..kLanes) int32 from p, the other lanes 0; reads only n (a masked load).
  static I32 load_i32_partial(const int32_t* p, int n) {
    if (n == kLanes) return load_i32(p);
    alignas(32) static constexpr int32_t kMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_maskload_epi32(p, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMask + 8 - n)));
  }
  /// Lane l = v[idx[l]], idx in [0, kLanes).
  static I32 permute(I32 v, I32 idx) { return _mm256_permutevar8x32_epi32(v, idx); }
  /// GAT's softmax reciprocal per lane, as Avx512::softmax_reciprocal; the uint32 result is converted from
  /// q - 2^31 (AVX2 converts to signed int32 only) and shifted back.
  static I32 softmax_reciprocal(I32 sums) {
    auto quarter = [](__m128i s) {
      const __m256d one = _mm256_set1_pd(1.0), zero = _mm256_setzero_pd();
      const __m256d sd = _mm256_cvtepi32_pd(s);
      const __m256d num = _mm256_add_pd(_mm256_cvtepi32_pd(_mm_srai_epi32(s, 1)), _mm256_set1_pd(140737488355328.0));
      __m256d q = _mm256_round_pd(_mm256_div_pd(num, sd), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
      const __m256d r = _mm256_sub_pd(num, _mm256_mul_pd(q, sd));
      q = _mm256_sub_pd(q, _mm256_and_pd(_mm256_cmp_pd(r, zero, _CMP_LT_OQ), one));
      q = _mm256_add_pd(q, _mm256_and_pd(_mm256_cmp_pd(r, sd, _CMP_GE_OQ), one));
      q = _mm256_and_pd(_mm256_min_pd(q, _mm256_set1_pd(4294967295.0)), _mm256_cmp_pd(sd, zero, _CMP_GT_OQ));
      return _mm_xor_si128(_mm256_cvttpd_epi32(_mm256_sub_pd(q, _mm256_set1_pd(2147483648.0))),
                           _mm_set1_epi32(INT32_MIN));
    };
    return _mm256_inserti128_si256(_mm256_castsi128_si256(quarter(_mm256_castsi256_si128(sums))),
                                   quarter(_mm256_extracti128_si256(sums, 1)), 1);
  }
  /// Lanes [0, n) = base[idx[l]], the others 0; reads only those n elements (a masked gather).
  static I32 gather_i32(const int32_t* base, I32 idx, int n) {
    alignas(32) static constexpr int32_t kMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    const __m256i mask = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMask + 8 - (n < kLanes ? n : kLanes)));
    return _mm256_mask_i32gather_epi32(_mm256_setzero_si256(), base, idx, mask, 4);
  }
  /// Two vectors of consecutive elements (a: 0..7, b: 8..15) in pair order (widen16_pairs): even = elements
  /// 0, 2, .., 14 and odd = 1, 3, .., 15. shufps picks them per 128-bit half, vpermq orders the halves.
  static void unzip(I32 a, I32 b, I32* even, I32* odd) {
    const __m256 fa = _mm256_castsi256_ps(a), fb = _mm256_castsi256_ps(b);
    *even = _mm256_permute4x64_epi64(_mm256_castps_si256(_mm256_shuffle_ps(fa, fb, _MM_SHUFFLE(2, 0, 2, 0))),
                                     _MM_SHUFFLE(3, 1, 2, 0));
    *odd = _mm256_permute4x64_epi64(_mm256_castps_si256(_mm256_shuffle_ps(fa, fb, _MM_SHUFFLE(3, 1, 3, 1))),
                                    _MM_SHUFFLE(3, 1, 2, 0));
  }
  static I64 load_i64(const int64_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  /// Variable arithmetic shift of each int64 lane (AVX2 has the logical one only, see srai64).
  /// Variable left shift of each int64 lane (wrapping).
  static I64 sllv64(I64 a, I64 s) { return _mm256_sllv_epi64(a, s); }
  static I64 srav64(I64 a, I64 s) {
    const __m256i sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), a);
    return _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(a, sign), s), sign);
  }
  /// Even dwords from a, odd dwords from b.
  static I32 blend_odd(I32 a, I32 b) { return _mm256_blend_epi32(a, b, 0xAA); }

  // ---- Dense of sparse float rows (sparse-dense-body.h): W^T as int16 pairs [k / 2][channel][k % 2] ----
  static constexpr int kSparseGroup = 2;
  using SWord = __m256i;
  /// One 32-bit word of two int16 factors (d_k, d_k+1), broadcast to every lane.
  static SWord sparse_word(int32_t word) { return _mm256_set1_epi32(word); }
  /// acc + (w[2c] * d_k + w[2c + 1] * d_k+1) per channel lane c: vpmaddwd, exact in int32.
  static I32 sparse_mac(I32 acc, SWord word, const int16_t* w) {
    return _mm256_add_epi32(acc,
                            _mm256_madd_epi16(word, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w))));
  }
  /// Per lane, the term of a non-zero in column k with factor d (|d| <= 255): the int16-element offset
  /// (k / 2) * stride of its column pair's weights and the word holding d in k's half of the pair (the other
  /// half 0), so the pair's multiply adds d * w_k alone.
  static void sparse_terms(I32 k, I32 d, I32 stride, I32* offset, I32* word) {
    *offset = _mm256_mullo_epi32(_mm256_srli_epi32(k, 1), stride);
    *word = _mm256_sllv_epi32(_mm256_and_si256(d, _mm256_set1_epi32(0xFFFF)),
                              _mm256_slli_epi32(_mm256_and_si256(k, _mm256_set1_epi32(1)), 4));
  }
  static int32_t hsum(Acc acc) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
  }

  // ---- kNN distances (knn-body.h): candidate nodes in lanes, each lane a word of 4 int8 features -------
  /// vpmaddwd on the even and odd bytes sign-extended to int16 (vpmaddubsw would saturate): exact, no offset.
  static constexpr int32_t kKnnOffset = 0;
  static constexpr int kKnnQueryWords = 2;   ///< the query's features 0, 2 and 1, 3 as int16 pairs
  static constexpr int kKnnTileVectors = 2;  ///< 8 accumulators for 4 rows, 4 split candidate vectors
  struct KnnX {
    __m256i even, odd;
  };
  using KnnW = KnnX;
  using KnnAcc = __m256i;
  static void knn_query(uint32_t group, uint32_t* words) {
    auto feature = [group](int f) {
      return static_cast<uint32_t>(static_cast<uint16_t>(
          static_cast<int16_t>(static_cast<int8_t>(static_cast<uint8_t>(group >> (8 * f))))));
    };
    words[0] = feature(0) | feature(2) << 16;
    words[1] = feature(1) | feature(3) << 16;
  }
  static KnnX knn_bcast(const uint32_t* words) {
    return KnnX{_mm256_set1_epi32(static_cast<int32_t>(words[0])),
                _mm256_set1_epi32(static_cast<int32_t>(words[1]))};
  }
  /// 8 candidates' words: the low byte of each int16 lane (features 0, 2) and the high one (1, 3),
  /// sign-extended.
  static KnnW knn_load(const uint32_t* p) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return KnnW{_mm256_srai_epi16(_mm256_slli_epi16(v, 8), 8), _mm256_srai_epi16(v, 8)};
  }
  static KnnAcc knn_acc_zero() { return _mm256_setzero_si256(); }
  /// acc + sum_f x_f w_lane,f: each vpmaddwd pair is at most 2 * 128^2 = 2^15.
  static KnnAcc knn_dot(KnnAcc acc, KnnX x, KnnW w) {
    return _mm256_add_epi32(_mm256_add_epi32(acc, _mm256_madd_epi16(x.even, w.even)),
                            _mm256_madd_epi16(x.odd, w.odd));
  }
  static KnnAcc knn_square(KnnAcc acc, KnnW w) { return knn_dot(acc, w, w); }
  static I32 knn_finish(KnnAcc acc) { return acc; }
  /// Bit l set where a[l] <= b[l].
  static uint32_t knn_le_mask(I32 a, I32 b) {
    return ~static_cast<uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(a, b)))) & 0xFFu;
  }
  /// The lanes of v set in mask, in lane order, at out[0, popcount(mask)); writes kLanes entries (one lane
  /// permute from a table of the 256 masks).
  static void knn_compress(int32_t* out, I32 v, uint32_t mask) {
    const __m256i index = _mm256_cvtepu8_epi32(
        _mm_loadl_epi64(reinterpret_cast<const __m128i*>(kAvx2CompressIndex.row[mask & 0xFFu].lane)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_permutevar8x32_epi32(v, index));
  }

 private:
  static const __m128i* cast128(const uint8_t* p) { return reinterpret_cast<const __m128i*>(p); }
  /// n (0..8) bytes, zero-extended.
  static uint64_t load_u64(const uint8_t* p, int n) { return load_u64_partial(p, n); }
  static __m128i load_bytes16(const uint8_t* p, int n) {
    if (n == 16) return _mm_loadu_si128(cast128(p));
    alignas(16) uint8_t buffer[16] = {};
    std::memcpy(buffer, p, static_cast<size_t>(n));
    return _mm_load_si128(reinterpret_cast<const __m128i*>(buffer));
  }
  /// n (0..32) bytes, zero past n.
  static __m256i load_bytes32(const uint8_t* p, int n) {
    if (n == 32) return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m128i lo = load_bytes16(p, n < 16 ? n : 16);
    return _mm256_inserti128_si256(_mm256_castsi128_si256(lo),
                                   n > 16 ? load_bytes16(p + 16, n - 16) : _mm_setzero_si128(), 1);
  }
  /// 8 packed bytes (low half) -> 16 sign-extended int8, element 2k from the low nibble of byte k.
  static __m128i unpack_nibbles(__m128i packed) {
    const __m128i words = _mm_cvtepu8_epi16(packed);
    const __m128i pairs = _mm_or_si128(_mm_and_si128(words, _mm_set1_epi16(0x000F)),
                                       _mm_slli_epi16(_mm_and_si128(words, _mm_set1_epi16(0x00F0)), 4));
    // (v ^ 8) - 8 sign-extends a nibble held in a byte.
    return _mm_sub_epi8(_mm_xor_si128(pairs, _mm_set1_epi8(8)), _mm_set1_epi8(8));
  }
};

}  // namespace
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_SIMD_SIMD_AVX2_H_
