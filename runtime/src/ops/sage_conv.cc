// SAGEConv (see sage_conv.h).
#include "sage_conv.h"

#include "float/float_ops.h"

namespace qgnn {
namespace runtime {
namespace {

OpFootprint Footprint(const fb::Layer& layer) {
  const fb::SAGEConvOptions* options = layer.options_as_SAGEConvOptions();
  return {sizeof(SageConvData), options != nullptr && options->root() != nullptr ? 2u : 1u};
}

qgnn_status Init(InitContext& ctx, const fb::Layer& layer, Layer* out) {
  const fb::SAGEConvOptions* options = layer.options_as_SAGEConvOptions();
  SageConvData& data = *NewOpData<SageConvData>(out->data);
  qgnn_status st = InitReduce(ctx, options->reduce(), /*allow_sum=*/false, "SAGEConv", &data.mode);
  if (st != QGNN_OK) return st;
  st = InitDense(ctx, options->neighbor(), "neighbor", out->in_dim, &data.neighbor);
  if (st != QGNN_OK) return st;
  data.neighbor.relu = out->relu;
  if (options->root() != nullptr) {
    st = InitDense(ctx, options->root(), "root", out->in_dim, &data.root);
    if (st != QGNN_OK) return st;
    // The layer's BatchNorm normalises the whole sum, so it lives on the neighbour Dense only.
    if (data.root.bn_mean != nullptr) {
      return ctx.Fail(QGNN_UNSUPPORTED_LAYER,
                      "root: a BatchNorm on the root Dense (only neighbor may carry one)");
    }
    if (data.root.out_features != data.neighbor.out_features) {
      return ctx.Fail(QGNN_SHAPE_MISMATCH, "root has %" PRId32 " output features, neighbor has %" PRId32,
                      data.root.out_features, data.neighbor.out_features);
    }
    data.neighbor.extra = &data.root;
  }
  if (ctx.quantized) {
    st = InitQuantParams(ctx, layer.aggregation(), "aggregation", &data.agg_q);
    if (st != QGNN_OK) return st;
    st = InitSingleRescale(ctx, options->aggregation_requant(), "aggregation_requant", &data.rq);
    if (st != QGNN_OK) return st;
  }
  out->out_dim = data.neighbor.out_features;
  return QGNN_OK;
}

void Prepare(PlanBuilder& plan, bool quantized, Layer* layer) {
  SageConvData& data = *static_cast<SageConvData*>(layer->data);
  plan.NextOp();  // aggregate
  plan.Use(layer->t_in);
  data.t_agg = plan.Add(layer->in_rows, ActivationRowBytes(quantized, layer->in_dim, data.agg_q.bits));
  plan.NextOp();  // dense (+ root term on the layer input)
  plan.Use(data.t_agg);
  plan.Use(layer->t_in);
  layer->t_out = plan.Add(layer->out_rows, ActivationRowBytes(quantized, layer->out_dim, layer->out_q.bits));
}

void Eval(const EvalContext& ctx, const Layer& layer) {
  const SageConvData& data = *static_cast<const SageConvData*>(layer.data);
  const kernels::QActivationConst in = ConstActivation(ctx, layer.t_in, layer.in_q);
  RunAggregate(ctx, kernels::AggregateParams{data.mode, data.rq, 0, nullptr}, in, layer.in_dim,
               MutableActivation(ctx, data.t_agg, data.agg_q));
  RunDense(ctx, data.neighbor, ConstActivation(ctx, data.t_agg, data.agg_q), in,
           MutableActivation(ctx, layer.t_out, layer.out_q), ctx.num_nodes);
}

}  // namespace
}  // namespace runtime
}  // namespace qgnn

extern "C" const qgnn_op* qgnn_op_sage_conv(void) {
  using namespace qgnn::runtime;  // NOLINT(build/namespaces)
  static const qgnn_op op = {qgnn::fb::LayerOptions::SAGEConvOptions,
                             "SAGEConv",
                             /*needs_node_rows=*/true,
                             /*has_activation=*/true,
                             /*max_inputs=*/1,
                             Footprint,
                             Init,
                             Prepare,
                             Eval,
                             QGNN_FLOAT_EVAL(EvalSageConvF32)};
  return &op;
}
