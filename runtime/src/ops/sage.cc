// SAGEConv: y_i = act(W_n · reduce_{j in N(i)} x_j + b + W_r · x_i), reduce = MEAN | MAX.
// Quantized: aggregate(kMean|kMax) onto Layer.aggregation -> dense with the root term as a second input
// (rescaled separately, then added).
#include "op.h"

namespace qgnn {
namespace runtime {
namespace {

qgnn_status Init(InitContext& ctx, const fb::Layer& layer, LayerParams* params) {
  const fb::SAGEConvOptions* options = layer.options_as_SAGEConvOptions();
  qgnn_status st = InitReduce(ctx, options->reduce(), /*allow_sum=*/false, "SAGEConv", &params->mode);
  if (st != QGNN_OK) return st;
  if (ctx.dense_capacity < 2) return ctx.Fail(QGNN_MISSING_FIELD, "SAGEConv has no Dense");
  st = InitDense(ctx, options->neighbor(), "neighbor", params->in_dim, &ctx.dense_storage[0]);
  if (st != QGNN_OK) return st;
  params->has_root = options->root() != nullptr;
  if (params->has_root) {
    st = InitDense(ctx, options->root(), "root", params->in_dim, &ctx.dense_storage[1]);
    if (st != QGNN_OK) return st;
    // The layer's BatchNorm normalises the whole sum, so it lives on the neighbour Dense only.
    if (ctx.dense_storage[1].bn_mean != nullptr) {
      return ctx.Fail(QGNN_UNSUPPORTED_LAYER,
                      "root: a BatchNorm on the root Dense (only neighbor may carry one)");
    }
    if (ctx.dense_storage[1].out_features != ctx.dense_storage[0].out_features) {
      return ctx.Fail(QGNN_SHAPE_MISMATCH, "root has %" PRId32 " output features, neighbor has %" PRId32,
                      ctx.dense_storage[1].out_features, ctx.dense_storage[0].out_features);
    }
  }
  if (ctx.quantized) {
    st = InitQuantParams(ctx, layer.aggregation(), "aggregation", &params->agg_q);
    if (st != QGNN_OK) return st;
    st = InitSingleRescale(ctx, options->aggregation_requant(), "aggregation_requant", &params->rq);
    if (st != QGNN_OK) return st;
  }
  params->dense = ctx.dense_storage;
  params->num_dense = params->has_root ? 2 : 1;
  params->out_dim = params->dense[0].out_features;
  return QGNN_OK;
}

void Prepare(PlanBuilder& plan, bool quantized, LayerParams* params) {
  plan.NextOp();  // aggregate
  plan.Use(params->t_in);
  params->t_agg = plan.Add(params->rows, ActivationRowBytes(quantized, params->in_dim, params->agg_q.bits));
  plan.NextOp();  // dense (+ root term on the layer input)
  plan.Use(params->t_agg);
  plan.Use(params->t_in);
  params->t_out = plan.Add(params->rows, ActivationRowBytes(quantized, params->out_dim, params->out_q.bits));
}

void Eval(const EvalContext& ctx, const LayerParams& params) {
  const int32_t rows = ctx.num_nodes;
  const DenseParams* root = params.has_root ? &params.dense[1] : nullptr;
  if (ctx.quantized) {
    const kernels::QActivationConst in = ConstActivation(ctx, params.t_in, params.in_q);
    RunAggregate(ctx, params.mode, in, params.in_dim, params.rq, 0, nullptr,
                 MutableActivation(ctx, params.t_agg, params.agg_q));
    RunDense(ctx, params.dense[0], ConstActivation(ctx, params.t_agg, params.agg_q), root, in, params.relu,
             MutableActivation(ctx, params.t_out, params.out_q), rows);
  } else {
    // Float models; an integer-only build (QGNN_FLOAT_MODELS=OFF) refuses them at create.
#if !defined(QGNN_NO_FLOAT_MODELS)
    const float* in = static_cast<const float*>(ctx.Data(params.t_in));
    float* agg = static_cast<float*>(ctx.Data(params.t_agg));
    RunAggregateF32(ctx, params.mode, in, params.in_dim, 0.0f, agg);
    // The aggregation is dead once the neighbour product has read it: scratch for the root product.
    RunDenseF32(ctx, params.dense[0], agg, root, in, params.relu, static_cast<float*>(ctx.Data(params.t_out)),
                rows, agg, static_cast<size_t>(rows) * static_cast<size_t>(params.in_dim));
#endif
  }
}

}  // namespace

const OpRegistration* Register_SAGE_CONV() {
  static const OpRegistration r = {"SAGEConv", LayerKind::kSage, Init, Prepare, Eval};
  return &r;
}

}  // namespace runtime
}  // namespace qgnn
