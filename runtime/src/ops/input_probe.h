// The density probe of a Dense reading dense float features handed in by the caller (RunDenseOnInput and its
// float twin): a tile of input rows that is mostly zeros (bag-of-words handed in dense, as Cora) is gathered
// into a small CSR in the streamed-input scratch and multiplied by the sparse kernel, which touches only the
// non-zeros; a denser tile takes the dense GEMM. A zero contributes nothing either way (it quantizes to the
// zero point exactly), so integer results are the same bytes on both paths.
#ifndef QGNN_RUNTIME_OPS_INPUT_PROBE_H_
#define QGNN_RUNTIME_OPS_INPUT_PROBE_H_

#include <cstddef>
#include <cstdint>

#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace runtime {

/// Which path the probe lets a tile take: kAuto by density (the default), kDense never gathers (the dense
/// GEMM, as before the probe), kSparse gathers every tile whose non-zeros fit the scratch. The interpreter
/// reads QGNN_INPUT_PROBE=auto|dense|sparse at create; tests and benchmarks force a path with it.
enum class InputProbe : uint8_t { kAuto, kDense, kSparse };

/// Parses a QGNN_INPUT_PROBE value (null or empty: kAuto); false for an unknown name.
bool ParseInputProbe(const char* text, InputProbe* out);

/// A tile is gathered when its non-zeros are at most 1 / kProbeDensityDivisor of its elements. Measured on
/// the 2-core Zen 5 development machine, one thread, a 1433 -> 16 Dense (Cora's first layer, 2708 rows): per
/// input element the dense path costs ~0.23 ns (INT8: quantize + GEMM) / ~0.26 ns (FP32, XNNPACK), the sparse
/// path ~0.1 ns for reading and gathering plus ~3 ns (INT8) / ~2 ns (FP32) per non-zero, so the sparse tile
/// wins below ~5 % (INT8) / ~8 % (FP32) non-zeros; 1/32 (3.1 %) leaves a margin for the gather's branch-free
/// stores on wider or less regular rows, and at 50 % / 100 % non-zeros the probe gives up within the first
/// row of a tile (see docs/runtime.md, "Dense input that is mostly zeros").
constexpr int64_t kProbeDensityDivisor = 32;

/// Columns tested for zero at once by the gather; a group holding a non-zero is gathered branch-free (every
/// element's slot written), so the scratch keeps one group of headroom (or the row width, when narrower).
constexpr int32_t kZeroGroup = 16;

/// Bytes of one slot of the streamed-input scratch (`rows` rows of `row_bytes` quantized bytes): the
/// quantized chunk, or for float input at least room to gather a tile of `cols`-wide rows at the auto
/// threshold (narrow inputs, whose quantized chunk is smaller than the CSR of a sparse tile). A multiple
/// of 8.
size_t StreamSlotBytes(int32_t rows, int32_t cols, size_t row_bytes, bool float_input);

/// Rows per block of the float path's probe (ops/float/input_dense_f32.cc): a gathered block is one
/// sparse_dense_f32 call, a run of rejected blocks one XNNPACK call, so blocks are larger than the integer
/// path's kStreamRows chunks, which each go through the GEMM anyway. The gather scratch (StreamSlotBytes
/// with no quantized rows) is then ~23 KB for Cora's 1433 columns.
constexpr int32_t kProbeRowsF32 = 64;

/// After a chunk the probe rejects, this many chunks of the same share take the dense GEMM unprobed: a dense
/// input (50 % non-zeros) paid 20-40 % for probing every chunk on the development machine, while inputs
/// sparse throughout are probed (and gathered) chunk after chunk. Paths never change bytes, only time.
constexpr int32_t kProbeBackoff = 7;

/// A tile's gathered non-zeros: rows [0, rows) of `sparse` (row_ptr, col_idx, values in `scratch`).
struct GatheredTile {
  kernels::SparseRows sparse;
  int32_t rows;
};

/// Gathers rows [0, rows) of `in` (`cols` floats each) into `scratch` (`scratch_bytes`, 4-byte aligned) when
/// they hold at most `max_nnz` non-zeros and those fit the scratch; false (nothing usable written) otherwise,
/// usually within the first row of a dense tile. -0.0 is skipped like 0.0 (it quantizes to the zero point).
bool GatherSparseTile(const float* in, int32_t cols, int32_t rows, int64_t max_nnz, void* scratch,
                      size_t scratch_bytes, GatheredTile* out);

/// max_nnz for a tile of `rows` x `cols` under `probe` (0 for kDense: nothing is gathered).
int64_t ProbeLimit(InputProbe probe, int32_t rows, int32_t cols);

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_OPS_INPUT_PROBE_H_
