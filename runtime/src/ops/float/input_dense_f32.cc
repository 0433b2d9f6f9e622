// The float Dense reading the model input (float_ops.h, RunInputDenseF32): sparse features through
// sparse_dense_f32, dense features probed block by block (input_probe.h).
#include "../input_probe.h"
#include "float_ops.h"

namespace qgnn {
namespace runtime {

void RunInputDenseF32(const EvalContext& ctx, const DenseParams& dense, const float* in, float* out,
                      int32_t rows) {
  const void* packed = ctx.sparse_packed_weights != nullptr ? ctx.sparse_packed_weights[dense.id] : nullptr;
  // float_input_sparse models only (the Dense is plain: no BatchNorm, no extra term), on kernels that have
  // the float sparse kernel; the packed operand exists exactly then.
  const bool sparse_ok = packed != nullptr && ctx.kernels->sparse_dense_f32 != nullptr;
  const int32_t cols = dense.in_features;
  const int32_t out_cols = dense.out_features;
  if (sparse_ok && ctx.sparse_input != nullptr) {
    ParallelFor(*ctx.pool, rows, [&](int32_t begin, int32_t end) {
      ctx.kernels->sparse_dense_f32(*ctx.sparse_input, cols, dense.weight_f, packed, dense.bias_f, dense.relu,
                                    out, out_cols, begin, end);
    });
    return;
  }
  if (!sparse_ok || ctx.input_probe == InputProbe::kDense || ctx.input_scratch == kNoTensor) {
    RunDenseF32(ctx, dense, in, nullptr, out, rows);
    return;
  }
  void* scratch = ctx.Data(ctx.input_scratch);
  const size_t scratch_bytes = StreamSlotBytes(kProbeRowsF32, cols, 0, true);
  const size_t in_row = static_cast<size_t>(cols);
  const size_t out_row = static_cast<size_t>(out_cols);
  // Consecutive blocks the probe rejects (or skips) form one run for the dense GEMM (XNNPACK), which may
  // over-read into the rows after the run.
  int32_t run_begin = 0;
  const auto flush = [&](int32_t run_end) {
    if (run_end <= run_begin) return;
    const size_t slack = static_cast<size_t>(rows - run_end) * in_row * sizeof(float);
    RunDenseF32(ctx, dense, in + static_cast<size_t>(run_begin) * in_row, nullptr,
                out + static_cast<size_t>(run_begin) * out_row, run_end - run_begin, nullptr, 0, slack);
  };
  int32_t skip = 0;  // blocks left before the next probe (kProbeBackoff)
  for (int32_t row = 0; row < rows; row += kProbeRowsF32) {
    const int32_t n = rows - row < kProbeRowsF32 ? rows - row : kProbeRowsF32;
    if (skip > 0) {
      --skip;
      continue;
    }
    GatheredTile tile;
    if (!GatherSparseTile(*ctx.kernels, in + static_cast<size_t>(row) * in_row, cols, n,
                          ProbeLimit(ctx.input_probe, n, cols), scratch, scratch_bytes, &tile)) {
      skip = ctx.input_probe == InputProbe::kAuto ? kProbeBackoff : 0;
      continue;
    }
    flush(row);
    float* block_out = out + static_cast<size_t>(row) * out_row;
    ParallelFor(*ctx.pool, n, [&](int32_t begin, int32_t end) {
      ctx.kernels->sparse_dense_f32(tile.sparse, cols, dense.weight_f, packed, dense.bias_f, dense.relu,
                                    block_out, out_cols, begin, end);
    });
    run_begin = row + n;
  }
  flush(rows);
}

}  // namespace runtime
}  // namespace qgnn
