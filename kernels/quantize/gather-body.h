// The ONE body of the gather_nonzeros_f32() twins (reference.h), written against a block-mask type M
// (gather-avx2.cc, gather-avx512.cc). Include after the ISA's intrinsics, from a file compiled with its
// flags.
//
// The rows are contiguous, so a tile is scanned as one flat stream of floats in blocks of M::kBlock (64 on
// AVX-512, 32 on AVX2): M::full gives the block's non-zero mask (x != 0: NaN lanes are non-zero, -0.0 is
// zero, as the reference's test) from whole-vector compares, then kUnconditional set bits are extracted
// without a branch (bit scan, store the column and the value, clear the bit; past the count the stores are
// overwritten later or fall in the slack), and only a block with more non-zeros loops on. A block wholly
// inside a row takes this fast path (the inner loop: no row-end test, no masked load, columns in the row's
// own terms); the one block per row that holds a row boundary, and the stream's last, partial block, take a
// scalar loop over their bits that closes the rows they cross. Bag-of-words rows (Cora: 1.3 % non-zeros,
// ~0.8 per 64 floats) rarely loop, so about one data-dependent branch per row remains.
//
// Each fast block prefetches the cache lines kPrefetchBytes ahead into L1: the hardware prefetchers keep
// up with a plain read of the stream but not with this loop's (fewer loads in flight per instruction). The
// prefetches may reach past the tile, into the caller's next rows (the next tile) or past the input's end:
// a prefetch is a hint and never faults.
//
// Measured against the former per-row form (each row's blocks masked at its end, four unconditional
// extractions per 64 floats: ~60 instructions per block and register spills in the loop) on 8-row tiles of
// 1433-wide rows at 1.3 % non-zeros, one thread, AVX-512: 2.2x faster with the tiles in L2 (~200 against
// ~450 us for Cora's 2708 rows), so over an input that comes from L3 or memory the scan is bound by the read
// (docs/runtime.md, "Dense input that is mostly zeros"). The form before that, a compress of values and
// columns per 16 floats, stored two whole vectors per 64 bytes read and ran at ~37 GB/s; a form that skips
// all-zero blocks by a branch mispredicts on every irregular row (~2x slower).
#ifndef QGNN_KERNELS_QUANTIZE_GATHER_BODY_H_
#define QGNN_KERNELS_QUANTIZE_GATHER_BODY_H_

#include <xmmintrin.h>

#include <cstdint>

#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

/// How far ahead the fast blocks prefetch. On 8-row tiles of Cora's 1433-wide rows (input in L3 / memory,
/// one thread, AVX-512, the 2-core Zen 5 machine under load) the scan took 0.64-0.67 of its time without
/// prefetches at 12 KB (every line of the block, to L1), 0.71-0.75 at 8 and 16 KB, 0.88 at 2 KB; into L2
/// only, or every other line, 0.75-0.85.
constexpr int64_t kPrefetchBytes = 12 * 1024;

/// Set bits extracted per fast block before the loop. At Cora's density more than two non-zeros in 64
/// floats is ~5 % of blocks; one extraction was no faster there (the loop then runs for ~20 % of blocks and
/// mispredicts), and two keep tiles up to the probe's 3 % limit mostly off the loop.
constexpr int kUnconditional = 2;

template <class M>
int64_t gather_nonzeros_body(const float* in, int32_t cols, int32_t rows, int64_t max_nnz, int32_t* row_ptr,
                             int32_t* col_idx, float* values) {
  constexpr int32_t kBlock = M::kBlock;
  static_assert(kGatherSlack >= kUnconditional, "unconditional entries are stored past the count");
  static_assert(kBlock <= 64, "one 64-bit mask per block");
  constexpr uint64_t kLastBit = uint64_t{1} << (kBlock - 1);
  const int64_t total = int64_t{rows} * cols;
  int64_t n = 0;
  int64_t f = 0;        // the stream position of the next block's first float
  int64_t base = 0;     // ... of row `row`'s first float
  int64_t next = cols;  // ... of the next row's first float
  int32_t row = 0;
  row_ptr[0] = 0;
  while (f < total) {
    // Fast blocks: wholly inside row `row`, ending before its last float (a block ending on the boundary
    // is the boundary block below, which closes the row).
    int32_t col = static_cast<int32_t>(f - base);
    const float* x = in + f;
    for (const int32_t stop = cols - kBlock; col < stop; col += kBlock, x += kBlock) {
      for (int32_t line = 0; line < kBlock; line += 16) {
        // By address (no pointer is formed past the input).
        _mm_prefetch(reinterpret_cast<const char*>(reinterpret_cast<uintptr_t>(x + line) + kPrefetchBytes),
                     _MM_HINT_T0);
      }
      uint64_t bits = M::full(x);
      const int64_t count = __builtin_popcountll(bits);
      // Checked before any store: n + count <= max_nnz keeps every store below max_nnz + kUnconditional.
      if (n + count > max_nnz) return -1;
      for (int k = 0; k < kUnconditional; ++k) {
        // An empty mask scans to the block's last float, inside the row (col + kBlock < cols).
        const int c = static_cast<int>(__builtin_ctzll(bits | kLastBit));
        col_idx[n + k] = col + c;
        values[n + k] = x[c];
        bits &= bits - 1;
      }
      for (int64_t k = kUnconditional; bits != 0; ++k) {
        const int c = static_cast<int>(__builtin_ctzll(bits));
        col_idx[n + k] = col + c;
        values[n + k] = x[c];
        bits &= bits - 1;
      }
      n += count;
    }
    // The block holding the boundary (boundaries, for rows narrower than a block), or the stream's last.
    f = base + col;
    const int64_t end = total - f < kBlock ? total : f + kBlock;
    uint64_t bits = end - f == kBlock ? M::full(in + f) : M::partial(in + f, static_cast<int32_t>(end - f));
    if (n + __builtin_popcountll(bits) > max_nnz) return -1;
    for (; bits != 0; bits &= bits - 1) {
      const int64_t pos = f + __builtin_ctzll(bits);
      for (; pos >= next; next += cols) {
        row_ptr[++row] = static_cast<int32_t>(n);
        base = next;
      }
      col_idx[n] = static_cast<int32_t>(pos - base);
      values[n] = in[pos];
      ++n;
    }
    for (; next <= end && row < rows; next += cols) {
      row_ptr[++row] = static_cast<int32_t>(n);
      base = next;
    }
    f = end;
  }
  while (row < rows) row_ptr[++row] = static_cast<int32_t>(n);  // cols == 0: every row is empty
  return n;
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_QUANTIZE_GATHER_BODY_H_
