// Integer eval helpers shared by the layer ops: activation views of planned tensors and the row-parallel
// wrappers around the interpreter's kernel table.
#include "op.h"

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

void RunAggregate(const EvalContext& ctx, const kernels::AggregateParams& params,
                  kernels::QActivationConst in, int32_t cols, kernels::QActivation out) {
  ParallelFor(*ctx.pool, *ctx.partition, [&](int32_t begin, int32_t end) {
    ctx.kernels->aggregate(ctx.graph, params, in, cols, out, begin, end);
  });
}

}  // namespace runtime
}  // namespace qgnn
