// GCNConv: y_i = act(W · sum_{j in N(i) ∪ {i}} x_j / sqrt(d_i d_j) + b), aggregation before the update.
// Quantized: gcn_norm (Q15 factors) -> aggregate(kGcn) onto Layer.aggregation -> dense onto Layer.output.
#include "op.h"

namespace qgnn {
namespace runtime {
namespace {

qgnn_status Init(InitContext& ctx, const fb::Layer& layer, LayerParams* params) {
  const fb::GCNConvOptions* options = layer.options_as_GCNConvOptions();
  if (ctx.dense_capacity < 1) return ctx.Fail(QGNN_MISSING_FIELD, "GCNConv has no Dense");
  qgnn_status st = InitDense(ctx, options->dense(), "dense", params->in_dim, &ctx.dense_storage[0]);
  if (st != QGNN_OK) return st;
  if (ctx.quantized) {
    st = InitQuantParams(ctx, layer.aggregation(), "aggregation", &params->agg_q);
    if (st != QGNN_OK) return st;
    st = InitSingleRescale(ctx, options->aggregation_requant(), "aggregation_requant", &params->rq);
    if (st != QGNN_OK) return st;
  }
  params->mode = kernels::AggregateMode::kGcn;
  params->dense = ctx.dense_storage;
  params->num_dense = 1;
  params->out_dim = params->dense[0].out_features;
  return QGNN_OK;
}

void Prepare(PlanBuilder& plan, bool quantized, LayerParams* params) {
  if (quantized) {
    plan.NextOp();  // gcn_norm
    params->t_norm = plan.Add(RowKind::kNodes, sizeof(int32_t));
  }
  plan.NextOp();  // aggregate
  plan.Use(params->t_in);
  plan.Use(params->t_norm);
  params->t_agg = plan.Add(params->rows, ActivationRowBytes(quantized, params->in_dim, params->agg_q.bits));
  plan.NextOp();  // dense
  plan.Use(params->t_agg);
  params->t_out = plan.Add(params->rows, ActivationRowBytes(quantized, params->out_dim, params->out_q.bits));
}

void Eval(const EvalContext& ctx, const LayerParams& params) {
  const int32_t rows = ctx.num_nodes;
  if (ctx.quantized) {
    int32_t* norm = static_cast<int32_t*>(ctx.Data(params.t_norm));
    ParallelFor(*ctx.pool, rows,
                [&](int32_t begin, int32_t end) { kernels::gcn_norm(ctx.graph, norm, begin, end); });
    RunAggregate(ctx, kernels::AggregateMode::kGcn, ConstActivation(ctx, params.t_in, params.in_q),
                 params.in_dim, params.rq, 0, norm, MutableActivation(ctx, params.t_agg, params.agg_q));
    RunDense(ctx, params.dense[0], ConstActivation(ctx, params.t_agg, params.agg_q), nullptr, {}, params.relu,
             MutableActivation(ctx, params.t_out, params.out_q), rows);
  } else {
    // Float models; an integer-only build (QGNN_FLOAT_MODELS=OFF) refuses them at create.
#if !defined(QGNN_NO_FLOAT_MODELS)
    float* agg = static_cast<float*>(ctx.Data(params.t_agg));
    RunAggregateF32(ctx, kernels::AggregateMode::kGcn, static_cast<const float*>(ctx.Data(params.t_in)),
                    params.in_dim, 0.0f, agg);
    RunDenseF32(ctx, params.dense[0], agg, nullptr, nullptr, params.relu,
                static_cast<float*>(ctx.Data(params.t_out)), rows);
#endif
  }
}

}  // namespace

const OpRegistration* Register_GCN_CONV() {
  static const OpRegistration r = {"GCNConv", LayerKind::kGcn, Init, Prepare, Eval};
  return &r;
}

}  // namespace runtime
}  // namespace qgnn
