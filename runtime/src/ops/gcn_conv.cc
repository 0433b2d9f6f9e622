// GCNConv (see gcn_conv.h).
#include "gcn_conv.h"

#include "float/float_ops.h"
#include "graph_stage.h"

namespace qgnn {
namespace runtime {
namespace {

// The graph stage's part of GCNConv: gcn_norm_q15(in-degree + 1) of every node, once per bound graph, shared
// by every GCNConv layer of the model.
void ComputeNorm(const EvalContext& ctx, void* out) {
  int32_t* norm = static_cast<int32_t*>(out);
  ParallelFor(*ctx.pool, ctx.num_nodes,
              [&](int32_t begin, int32_t end) { kernels::gcn_norm(ctx.graph, norm, begin, end); });
}
constexpr GraphTensorDef kGcnNormQ15 = {RowKind::kNodes, sizeof(int32_t), ComputeNorm};

OpFootprint Footprint(const fb::Model&, const fb::Layer&) { return {sizeof(GcnConvData), 1}; }

qgnn_status InitTransformFirst(InitContext& ctx, const fb::Layer& layer, const fb::GCNConvOptions& options,
                               GcnConvData& data) {
  // The bias and the activation follow the aggregation: the Dense only maps the input onto the messages.
  data.bias_q = data.dense.bias_q;
  data.bias_f = data.dense.bias_f;
  data.dense.bias_q = nullptr;
  data.dense.bias_f = nullptr;
  data.dense.relu = false;
  if (data.dense.bn_mean != nullptr) {
    // BatchNorm's shift does not commute with the normalised sum (A_hat 1 != 1); fold it first.
    return ctx.Fail(QGNN_UNSUPPORTED_LAYER, "transform-first GCNConv with an unfolded BatchNorm (fold it)");
  }
  if (!ctx.quantized) return QGNN_OK;
  if (layer.aggregation() != nullptr) {
    return ctx.Fail(QGNN_BAD_QUANT_PARAMS,
                    "transform-first GCNConv has Layer.aggregation (its messages are quantized with "
                    "GCNConvOptions.message)");
  }
  qgnn_status st = InitQuantParams(ctx, options.message(), "message", &data.message_q);
  if (st != QGNN_OK) return st;
  return InitSingleRescale(ctx, options.aggregation_requant(), "aggregation_requant", &data.rq);
}

qgnn_status Init(InitContext& ctx, const fb::Layer& layer, Layer* out) {
  const fb::GCNConvOptions* options = layer.options_as_GCNConvOptions();
  GcnConvData& data = *NewOpData<GcnConvData>(out->data);
  qgnn_status st = InitDense(ctx, options->dense(), "dense", out->in_dim, &data.dense);
  if (st != QGNN_OK) return st;
  st = InitRange(ctx, options->message_range(), "message_range");
  if (st != QGNN_OK) return st;
  data.dense.relu = out->relu;
  out->out_dim = data.dense.out_features;
  switch (options->order()) {
    case fb::LayerOrder::AGGREGATE_FIRST:
      break;
    case fb::LayerOrder::TRANSFORM_FIRST:
      data.transform_first = true;
      out->input_dense = &data.dense;
      return InitTransformFirst(ctx, layer, *options, data);
    default:
      return ctx.Fail(QGNN_UNSUPPORTED_LAYER, "unknown GCNConv order %d", static_cast<int>(options->order()));
  }
  if (ctx.quantized) {
    if (options->message() != nullptr) {
      return ctx.Fail(QGNN_BAD_QUANT_PARAMS, "aggregate-first GCNConv has a message quantization");
    }
    st = InitQuantParams(ctx, layer.aggregation(), "aggregation", &data.agg_q);
    if (st != QGNN_OK) return st;
    st = InitSingleRescale(ctx, options->aggregation_requant(), "aggregation_requant", &data.rq);
    if (st != QGNN_OK) return st;
  }
  return QGNN_OK;
}

void Prepare(PlanBuilder& plan, bool quantized, Layer* layer) {
  GcnConvData& data = *static_cast<GcnConvData*>(layer->data);
  // The float path computes its 1/sqrt(d) factors inside the aggregation.
  const auto use_norm = [&] { data.t_norm = quantized ? UseGraphTensor(plan, kGcnNormQ15) : kNoTensor; };
  if (data.transform_first) {
    plan.NextOp();  // dense onto the messages
    plan.Use(layer->t_in);
    data.t_agg = plan.Add(layer->in_rows, ActivationRowBytes(quantized, layer->out_dim, data.message_q.bits));
    plan.NextOp();  // aggregate the messages
    plan.Use(data.t_agg);
    use_norm();
  } else {
    plan.NextOp();  // aggregate
    plan.Use(layer->t_in);
    use_norm();
    data.t_agg = plan.Add(layer->in_rows, ActivationRowBytes(quantized, layer->in_dim, data.agg_q.bits));
    plan.NextOp();  // dense
    plan.Use(data.t_agg);
  }
  layer->t_out = plan.Add(layer->out_rows, ActivationRowBytes(quantized, layer->out_dim, layer->out_q.bits));
}

void Eval(const EvalContext& ctx, const Layer& layer) {
  const GcnConvData& data = *static_cast<const GcnConvData*>(layer.data);
  kernels::AggregateParams params{kernels::AggregateMode::kGcn, data.rq, 0,
                                  static_cast<const int32_t*>(ctx.Data(data.t_norm))};
  if (data.transform_first) {
    RunDenseOnInput(ctx, layer, MutableActivation(ctx, data.t_agg, data.message_q), ctx.num_nodes);
    params.bias = data.bias_q;
    params.relu = layer.relu;
    RunAggregate(ctx, params, ConstActivation(ctx, data.t_agg, data.message_q), layer.out_dim,
                 MutableActivation(ctx, layer.t_out, layer.out_q));
    return;
  }
  RunAggregate(ctx, params, ConstActivation(ctx, layer.t_in, layer.in_q), layer.in_dim,
               MutableActivation(ctx, data.t_agg, data.agg_q));
  RunDense(ctx, data.dense, ConstActivation(ctx, data.t_agg, data.agg_q), {},
           MutableActivation(ctx, layer.t_out, layer.out_q), ctx.num_nodes);
}

}  // namespace
}  // namespace runtime
}  // namespace qgnn

extern "C" const qgnn_op* qgnn_op_gcn_conv(void) {
  using namespace qgnn::runtime;  // NOLINT(build/namespaces)
  static const qgnn_op op = {qgnn::fb::LayerOptions::GCNConvOptions,
                             "GCNConv",
                             /*needs_node_rows=*/true,
                             /*has_activation=*/true,
                             /*max_inputs=*/1,
                             Footprint,
                             Init,
                             Prepare,
                             Eval,
                             QGNN_FLOAT_EVAL(EvalGcnConvF32)};
  return &op;
}
