// Model verification (see model_verifier.h). Order and statuses are documented in docs/runtime.md.
#include "model_verifier.h"

#include <cmath>
#include <cstdint>

#include "checked_math.h"
#include "limits.h"
#include "ops/op.h"
#include "qgnn/schema/qgnn_generated.h"
#include "qgnn/schema/tensor_type.h"

static_assert(FLATBUFFERS_LITTLEENDIAN, "qgnn reads parameters in place: little-endian targets only");

namespace qgnn {
namespace runtime {
namespace {

const char* TensorName(const fb::Tensor& tensor) {
  return tensor.name() != nullptr ? tensor.name()->c_str() : "";
}

// Dense slots a layer uses in the model's Dense table.
uint32_t DenseSlots(const fb::Layer& layer) {
  switch (layer.options_type()) {
    case fb::LayerOptions::LinearOptions:
    case fb::LayerOptions::GCNConvOptions:
      return 1;
    case fb::LayerOptions::SAGEConvOptions:
      return 2;
    case fb::LayerOptions::GINConvOptions: {
      const fb::GINConvOptions* gin = layer.options_as_GINConvOptions();
      return (gin != nullptr && gin->mlp() != nullptr) ? gin->mlp()->size() : 0;
    }
    default:
      return 0;
  }
}

uint32_t HiddenSlots(const fb::Layer& layer) {
  const uint32_t mlp = layer.options_type() == fb::LayerOptions::GINConvOptions ? DenseSlots(layer) : 0;
  return mlp > 0 ? mlp - 1 : 0;
}

// Stored ranges (schema Range) are converter metadata: the runtime never uses them, but a file carrying a
// nonsensical one is malformed, so each present range must be finite with min <= max.
bool ValidRange(const fb::Range& r) {
  return std::isfinite(r.min()) && std::isfinite(r.max()) && r.min() <= r.max();
}

qgnn_status VerifyLayerRanges(const InitContext& ctx, const fb::Layer& layer) {
  const fb::Range* named[] = {layer.output_range(), layer.aggregation_range()};
  const char* names[] = {"output_range", "aggregation_range"};
  for (int i = 0; i < 2; ++i) {
    if (named[i] != nullptr && !ValidRange(*named[i])) {
      return ctx.Fail(QGNN_BAD_QUANT_PARAMS, "%s [%g, %g] must be finite with min <= max", names[i],
                      static_cast<double>(named[i]->min()), static_cast<double>(named[i]->max()));
    }
  }
  const fb::GINConvOptions* gin = layer.options_as_GINConvOptions();
  const auto* hidden = gin != nullptr ? gin->hidden_ranges() : nullptr;
  if (hidden == nullptr) return QGNN_OK;
  const uint32_t expected = DenseSlots(layer) - 1;  // Init checked the MLP is not empty
  if (hidden->size() != expected) {
    return ctx.Fail(QGNN_SHAPE_MISMATCH,
                    "GINConv has %" PRIu32 " hidden_ranges, expected %" PRIu32 " (mlp length - 1)",
                    hidden->size(), expected);
  }
  for (uint32_t k = 0; k < hidden->size(); ++k) {
    if (!ValidRange(*hidden->Get(k))) {
      return ctx.Fail(QGNN_BAD_QUANT_PARAMS, "hidden_ranges[%" PRIu32 "] must be finite with min <= max", k);
    }
  }
  return QGNN_OK;
}

// Generic checks of every parameter tensor: buffer index, element type, shape, byte size, alignment.
qgnn_status VerifyTensors(const fb::Model& model, ErrorReporter& reporter) {
  const auto* tensors = model.tensors();
  if (tensors == nullptr) return QGNN_OK;
  const auto* buffers = model.buffers();
  const uint32_t num_buffers = buffers != nullptr ? buffers->size() : 0;
  for (uint32_t i = 0; i < tensors->size(); ++i) {
    const fb::Tensor& t = *tensors->Get(i);
    if (t.buffer() >= num_buffers) {
      return reporter.Report(QGNN_INDEX_OUT_OF_RANGE,
                             "tensor %" PRIu32 " (%s): buffer index %" PRIu32 " is out of range (%" PRIu32
                             " buffers)",
                             i, TensorName(t), t.buffer(), num_buffers);
    }
    const int32_t bits = fb::tensor_type_bits(t.type());
    if (bits == 0) {
      return reporter.Report(QGNN_BAD_TENSOR_TYPE, "tensor %" PRIu32 " (%s): unknown element type %d", i,
                             TensorName(t), static_cast<int>(t.type()));
    }
    const auto* shape = t.shape();
    if (shape == nullptr || shape->size() == 0) {
      return reporter.Report(QGNN_MISSING_FIELD, "tensor %" PRIu32 " (%s) has no shape", i, TensorName(t));
    }
    // Element count with overflow checks: no file holds more than 2^32 elements (buffers are < 2 GiB).
    uint64_t elements = 1;
    for (uint32_t d = 0; d < shape->size(); ++d) {
      if (!CheckedMul(elements, shape->Get(d), uint64_t{1} << 32, &elements)) {
        return reporter.Report(QGNN_LIMIT_EXCEEDED,
                               "tensor %" PRIu32 " (%s): the element count of its shape overflows", i,
                               TensorName(t));
      }
    }
    const uint64_t expected = (elements * static_cast<uint64_t>(bits) + 7) / 8;
    const auto* data = buffers->Get(t.buffer())->data();
    const uint64_t actual = data != nullptr ? data->size() : 0;
    if (actual != expected) {
      return reporter.Report(QGNN_BUFFER_SIZE_MISMATCH,
                             "tensor %" PRIu32 " (%s): buffer %" PRIu32 " holds %llu bytes, expected %llu", i,
                             TensorName(t), t.buffer(), static_cast<unsigned long long>(actual),
                             static_cast<unsigned long long>(expected));
    }
    if (actual > 0 && reinterpret_cast<uintptr_t>(data->data()) % kArenaAlignment != 0) {
      return reporter.Report(QGNN_MALFORMED_FLATBUFFER,
                             "tensor %" PRIu32 " (%s): buffer %" PRIu32 " data is not 16-byte aligned", i,
                             TensorName(t), t.buffer());
    }
  }
  return QGNN_OK;
}

qgnn_status VerifyInput(const fb::Model& model, ErrorReporter& reporter, qgnn_model* out) {
  const fb::InputSpec& input = *model.input();
  const uint32_t dim = input.feature_dim();
  if (dim == 0) return reporter.Report(QGNN_SHAPE_MISMATCH, "input: feature_dim is 0");
  if (dim > kMaxFeatures) {
    return reporter.Report(QGNN_LIMIT_EXCEEDED, "input: feature_dim %" PRIu32 " exceeds %" PRIu32, dim,
                           kMaxFeatures);
  }
  switch (input.type()) {
    case fb::TensorType::FLOAT32:
      out->input_int8 = false;
      break;
    case fb::TensorType::INT8:
      if (!model.quantized()) {
        return reporter.Report(QGNN_BAD_TENSOR_TYPE, "input: a float model takes FLOAT32 features, not INT8");
      }
      out->input_int8 = true;
      break;
    default:
      return reporter.Report(QGNN_BAD_TENSOR_TYPE,
                             "input: features of type %s are not supported (FLOAT32 or INT8)",
                             fb::EnumNameTensorType(input.type()));
  }
  out->input_dim = dim;
  if (input.range() != nullptr && !ValidRange(*input.range())) {
    return reporter.Report(QGNN_BAD_QUANT_PARAMS, "input: range [%g, %g] must be finite with min <= max",
                           static_cast<double>(input.range()->min()),
                           static_cast<double>(input.range()->max()));
  }
  if (model.quantized()) {
    InitContext ctx;
    ctx.model = &model;
    ctx.quantized = true;
    ctx.reporter = &reporter;
    ctx.in_layer = false;
    return InitQuantParams(ctx, input.quant(), "input", &out->input_q);
  }
  return QGNN_OK;
}

qgnn_status VerifyLayers(const fb::Model& model, ErrorReporter& reporter, qgnn_model* out) {
  const auto& layers = *model.layers();
  const bool graph_task = out->task == QGNN_TASK_GRAPH_CLASSIFICATION;
  int32_t dim = static_cast<int32_t>(out->input_dim);
  QParams q = out->input_q;
  bool pooled = false;
  uint32_t dense_used = 0, hidden_used = 0;

  InitContext ctx;
  ctx.model = &model;
  ctx.quantized = out->quantized;
  ctx.reporter = &reporter;
  for (uint32_t i = 0; i < layers.size(); ++i) {
    const fb::Layer& layer = *layers.Get(i);
    LayerParams& p = out->layers[i];
    p = LayerParams{};
    p.index = i;
    p.name = layer.name() != nullptr ? layer.name()->c_str() : "";
    ctx.layer_index = i;
    ctx.layer_name = p.name;

    const fb::LayerOptions type = layer.options_type();
    if (type == fb::LayerOptions::NONE) return ctx.Fail(QGNN_MISSING_FIELD, "the layer has no options");
    const OpRegistration* op = FindOp(type);
    if (op == nullptr) {
      return ctx.Fail(QGNN_UNSUPPORTED_LAYER, "unknown layer type %d (written for a newer runtime?)",
                      static_cast<int>(type));
    }
    if (layer.options() == nullptr)
      return ctx.Fail(QGNN_MISSING_FIELD, "%s options are missing", op->type_name);
    p.kind = op->kind;
    p.op = op;

    // Pooling placement: graph classification pools exactly once and runs only Linear layers afterwards;
    // node classification never pools.
    if (p.kind == LayerKind::kPool) {
      if (!graph_task) {
        return ctx.Fail(QGNN_UNSUPPORTED_LAYER, "GlobalPool in a node-classification model");
      }
      if (pooled) return ctx.Fail(QGNN_UNSUPPORTED_LAYER, "a second GlobalPool (exactly one is allowed)");
    } else if (pooled && p.kind != LayerKind::kLinear) {
      return ctx.Fail(QGNN_UNSUPPORTED_LAYER, "%s after GlobalPool (only Linear layers may follow pooling)",
                      op->type_name);
    }

    if (p.kind != LayerKind::kPool) {
      const qgnn_status st = InitActivation(ctx, layer.activation(), "activation", &p.relu);
      if (st != QGNN_OK) return st;
    }
    p.in_dim = dim;
    p.in_q = q;
    if (out->quantized) {
      const qgnn_status st = InitQuantParams(ctx, layer.output(), "output", &p.out_q);
      if (st != QGNN_OK) return st;
    }
    const uint32_t slots = DenseSlots(layer);
    ctx.dense_storage = out->denses + dense_used;
    ctx.dense_capacity = slots;
    ctx.hidden_storage = out->hidden + hidden_used;
    ctx.hidden_capacity = out->num_hidden - hidden_used;
    qgnn_status st = op->init(ctx, layer, &p);
    if (st == QGNN_OK) st = VerifyLayerRanges(ctx, layer);
    if (st != QGNN_OK) return st;
    dense_used += slots;
    if (out->quantized) hidden_used += HiddenSlots(layer);
    if (p.kind == LayerKind::kPool) pooled = true;
    if (p.out_dim <= 0 || static_cast<uint32_t>(p.out_dim) > kMaxFeatures) {
      return ctx.Fail(QGNN_LIMIT_EXCEEDED, "%" PRId32 " output features (limit %" PRIu32 ")", p.out_dim,
                      kMaxFeatures);
    }
    dim = p.out_dim;
    q = p.out_q;
  }
  if (graph_task && !pooled) {
    return reporter.Report(QGNN_UNSUPPORTED_LAYER,
                           "a graph-classification model needs exactly one GlobalPool");
  }
  out->num_classes = static_cast<uint32_t>(dim);
  out->output_q = out->quantized ? q : QParams{8, 1.0f, 0};
  return QGNN_OK;
}

uint32_t EffectiveLimit(uint32_t model_value, uint32_t cap) {
  return (model_value == 0 || model_value > cap) ? cap : model_value;
}

}  // namespace

qgnn_status VerifyEnvelope(const void* data, size_t size, ErrorReporter& reporter, const fb::Model** model) {
  if (data == nullptr) return reporter.Report(QGNN_INVALID_ARGUMENT, "model data is NULL");
  if (size < 8) {
    return reporter.Report(QGNN_BAD_IDENTIFIER, "a model buffer of %zu bytes is too small (at least 8)",
                           size);
  }
  if (reinterpret_cast<uintptr_t>(data) % kArenaAlignment != 0) {
    return reporter.Report(QGNN_BAD_IDENTIFIER, "the model buffer is not 16-byte aligned");
  }
  if (!fb::ModelBufferHasIdentifier(data)) {
    return reporter.Report(QGNN_BAD_IDENTIFIER, "the buffer does not carry the \"QGNN\" file identifier");
  }
  if (size >= FLATBUFFERS_MAX_BUFFER_SIZE) {
    return reporter.Report(QGNN_MALFORMED_FLATBUFFER,
                           "a model buffer of %zu bytes exceeds the FlatBuffers limit", size);
  }
  flatbuffers::Verifier::Options options;
  options.max_depth = 16;  // Model > Layer > Options > Dense > Requant > vector: far below
  options.max_tables = 1u << 20;
  flatbuffers::Verifier verifier(static_cast<const uint8_t*>(data), size, options);
  if (!fb::VerifyModelBuffer(verifier)) {
    return reporter.Report(QGNN_MALFORMED_FLATBUFFER, "the FlatBuffers verifier rejected the model buffer");
  }
  const fb::Model* root = fb::GetModel(data);
  const uint32_t version = root->version();
  if (version == 0 || version > QGNN_FORMAT_VERSION) {
    return reporter.Report(QGNN_UNSUPPORTED_VERSION,
                           "format version %" PRIu32 " is not supported (this runtime reads 1..%d)", version,
                           QGNN_FORMAT_VERSION);
  }
  *model = root;
  return QGNN_OK;
}

qgnn_status CountModel(const fb::Model& model, ErrorReporter& reporter, ModelCounts* counts) {
  *counts = ModelCounts{};
  const auto* layers = model.layers();
  if (layers == nullptr) return QGNN_OK;
  if (layers->size() > kMaxLayers) {
    return reporter.Report(QGNN_LIMIT_EXCEEDED, "the model has %" PRIu32 " layers (limit %" PRIu32 ")",
                           layers->size(), kMaxLayers);
  }
  uint64_t denses = 0, hidden = 0;
  for (uint32_t i = 0; i < layers->size(); ++i) {
    denses += DenseSlots(*layers->Get(i));
    hidden += HiddenSlots(*layers->Get(i));
  }
  if (denses > kMaxDenseOps) {
    return reporter.Report(QGNN_LIMIT_EXCEEDED, "the model has %llu Dense ops (limit %" PRIu32 ")",
                           static_cast<unsigned long long>(denses), kMaxDenseOps);
  }
  counts->layers = layers->size();
  counts->denses = static_cast<uint32_t>(denses);
  counts->hidden = static_cast<uint32_t>(hidden);
  return QGNN_OK;
}

qgnn_status VerifyAndResolve(const fb::Model& model, ErrorReporter& reporter, qgnn_model* out) {
  if (model.input() == nullptr) return reporter.Report(QGNN_MISSING_FIELD, "the model has no input spec");
  if (model.layers() == nullptr || model.layers()->size() == 0) {
    return reporter.Report(QGNN_MISSING_FIELD, "the model has no layers");
  }
  switch (model.task()) {
    case fb::Task::GRAPH_CLASSIFICATION:
      out->task = QGNN_TASK_GRAPH_CLASSIFICATION;
      break;
    case fb::Task::NODE_CLASSIFICATION:
      out->task = QGNN_TASK_NODE_CLASSIFICATION;
      break;
    default:
      return reporter.Report(QGNN_UNSUPPORTED_LAYER, "unknown task %d", static_cast<int>(model.task()));
  }
#if defined(QGNN_NO_FLOAT_MODELS)
  // Float execution is compiled out of this build (the float kernels are not even linked on firmware), so a
  // float model is refused here, before anything could run it.
  if (!model.quantized()) {
    return reporter.Report(QGNN_UNSUPPORTED_LAYER,
                           "float models are not supported by this build (QGNN_FLOAT_MODELS=OFF)");
  }
#endif
  out->quantized = model.quantized();
  qgnn_status st = VerifyTensors(model, reporter);
  if (st != QGNN_OK) return st;
  st = VerifyInput(model, reporter, out);
  if (st != QGNN_OK) return st;
  st = VerifyLayers(model, reporter, out);
  if (st != QGNN_OK) return st;

  const auto* class_names = model.class_names();
  if (class_names != nullptr && class_names->size() != 0 && class_names->size() != out->num_classes) {
    return reporter.Report(QGNN_SHAPE_MISMATCH,
                           "the model has %" PRIu32 " class names but %" PRIu32 " output features",
                           class_names->size(), out->num_classes);
  }
  const fb::Limits* limits = model.limits();
  out->limits.max_nodes = EffectiveLimit(limits != nullptr ? limits->max_nodes() : 0, kMaxNodes);
  out->limits.max_edges = EffectiveLimit(limits != nullptr ? limits->max_edges() : 0, kMaxEdges);
  out->limits.max_degree = EffectiveLimit(limits != nullptr ? limits->max_degree() : 0, kMaxDegree);
  out->limits.max_graphs = EffectiveLimit(limits != nullptr ? limits->max_graphs() : 0, kMaxGraphs);

  out->name = model.name() != nullptr ? model.name()->c_str() : "";
  size_t parameter_bytes = 0;
  if (model.buffers() != nullptr) {
    for (uint32_t i = 0; i < model.buffers()->size(); ++i) {
      const auto* data = model.buffers()->Get(i)->data();
      if (data != nullptr) parameter_bytes += data->size();
    }
  }
  out->parameter_bytes = parameter_bytes;
  return QGNN_OK;
}

}  // namespace runtime
}  // namespace qgnn
