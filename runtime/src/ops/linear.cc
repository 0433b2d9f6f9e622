// Linear: y = act(x W^T + b) on every row (nodes, or graphs after pooling).
#include "op.h"

namespace qgnn {
namespace runtime {
namespace {

qgnn_status Init(InitContext& ctx, const fb::Layer& layer, LayerParams* params) {
  const fb::LinearOptions* options = layer.options_as_LinearOptions();
  if (ctx.dense_capacity < 1) return ctx.Fail(QGNN_MISSING_FIELD, "Linear has no Dense");
  const qgnn_status st = InitDense(ctx, options->dense(), "dense", params->in_dim, &ctx.dense_storage[0]);
  if (st != QGNN_OK) return st;
  params->dense = ctx.dense_storage;
  params->num_dense = 1;
  params->out_dim = params->dense[0].out_features;
  return QGNN_OK;
}

void Prepare(PlanBuilder& plan, bool quantized, LayerParams* params) {
  plan.NextOp();
  plan.Use(params->t_in);
  params->t_out = plan.Add(params->rows, ActivationRowBytes(quantized, params->out_dim, params->out_q.bits));
}

void Eval(const EvalContext& ctx, const LayerParams& params) {
  const int32_t rows = ctx.Rows(params.rows);
  if (ctx.quantized) {
    RunDense(ctx, params.dense[0], ConstActivation(ctx, params.t_in, params.in_q), nullptr, {}, params.relu,
             MutableActivation(ctx, params.t_out, params.out_q), rows);
  } else {
    // Float models; an integer-only build (QGNN_FLOAT_MODELS=OFF) refuses them at create.
#if !defined(QGNN_NO_FLOAT_MODELS)
    RunDenseF32(ctx, params.dense[0], static_cast<const float*>(ctx.Data(params.t_in)), nullptr, nullptr,
                params.relu, static_cast<float*>(ctx.Data(params.t_out)), rows);
#endif
  }
}

}  // namespace

const OpRegistration* Register_LINEAR() {
  static const OpRegistration r = {"Linear", LayerKind::kLinear, Init, Prepare, Eval};
  return &r;
}

}  // namespace runtime
}  // namespace qgnn
