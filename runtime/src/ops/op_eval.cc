// Integer eval helpers shared by the layer ops: activation views of planned tensors and the row-parallel
// wrappers around the interpreter's kernel table.
#include "input_probe.h"
#include "op.h"
#include "qgnn/kernels/numerics.h"

namespace qgnn {
namespace runtime {

kernels::QActivationConst ConstActivation(const EvalContext& ctx, int32_t tensor, const QParams& q) {
  return kernels::QActivationConst{ctx.Data(tensor), q.bits, q.zero_point};
}

kernels::QActivation MutableActivation(const EvalContext& ctx, int32_t tensor, const QParams& q) {
  return kernels::QActivation{ctx.Data(tensor), q.bits, q.zero_point};
}

namespace {

// The operand of `dense` with this interpreter's packed copy of its weights, when it has one.
kernels::QWeights PackedWeights(const EvalContext& ctx, const DenseParams& dense) {
  kernels::QWeights weights = dense.weights;
  weights.packed = ctx.packed_weights != nullptr ? ctx.packed_weights[dense.id] : nullptr;
  return weights;
}

}  // namespace

void RunDense(const EvalContext& ctx, const DenseParams& dense, kernels::QActivationConst in,
              kernels::QActivationConst extra_in, kernels::QActivation out, int32_t rows) {
  kernels::DenseExtraInput extra{};
  const kernels::DenseExtraInput* extra_ptr = nullptr;
  if (dense.extra != nullptr) {
    const DenseParams& e = *dense.extra;
    extra = kernels::DenseExtraInput{extra_in, e.in_features, PackedWeights(ctx, e), e.bias_q, e.rq};
    extra_ptr = &extra;
  }
  const kernels::QWeights weights = PackedWeights(ctx, dense);
  ParallelFor(*ctx.pool, rows, [&](int32_t begin, int32_t end) {
    ctx.kernels->dense(in, dense.in_features, weights, dense.bias_q, dense.rq, extra_ptr, dense.relu, out,
                       dense.out_features, begin, end);
  });
}

namespace {

// Calls fn(chunk, begin, end) for each slot of the streamed-input scratch (one contiguous share of the rows
// per slot, up to one slot per thread); the slot's chunks reuse its part of the scratch, `slot_bytes` each.
template <typename SlotFn>
void ForEachStreamSlot(const EvalContext& ctx, int32_t rows, size_t slot_bytes, SlotFn&& fn) {
  uint8_t* scratch = static_cast<uint8_t*>(ctx.Data(ctx.input_scratch));
  const int32_t slots = static_cast<int32_t>(ctx.pool->threads()) < kStreamSlots
                            ? static_cast<int32_t>(ctx.pool->threads())
                            : kStreamSlots;
  ParallelFor(*ctx.pool, slots, [&](int32_t slot_begin, int32_t slot_end) {
    for (int32_t slot = slot_begin; slot < slot_end; ++slot) {
      const int32_t begin = static_cast<int32_t>(int64_t{rows} * slot / slots);
      const int32_t end = static_cast<int32_t>(int64_t{rows} * (slot + 1) / slots);
      fn(scratch + static_cast<size_t>(slot) * slot_bytes, begin, end);
    }
  });
}

size_t InputSlotBytes(const EvalContext& ctx, const Layer& layer) {
  const size_t in_row = kernels::row_bytes(static_cast<size_t>(layer.in_dim), layer.in_q.bits);
  return StreamSlotBytes(kStreamRows, layer.in_dim, in_row, ProbesQuantizedInput(ctx.input_int8));
}

// Rows [row, row + n) of the streamed model input as the layer's input quantization, into rows [0, n) of
// `chunk`: float features quantized, int8 ones packed (int4 input), sparse ones scattered over the zero
// point.
void QuantizeInputTile(const EvalContext& ctx, const Layer& layer, int32_t row, int32_t n, uint8_t* chunk) {
  const int32_t cols = layer.in_dim;
  const QParams& q = layer.in_q;
  const kernels::QActivation tile{chunk, q.bits, q.zero_point};
#if !defined(QGNN_NO_SPARSE_FEATURES)
  if (ctx.sparse_input != nullptr) {
    const kernels::SparseRows& s = *ctx.sparse_input;
    kernels::quantize_sparse_rows(
        kernels::SparseRows{s.row_ptr + row, s.col_idx, s.values}, cols,
        kernels::InputQuantization{q.scale, ctx.input_column_scales, q.zero_point, q.bits}, tile, 0, n);
    return;
  }
#endif
  const size_t first = static_cast<size_t>(row) * static_cast<size_t>(cols);
  if (ctx.input_int8) {
    kernels::pack_rows_int8(static_cast<const int8_t*>(ctx.external_input) + first, cols, tile, 0, n);
  } else {
    ctx.kernels->quantize_rows(static_cast<const float*>(ctx.external_input) + first, cols, q.scale,
                               ctx.input_column_scales, tile, 0, n);
  }
}

kernels::QActivation RowsFrom(kernels::QActivation out, int32_t row, int32_t cols) {
  const size_t row_bytes = kernels::row_bytes(static_cast<size_t>(cols), out.bits);
  return kernels::QActivation{static_cast<uint8_t*>(out.data) + static_cast<size_t>(row) * row_bytes,
                              out.bits, out.zero_point};
}

}  // namespace

void RunDenseOnInput(const EvalContext& ctx, const Layer& layer, kernels::QActivation out, int32_t rows) {
  const DenseParams& dense = *layer.input_dense;
  if (layer.t_in == kStreamedInput && ctx.sparse_input != nullptr) {
    kernels::QWeights weights = dense.weights;
    weights.packed = ctx.sparse_packed_weights != nullptr ? ctx.sparse_packed_weights[dense.id] : nullptr;
    const kernels::InputQuantization q{layer.in_q.scale, ctx.input_column_scales, layer.in_q.zero_point,
                                       layer.in_q.bits};
    ParallelFor(*ctx.pool, rows, [&](int32_t begin, int32_t end) {
      ctx.kernels->sparse_dense(*ctx.sparse_input, layer.in_dim, q, weights, dense.bias_q, dense.rq,
                                dense.relu, out, dense.out_features, begin, end);
    });
    return;
  }
  if (layer.t_in != kStreamedInput) {
    RunDense(ctx, dense, ConstActivation(ctx, layer.t_in, layer.in_q), {}, out, rows);
    return;
  }
  const int32_t cols = layer.in_dim;
  const QParams& q = layer.in_q;
  const kernels::QWeights weights = PackedWeights(ctx, dense);
  // The density probe (input_probe.h; float features): float tiles that are mostly zeros go to sparse_dense
  // over their gathered non-zeros, the same bytes as the dense GEMM of the quantized tile.
  kernels::QWeights sparse_weights = dense.weights;
  sparse_weights.packed =
      ctx.sparse_packed_weights != nullptr ? ctx.sparse_packed_weights[dense.id] : nullptr;
  const kernels::InputQuantization sparse_q{q.scale, ctx.input_column_scales, q.zero_point, q.bits};
  const bool probe = ProbesQuantizedInput(ctx.input_int8) && ctx.kernels->sparse_dense != nullptr &&
                     ctx.input_probe != InputProbe::kDense;
  const size_t slot_bytes = InputSlotBytes(ctx, layer);
  // Probe tiles are as many rows as the slot holds the CSR of (input_probe.h, kProbeRowsMax); rejected
  // tiles and the back-off after them go through the GEMM in chunks of kStreamRows.
  const int32_t tile_rows = probe ? ProbeTileRows(cols, slot_bytes, kStreamRows) : kStreamRows;
  ForEachStreamSlot(ctx, rows, slot_bytes, [&](uint8_t* chunk, int32_t begin, int32_t end) {
    int32_t dense_rows = 0;  // rows left to the GEMM before the next probe (a rejected tile, the back-off)
    for (int32_t row = begin; row < end;) {
      if (probe && dense_rows == 0) {
        const int32_t n = end - row < tile_rows ? end - row : tile_rows;
        GatheredTile tile;
        const float* first = static_cast<const float*>(ctx.external_input) + static_cast<size_t>(row) * cols;
        if (GatherSparseTile(*ctx.kernels, first, cols, n, ProbeLimit(ctx.input_probe, n, cols), chunk,
                             slot_bytes, &tile)) {
          ctx.kernels->sparse_dense(tile.sparse, cols, sparse_q, sparse_weights, dense.bias_q, dense.rq,
                                    dense.relu, RowsFrom(out, row, dense.out_features), dense.out_features, 0,
                                    n);
          row += n;
          continue;
        }
        dense_rows = n + (ctx.input_probe == InputProbe::kAuto ? kProbeBackoff * tile_rows : 0);
      }
      const int32_t n = end - row < kStreamRows ? end - row : kStreamRows;
      QuantizeInputTile(ctx, layer, row, n, chunk);
      ctx.kernels->dense(kernels::QActivationConst{chunk, q.bits, q.zero_point}, cols, weights, dense.bias_q,
                         dense.rq, nullptr, dense.relu, RowsFrom(out, row, dense.out_features),
                         dense.out_features, 0, n);
      row += n;
      dense_rows = dense_rows > n ? dense_rows - n : 0;
    }
  });
}

void RunDenseWithInputExtra(const EvalContext& ctx, const Layer& layer, const DenseParams& dense,
                            kernels::QActivationConst in, kernels::QActivation out, int32_t rows) {
  if (layer.t_in != kStreamedInput) {
    RunDense(ctx, dense, in, ConstActivation(ctx, layer.t_in, layer.in_q), out, rows);
    return;
  }
  const DenseParams& e = *dense.extra;
  const kernels::QWeights weights = PackedWeights(ctx, dense);
  const kernels::QWeights extra_weights = PackedWeights(ctx, e);
  const QParams& q = layer.in_q;
  const size_t in_row = kernels::row_bytes(static_cast<size_t>(dense.in_features), in.bits);
  ForEachStreamSlot(ctx, rows, InputSlotBytes(ctx, layer), [&](uint8_t* chunk, int32_t begin, int32_t end) {
    for (int32_t row = begin; row < end; row += kStreamRows) {
      const int32_t n = end - row < kStreamRows ? end - row : kStreamRows;
      QuantizeInputTile(ctx, layer, row, n, chunk);
      const kernels::DenseExtraInput extra{kernels::QActivationConst{chunk, q.bits, q.zero_point},
                                           e.in_features, extra_weights, e.bias_q, e.rq};
      const kernels::QActivationConst rows_in{
          static_cast<const uint8_t*>(in.data) + static_cast<size_t>(row) * in_row, in.bits, in.zero_point};
      ctx.kernels->dense(rows_in, dense.in_features, weights, dense.bias_q, dense.rq, &extra, dense.relu,
                         RowsFrom(out, row, dense.out_features), dense.out_features, 0, n);
    }
  });
}

void RunAggregate(const EvalContext& ctx, const kernels::AggregateParams& params,
                  kernels::QActivationConst in, int32_t cols, kernels::QActivation out) {
  // Bare-metal tables have no aggregate entry (kernel_table.h): the reference function is called there.
  const auto aggregate = ctx.kernels->aggregate != nullptr ? ctx.kernels->aggregate : kernels::aggregate;
  ParallelFor(*ctx.pool, *ctx.partition,
              [&](int32_t begin, int32_t end) { aggregate(ctx.graph, params, in, cols, out, begin, end); });
}

}  // namespace runtime
}  // namespace qgnn
