// GlobalPool: one row per graph (sum | mean | max over the graph's nodes), rescaled onto Layer.output.
#include "op.h"

namespace qgnn {
namespace runtime {
namespace {

qgnn_status Init(InitContext& ctx, const fb::Layer& layer, LayerParams* params) {
  const fb::GlobalPoolOptions* options = layer.options_as_GlobalPoolOptions();
  qgnn_status st = InitReduce(ctx, options->reduce(), /*allow_sum=*/true, "GlobalPool", &params->mode);
  if (st != QGNN_OK) return st;
  if (ctx.quantized) {
    st = InitSingleRescale(ctx, options->requant(), "requant", &params->rq);
    if (st != QGNN_OK) return st;
  }
  params->relu = false;  // GlobalPool ignores Layer.activation
  params->out_dim = params->in_dim;
  return QGNN_OK;
}

void Prepare(PlanBuilder& plan, bool quantized, LayerParams* params) {
  plan.NextOp();
  plan.Use(params->t_in);
  params->t_out =
      plan.Add(RowKind::kGraphs, ActivationRowBytes(quantized, params->out_dim, params->out_q.bits));
}

void Eval(const EvalContext& ctx, const LayerParams& params) {
  if (ctx.quantized) {
    const kernels::QActivationConst in = ConstActivation(ctx, params.t_in, params.in_q);
    const kernels::QActivation out = MutableActivation(ctx, params.t_out, params.out_q);
    ParallelFor(*ctx.pool, ctx.num_graphs, [&](int32_t begin, int32_t end) {
      ctx.kernels->global_pool(ctx.graph_ptr, params.mode, in, params.in_dim, params.rq, out, begin, end);
    });
  } else {
    // Float models; an integer-only build (QGNN_FLOAT_MODELS=OFF) refuses them at create.
#if !defined(QGNN_NO_FLOAT_MODELS)
    const float* in = static_cast<const float*>(ctx.Data(params.t_in));
    float* out = static_cast<float*>(ctx.Data(params.t_out));
    ParallelFor(*ctx.pool, ctx.num_graphs, [&](int32_t begin, int32_t end) {
      kernels::global_pool_f32(ctx.graph_ptr, params.mode, in, params.in_dim, out, begin, end);
    });
#endif
  }
}

}  // namespace

const OpRegistration* Register_GLOBAL_POOL() {
  static const OpRegistration r = {"GlobalPool", LayerKind::kPool, Init, Prepare, Eval};
  return &r;
}

}  // namespace runtime
}  // namespace qgnn
