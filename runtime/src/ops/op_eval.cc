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
  const size_t in_row = kernels::row_bytes(static_cast<size_t>(cols), q.bits);
  const size_t out_row = kernels::row_bytes(static_cast<size_t>(dense.out_features), out.bits);
  uint8_t* scratch = static_cast<uint8_t*>(ctx.Data(ctx.input_scratch));
  const kernels::QWeights weights = PackedWeights(ctx, dense);
  // The density probe (input_probe.h; int4 input only): float tiles that are mostly zeros go to sparse_dense
  // over their gathered non-zeros, the same bytes as the dense GEMM of the quantized tile.
  kernels::QWeights sparse_weights = dense.weights;
  sparse_weights.packed =
      ctx.sparse_packed_weights != nullptr ? ctx.sparse_packed_weights[dense.id] : nullptr;
  const kernels::InputQuantization sparse_q{q.scale, ctx.input_column_scales, q.zero_point, q.bits};
  const bool probed = ProbesQuantizedInput(ctx.input_int8, q.bits);
  const bool probe = probed && ctx.kernels->sparse_dense != nullptr && ctx.input_probe != InputProbe::kDense;
  const size_t slot_bytes = StreamSlotBytes(kStreamRows, cols, in_row, probed);
  const int32_t slots = static_cast<int32_t>(ctx.pool->threads()) < kStreamSlots
                            ? static_cast<int32_t>(ctx.pool->threads())
                            : kStreamSlots;
  // One contiguous share of the rows per slot; a slot's chunks reuse its part of the scratch.
  ParallelFor(*ctx.pool, slots, [&](int32_t slot_begin, int32_t slot_end) {
    for (int32_t slot = slot_begin; slot < slot_end; ++slot) {
      const int32_t begin = static_cast<int32_t>(int64_t{rows} * slot / slots);
      const int32_t end = static_cast<int32_t>(int64_t{rows} * (slot + 1) / slots);
      uint8_t* chunk = scratch + static_cast<size_t>(slot) * slot_bytes;
      int32_t skip = 0;  // chunks left before the next probe (ProbeBackoff)
      for (int32_t row = begin; row < end; row += kStreamRows) {
        const int32_t n = end - row < kStreamRows ? end - row : kStreamRows;
        const size_t first = static_cast<size_t>(row) * static_cast<size_t>(cols);
        const kernels::QActivation rows_out{
            static_cast<uint8_t*>(out.data) + static_cast<size_t>(row) * out_row, out.bits, out.zero_point};
        GatheredTile tile;
        if (probe && skip == 0) {
          if (GatherSparseTile(*ctx.kernels, static_cast<const float*>(ctx.external_input) + first, cols, n,
                               ProbeLimit(ctx.input_probe, n, cols), chunk, slot_bytes, &tile)) {
            ctx.kernels->sparse_dense(tile.sparse, cols, sparse_q, sparse_weights, dense.bias_q, dense.rq,
                                      dense.relu, rows_out, dense.out_features, 0, n);
            continue;
          }
          skip = ctx.input_probe == InputProbe::kAuto ? kProbeBackoff : 0;
        } else if (skip > 0) {
          --skip;
        }
        const kernels::QActivation quantized{chunk, q.bits, q.zero_point};
        if (ctx.input_int8) {
          kernels::pack_rows_int8(static_cast<const int8_t*>(ctx.external_input) + first, cols, quantized, 0,
                                  n);
        } else {
          ctx.kernels->quantize_rows(static_cast<const float*>(ctx.external_input) + first, cols, q.scale,
                                     ctx.input_column_scales, quantized, 0, n);
        }
        ctx.kernels->dense(kernels::QActivationConst{chunk, q.bits, q.zero_point}, cols, weights,
                           dense.bias_q, dense.rq, nullptr, dense.relu, rows_out, dense.out_features, 0, n);
      }
    }
  });
}

void RunAggregate(const EvalContext& ctx, const kernels::AggregateParams& params,
                  kernels::QActivationConst in, int32_t cols, kernels::QActivation out) {
  ParallelFor(*ctx.pool, *ctx.partition, [&](int32_t begin, int32_t end) {
    ctx.kernels->aggregate(ctx.graph, params, in, cols, out, begin, end);
  });
}

}  // namespace runtime
}  // namespace qgnn
