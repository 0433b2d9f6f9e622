// Init helpers shared by the layer ops: verification of Dense / QuantParams / Requant / Activation / Range
// fields, resolved into the ops' data (zero copy).
#include <cmath>
#include <cstdarg>

#include "limits.h"
#include "op.h"
#include "qgnn/kernels/numerics.h"

namespace qgnn {
namespace runtime {
namespace {

const char* TensorName(const fb::Tensor& tensor) {
  return tensor.name() != nullptr ? tensor.name()->c_str() : "";
}

// Tensor `index` of the model for `role` of `what`. Buffer indices were checked by VerifyTensors.
qgnn_status GetTensor(const InitContext& ctx, int32_t index, const char* what, const char* role,
                      const fb::Tensor** tensor, const uint8_t** data) {
  const auto* tensors = ctx.model->tensors();
  const uint32_t count = tensors != nullptr ? tensors->size() : 0;
  if (index < 0 || static_cast<uint32_t>(index) >= count) {
    return ctx.Fail(QGNN_INDEX_OUT_OF_RANGE,
                    "%s: %s tensor index %" PRId32 " is out of range (the model has %" PRIu32 " tensors)",
                    what, role, index, count);
  }
  *tensor = tensors->Get(static_cast<uint32_t>(index));
  const auto* bytes = ctx.model->buffers()->Get((*tensor)->buffer())->data();
  *data = (bytes != nullptr && bytes->size() > 0) ? bytes->data() : nullptr;
  return QGNN_OK;
}

bool ValidScale(float s) { return std::isfinite(s) && s > 0.0f; }

qgnn_status CheckRescaleEntry(const InitContext& ctx, const char* what, uint32_t i, int32_t multiplier,
                              int32_t shift, int32_t max_shift) {
  if (multiplier < kMultiplierMin || multiplier > kMultiplierMax) {
    return ctx.Fail(QGNN_BAD_QUANT_PARAMS,
                    "%s: multiplier[%" PRIu32 "] = %" PRId32 " outside [2^30, 2^31 - 1]", what, i,
                    multiplier);
  }
  if (shift < kShiftMin || shift > max_shift) {
    return ctx.Fail(QGNN_BAD_QUANT_PARAMS,
                    "%s: shift[%" PRIu32 "] = %" PRId32 " outside [%" PRId32 ", %" PRId32 "]", what, i, shift,
                    kShiftMin, max_shift);
  }
  return QGNN_OK;
}

// Requant with `expected` entries in both arrays, each shift at most `max_shift` (kDenseShiftMax or
// kAggregationShiftMax).
qgnn_status CheckRequant(const InitContext& ctx, const fb::Requant* rq, const char* what, uint32_t expected,
                         int32_t max_shift) {
  if (rq == nullptr) return ctx.Fail(QGNN_MISSING_FIELD, "%s is missing", what);
  const auto* m = rq->multiplier();
  const auto* s = rq->shift();
  if (m == nullptr || m->size() == 0) return ctx.Fail(QGNN_MISSING_FIELD, "%s has no multipliers", what);
  if (s == nullptr || s->size() == 0) return ctx.Fail(QGNN_MISSING_FIELD, "%s has no shifts", what);
  if (m->size() != expected) {
    return ctx.Fail(QGNN_SHAPE_MISMATCH, "%s has %" PRIu32 " multipliers, expected %" PRIu32, what, m->size(),
                    expected);
  }
  if (s->size() != expected) {
    return ctx.Fail(QGNN_SHAPE_MISMATCH, "%s has %" PRIu32 " shifts, expected %" PRIu32, what, s->size(),
                    expected);
  }
  for (uint32_t i = 0; i < expected; ++i) {
    const qgnn_status st = CheckRescaleEntry(ctx, what, i, m->Get(i), s->Get(i), max_shift);
    if (st != QGNN_OK) return st;
  }
  return QGNN_OK;
}

qgnn_status InitWeight(const InitContext& ctx, const fb::Dense& dense, const char* what, int32_t in_features,
                       DenseParams* out) {
  if (dense.weight() == -1) return ctx.Fail(QGNN_MISSING_FIELD, "%s has no weight tensor", what);
  const fb::Tensor* w = nullptr;
  const uint8_t* data = nullptr;
  qgnn_status st = GetTensor(ctx, dense.weight(), what, "weight", &w, &data);
  if (st != QGNN_OK) return st;
  const int32_t index = dense.weight();
  const fb::TensorType type = w->type();
  if (ctx.quantized ? (type != fb::TensorType::INT8 && type != fb::TensorType::INT4)
                    : type != fb::TensorType::FLOAT32) {
    return ctx.Fail(QGNN_BAD_TENSOR_TYPE, "%s: weight tensor %" PRId32 " (%s) is %s, expected %s", what,
                    index, TensorName(*w), fb::EnumNameTensorType(type),
                    ctx.quantized ? "INT8 or INT4" : "FLOAT32");
  }
  const auto* shape = w->shape();  // present and non-empty (VerifyTensors)
  if (shape->size() != 2) {
    return ctx.Fail(QGNN_SHAPE_MISMATCH,
                    "%s: weight tensor %" PRId32 " (%s) has rank %" PRIu32 ", expected 2 ([out, in])", what,
                    index, TensorName(*w), shape->size());
  }
  const uint32_t rows = shape->Get(0), cols = shape->Get(1);
  if (rows > kMaxFeatures || cols > kMaxFeatures) {
    return ctx.Fail(QGNN_LIMIT_EXCEEDED,
                    "%s: weight tensor %" PRId32 " (%s) is [%" PRIu32 ", %" PRIu32
                    "], features are limited to %" PRIu32,
                    what, index, TensorName(*w), rows, cols, kMaxFeatures);
  }
  if (rows == 0) {
    return ctx.Fail(QGNN_SHAPE_MISMATCH, "%s: weight tensor %" PRId32 " (%s) has 0 output features", what,
                    index, TensorName(*w));
  }
  if (cols != static_cast<uint32_t>(in_features)) {
    return ctx.Fail(QGNN_SHAPE_MISMATCH,
                    "%s: weight tensor %" PRId32 " (%s) has %" PRIu32 " input features, expected %" PRId32,
                    what, index, TensorName(*w), cols, in_features);
  }
  const auto* scales = w->scales();
  const uint32_t num_scales = scales != nullptr ? scales->size() : 0;
  if (ctx.quantized) {
    if (num_scales == 0) {
      return ctx.Fail(QGNN_MISSING_FIELD, "%s: weight tensor %" PRId32 " (%s) has no scales", what, index,
                      TensorName(*w));
    }
    if (num_scales != rows) {
      return ctx.Fail(QGNN_SHAPE_MISMATCH,
                      "%s: weight tensor %" PRId32 " (%s) has %" PRIu32 " scales, expected %" PRIu32
                      " (one per row)",
                      what, index, TensorName(*w), num_scales, rows);
    }
    for (uint32_t c = 0; c < rows; ++c) {
      if (!ValidScale(scales->Get(c))) {
        return ctx.Fail(QGNN_BAD_QUANT_PARAMS,
                        "%s: weight tensor %" PRId32 " (%s) scale[%" PRIu32 "] = %g is not finite and > 0",
                        what, index, TensorName(*w), c, static_cast<double>(scales->Get(c)));
      }
    }
    out->weights = kernels::QWeights{data, type == fb::TensorType::INT4 ? 4 : 8};
  } else {
    if (num_scales != 0) {
      return ctx.Fail(QGNN_SHAPE_MISMATCH,
                      "%s: float weight tensor %" PRId32 " (%s) has %" PRIu32 " scales, expected none", what,
                      index, TensorName(*w), num_scales);
    }
    out->weight_f = reinterpret_cast<const float*>(data);
  }
  out->in_features = in_features;
  out->out_features = static_cast<int32_t>(rows);
  return QGNN_OK;
}

qgnn_status InitBias(const InitContext& ctx, const fb::Dense& dense, const char* what, DenseParams* out) {
  const int32_t index = dense.bias();
  if (index == -1) return QGNN_OK;
  const fb::Tensor* b = nullptr;
  const uint8_t* data = nullptr;
  qgnn_status st = GetTensor(ctx, index, what, "bias", &b, &data);
  if (st != QGNN_OK) return st;
  const fb::TensorType expected = ctx.quantized ? fb::TensorType::INT32 : fb::TensorType::FLOAT32;
  if (b->type() != expected) {
    return ctx.Fail(QGNN_BAD_TENSOR_TYPE, "%s: bias tensor %" PRId32 " (%s) is %s, expected %s", what, index,
                    TensorName(*b), fb::EnumNameTensorType(b->type()), fb::EnumNameTensorType(expected));
  }
  const auto* shape = b->shape();
  if (shape->size() != 1 || shape->Get(0) != static_cast<uint32_t>(out->out_features)) {
    return ctx.Fail(QGNN_SHAPE_MISMATCH,
                    "%s: bias tensor %" PRId32 " (%s) must have shape [%" PRId32 "] (rank %" PRIu32
                    ", first dim %" PRIu32 ")",
                    what, index, TensorName(*b), out->out_features, shape->size(), shape->Get(0));
  }
  if (b->scales() != nullptr && b->scales()->size() != 0) {
    return ctx.Fail(QGNN_SHAPE_MISMATCH,
                    "%s: bias tensor %" PRId32 " (%s) has %" PRIu32 " scales, expected none", what, index,
                    TensorName(*b), b->scales()->size());
  }
  if (ctx.quantized) {
    const int32_t* bias = reinterpret_cast<const int32_t*>(data);
    for (int32_t c = 0; c < out->out_features; ++c) {
      const int64_t v = bias[c];
      if (v <= -kMaxAbsBias || v >= kMaxAbsBias) {
        return ctx.Fail(QGNN_BAD_QUANT_PARAMS,
                        "%s: bias tensor %" PRId32 " (%s) element %" PRId32 " = %" PRId32
                        ", |bias| must be < 2^30",
                        what, index, TensorName(*b), c, bias[c]);
      }
    }
    out->bias_q = bias;
  } else {
    out->bias_f = reinterpret_cast<const float*>(data);
  }
  return QGNN_OK;
}

// Unfolded BatchNorm of a float Dense (schema BatchNorm). Quantized Dense ops have it folded into their
// integer weights, so a quantized model carrying one is rejected rather than silently mis-run.
qgnn_status InitBatchNorm(const InitContext& ctx, const fb::BatchNorm* bn, const char* what,
                          DenseParams* out) {
  if (bn == nullptr) return QGNN_OK;
  if (ctx.quantized) {
    return ctx.Fail(QGNN_UNSUPPORTED_LAYER,
                    "%s: BatchNorm in a quantized model (quantized Dense ops must have it folded)", what);
  }
  const uint32_t channels = static_cast<uint32_t>(out->out_features);
  const flatbuffers::Vector<float>* vectors[] = {bn->mean(), bn->var(), bn->gamma(), bn->beta()};
  const char* names[] = {"mean", "var", "gamma", "beta"};
  for (int v = 0; v < 4; ++v) {
    if (vectors[v] == nullptr)
      return ctx.Fail(QGNN_MISSING_FIELD, "%s: batch_norm %s is missing", what, names[v]);
    if (vectors[v]->size() != channels) {
      return ctx.Fail(QGNN_SHAPE_MISMATCH, "%s: batch_norm %s has %" PRIu32 " values, expected %" PRIu32,
                      what, names[v], vectors[v]->size(), channels);
    }
    for (uint32_t c = 0; c < channels; ++c) {
      const float x = vectors[v]->Get(c);
      // var must also be >= 0: sqrt(var + eps) of a negative variance is not a normalisation.
      if (!std::isfinite(x) || (v == 1 && x < 0.0f)) {
        return ctx.Fail(QGNN_BAD_QUANT_PARAMS, "%s: batch_norm %s[%" PRIu32 "] = %g is not %s", what,
                        names[v], c, static_cast<double>(x), v == 1 ? "finite and >= 0" : "finite");
      }
    }
  }
  if (!ValidScale(bn->eps())) {
    return ctx.Fail(QGNN_BAD_QUANT_PARAMS, "%s: batch_norm eps = %g is not finite and > 0", what,
                    static_cast<double>(bn->eps()));
  }
  out->bn_mean = bn->mean()->data();
  out->bn_var = bn->var()->data();
  out->bn_gamma = bn->gamma()->data();
  out->bn_beta = bn->beta()->data();
  out->bn_eps = bn->eps();
  return QGNN_OK;
}

}  // namespace

#if !defined(QGNN_NO_ERROR_MESSAGES)
qgnn_status InitContext::Fail(qgnn_status status, const char* fmt, ...) const {
  va_list args;
  va_start(args, fmt);
  if (in_layer) {
    reporter->ReportLayerV(status, layer_index, layer_name, fmt, args);
  } else {
    reporter->ReportV(status, fmt, args);
  }
  va_end(args);
  return status;
}
#endif

bool InitContext::AddDense(DenseParams* dense) {
  if (next_dense >= dense_end) return false;
  dense->id = next_dense;
  dense_table[next_dense++] = dense;
  return true;
}

qgnn_status InitDense(InitContext& ctx, const fb::Dense* dense, const char* what, int32_t in_features,
                      DenseParams* out) {
  if (dense == nullptr) return ctx.Fail(QGNN_MISSING_FIELD, "%s is missing", what);
  *out = DenseParams{};
  if (!ctx.AddDense(out)) {
    return ctx.Fail(QGNN_LIMIT_EXCEEDED, "%s: more Dense ops than the op's footprint declared", what);
  }
  qgnn_status st = InitWeight(ctx, *dense, what, in_features, out);
  if (st != QGNN_OK) return st;
  st = InitBias(ctx, *dense, what, out);
  if (st != QGNN_OK) return st;
  st = InitBatchNorm(ctx, dense->batch_norm(), what, out);
  if (st != QGNN_OK) return st;
  if (ctx.quantized) {
    char requant[48];
    Format(requant, sizeof(requant), "%s: requant", what);
    st = CheckRequant(ctx, dense->requant(), requant, static_cast<uint32_t>(out->out_features),
                      kDenseShiftMax);
    if (st != QGNN_OK) return st;
    out->rq =
        kernels::ChannelRescale{dense->requant()->multiplier()->data(), dense->requant()->shift()->data()};
  }
  return QGNN_OK;
}

qgnn_status InitQuantParams(const InitContext& ctx, const fb::QuantParams* q, const char* what,
                            QParams* out) {
  if (q == nullptr) return ctx.Fail(QGNN_MISSING_FIELD, "%s quantization is missing", what);
  const int bits = q->bits();
  if (bits != 4 && bits != 8) return ctx.Fail(QGNN_BAD_BITS, "%s has %d bits, expected 4 or 8", what, bits);
  const int32_t zp = q->zero_point();
  if (zp < kernels::qmin(bits) || zp > kernels::qmax(bits)) {
    return ctx.Fail(QGNN_BAD_BITS, "%s zero point %" PRId32 " outside [%" PRId32 ", %" PRId32 "]", what, zp,
                    kernels::qmin(bits), kernels::qmax(bits));
  }
  if (!ValidScale(q->scale())) {
    return ctx.Fail(QGNN_BAD_QUANT_PARAMS, "%s scale %g is not finite and > 0", what,
                    static_cast<double>(q->scale()));
  }
  *out = QParams{bits, q->scale(), zp};
  return QGNN_OK;
}

qgnn_status InitSingleRescale(const InitContext& ctx, const fb::Requant* rq, const char* what,
                              kernels::Rescale* out) {
  const qgnn_status st = CheckRequant(ctx, rq, what, 1, kAggregationShiftMax);
  if (st != QGNN_OK) return st;
  *out = kernels::Rescale{rq->multiplier()->Get(0), rq->shift()->Get(0)};
  return QGNN_OK;
}

qgnn_status InitSingleDenseRescale(const InitContext& ctx, const fb::Requant* rq, const char* what,
                                   kernels::Rescale* out) {
  const qgnn_status st = CheckRequant(ctx, rq, what, 1, kDenseShiftMax);
  if (st != QGNN_OK) return st;
  *out = kernels::Rescale{rq->multiplier()->Get(0), rq->shift()->Get(0)};
  return QGNN_OK;
}

qgnn_status InitReduce(const InitContext& ctx, fb::Reduce reduce, bool allow_sum, const char* what,
                       kernels::AggregateMode* mode) {
  switch (reduce) {
    case fb::Reduce::SUM:
      if (!allow_sum) break;
      *mode = kernels::AggregateMode::kSum;
      return QGNN_OK;
    case fb::Reduce::MEAN:
      *mode = kernels::AggregateMode::kMean;
      return QGNN_OK;
    case fb::Reduce::MAX:
      *mode = kernels::AggregateMode::kMax;
      return QGNN_OK;
  }
  return ctx.Fail(QGNN_UNSUPPORTED_LAYER, "%s reduce %d is not supported%s", what, static_cast<int>(reduce),
                  allow_sum ? "" : " (MEAN or MAX)");
}

qgnn_status InitActivation(const InitContext& ctx, fb::Activation activation, const char* what, bool* relu) {
  switch (activation) {
    case fb::Activation::NONE:
      *relu = false;
      return QGNN_OK;
    case fb::Activation::RELU:
      *relu = true;
      return QGNN_OK;
  }
  return ctx.Fail(QGNN_UNSUPPORTED_LAYER, "%s: unknown activation %d", what, static_cast<int>(activation));
}

qgnn_status InitRange(const InitContext& ctx, const fb::Range* range, const char* what) {
  if (range == nullptr) return QGNN_OK;
  if (!std::isfinite(range->min()) || !std::isfinite(range->max()) || range->min() > range->max()) {
    return ctx.Fail(QGNN_BAD_QUANT_PARAMS, "%s [%g, %g] must be finite with min <= max", what,
                    static_cast<double>(range->min()), static_cast<double>(range->max()));
  }
  return QGNN_OK;
}

qgnn_status InitTensor(const InitContext& ctx, int32_t index, const char* what, const char* role,
                       const fb::Tensor** tensor, const uint8_t** data) {
  return GetTensor(ctx, index, what, role, tensor, data);
}

qgnn_status InitChannelRescale(const InitContext& ctx, const fb::Requant* rq, const char* what,
                               uint32_t channels, kernels::ChannelRescale* out) {
  const qgnn_status st = CheckRequant(ctx, rq, what, channels, kDenseShiftMax);
  if (st != QGNN_OK) return st;
  *out = kernels::ChannelRescale{rq->multiplier()->data(), rq->shift()->data()};
  return QGNN_OK;
}

uint32_t ActivationRowBytes(bool quantized, int32_t cols, int32_t bits) {
  return quantized ? static_cast<uint32_t>(kernels::row_bytes(static_cast<size_t>(cols), bits))
                   : static_cast<uint32_t>(cols) * 4u;
}

}  // namespace runtime
}  // namespace qgnn
