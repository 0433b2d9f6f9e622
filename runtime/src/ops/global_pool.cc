// GlobalPool (see global_pool.h).
#include "global_pool.h"

#include "float/float_ops.h"

namespace qgnn {
namespace runtime {
namespace {

OpFootprint Footprint(const fb::Model&, const fb::Layer&) { return {sizeof(GlobalPoolData), 0}; }

qgnn_status Init(InitContext& ctx, const fb::Layer& layer, Layer* out) {
  const fb::GlobalPoolOptions* options = layer.options_as_GlobalPoolOptions();
  GlobalPoolData& data = *NewOpData<GlobalPoolData>(out->data);
  qgnn_status st = InitReduce(ctx, options->reduce(), /*allow_sum=*/true, "GlobalPool", &data.mode);
  if (st != QGNN_OK) return st;
  if (ctx.quantized) {
    st = InitSingleRescale(ctx, options->requant(), "requant", &data.rq);
    if (st != QGNN_OK) return st;
  }
  out->out_dim = out->in_dim;
  out->out_rows = RowKind::kGraphs;
  return QGNN_OK;
}

void Prepare(PlanBuilder& plan, bool quantized, Layer* layer) {
  plan.NextOp();
  plan.Use(layer->t_in);
  layer->t_out = plan.Add(layer->out_rows, ActivationRowBytes(quantized, layer->out_dim, layer->out_q.bits));
}

void Eval(const EvalContext& ctx, const Layer& layer) {
  const GlobalPoolData& data = *static_cast<const GlobalPoolData*>(layer.data);
  const kernels::QActivationConst in = ConstActivation(ctx, layer.t_in, layer.in_q);
  const kernels::QActivation out = MutableActivation(ctx, layer.t_out, layer.out_q);
  ParallelFor(*ctx.pool, ctx.num_graphs, [&](int32_t begin, int32_t end) {
    ctx.kernels->global_pool(ctx.graph_ptr, data.mode, in, layer.in_dim, data.rq, out, begin, end);
  });
}

}  // namespace
}  // namespace runtime
}  // namespace qgnn

extern "C" const qgnn_op* qgnn_op_global_pool(void) {
  using namespace qgnn::runtime;  // NOLINT(build/namespaces)
  static const qgnn_op op = {qgnn::fb::LayerOptions::GlobalPoolOptions,
                             "GlobalPool",
                             /*needs_node_rows=*/true,
                             /*has_activation=*/false,
                             /*max_inputs=*/1,
                             Footprint,
                             Init,
                             Prepare,
                             Eval,
                             QGNN_FLOAT_EVAL(EvalGlobalPoolF32)};
  return &op;
}
