// Scalar byte helpers shared by the vector-traits headers of every ISA (simd-avx2.h, simd-avx512.h,
// simd-neon.h). Internal linkage on purpose: each ISA-flagged translation unit gets its own copy, so the
// linker can never hand one ISA's code to another (see dispatch/twins.h).
#ifndef QGNN_KERNELS_SIMD_PACKED_BYTES_H_
#define QGNN_KERNELS_SIMD_PACKED_BYTES_H_

#include <cstdint>
#include <cstring>

namespace qgnn {
namespace kernels {
namespace {

/// n (0..8) bytes, zero-extended; reads only those n. Two overlapping fixed-size loads (their common bytes
/// agree, so OR joins them) instead of a variable-length memcpy, which compiles to a library call: an AVX2
/// aggregation of 7-byte int8 rows spent most of its time there.
inline uint64_t load_u64_partial(const uint8_t* p, int n) {
  if (n >= 4) {
    uint32_t first, last;
    std::memcpy(&first, p, sizeof first);
    std::memcpy(&last, p + n - 4, sizeof last);
    return first | (uint64_t{last} << (8 * (n - 4)));
  }
  if (n >= 2) {
    uint16_t first, last;
    std::memcpy(&first, p, sizeof first);
    std::memcpy(&last, p + n - 2, sizeof last);
    return first | (uint64_t{last} << (8 * (n - 2)));
  }
  return n == 1 ? p[0] : 0u;
}

/// The packed bytes of n (<= 16) int4 elements starting at element `index` of a contiguously packed stream
/// (element 2k in the low nibble of byte k), realigned so element `index` is the low nibble of byte 0: when
/// the run starts mid-byte, byte i = high nibble of p[i] | low nibble of p[i + 1] << 4. Bytes past the run
/// are zero (or hold elements beyond n, which callers mask).
inline uint64_t load_int4_run_u64(const uint8_t* base, uint64_t index, int n) {
  const uint8_t* p = base + index / 2;
  if ((index & 1u) == 0) return load_u64_partial(p, (n + 1) / 2);
  const int bytes = n / 2 + 1;
  const uint64_t first = load_u64_partial(p, bytes < 8 ? bytes : 8);
  const uint64_t second = load_u64_partial(p + 1, bytes - 1);
  return ((first >> 4) & 0x0F0F0F0F0F0F0F0Full) | ((second << 4) & 0xF0F0F0F0F0F0F0F0ull);
}

/// Packs the low nibbles of 8 int8 bytes (little-endian in `bytes`) into 4 bytes, element 2i in the low
/// nibble of byte i.
inline uint32_t pack_low_nibbles(uint64_t bytes) {
  uint64_t t = bytes & 0x0F0F0F0F0F0F0F0Full;
  t = (t | (t >> 4)) & 0x00FF00FF00FF00FFull;
  t = (t | (t >> 8)) & 0x0000FFFF0000FFFFull;
  return static_cast<uint32_t>(t | (t >> 16));
}

/// Stores the first n (<= kLanes <= 16) nibbles of `nibbles` (element i in bits 4i..4i+3) as (n + 1) / 2
/// bytes; an odd n's pad nibble is written 0 (int4 rows end on a byte boundary with a zero pad). A whole
/// vector is one fixed-size store.
template <int kLanes>
inline void store_nibbles(uint8_t* p, uint64_t nibbles, int n) {
  static_assert(kLanes % 2 == 0 && kLanes <= 16, "whole bytes of a 64-bit word");
  if (n == kLanes) {
    std::memcpy(p, &nibbles, kLanes / 2);  // little-endian: element 2i in byte i
    return;
  }
  nibbles &= (uint64_t{1} << (4 * n)) - 1u;
  std::memcpy(p, &nibbles, static_cast<size_t>(n + 1) / 2);
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_SIMD_PACKED_BYTES_H_
