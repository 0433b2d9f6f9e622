// Model verification (see model_verifier.h). Order and statuses are documented in docs/runtime.md.
#include "model_verifier.h"

#include <cmath>
#include <cstdint>
#include <cstring>

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

// Stored ranges (schema Range) are converter metadata: the runtime never uses them, but a file carrying a
// nonsensical one is malformed, so each present range must be finite with min <= max.
bool ValidRange(const fb::Range& r) {
  return std::isfinite(r.min()) && std::isfinite(r.max()) && r.min() <= r.max();
}

qgnn_status VerifyLayerRanges(const InitContext& ctx, const fb::Layer& layer) {
  const qgnn_status st = InitRange(ctx, layer.output_range(), "output_range");
  return st != QGNN_OK ? st : InitRange(ctx, layer.aggregation_range(), "aggregation_range");
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

// InputSpec.column_scales (format version 4): absent, or one finite positive scale per feature column of a
// quantized model. A float model has nothing to quantize, so a list there is a malformed file.
qgnn_status VerifyColumnScales(const fb::Model& model, ErrorReporter& reporter, qgnn_model* out) {
  const flatbuffers::Vector<float>* scales = model.input()->column_scales();
  if (scales == nullptr || scales->size() == 0) return QGNN_OK;
  if (!model.quantized()) {
    return reporter.Report(QGNN_BAD_QUANT_PARAMS, "input: a float model carries no column_scales");
  }
  if (scales->size() != out->input_dim) {
    return reporter.Report(QGNN_SHAPE_MISMATCH, "input: %" PRIu32 " column_scales for %" PRIu32 " features",
                           static_cast<uint32_t>(scales->size()), out->input_dim);
  }
  for (uint32_t k = 0; k < scales->size(); ++k) {
    const float s = scales->Get(k);
    if (!(std::isfinite(s) && s > 0.0f)) {
      return reporter.Report(QGNN_BAD_QUANT_PARAMS,
                             "input: column_scales[%" PRIu32 "] = %g must be finite and > 0", k,
                             static_cast<double>(s));
    }
  }
  out->input_column_scales = scales->data();
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
    const qgnn_status status = InitQuantParams(ctx, input.quant(), "input", &out->input_q);
    if (status != QGNN_OK) return status;
  }
  return VerifyColumnScales(model, reporter, out);
}

// The op of layer `index`, with the checks every layer gets before its op runs: options present, and a kind
// the resolver lists.
qgnn_status LayerOp(const fb::Layer& layer, uint32_t index, const qgnn_op_resolver& resolver,
                    ErrorReporter& reporter, const OpRegistration** op) {
  const char* name = layer.name() != nullptr ? layer.name()->c_str() : "";
  const fb::LayerOptions type = layer.options_type();
  if (type == fb::LayerOptions::NONE) {
    return reporter.ReportLayer(QGNN_MISSING_FIELD, index, name, "the layer has no options");
  }
  *op = FindOp(resolver, type);
  if (*op == nullptr) {
    if (type <= fb::LayerOptions::MAX) {
      // The kind's name is the union member's without "Options", as qgnn_op_name spells it.
      char kind[32];
      const char* member = fb::EnumNameLayerOptions(type);
      size_t length = 0;
      while (member[length] != '\0' && length + 1 < sizeof(kind)) ++length;
      if (length > 7 && std::strcmp(member + length - 7, "Options") == 0) length -= 7;
      std::memcpy(kind, member, length);
      kind[length] = '\0';
      return reporter.ReportLayer(QGNN_UNSUPPORTED_LAYER, index, name,
                                  "%s is not in the op resolver (the application does not link it)", kind);
    }
    return reporter.ReportLayer(QGNN_UNSUPPORTED_LAYER, index, name,
                                "unknown layer type %d (written for a newer runtime?)",
                                static_cast<int>(type));
  }
  if (layer.options() == nullptr) {
    return reporter.ReportLayer(QGNN_MISSING_FIELD, index, name, "%s options are missing", (*op)->name);
  }
  return QGNN_OK;
}

// Layer p's inputs: Layer.inputs (each an earlier layer or the model input, at most the op's max_inputs), or
// by default the previous layer; input 0's producer gives in_dim, in_q and in_rows.
qgnn_status ResolveInputs(const InitContext& ctx, const fb::Layer& layer, const OpRegistration& op,
                          const qgnn_model& model, Layer* p) {
  const auto* listed = layer.inputs();
  const uint32_t count = listed != nullptr ? listed->size() : 0;
  if (count > op.max_inputs) {
    return ctx.Fail(QGNN_SHAPE_MISMATCH, "%s takes %u input(s), the layer lists %" PRIu32, op.name,
                    static_cast<unsigned>(op.max_inputs), count);
  }
  p->num_inputs = count > 0 ? count : 1;
  for (uint32_t k = 0; k < p->num_inputs; ++k) {
    const int32_t producer = count > 0 ? listed->Get(k) : static_cast<int32_t>(p->index) - 1;
    if (producer < kModelInput || producer >= static_cast<int32_t>(p->index)) {
      return ctx.Fail(QGNN_INDEX_OUT_OF_RANGE,
                      "inputs[%" PRIu32 "] = %" PRId32 " is not an earlier layer (-1 .. %" PRId32 ")", k,
                      producer, static_cast<int32_t>(p->index) - 1);
    }
    p->inputs[k] = producer;
  }
  const int32_t first = p->inputs[0];
  if (first == kModelInput) {
    p->in_dim = static_cast<int32_t>(model.input_dim);
    p->in_q = model.input_q;
    p->in_rows = RowKind::kNodes;
  } else {
    const Layer& producer = model.layers[first];
    p->in_dim = producer.out_dim;
    p->in_q = producer.out_q;
    p->in_rows = producer.out_rows;
  }
  return QGNN_OK;
}

