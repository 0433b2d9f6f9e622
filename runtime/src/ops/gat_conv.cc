// GATConv (see gat_conv.h).
#include "gat_conv.h"

#include "float/float_ops.h"
#include "limits.h"

namespace qgnn {
namespace runtime {
namespace {

// GAT's LeakyReLU slope: the quantized logit_negative_requant folds exactly this value in, so a file stating
// another one describes a layer the runtime does not compute.
constexpr float kNegativeSlope = 0.2f;
// Mean of heads (docs/quantization.md, "GAT attention (kernels)", Bounds): H <= 64 and H (deg + 1) <= 2^22
// keep the int32 sum over heads below 2^30.
constexpr uint32_t kMaxMeanHeads = 64;
constexpr uint64_t kMeanHeadDegreeBudget = uint64_t{1} << 22;
// The exp table's first entry: exp(0) in Q15; S >= it bounds the softmax's reciprocal.
constexpr uint16_t kExpTableOne = 32768;

OpFootprint Footprint(const fb::Model&, const fb::Layer&) { return {sizeof(GatConvData), 1}; }

const char* TensorName(const fb::Tensor& tensor) {
  return tensor.name() != nullptr ? tensor.name()->c_str() : "";
}

// a_src or a_dst: [1, H F], FLOAT32 (float) or INT8 with one valid scale (quantized).
qgnn_status InitAttention(const InitContext& ctx, int32_t index, const char* what, uint32_t cols,
                          const uint8_t** data, float* scale) {
  if (index == -1) return ctx.Fail(QGNN_MISSING_FIELD, "%s tensor is missing", what);
  const fb::Tensor* t = nullptr;
  qgnn_status st = InitTensor(ctx, index, what, "attention", &t, data);
  if (st != QGNN_OK) return st;
  const fb::TensorType expected = ctx.quantized ? fb::TensorType::INT8 : fb::TensorType::FLOAT32;
  if (t->type() != expected) {
    return ctx.Fail(QGNN_BAD_TENSOR_TYPE, "%s: tensor %" PRId32 " (%s) is %s, expected %s", what, index,
                    TensorName(*t), fb::EnumNameTensorType(t->type()), fb::EnumNameTensorType(expected));
  }
  const auto* shape = t->shape();  // present and non-empty (VerifyTensors)
  if (shape->size() != 2 || shape->Get(0) != 1 || shape->Get(1) != cols) {
    return ctx.Fail(QGNN_SHAPE_MISMATCH, "%s: tensor %" PRId32 " (%s) must have shape [1, %" PRIu32 "]", what,
                    index, TensorName(*t), cols);
  }
  const uint32_t scales = t->scales() != nullptr ? t->scales()->size() : 0;
  if (scales != (ctx.quantized ? 1u : 0u)) {
    return ctx.Fail(QGNN_SHAPE_MISMATCH, "%s: tensor %" PRId32 " (%s) has %" PRIu32 " scales, expected %d",
                    what, index, TensorName(*t), scales, ctx.quantized ? 1 : 0);
  }
  if (ctx.quantized) {
    *scale = t->scales()->Get(0);
    if (!(*scale > 0.0f && *scale < 3.4e38f)) {  // finite and > 0 (a NaN fails both)
      return ctx.Fail(QGNN_BAD_QUANT_PARAMS, "%s: tensor %" PRId32 " (%s) scale %g is not finite and > 0",
                      what, index, TensorName(*t), static_cast<double>(*scale));
    }
  }
  return QGNN_OK;
}

// The output bias: [out cols], FLOAT32 or INT32 with |b| < 2^30; -1: none.
qgnn_status InitBias(const InitContext& ctx, int32_t index, uint32_t cols, GatConvData& data) {
  if (index == -1) return QGNN_OK;
  const fb::Tensor* t = nullptr;
  const uint8_t* bytes = nullptr;
  qgnn_status st = InitTensor(ctx, index, "bias", "bias", &t, &bytes);
  if (st != QGNN_OK) return st;
  const fb::TensorType expected = ctx.quantized ? fb::TensorType::INT32 : fb::TensorType::FLOAT32;
  if (t->type() != expected) {
    return ctx.Fail(QGNN_BAD_TENSOR_TYPE, "bias: tensor %" PRId32 " (%s) is %s, expected %s", index,
                    TensorName(*t), fb::EnumNameTensorType(t->type()), fb::EnumNameTensorType(expected));
  }
  const auto* shape = t->shape();
  if (shape->size() != 1 || shape->Get(0) != cols) {
    return ctx.Fail(QGNN_SHAPE_MISMATCH, "bias: tensor %" PRId32 " (%s) must have shape [%" PRIu32 "]", index,
                    TensorName(*t), cols);
  }
  if (t->scales() != nullptr && t->scales()->size() != 0) {
    return ctx.Fail(QGNN_SHAPE_MISMATCH, "bias: tensor %" PRId32 " (%s) has scales, expected none", index,
                    TensorName(*t));
  }
  if (!ctx.quantized) {
    data.bias_f = reinterpret_cast<const float*>(bytes);
    return QGNN_OK;
  }
  const int32_t* bias = reinterpret_cast<const int32_t*>(bytes);
  for (uint32_t c = 0; c < cols; ++c) {
    if (bias[c] <= -kMaxAbsBias || bias[c] >= kMaxAbsBias) {
      return ctx.Fail(QGNN_BAD_QUANT_PARAMS, "bias: element %" PRIu32 " = %" PRId32 ", |bias| must be < 2^30",
                      c, bias[c]);
    }
  }
  data.bias_q = bias;
  return QGNN_OK;
}

// The softmax's exp table: 256 Q15 entries, T[0] = 2^15 (S >= 2^15 bounds the reciprocal) and non-increasing
// (an exp of non-positive arguments; anything else is not a softmax).
qgnn_status InitExpTable(const InitContext& ctx, const flatbuffers::Vector<uint16_t>* table,
                         GatConvData& data) {
  if (table == nullptr) return ctx.Fail(QGNN_MISSING_FIELD, "exp_table is missing");
  if (table->size() != static_cast<uint32_t>(kernels::kGatExpTableSize)) {
    return ctx.Fail(QGNN_SHAPE_MISMATCH, "exp_table has %" PRIu32 " entries, expected %" PRId32,
                    table->size(), kernels::kGatExpTableSize);
  }
  if (table->Get(0) != kExpTableOne) {
    return ctx.Fail(QGNN_BAD_QUANT_PARAMS, "exp_table[0] = %u, expected 32768 (exp(0) in Q15)",
                    static_cast<unsigned>(table->Get(0)));
  }
  for (uint32_t k = 1; k < table->size(); ++k) {
    if (table->Get(k) > table->Get(k - 1)) {
      return ctx.Fail(QGNN_BAD_QUANT_PARAMS,
                      "exp_table[%" PRIu32 "] = %u exceeds exp_table[%" PRIu32 "] = %u", k,
                      static_cast<unsigned>(table->Get(k)), k - 1, static_cast<unsigned>(table->Get(k - 1)));
    }
  }
  data.exp_table = table->data();
  return QGNN_OK;
}

// Mean of heads: the int32 sum over heads holds for H <= 64 and H (deg + 1) <= 2^22 only, so the model's
// degree limit must be low enough (concat, and a single head, take every degree the runtime accepts).
qgnn_status CheckMeanBound(const InitContext& ctx, uint32_t heads) {
  if (heads > kMaxMeanHeads) {
    return ctx.Fail(QGNN_LIMIT_EXCEEDED, "the mean of %" PRIu32 " heads (at most %" PRIu32 ")", heads,
                    kMaxMeanHeads);
  }
  if (!ctx.quantized || heads == 1) return QGNN_OK;
  const fb::Limits* limits = ctx.model->limits();
  const uint32_t declared = limits != nullptr ? limits->max_degree() : 0;
  const uint64_t degree = declared == 0 || declared > kMaxDegree ? kMaxDegree : declared;
  if (uint64_t{heads} * (degree + 1) > kMeanHeadDegreeBudget) {
    return ctx.Fail(QGNN_LIMIT_EXCEEDED,
                    "the mean of %" PRIu32 " heads needs Limits.max_degree <= %llu (the model allows %llu)",
                    heads, static_cast<unsigned long long>(kMeanHeadDegreeBudget / heads - 1),
                    static_cast<unsigned long long>(degree));
  }
  return QGNN_OK;
}

qgnn_status InitQuantized(const InitContext& ctx, const fb::Layer& layer, const fb::GATConvOptions& options,
                          uint32_t out_cols, GatConvData& data) {
  if (layer.aggregation() != nullptr) {
    return ctx.Fail(QGNN_BAD_QUANT_PARAMS,
                    "GATConv has Layer.aggregation (its intermediate components are message and logit)");
  }
  qgnn_status st = InitQuantParams(ctx, options.message(), "message", &data.message_q);
  // 8- or 4-bit logits (InitQuantParams checks the width and the zero point): the kernel clamps them to
  // their width, and a 4-bit row reads exp table entries 0..15 of the same 256.
  if (st == QGNN_OK) st = InitQuantParams(ctx, options.logit(), "logit", &data.logit_q);
  if (st != QGNN_OK) return st;
  st = InitSingleDenseRescale(ctx, options.logit_requant(), "logit_requant", &data.logit_pos);
  if (st == QGNN_OK) {
    st = InitSingleDenseRescale(ctx, options.logit_negative_requant(), "logit_negative_requant",
                                &data.logit_neg);
  }
  if (st == QGNN_OK) st = InitExpTable(ctx, options.exp_table(), data);
  if (st == QGNN_OK)
    st = InitChannelRescale(ctx, options.output_requant(), "output_requant", out_cols, &data.out_rq);
  return st;
}

qgnn_status InitAttentionPair(const InitContext& ctx, const fb::GATConvOptions& options, uint32_t cols,
                              GatConvData& data) {
  const uint8_t* src = nullptr;
  const uint8_t* dst = nullptr;
  float src_scale = 0.0f, dst_scale = 0.0f;
  qgnn_status st = InitAttention(ctx, options.att_src(), "att_src", cols, &src, &src_scale);
  if (st == QGNN_OK) st = InitAttention(ctx, options.att_dst(), "att_dst", cols, &dst, &dst_scale);
  if (st != QGNN_OK) return st;
  if (!ctx.quantized) {
    data.att_src_f = reinterpret_cast<const float*>(src);
    data.att_dst_f = reinterpret_cast<const float*>(dst);
    return QGNN_OK;
  }
  // The two terms of a logit are added as integers, so both vectors must be at one scale.
  if (src_scale != dst_scale) {
    return ctx.Fail(QGNN_BAD_QUANT_PARAMS,
                    "att_src scale %g and att_dst scale %g differ (they must share one)",
                    static_cast<double>(src_scale), static_cast<double>(dst_scale));
  }
  data.att_src_q = reinterpret_cast<const int8_t*>(src);
  data.att_dst_q = reinterpret_cast<const int8_t*>(dst);
  return QGNN_OK;
}

qgnn_status Init(InitContext& ctx, const fb::Layer& layer, Layer* out) {
  const fb::GATConvOptions* options = layer.options_as_GATConvOptions();
  GatConvData& data = *NewOpData<GatConvData>(out->data);
  const uint32_t heads = options->heads(), head_dim = options->head_dim();
  if (heads == 0 || head_dim == 0) {
    return ctx.Fail(QGNN_SHAPE_MISMATCH, "GATConv has %" PRIu32 " heads of %" PRIu32 " features (both >= 1)",
                    heads, head_dim);
  }
  if (uint64_t{heads} * head_dim > kMaxFeatures) {
    return ctx.Fail(QGNN_LIMIT_EXCEEDED,
                    "GATConv has %" PRIu32 " x %" PRIu32 " message features (at most %" PRIu32 ")", heads,
                    head_dim, kMaxFeatures);
  }
  if (options->negative_slope() != kNegativeSlope) {
    return ctx.Fail(QGNN_UNSUPPORTED_LAYER, "GATConv negative_slope %g is not 0.2",
                    static_cast<double>(options->negative_slope()));
  }
  const uint32_t cols = heads * head_dim;
  data.heads = static_cast<int32_t>(heads);
  data.head_dim = static_cast<int32_t>(head_dim);
  data.concat = options->concat();
  if (!data.concat) {
    const qgnn_status bound = CheckMeanBound(ctx, heads);
    if (bound != QGNN_OK) return bound;
  }
  qgnn_status st = InitDense(ctx, options->dense(), "dense", out->in_dim, &data.dense);
  if (st != QGNN_OK) return st;
  if (static_cast<uint32_t>(data.dense.out_features) != cols) {
    return ctx.Fail(QGNN_SHAPE_MISMATCH,
                    "dense has %" PRId32 " output features, expected heads x head_dim = %" PRIu32,
                    data.dense.out_features, cols);
  }
  // The layer's bias and activation follow the aggregation; the Dense only maps the input onto the messages.
  if (data.dense.bias_q != nullptr || data.dense.bias_f != nullptr) {
    return ctx.Fail(QGNN_UNSUPPORTED_LAYER, "dense has a bias (a GATConv's bias is GATConvOptions.bias)");
  }
  if (data.dense.bn_mean != nullptr) {
    return ctx.Fail(QGNN_UNSUPPORTED_LAYER, "dense has a BatchNorm (it does not commute with the attention)");
  }
  const uint32_t out_cols = data.concat ? cols : head_dim;
  out->out_dim = static_cast<int32_t>(out_cols);
  // The messages' Dense is the only reader of the layer input, so the model input may be streamed into it.
  out->input_dense = &data.dense;
  st = InitAttentionPair(ctx, *options, cols, data);
  if (st == QGNN_OK) st = InitBias(ctx, options->bias(), out_cols, data);
  if (st == QGNN_OK) st = InitRange(ctx, options->message_range(), "message_range");
  if (st == QGNN_OK) st = InitRange(ctx, options->logit_range(), "logit_range");
  if (st != QGNN_OK) return st;
  if (ctx.quantized) return InitQuantized(ctx, layer, *options, out_cols, data);
  if (options->message() != nullptr || options->logit() != nullptr || options->logit_requant() != nullptr ||
      options->logit_negative_requant() != nullptr || options->exp_table() != nullptr ||
      options->output_requant() != nullptr) {
    return ctx.Fail(QGNN_BAD_QUANT_PARAMS, "float GATConv has quantization fields");
  }
  return QGNN_OK;
}

void Prepare(PlanBuilder& plan, bool quantized, Layer* layer) {
  GatConvData& data = *static_cast<GatConvData*>(layer->data);
  const int32_t cols = data.heads * data.head_dim;
  plan.NextOp();  // the messages
  plan.Use(layer->t_in);
  data.t_message = plan.Add(layer->in_rows, ActivationRowBytes(quantized, cols, data.message_q.bits));
  plan.NextOp();  // the attention terms (int32 or float: 4 bytes either way)
  plan.Use(data.t_message);
  data.t_terms = plan.Add(layer->in_rows, static_cast<uint32_t>(data.heads) * 2u * 4u);
  plan.NextOp();  // softmax and aggregation
  plan.Use(data.t_message);
  plan.Use(data.t_terms);
  layer->t_out = plan.Add(layer->out_rows, ActivationRowBytes(quantized, layer->out_dim, layer->out_q.bits));
}

void Eval(const EvalContext& ctx, const Layer& layer) {
  const GatConvData& data = *static_cast<const GatConvData*>(layer.data);
  RunDenseOnInput(ctx, layer, MutableActivation(ctx, data.t_message, data.message_q), ctx.num_nodes);
  const kernels::QActivationConst messages = ConstActivation(ctx, data.t_message, data.message_q);
  int32_t* src = static_cast<int32_t*>(ctx.Data(data.t_terms));
  int32_t* dst = src + static_cast<size_t>(ctx.num_nodes) * static_cast<size_t>(data.heads);
  // Bare-metal tables have no GAT entries (kernel_table.h): the reference functions are called there.
  const auto terms = ctx.kernels->gat_attention_terms != nullptr ? ctx.kernels->gat_attention_terms
                                                                 : kernels::gat_attention_terms;
  ParallelFor(*ctx.pool, ctx.num_nodes, [&](int32_t begin, int32_t end) {
    terms(messages, data.heads, data.head_dim, data.att_src_q, data.att_dst_q, src, dst, begin, end);
  });
  kernels::GatParams params{};
  params.heads = data.heads;
  params.head_dim = data.head_dim;
  params.src_terms = src;
  params.dst_terms = dst;
  params.logit_pos = data.logit_pos;
  params.logit_neg = data.logit_neg;
  params.logit_zero_point = data.logit_q.zero_point;
  params.logit_bits = data.logit_q.bits;
  params.exp_table = data.exp_table;
  params.concat = data.concat;
  params.bias = data.bias_q;
  params.rq = data.out_rq;
  params.relu = layer.relu;
  const auto aggregate =
      ctx.kernels->gat_aggregate != nullptr ? ctx.kernels->gat_aggregate : kernels::gat_aggregate;
  const kernels::QActivation out = MutableActivation(ctx, layer.t_out, layer.out_q);
  // A row's cost grows with its in-degree: the rows are cut by edges, as for the other aggregations.
  ParallelFor(*ctx.pool, *ctx.partition,
              [&](int32_t begin, int32_t end) { aggregate(ctx.graph, params, messages, out, begin, end); });
}

}  // namespace
}  // namespace runtime
}  // namespace qgnn

extern "C" const qgnn_op* qgnn_op_gat_conv(void) {
  using namespace qgnn::runtime;  // NOLINT(build/namespaces)
  static const qgnn_op op = {qgnn::fb::LayerOptions::GATConvOptions,
                             "GATConv",
                             /*needs_node_rows=*/true,
                             /*has_activation=*/true,
                             /*max_inputs=*/1,
                             Footprint,
                             Init,
                             Prepare,
                             Eval,
                             QGNN_FLOAT_EVAL(EvalGatConvF32)};
  return &op;
}
