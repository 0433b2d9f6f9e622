// Linear: y = act(x W^T + b) on every row (nodes, or graphs after pooling).
#include "linear.h"

#include "float/float_ops.h"

namespace qgnn {
namespace runtime {
namespace {

OpFootprint Footprint(const fb::Model&, const fb::Layer&) { return {sizeof(LinearData), 1}; }

qgnn_status Init(InitContext& ctx, const fb::Layer& layer, Layer* out) {
  LinearData& data = *NewOpData<LinearData>(out->data);
  const qgnn_status st =
      InitDense(ctx, layer.options_as_LinearOptions()->dense(), "dense", out->in_dim, &data.dense);
  if (st != QGNN_OK) return st;
  data.dense.relu = out->relu;
  out->out_dim = data.dense.out_features;
  out->input_dense = &data.dense;
  return QGNN_OK;
}

void Prepare(PlanBuilder& plan, bool quantized, Layer* layer) {
  plan.NextOp();
  plan.Use(layer->t_in);
  layer->t_out = plan.Add(layer->out_rows, ActivationRowBytes(quantized, layer->out_dim, layer->out_q.bits));
}

void Eval(const EvalContext& ctx, const Layer& layer) {
  RunDenseOnInput(ctx, layer, MutableActivation(ctx, layer.t_out, layer.out_q), ctx.Rows(layer.in_rows));
}

}  // namespace
}  // namespace runtime
}  // namespace qgnn

extern "C" const qgnn_op* qgnn_op_linear(void) {
  using namespace qgnn::runtime;  // NOLINT(build/namespaces)
  static const qgnn_op op = {qgnn::fb::LayerOptions::LinearOptions,
                             "Linear",
                             /*needs_node_rows=*/false,
                             /*has_activation=*/true,
                             /*max_inputs=*/1,
                             Footprint,
                             Init,
                             Prepare,
                             Eval,
                             QGNN_FLOAT_EVAL(EvalLinearF32)};
  return &op;
}
