// SAGEConv (see sage_conv.h).
#include "sage_conv.h"

#include "float/float_ops.h"
#include "limits.h"

namespace qgnn {
namespace runtime {
namespace {

// Format version that introduced SAGEConvOptions.order (docs/format.md, "Versions").
constexpr uint32_t kTransformFirstSageVersion = 6;

bool TransformFirst(const fb::SAGEConvOptions* options) {
  return options != nullptr && options->order() == fb::LayerOrder::TRANSFORM_FIRST;
}

// Width of the identity a quantized transform-first layer materialises: its neighbour weight tensor's
// output features, or 0 where the layer needs none or the tensor cannot be read (Init reports that).
uint32_t IdentityWidth(const fb::Model& model, const fb::Layer& layer) {
  const fb::SAGEConvOptions* options = layer.options_as_SAGEConvOptions();
  if (!model.quantized() || !TransformFirst(options) || options->neighbor() == nullptr) return 0;
  const int32_t index = options->neighbor()->weight();
  const auto* tensors = model.tensors();
  if (index < 0 || tensors == nullptr || static_cast<uint32_t>(index) >= tensors->size()) return 0;
  const auto* shape = tensors->Get(static_cast<uint32_t>(index))->shape();
  if (shape == nullptr || shape->size() != 2 || shape->Get(0) > kMaxFeatures) return 0;
  return shape->Get(0);
}

// The op's data: SageConvData, then (quantized transform-first) the int8 identity [w][w] and output_requant
// expanded to w multipliers and w shifts, since the Dense kernels take one rescale per channel.
size_t IdentityOffset() { return OpDataAlign(sizeof(SageConvData)); }
size_t MultiplierOffset(uint32_t w) { return IdentityOffset() + OpDataAlign(size_t{w} * w); }
size_t ShiftOffset(uint32_t w) { return MultiplierOffset(w) + OpDataAlign(size_t{w} * sizeof(int32_t)); }

OpFootprint Footprint(const fb::Model& model, const fb::Layer& layer) {
  const fb::SAGEConvOptions* options = layer.options_as_SAGEConvOptions();
  uint32_t denses = options != nullptr && options->root() != nullptr ? 2u : 1u;
  if (model.quantized() && TransformFirst(options)) ++denses;  // the output step
  const uint32_t w = IdentityWidth(model, layer);
  return {w > 0 ? ShiftOffset(w) + size_t{w} * sizeof(int32_t) : sizeof(SageConvData), denses};
}

// Quantized transform-first: the output step's Dense (docs/quantization.md, "Transform-first SAGEConv").
qgnn_status InitOutputStep(InitContext& ctx, const fb::Layer& layer, const fb::SAGEConvOptions& options,
                           Layer* out, SageConvData& data) {
  const uint32_t w = IdentityWidth(*ctx.model, layer);
  if (w == 0 || w != static_cast<uint32_t>(data.neighbor.out_features)) {  // same tensor Init just verified
    return ctx.Fail(QGNN_SHAPE_MISMATCH, "neighbor: cannot size the transform-first identity");
  }
  qgnn_status st = InitQuantParams(ctx, options.message(), "message", &data.message_q);
  if (st != QGNN_OK) return st;
  kernels::Rescale output_rq{};
  st = InitSingleDenseRescale(ctx, options.output_requant(), "output_requant", &output_rq);
  if (st != QGNN_OK) return st;
  DenseParams& step = data.output;
  if (!ctx.AddDense(&step)) {
    return ctx.Fail(QGNN_LIMIT_EXCEEDED, "output step: more Dense ops than the op's footprint declared");
  }
  uint8_t* base = static_cast<uint8_t*>(out->data);
  int8_t* identity = reinterpret_cast<int8_t*>(base + IdentityOffset());
  int32_t* multipliers = reinterpret_cast<int32_t*>(base + MultiplierOffset(w));
  int32_t* shifts = reinterpret_cast<int32_t*>(base + ShiftOffset(w));
  for (uint32_t c = 0; c < w; ++c) {
    for (uint32_t k = 0; k < w; ++k) identity[size_t{c} * w + k] = c == k ? 1 : 0;
    multipliers[c] = output_rq.multiplier;
    shifts[c] = output_rq.shift;
  }
  step.in_features = static_cast<int32_t>(w);
  step.out_features = static_cast<int32_t>(w);
  step.relu = out->relu;
  step.weights = kernels::QWeights{identity, 8};
  step.bias_q = data.neighbor.bias_q;  // INT32 at the aggregation scale
  step.rq = kernels::ChannelRescale{multipliers, shifts};
  step.extra = options.root() != nullptr ? &data.root : nullptr;
  data.neighbor.bias_q = nullptr;
  return QGNN_OK;
}

qgnn_status InitTransformFirst(InitContext& ctx, const fb::Layer& layer, const fb::SAGEConvOptions& options,
                               Layer* out, SageConvData& data) {
  if (ctx.model->version() < kTransformFirstSageVersion) {
    return ctx.Fail(QGNN_UNSUPPORTED_VERSION,
                    "transform-first SAGEConv in a format version %" PRIu32 " file (needs version %" PRIu32
                    ")",
                    ctx.model->version(), kTransformFirstSageVersion);
  }
  if (data.mode != kernels::AggregateMode::kMean) {
    return ctx.Fail(QGNN_UNSUPPORTED_LAYER,
                    "transform-first SAGEConv with MAX (max does not commute with W_n)");
  }
  if (data.neighbor.bn_mean != nullptr) {
    // BatchNorm normalises the whole sum after the aggregation of the messages: fold it first.
    return ctx.Fail(QGNN_UNSUPPORTED_LAYER, "transform-first SAGEConv with an unfolded BatchNorm (fold it)");
  }
  data.transform_first = true;
  data.neighbor.relu = false;
  data.neighbor.extra = nullptr;
  // The neighbour Dense reads the input first and the root term again in the output step: a streamed (or
  // sparse) model input is quantized tile by tile for each (RunDenseOnInput, RunDenseWithInputExtra).
  out->input_dense = &data.neighbor;
  if (options.root() != nullptr) out->input_root = &data.root;
  if (!ctx.quantized) {
    if (options.message() != nullptr || options.output_requant() != nullptr) {
      return ctx.Fail(QGNN_BAD_QUANT_PARAMS, "float SAGEConv has a message quantization or output_requant");
    }
    data.bias_f = data.neighbor.bias_f;
    data.neighbor.bias_f = nullptr;
    return QGNN_OK;
  }
  return InitOutputStep(ctx, layer, options, out, data);
}

qgnn_status Init(InitContext& ctx, const fb::Layer& layer, Layer* out) {
  const fb::SAGEConvOptions* options = layer.options_as_SAGEConvOptions();
  SageConvData& data = *NewOpData<SageConvData>(out->data);
  qgnn_status st = InitReduce(ctx, options->reduce(), /*allow_sum=*/false, "SAGEConv", &data.mode);
  if (st != QGNN_OK) return st;
  st = InitDense(ctx, options->neighbor(), "neighbor", out->in_dim, &data.neighbor);
  if (st != QGNN_OK) return st;
  st = InitRange(ctx, options->message_range(), "message_range");
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
  out->out_dim = data.neighbor.out_features;
  if (ctx.quantized) {
    st = InitQuantParams(ctx, layer.aggregation(), "aggregation", &data.agg_q);
    if (st != QGNN_OK) return st;
    st = InitSingleRescale(ctx, options->aggregation_requant(), "aggregation_requant", &data.rq);
    if (st != QGNN_OK) return st;
  }
  switch (options->order()) {
    case fb::LayerOrder::AGGREGATE_FIRST:
      break;
    case fb::LayerOrder::TRANSFORM_FIRST:
      return InitTransformFirst(ctx, layer, *options, out, data);
    default:
      return ctx.Fail(QGNN_UNSUPPORTED_LAYER, "unknown SAGEConv order %d",
                      static_cast<int>(options->order()));
  }
  // The transform-first fields on an aggregate-first layer (or in a float model) mean a malformed file.
  if (options->message() != nullptr) {
    return ctx.Fail(QGNN_BAD_QUANT_PARAMS, "aggregate-first SAGEConv has a message quantization");
  }
  if (options->output_requant() != nullptr) {
    return ctx.Fail(QGNN_BAD_QUANT_PARAMS, "aggregate-first SAGEConv has an output_requant");
  }
  return QGNN_OK;
}

void Prepare(PlanBuilder& plan, bool quantized, Layer* layer) {
  SageConvData& data = *static_cast<SageConvData*>(layer->data);
  if (data.transform_first) {
    // Every tensor is as wide as the output.
    plan.NextOp();  // neighbour Dense onto the messages
    plan.Use(layer->t_in);
    data.t_message =
        plan.Add(layer->in_rows, ActivationRowBytes(quantized, layer->out_dim, data.message_q.bits));
    plan.NextOp();  // mean of the messages
    plan.Use(data.t_message);
    data.t_agg = plan.Add(layer->in_rows, ActivationRowBytes(quantized, layer->out_dim, data.agg_q.bits));
    plan.NextOp();  // output step (+ root term on the layer input)
    plan.Use(data.t_agg);
    plan.Use(layer->t_in);
    layer->t_out =
        plan.Add(layer->out_rows, ActivationRowBytes(quantized, layer->out_dim, layer->out_q.bits));
    return;
  }
  plan.NextOp();  // aggregate
  plan.Use(layer->t_in);
  data.t_agg = plan.Add(layer->in_rows, ActivationRowBytes(quantized, layer->in_dim, data.agg_q.bits));
  plan.NextOp();  // dense (+ root term on the layer input)
  plan.Use(data.t_agg);
  plan.Use(layer->t_in);
  layer->t_out = plan.Add(layer->out_rows, ActivationRowBytes(quantized, layer->out_dim, layer->out_q.bits));
}

void EvalTransformFirst(const EvalContext& ctx, const Layer& layer, const SageConvData& data) {
  // Input 0 may be the streamed (or sparse) model input, which has no arena tensor: both steps that read it
  // take it tile by tile.
  RunDenseOnInput(ctx, layer, MutableActivation(ctx, data.t_message, data.message_q), ctx.num_nodes);
  RunAggregate(ctx, kernels::AggregateParams{kernels::AggregateMode::kMean, data.rq, 0, nullptr},
               ConstActivation(ctx, data.t_message, data.message_q), layer.out_dim,
               MutableActivation(ctx, data.t_agg, data.agg_q));
  const kernels::QActivationConst agg = ConstActivation(ctx, data.t_agg, data.agg_q);
  const kernels::QActivation out = MutableActivation(ctx, layer.t_out, layer.out_q);
  if (data.output.extra != nullptr) {
    RunDenseWithInputExtra(ctx, layer, data.output, agg, out, ctx.num_nodes);
  } else {
    RunDense(ctx, data.output, agg, {}, out, ctx.num_nodes);
  }
}

void Eval(const EvalContext& ctx, const Layer& layer) {
  const SageConvData& data = *static_cast<const SageConvData*>(layer.data);
  if (data.transform_first) {
    EvalTransformFirst(ctx, layer, data);
    return;
  }
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
