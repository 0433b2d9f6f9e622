// The density probe of a Dense reading dense float features handed in by the caller (float models:
// RunInputDenseF32; quantized models with float features: RunDenseOnInput): a tile of input rows that is
// mostly zeros (bag-of-words handed in dense, as Cora) is gathered into a small CSR in the input scratch and
// multiplied by the sparse kernel, which touches only the non-zeros; a denser tile takes the dense GEMM. A
// zero contributes nothing either way (it quantizes to the zero point exactly), so integer results are the
// same bytes on both paths.
//
// Where it runs is measured (docs/runtime.md, "Dense input that is mostly zeros"). With the gather of two
// compresses per 16 floats (~37 GB/s) the int8 dense path (quantize at ~45 GB/s + the VNNI GEMM) was as fast,
// so only the FP32 GEMM and the int4 quantization were probed; the gather by bit scan (now the flat scan of
// kernels/quantize/gather-body.h, with prefetches) reads at a plain read's speed, and int8 input quantization
// is probed too.
#ifndef QGNN_RUNTIME_OPS_INPUT_PROBE_H_
#define QGNN_RUNTIME_OPS_INPUT_PROBE_H_

#include <cstddef>
#include <cstdint>

#include "qgnn/kernels/kernel_table.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace runtime {

/// Which path the probe lets a tile take: kAuto by density (the default), kDense never gathers (the dense
/// GEMM, as before the probe), kSparse gathers every tile whose non-zeros fit the scratch. The interpreter
/// reads QGNN_INPUT_PROBE=auto|dense|sparse at create; tests and benchmarks force a path with it.
enum class InputProbe : uint8_t { kAuto, kDense, kSparse };

/// Parses a QGNN_INPUT_PROBE value (null or empty: kAuto); false for an unknown name.
bool ParseInputProbe(const char* text, InputProbe* out);

/// A tile is gathered when its non-zeros are at most 1 / kProbeDensityDivisor of its elements. From a sweep
/// on the 2-core Zen 5 development machine (Cora's GCN, 2708 x 1433 features at 1-100 % non-zeros, one
/// thread, every tile gathered against none, in-process interleaved invokes): the whole forward with every
/// tile gathered took 0.88 / 0.89 / 0.94 / 1.25 of the dense path's time at 1 / 2 / 3 / 5 % non-zeros (FP32)
/// and 0.82 / 0.94 / 0.98 / 1.16 (int4 input), so both break even between 3 and 5 %: 1/32 (3.1 %) gathers
/// what pays. A denser tile gives up once past the limit: at 50 % / 100 % non-zeros within the first row of
/// an 8-row chunk, within 2-4 rows of a 64-row float block.
constexpr int64_t kProbeDensityDivisor = 32;

/// Whether a quantized model's streamed input is probed: float features (int8 features arrive quantized).
inline bool ProbesQuantizedInput(bool input_int8) { return !input_int8; }

/// Bytes of one slot of the streamed-input scratch (`rows` rows of `row_bytes` quantized bytes): the
/// quantized chunk, or for probed input at least room to gather a tile of `cols`-wide rows at the auto
/// threshold (narrow inputs, whose quantized chunk is smaller than the CSR of a sparse tile). A multiple
/// of 8.
size_t StreamSlotBytes(int32_t rows, int32_t cols, size_t row_bytes, bool probed);

/// Rows per block of the float path's probe (ops/float/input_dense_f32.cc): a gathered block is one
/// sparse_dense_f32 call, a run of rejected blocks one XNNPACK call, so blocks are larger than the integer
/// path's kStreamRows chunks, which each go through the GEMM anyway. The gather scratch (StreamSlotBytes
/// with no quantized rows) is then ~23 KB for Cora's 1433 columns.
constexpr int32_t kProbeRowsF32 = 64;

/// Most rows per probe tile of a quantized model's streamed input (RunDenseOnInput). The tile's gather and
/// sparse_dense call cost a fixed amount each (the row-boundary handling, the requantization constants of
/// the output block, the partial last vector of non-zeros), so a tile holds as many rows as the input
/// scratch slot has room for at the auto threshold: its quantized chunk of kStreamRows rows is the CSR of
/// 31 rows of Cora's 1433 columns at int8 input, 15 at int4. A tile the probe rejects goes through the
/// dense GEMM kStreamRows rows at a time, as before. Interleaved A/B on Cora's INT8 GCN, dense float input,
/// one thread, 8 runs each: conv1 1.07x faster (INT8 model, 31-row tiles) than 8-row tiles.
constexpr int32_t kProbeRowsMax = 32;

/// Rows per probe tile: the most, from `min_rows` up to kProbeRowsMax, whose CSR at the auto threshold fits
/// `slot_bytes` (StreamSlotBytes of `min_rows` rows holds min_rows').
int32_t ProbeTileRows(int32_t cols, size_t slot_bytes, int32_t min_rows);

/// After a tile the probe rejects, this many tiles' rows of the same share (float blocks; quantized models:
/// ProbeTileRows each) take the dense GEMM unprobed, so a dense input pays for one partial read in eight
/// tiles: probing every chunk of a 50 % / 100 %-dense input
/// cost 1.02-1.05 of the dense path in the sweep above, with the back-off the difference was within the
/// noise (0.95-1.01). Inputs sparse throughout are probed (and gathered) chunk after chunk. Paths never
/// change bytes, only time.
constexpr int32_t kProbeBackoff = 7;

/// A tile's gathered non-zeros: rows [0, rows) of `sparse` (row_ptr, col_idx, values in `scratch`).
struct GatheredTile {
  kernels::SparseRows sparse;
  int32_t rows;
};

/// Gathers rows [0, rows) of `in` (`cols` floats each) into `scratch` (`scratch_bytes`, 4-byte aligned) with
/// the table's gather_nonzeros_f32 when they hold at most `max_nnz` non-zeros and those fit the scratch;
/// false (nothing usable written) otherwise. -0.0 is skipped like 0.0 (it quantizes to the zero point).
bool GatherSparseTile(const kernels::KernelTable& kernels, const float* in, int32_t cols, int32_t rows,
                      int64_t max_nnz, void* scratch, size_t scratch_bytes, GatheredTile* out);

/// max_nnz for a tile of `rows` x `cols` under `probe` (0 for kDense: nothing is gathered).
int64_t ProbeLimit(InputProbe probe, int32_t rows, int32_t cols);

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_OPS_INPUT_PROBE_H_