qgnn_status VerifyLayers(const fb::Model& model, const qgnn_op_resolver& resolver, ErrorReporter& reporter,
                         qgnn_model* out) {
  const auto& layers = *model.layers();
  const bool graph_task = out->task == QGNN_TASK_GRAPH_CLASSIFICATION;
  uint8_t* data = static_cast<uint8_t*>(out->op_data);

  InitContext ctx;
  ctx.model = &model;
  ctx.quantized = out->quantized;
  ctx.reporter = &reporter;
  ctx.dense_table = out->denses;
  for (uint32_t i = 0; i < layers.size(); ++i) {
    const fb::Layer& layer = *layers.Get(i);
    Layer& p = out->layers[i];
    p = Layer{};
    p.index = i;
    p.name = layer.name() != nullptr ? layer.name()->c_str() : "";
    ctx.layer_index = i;
    ctx.layer_name = p.name;
    const OpRegistration* op = nullptr;
    qgnn_status st = LayerOp(layer, i, resolver, reporter, &op);
    if (st != QGNN_OK) return st;
    const OpFootprint footprint = op->footprint(model, layer);
    p.op = op;
    p.data = data;
    data += OpDataAlign(footprint.data_bytes);

    st = ResolveInputs(ctx, layer, *op, *out, &p);
    if (st != QGNN_OK) return st;
    // Rows: message passing reads the graph's nodes, so it cannot follow pooling.
    if (op->needs_node_rows && p.in_rows == RowKind::kGraphs) {
      return ctx.Fail(QGNN_UNSUPPORTED_LAYER,
                      "%s after %s: it reads the graph's nodes, its input has one row per graph", op->name,
                      out->layers[p.inputs[0]].op->name);
    }
    if (op->has_activation) {
      st = InitActivation(ctx, layer.activation(), "activation", &p.relu);
      if (st != QGNN_OK) return st;
    }
    p.out_rows = p.in_rows;
    if (out->quantized) {
      st = InitQuantParams(ctx, layer.output(), "output", &p.out_q);
      if (st != QGNN_OK) return st;
    }
    ctx.dense_end = ctx.next_dense + footprint.denses;
    st = op->init(ctx, layer, &p);
    if (st == QGNN_OK) st = VerifyLayerRanges(ctx, layer);
    if (st != QGNN_OK) return st;
    if (ctx.next_dense != ctx.dense_end) {  // the op's footprint and Init disagree: a bug in the op
      return ctx.Fail(QGNN_UNSUPPORTED_LAYER,
                      "%s resolved %" PRIu32 " Dense ops, its footprint says %" PRIu32, op->name,
                      ctx.next_dense - (ctx.dense_end - footprint.denses), footprint.denses);
    }
    if (p.out_rows == RowKind::kGraphs && !graph_task) {
      return ctx.Fail(QGNN_UNSUPPORTED_LAYER,
                      "%s in a node-classification model (its output has one row per graph)", op->name);
    }
    if (p.out_dim <= 0 || static_cast<uint32_t>(p.out_dim) > kMaxFeatures) {
      return ctx.Fail(QGNN_LIMIT_EXCEEDED, "%" PRId32 " output features (limit %" PRIu32 ")", p.out_dim,
                      kMaxFeatures);
    }
  }
  const Layer& last = out->layers[layers.size() - 1];
  if (graph_task && last.out_rows != RowKind::kGraphs) {
    return reporter.Report(
        QGNN_UNSUPPORTED_LAYER,
        "a graph-classification model needs exactly one GlobalPool (its output must have one "
        "row per graph)");
  }
  out->num_classes = static_cast<uint32_t>(last.out_dim);
  out->output_q = out->quantized ? last.out_q : QParams{8, 1.0f, 0};
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

qgnn_status CountModel(const fb::Model& model, const qgnn_op_resolver& resolver, ErrorReporter& reporter,
                       ModelCounts* counts) {
  *counts = ModelCounts{};
  const auto* layers = model.layers();
  if (layers == nullptr) return QGNN_OK;
  if (layers->size() > kMaxLayers) {
    return reporter.Report(QGNN_LIMIT_EXCEEDED, "the model has %" PRIu32 " layers (limit %" PRIu32 ")",
                           layers->size(), kMaxLayers);
  }
  uint64_t denses = 0, data_bytes = 0;
  for (uint32_t i = 0; i < layers->size(); ++i) {
    const fb::Layer& layer = *layers->Get(i);
    const OpRegistration* op = nullptr;
    const qgnn_status st = LayerOp(layer, i, resolver, reporter, &op);
    if (st != QGNN_OK) return st;
    const OpFootprint footprint = op->footprint(model, layer);
    denses += footprint.denses;
    // Footprints grow with the Dense ops (kMaxDenseOps), so this sum stays far from overflowing.
    data_bytes += OpDataAlign(footprint.data_bytes);
    if (denses > kMaxDenseOps) {
      return reporter.Report(QGNN_LIMIT_EXCEEDED, "the model has %llu Dense ops (limit %" PRIu32 ")",
                             static_cast<unsigned long long>(denses), kMaxDenseOps);
    }
  }
  counts->layers = layers->size();
  counts->denses = static_cast<uint32_t>(denses);
  counts->op_data_bytes = static_cast<size_t>(data_bytes);
  return QGNN_OK;
}

qgnn_status VerifyAndResolve(const fb::Model& model, const qgnn_op_resolver& resolver,
                             ErrorReporter& reporter, qgnn_model* out) {
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
  st = VerifyLayers(model, resolver, reporter, out);
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
