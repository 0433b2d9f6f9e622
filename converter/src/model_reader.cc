// .qgnn bytes -> ModelDesc: FlatBuffers verifier first, then the indices, tensor types and buffer sizes
// the description depends on. Semantic consistency is check_model's job. Stored ranges and BatchNorm are read
// as they are (check_model validates their values and where they may appear).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "qgnn/converter/model_builder.h"
#include "qgnn/kernels/numerics.h"
#include "qgnn/schema/qgnn_generated.h"
#include "qgnn/schema/tensor_type.h"

namespace qgnn {
namespace converter {
namespace {

namespace fbs = ::qgnn::fb;

class ModelReader {
 public:
  explicit ModelReader(const fbs::Model& model) : model_(model) {}

  std::string read(ModelDesc* out) {
    out->version = model_.version();
    out->name = string_or_empty(model_.name());
    out->description = string_or_empty(model_.description());
    out->producer = string_or_empty(model_.producer());
    out->task = static_cast<Task>(model_.task());
    if (out->task != Task::kGraphClassification && out->task != Task::kNodeClassification)
      return "unknown task";
    if (model_.class_names()) {
      for (const flatbuffers::String* n : *model_.class_names())
        out->class_names.push_back(string_or_empty(n));
    }
    out->quantized = model_.quantized();
    const fbs::InputSpec* input = model_.input();
    if (!input) return "missing input spec";
    out->input_dim = static_cast<int32_t>(input->feature_dim());
    out->input_int8 = input->type() == fbs::TensorType::INT8;
    if (input->type() != fbs::TensorType::FLOAT32 && !out->input_int8)
      return "input type must be FLOAT32 or INT8";
    if (out->quantized) {
      if (!input->quant()) return "missing input quantization";
      out->input_quant = read_quant(*input->quant());
    }
    out->input_range = read_range(input->range());
    if (const flatbuffers::Vector<float>* scales = input->column_scales())
      out->input_column_scales.assign(scales->begin(), scales->end());
    out->ranges_source = string_or_empty(model_.ranges_source());
    if (const fbs::Limits* l = model_.limits()) {
      out->limits = LimitsDesc{l->max_nodes(), l->max_edges(), l->max_degree(), l->max_graphs()};
    }
    if (!model_.layers() || model_.layers()->size() == 0) return "the model has no layers";
    for (flatbuffers::uoffset_t i = 0; i < model_.layers()->size(); ++i) {
      const fbs::Layer* layer = model_.layers()->Get(i);
      label_ = "layer " + std::to_string(i) + " (" + string_or_empty(layer->name()) + ")";
      LayerDesc desc;
      const std::string e = read_layer(*layer, &desc);
      if (!e.empty()) return label_ + ": " + e;
      out->layers.push_back(std::move(desc));
    }
    return "";
  }

