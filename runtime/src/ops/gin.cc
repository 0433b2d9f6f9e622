// GINConv: y_i = act(MLP((1 + eps) x_i + sum_{j in N(i)} x_j)).
// Quantized: aggregate(kSum, self_weight_q16) onto Layer.aggregation -> Dense ops of the MLP, the hidden ones
// onto GINConvOptions.hidden[k] with their own fused activation, the last onto Layer.output.
#include <cmath>

#include "limits.h"
#include "op.h"

namespace qgnn {
namespace runtime {
namespace {

qgnn_status Init(InitContext& ctx, const fb::Layer& layer, LayerParams* params) {
  const fb::GINConvOptions* options = layer.options_as_GINConvOptions();
  const auto* mlp = options->mlp();
  if (mlp == nullptr || mlp->size() == 0) return ctx.Fail(QGNN_MISSING_FIELD, "GINConv has an empty mlp");
  const uint32_t count = mlp->size();
  if (count > ctx.dense_capacity) return ctx.Fail(QGNN_LIMIT_EXCEEDED, "GINConv mlp has too many Dense ops");
  int32_t features = params->in_dim;
  for (uint32_t k = 0; k < count; ++k) {
    char what[24];
    Format(what, sizeof(what), "mlp[%" PRIu32 "]", k);
    DenseParams* dense = &ctx.dense_storage[k];
    qgnn_status st = InitDense(ctx, mlp->Get(k), what, features, dense);
    if (st != QGNN_OK) return st;
    // The last Dense ignores its own activation: the layer's applies.
    if (k + 1 < count) {
      st = InitActivation(ctx, mlp->Get(k)->activation(), what, &dense->relu);
      if (st != QGNN_OK) return st;
    }
    features = dense->out_features;
  }
  if (ctx.quantized) {
    const auto* hidden = options->hidden();
    const uint32_t num_hidden = hidden != nullptr ? hidden->size() : 0;
    if (count > 1 && num_hidden == 0) {
      return ctx.Fail(QGNN_MISSING_FIELD, "GINConv hidden quantization is missing (%" PRIu32 " expected)",
                      count - 1);
    }
    if (num_hidden != count - 1) {
      return ctx.Fail(QGNN_SHAPE_MISMATCH,
                      "GINConv has %" PRIu32 " hidden quantizations, expected %" PRIu32 " (mlp length - 1)",
                      num_hidden, count - 1);
    }
    if (num_hidden > ctx.hidden_capacity)
      return ctx.Fail(QGNN_LIMIT_EXCEEDED, "GINConv has too many hidden outputs");
    for (uint32_t k = 0; k < num_hidden; ++k) {
      char what[24];
      Format(what, sizeof(what), "hidden[%" PRIu32 "]", k);
      const qgnn_status st = InitQuantParams(ctx, hidden->Get(k), what, &ctx.hidden_storage[k]);
      if (st != QGNN_OK) return st;
    }
    const int32_t w = options->self_weight_q16();
    if (w < 0 || w >= kSelfWeightLimit) {
      return ctx.Fail(QGNN_BAD_QUANT_PARAMS, "GINConv self_weight_q16 = %" PRId32 " outside [0, 2^23)", w);
    }
    params->self_weight_q16 = w;
    qgnn_status st = InitQuantParams(ctx, layer.aggregation(), "aggregation", &params->agg_q);
    if (st != QGNN_OK) return st;
    st = InitSingleRescale(ctx, options->aggregation_requant(), "aggregation_requant", &params->rq);
    if (st != QGNN_OK) return st;
    params->hidden = ctx.hidden_storage;
  } else {
    const float eps = options->eps();
    if (!std::isfinite(eps)) {
      return ctx.Fail(QGNN_BAD_QUANT_PARAMS, "GINConv eps = %g is not finite", static_cast<double>(eps));
    }
    params->self_weight_f = 1.0f + eps;
  }
  params->mode = kernels::AggregateMode::kSum;
  params->dense = ctx.dense_storage;
  params->num_dense = count;
  params->out_dim = features;
  return QGNN_OK;
}

void Prepare(PlanBuilder& plan, bool quantized, LayerParams* params) {
  plan.NextOp();  // aggregate
  plan.Use(params->t_in);
  params->t_agg = plan.Add(params->rows, ActivationRowBytes(quantized, params->in_dim, params->agg_q.bits));
  int32_t previous = params->t_agg;
  for (uint32_t k = 0; k < params->num_dense; ++k) {
    plan.NextOp();  // mlp[k]
    plan.Use(previous);
    const bool last = k + 1 == params->num_dense;
    const int32_t bits = last ? params->out_q.bits : (quantized ? params->hidden[k].bits : 32);
    const int32_t id =
        plan.Add(params->rows, ActivationRowBytes(quantized, params->dense[k].out_features, bits));
    if (k == 0 && !last) params->t_hidden = id;
    if (last) params->t_out = id;
    previous = id;
  }
}

void Eval(const EvalContext& ctx, const LayerParams& params) {
  const int32_t rows = ctx.num_nodes;
  const uint32_t count = params.num_dense;
  if (ctx.quantized) {
    RunAggregate(ctx, kernels::AggregateMode::kSum, ConstActivation(ctx, params.t_in, params.in_q),
                 params.in_dim, params.rq, params.self_weight_q16, nullptr,
                 MutableActivation(ctx, params.t_agg, params.agg_q));
    int32_t in_tensor = params.t_agg;
    QParams in_q = params.agg_q;
    for (uint32_t k = 0; k < count; ++k) {
      const bool last = k + 1 == count;
      const int32_t out_tensor = last ? params.t_out : params.t_hidden + static_cast<int32_t>(k);
      const QParams out_q = last ? params.out_q : params.hidden[k];
      RunDense(ctx, params.dense[k], ConstActivation(ctx, in_tensor, in_q), nullptr, {},
               last ? params.relu : params.dense[k].relu, MutableActivation(ctx, out_tensor, out_q), rows);
      in_tensor = out_tensor;
      in_q = out_q;
    }
  } else {
    // Float models; an integer-only build (QGNN_FLOAT_MODELS=OFF) refuses them at create.
#if !defined(QGNN_NO_FLOAT_MODELS)
    float* agg = static_cast<float*>(ctx.Data(params.t_agg));
    RunAggregateF32(ctx, kernels::AggregateMode::kSum, static_cast<const float*>(ctx.Data(params.t_in)),
                    params.in_dim, params.self_weight_f, agg);
    const float* in = agg;
    for (uint32_t k = 0; k < count; ++k) {
      const bool last = k + 1 == count;
      float* out =
          static_cast<float*>(ctx.Data(last ? params.t_out : params.t_hidden + static_cast<int32_t>(k)));
      RunDenseF32(ctx, params.dense[k], in, nullptr, nullptr, last ? params.relu : params.dense[k].relu, out,
                  rows);
      in = out;
    }
#endif
  }
}

}  // namespace

const OpRegistration* Register_GIN_CONV() {
  static const OpRegistration r = {"GINConv", LayerKind::kGin, Init, Prepare, Eval};
  return &r;
}

}  // namespace runtime
}  // namespace qgnn
