// GINConv (see gin_conv.h).
#include "gin_conv.h"

#include <cmath>
#include "float/float_ops.h"
#include "limits.h"

namespace qgnn {
namespace runtime {
namespace {

uint32_t MlpLength(const fb::Layer& layer) {
  const fb::GINConvOptions* options = layer.options_as_GINConvOptions();
  return options != nullptr && options->mlp() != nullptr ? options->mlp()->size() : 0;
}

// The data: GinConvData, then the MLP's Dense ops, then the hidden quantizations.
size_t MlpOffset() { return OpDataAlign(sizeof(GinConvData)); }
size_t HiddenOffset(uint32_t count) { return MlpOffset() + OpDataAlign(count * sizeof(DenseParams)); }

OpFootprint Footprint(const fb::Model&, const fb::Layer& layer) {
  const uint32_t count = MlpLength(layer);
  return {HiddenOffset(count) + OpDataAlign(count * sizeof(QParams)), count};
}

qgnn_status InitHidden(InitContext& ctx, const fb::GINConvOptions& options, GinConvData& data) {
  const auto* hidden = options.hidden();
  const uint32_t count = data.num_dense;
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
  for (uint32_t k = 0; k < num_hidden; ++k) {
    char what[24];
    Format(what, sizeof(what), "hidden[%" PRIu32 "]", k);
    const qgnn_status st = InitQuantParams(ctx, hidden->Get(k), what, &data.hidden[k]);
    if (st != QGNN_OK) return st;
  }
  return QGNN_OK;
}

qgnn_status Init(InitContext& ctx, const fb::Layer& layer, Layer* out) {
  const fb::GINConvOptions* options = layer.options_as_GINConvOptions();
  const uint32_t count = MlpLength(layer);
  if (count == 0) return ctx.Fail(QGNN_MISSING_FIELD, "GINConv has an empty mlp");
  uint8_t* base = static_cast<uint8_t*>(out->data);
  GinConvData& data = *NewOpData<GinConvData>(base);
  data.mlp = reinterpret_cast<DenseParams*>(base + MlpOffset());
  data.hidden = reinterpret_cast<QParams*>(base + HiddenOffset(count));
  for (uint32_t k = 0; k < count; ++k) NewOpData<DenseParams>(&data.mlp[k]);
  for (uint32_t k = 0; k + 1 < count; ++k) NewOpData<QParams>(&data.hidden[k]);
  data.num_dense = count;
  int32_t features = out->in_dim;
  for (uint32_t k = 0; k < count; ++k) {
    char what[24];
    Format(what, sizeof(what), "mlp[%" PRIu32 "]", k);
    DenseParams& dense = data.mlp[k];
    qgnn_status st = InitDense(ctx, options->mlp()->Get(k), what, features, &dense);
    if (st != QGNN_OK) return st;
    // Hidden Dense ops carry their own activation; the last one the layer's.
    if (k + 1 < count) {
      st = InitActivation(ctx, options->mlp()->Get(k)->activation(), what, &dense.relu);
      if (st != QGNN_OK) return st;
    } else {
      dense.relu = out->relu;
    }
    features = dense.out_features;
  }
  if (ctx.quantized) {
    qgnn_status st = InitHidden(ctx, *options, data);
    if (st != QGNN_OK) return st;
    const int32_t w = options->self_weight_q16();
    if (w < 0 || w >= kSelfWeightLimit) {
      return ctx.Fail(QGNN_BAD_QUANT_PARAMS, "GINConv self_weight_q16 = %" PRId32 " outside [0, 2^23)", w);
    }
    data.self_weight_q16 = w;
    st = InitQuantParams(ctx, layer.aggregation(), "aggregation", &data.agg_q);
    if (st != QGNN_OK) return st;
    st = InitSingleRescale(ctx, options->aggregation_requant(), "aggregation_requant", &data.rq);
    if (st != QGNN_OK) return st;
  } else {
    const float eps = options->eps();
    if (!std::isfinite(eps)) {
      return ctx.Fail(QGNN_BAD_QUANT_PARAMS, "GINConv eps = %g is not finite", static_cast<double>(eps));
    }
    data.self_weight = 1.0f + eps;
  }
  // Stored hidden ranges (converter metadata): one per hidden output, each finite with min <= max.
  const auto* ranges = options->hidden_ranges();
  if (ranges != nullptr) {
    if (ranges->size() != count - 1) {
      return ctx.Fail(QGNN_SHAPE_MISMATCH,
                      "GINConv has %" PRIu32 " hidden_ranges, expected %" PRIu32 " (mlp length - 1)",
                      ranges->size(), count - 1);
    }
    for (uint32_t k = 0; k < ranges->size(); ++k) {
      char what[32];
      Format(what, sizeof(what), "hidden_ranges[%" PRIu32 "]", k);
      const qgnn_status st = InitRange(ctx, ranges->Get(k), what);
      if (st != QGNN_OK) return st;
    }
  }
  out->out_dim = features;
  return QGNN_OK;
}

void Prepare(PlanBuilder& plan, bool quantized, Layer* layer) {
  GinConvData& data = *static_cast<GinConvData*>(layer->data);
  plan.NextOp();  // aggregate
  plan.Use(layer->t_in);
  data.t_agg = plan.Add(layer->in_rows, ActivationRowBytes(quantized, layer->in_dim, data.agg_q.bits));
  data.t_hidden = kNoTensor;
  int32_t previous = data.t_agg;
  for (uint32_t k = 0; k < data.num_dense; ++k) {
    plan.NextOp();  // mlp[k]
    plan.Use(previous);
    const bool last = k + 1 == data.num_dense;
    const int32_t bits = last ? layer->out_q.bits : (quantized ? data.hidden[k].bits : 32);
    const int32_t id =
        plan.Add(layer->out_rows, ActivationRowBytes(quantized, data.mlp[k].out_features, bits));
    if (k == 0 && !last) data.t_hidden = id;
    if (last) layer->t_out = id;
    previous = id;
  }
}

void Eval(const EvalContext& ctx, const Layer& layer) {
  const GinConvData& data = *static_cast<const GinConvData*>(layer.data);
  RunAggregate(ctx,
               kernels::AggregateParams{kernels::AggregateMode::kSum, data.rq, data.self_weight_q16, nullptr},
               ConstActivation(ctx, layer.t_in, layer.in_q), layer.in_dim,
               MutableActivation(ctx, data.t_agg, data.agg_q));
  int32_t in_tensor = data.t_agg;
  QParams in_q = data.agg_q;
  for (uint32_t k = 0; k < data.num_dense; ++k) {
    const bool last = k + 1 == data.num_dense;
    const int32_t out_tensor = last ? layer.t_out : data.t_hidden + static_cast<int32_t>(k);
    const QParams out_q = last ? layer.out_q : data.hidden[k];
    RunDense(ctx, data.mlp[k], ConstActivation(ctx, in_tensor, in_q), {},
             MutableActivation(ctx, out_tensor, out_q), ctx.num_nodes);
    in_tensor = out_tensor;
    in_q = out_q;
  }
}

}  // namespace
}  // namespace runtime
}  // namespace qgnn

extern "C" const qgnn_op* qgnn_op_gin_conv(void) {
  using namespace qgnn::runtime;  // NOLINT(build/namespaces)
  static const qgnn_op op = {qgnn::fb::LayerOptions::GINConvOptions,
                             "GINConv",
                             /*needs_node_rows=*/true,
                             /*has_activation=*/true,
                             /*max_inputs=*/1,
                             Footprint,
                             Init,
                             Prepare,
                             Eval,
                             QGNN_FLOAT_EVAL(EvalGinConvF32)};
  return &op;
}