 private:
  static std::string string_or_empty(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

  static std::optional<StoredRange> read_range(const fbs::Range* r) {
    if (!r) return std::nullopt;
    return StoredRange{r->min(), r->max()};
  }

  static std::vector<float> floats(const flatbuffers::Vector<float>* v) {
    return v ? std::vector<float>(v->begin(), v->end()) : std::vector<float>();
  }

  static BatchNormDesc read_batch_norm(const fbs::BatchNorm& bn) {
    return BatchNormDesc{floats(bn.mean()), floats(bn.var()), floats(bn.gamma()), floats(bn.beta()),
                         bn.eps()};
  }

  static QuantParams read_quant(const fbs::QuantParams& q) {
    return QuantParams{q.bits(), q.scale(), q.zero_point()};
  }

  static Requant read_requant(const fbs::Requant* r) {
    Requant out;
    if (r && r->multiplier()) out.multiplier.assign(r->multiplier()->begin(), r->multiplier()->end());
    if (r && r->shift()) out.shift.assign(r->shift()->begin(), r->shift()->end());
    return out;
  }

  // Looks up tensor `index`, checks its type is one of `allowed` and its buffer holds exactly its elements.
  std::string tensor_bytes(int32_t index, const std::vector<fbs::TensorType>& allowed,
                           const fbs::Tensor** tensor, const flatbuffers::Vector<uint8_t>** data,
                           size_t* elements) {
    const auto* tensors = model_.tensors();
    if (index < 0 || !tensors || static_cast<uint32_t>(index) >= tensors->size()) {
      return "tensor index " + std::to_string(index) + " out of range";
    }
    *tensor = tensors->Get(static_cast<flatbuffers::uoffset_t>(index));
    bool type_ok = false;
    for (fbs::TensorType t : allowed) type_ok = type_ok || (*tensor)->type() == t;
    if (!type_ok) return "tensor " + std::to_string(index) + " has an unexpected element type";
    if (!(*tensor)->shape()) return "tensor " + std::to_string(index) + " has no shape";
    uint64_t count = 1;
    for (uint32_t d : *(*tensor)->shape()) {
      count *= d;
      if (count > (uint64_t{1} << 40)) return "tensor " + std::to_string(index) + " is too large";
    }
    const auto* buffers = model_.buffers();
    const uint32_t b = (*tensor)->buffer();
    if (!buffers || b >= buffers->size()) return "buffer index " + std::to_string(b) + " out of range";
    *data = buffers->Get(b)->data();
    const uint64_t expected =
        (count * static_cast<uint64_t>(fbs::tensor_type_bits((*tensor)->type())) + 7) / 8;
    const uint64_t actual = *data ? (*data)->size() : 0;
    if (actual != expected) {
      return "tensor " + std::to_string(index) + " buffer holds " + std::to_string(actual) +
             " bytes, expected " + std::to_string(expected);
    }
    *elements = static_cast<size_t>(count);
    return "";
  }

  std::string read_dense(const fbs::Dense* dense, const std::string& what, DenseDesc* out) {
    if (!dense) return what + ": missing";
    const fbs::Tensor* tensor = nullptr;
    const flatbuffers::Vector<uint8_t>* data = nullptr;
    size_t count = 0;
    const bool quantized = model_.quantized();
    std::string e = quantized
                        ? tensor_bytes(dense->weight(), {fbs::TensorType::INT8, fbs::TensorType::INT4},
                                       &tensor, &data, &count)
                        : tensor_bytes(dense->weight(), {fbs::TensorType::FLOAT32}, &tensor, &data, &count);
    if (!e.empty()) return what + " weight: " + e;
    if (tensor->shape()->size() != 2) return what + " weight is not 2-D";
    out->out_features = static_cast<int32_t>(tensor->shape()->Get(0));
    out->in_features = static_cast<int32_t>(tensor->shape()->Get(1));
    out->relu = dense->activation() == fbs::Activation::RELU;
    if (dense->batch_norm()) out->batch_norm = read_batch_norm(*dense->batch_norm());
    if (quantized) {
      out->weight_bits = tensor->type() == fbs::TensorType::INT4 ? 4 : 8;
      out->weight_q.resize(count);
      for (size_t i = 0; i < count; ++i) {
        out->weight_q[i] = static_cast<int8_t>(out->weight_bits == 4 ? kernels::load_int4(data->data(), i)
                                                                     : static_cast<int8_t>(data->Get(i)));
      }
      if (tensor->scales()) out->weight_scales.assign(tensor->scales()->begin(), tensor->scales()->end());
      out->requant = read_requant(dense->requant());
    } else {
      out->weight.resize(count);
      if (count) std::memcpy(out->weight.data(), data->data(), count * sizeof(float));
    }
    if (dense->bias() >= 0) {
      e = quantized ? tensor_bytes(dense->bias(), {fbs::TensorType::INT32}, &tensor, &data, &count)
                    : tensor_bytes(dense->bias(), {fbs::TensorType::FLOAT32}, &tensor, &data, &count);
      if (!e.empty()) return what + " bias: " + e;
      if (quantized) {
        out->bias_q.resize(count);
        if (count) std::memcpy(out->bias_q.data(), data->data(), count * sizeof(int32_t));
      } else {
        out->bias.resize(count);
        if (count) std::memcpy(out->bias.data(), data->data(), count * sizeof(float));
      }
    }
    return "";
  }

  // An attention vector [1, H F] (INT8 with its scale, or FLOAT32) of a GATConv.
  std::string read_attention(int32_t index, const std::string& what, std::vector<int8_t>* q, float* scale,
                             std::vector<float>* f) {
    const fbs::Tensor* tensor = nullptr;
    const flatbuffers::Vector<uint8_t>* data = nullptr;
    size_t count = 0;
    if (model_.quantized()) {
      const std::string e = tensor_bytes(index, {fbs::TensorType::INT8}, &tensor, &data, &count);
      if (!e.empty()) return what + ": " + e;
      if (!tensor->scales() || tensor->scales()->size() != 1) return what + ": expected one scale";
      *scale = tensor->scales()->Get(0);
      q->assign(reinterpret_cast<const int8_t*>(data->data()),
                reinterpret_cast<const int8_t*>(data->data()) + count);
      return "";
    }
    const std::string e = tensor_bytes(index, {fbs::TensorType::FLOAT32}, &tensor, &data, &count);
    if (!e.empty()) return what + ": " + e;
    f->resize(count);
    if (count) std::memcpy(f->data(), data->data(), count * sizeof(float));
    return "";
  }

  std::string read_gat(const fbs::GATConvOptions& o, const fbs::Layer& layer, LayerDesc* out) {
    const bool quantized = model_.quantized();
    out->heads = static_cast<int32_t>(std::min<uint32_t>(o.heads(), 1u << 16));
    out->head_dim = static_cast<int32_t>(std::min<uint32_t>(o.head_dim(), 1u << 16));
    out->concat = o.concat();
    if (o.negative_slope() != 0.2f) return "GATConv negative_slope is not 0.2";
    out->message_range = read_range(o.message_range());
    out->logit_range = read_range(o.logit_range());
    std::string e = read_dense(o.dense(), "dense", &out->dense);
    float src_scale = 0.0f, dst_scale = 0.0f;
    if (e.empty()) e = read_attention(o.att_src(), "att_src", &out->att_src_q, &src_scale, &out->att_src);
    if (e.empty()) e = read_attention(o.att_dst(), "att_dst", &out->att_dst_q, &dst_scale, &out->att_dst);
    if (!e.empty()) return e;
    if (src_scale != dst_scale) return "GATConv att_src and att_dst scales differ";
    out->att_scale = src_scale;
    if (o.bias() >= 0) {
      const fbs::Tensor* tensor = nullptr;
      const flatbuffers::Vector<uint8_t>* data = nullptr;
      size_t count = 0;
      e = tensor_bytes(o.bias(), {quantized ? fbs::TensorType::INT32 : fbs::TensorType::FLOAT32}, &tensor,
                       &data, &count);
      if (!e.empty()) return "bias: " + e;
      if (quantized) {
        out->output_bias_q.resize(count);
        if (count) std::memcpy(out->output_bias_q.data(), data->data(), count * sizeof(int32_t));
      } else {
        out->output_bias.resize(count);
        if (count) std::memcpy(out->output_bias.data(), data->data(), count * sizeof(float));
      }
    }
    if (!quantized) return "";
    if (layer.aggregation()) return "GATConv has an aggregation quantization";
    if (!o.message() || !o.logit()) return "GATConv: missing message or logit quantization";
    if (!o.exp_table()) return "GATConv: missing exp_table";
    out->message = read_quant(*o.message());
    out->logit = read_quant(*o.logit());
    out->logit_requant = read_requant(o.logit_requant());
    out->logit_negative_requant = read_requant(o.logit_negative_requant());
    out->exp_table.assign(o.exp_table()->begin(), o.exp_table()->end());
    out->output_requant = read_requant(o.output_requant());
    return "";
  }

  std::string read_layer(const fbs::Layer& layer, LayerDesc* out) {
    out->name = string_or_empty(layer.name());
    out->relu = layer.activation() == fbs::Activation::RELU;
    out->output_range = read_range(layer.output_range());
    out->aggregation_range = read_range(layer.aggregation_range());
    // Read as listed (an empty vector means the previous layer too); check_model validates the indices.
    if (layer.inputs()) out->inputs.assign(layer.inputs()->begin(), layer.inputs()->end());
    const bool quantized = model_.quantized();
    if (quantized) {
      if (!layer.output()) return "missing output quantization";
      out->output = read_quant(*layer.output());
    }
    std::string e;
    switch (layer.options_type()) {
      case fbs::LayerOptions::LinearOptions:
        out->kind = LayerKind::kLinear;
        return read_dense(layer.options_as_LinearOptions()->dense(), "dense", &out->dense);
      case fbs::LayerOptions::GCNConvOptions: {
        const auto* o = layer.options_as_GCNConvOptions();
        out->kind = LayerKind::kGcnConv;
        out->aggregation_requant = read_requant(o->aggregation_requant());
        e = read_dense(o->dense(), "dense", &out->dense);
        if (o->order() == fbs::LayerOrder::TRANSFORM_FIRST) {
          out->order = LayerOrder::kTransformFirst;
          // The messages are the layer's intermediate activation (LayerDesc::order).
          out->aggregation_range = read_range(o->message_range());
          if (e.empty() && quantized) {
            if (!o->message()) return "transform-first GCNConv: missing message quantization";
            if (layer.aggregation()) return "transform-first GCNConv has an aggregation quantization";
            out->aggregation = read_quant(*o->message());
          }
          return e;
        } else if (o->order() != fbs::LayerOrder::AGGREGATE_FIRST) {
          return "GCNConv: unknown order " + std::to_string(static_cast<int>(o->order()));
        }
        break;
      }
      case fbs::LayerOptions::SAGEConvOptions: {
        const auto* o = layer.options_as_SAGEConvOptions();
        out->kind = LayerKind::kSageConv;
        out->reduce = static_cast<Reduce>(o->reduce());
        out->aggregation_requant = read_requant(o->aggregation_requant());
        e = read_dense(o->neighbor(), "neighbor dense", &out->dense);
        out->has_root = o->root() != nullptr;
        if (e.empty() && out->has_root) e = read_dense(o->root(), "root dense", &out->root);
        out->message_range = read_range(o->message_range());
        if (o->order() == fbs::LayerOrder::TRANSFORM_FIRST) {
          out->order = LayerOrder::kTransformFirst;
          if (e.empty() && quantized) {
            if (!o->message()) return "transform-first SAGEConv: missing message quantization";
            if (!o->output_requant()) return "transform-first SAGEConv: missing output_requant";
            out->message = read_quant(*o->message());
            out->output_requant = read_requant(o->output_requant());
          }
        } else if (o->order() != fbs::LayerOrder::AGGREGATE_FIRST) {
          return "SAGEConv: unknown order " + std::to_string(static_cast<int>(o->order()));
        } else if (o->message() || o->output_requant()) {
          return "aggregate-first SAGEConv has a message quantization or output_requant";
        }
        break;
      }
      case fbs::LayerOptions::GINConvOptions: {
        const auto* o = layer.options_as_GINConvOptions();
        out->kind = LayerKind::kGinConv;
        out->eps = o->eps();
        out->self_weight_q16 = o->self_weight_q16();
        out->aggregation_requant = read_requant(o->aggregation_requant());
        if (o->hidden()) {
          for (const fbs::QuantParams* q : *o->hidden()) out->hidden.push_back(read_quant(*q));
        }
        if (o->hidden_ranges()) {
          for (const fbs::Range* r : *o->hidden_ranges()) out->hidden_ranges.push_back({r->min(), r->max()});
        }
        if (!o->mlp() || o->mlp()->size() == 0) return "GINConv has no MLP";
        out->mlp.resize(o->mlp()->size());
        for (flatbuffers::uoffset_t k = 0; k < o->mlp()->size() && e.empty(); ++k) {
          e = read_dense(o->mlp()->Get(k), "mlp[" + std::to_string(k) + "]", &out->mlp[k]);
        }
        break;
      }
      case fbs::LayerOptions::GATConvOptions:
        out->kind = LayerKind::kGatConv;
        return read_gat(*layer.options_as_GATConvOptions(), layer, out);
      case fbs::LayerOptions::GlobalPoolOptions: {
        const auto* o = layer.options_as_GlobalPoolOptions();
        out->kind = LayerKind::kGlobalPool;
        out->reduce = static_cast<Reduce>(o->reduce());
        out->pool_requant = read_requant(o->requant());
        return "";
      }
      default:
        return "unsupported layer options type " + std::to_string(static_cast<int>(layer.options_type()));
    }
    if (e.empty() && quantized) {
      if (!layer.aggregation()) return "missing aggregation quantization";
      out->aggregation = read_quant(*layer.aggregation());
    }
    return e;
  }

  const fbs::Model& model_;
  std::string label_;
};

}  // namespace

Result<ModelDesc> parse_model(const uint8_t* data, size_t size) {
  using R = Result<ModelDesc>;
  if (!data || size < 8) return R::failure("not a .qgnn model: too small");
  if (!fbs::ModelBufferHasIdentifier(data))
    return R::failure("not a .qgnn model: missing the \"QGNN\" identifier");
  flatbuffers::Verifier verifier(data, size);
  if (!fbs::VerifyModelBuffer(verifier))
    return R::failure("malformed .qgnn model: the FlatBuffers verifier failed");
  R r;
  const std::string error = ModelReader(*fbs::GetModel(data)).read(&r.value);
  if (!error.empty()) return R::failure(error);
  return r;
}

Result<ModelDesc> parse_model(const std::vector<uint8_t>& bytes) {
  return parse_model(bytes.data(), bytes.size());
}

}  // namespace converter
}  // namespace qgnn
