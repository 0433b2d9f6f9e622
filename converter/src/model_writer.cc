// ModelDesc -> .qgnn FlatBuffer. One Tensor (and one 16-byte aligned Buffer) per weight and bias; int4
// weights are packed contiguously over the whole matrix, low nibble first (schema TensorType.INT4). Stored
// ranges and BatchNorm are written whenever the description holds them (check_model decides what is valid).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "qgnn/converter/layer_kind.h"
#include "qgnn/converter/model_builder.h"
#include "qgnn/kernels/numerics.h"
#include "qgnn/schema/qgnn_generated.h"

static_assert(FLATBUFFERS_LITTLEENDIAN, "parameter buffers are copied as little-endian bytes");

namespace qgnn {
namespace converter {
namespace {

namespace fbs = ::qgnn::fb;
using flatbuffers::Offset;

// Buffers are read in place by the kernels (zero copy), so they keep the schema's 16-byte alignment.
constexpr size_t kBufferAlignment = 16;

// Files carry the oldest version whose runtimes compute them correctly (docs/format.md, "Versions"): an
// unfolded BatchNorm changes the results a runtime that does not know the field would compute, so such files
// carry kBatchNormFormatVersion; listed inputs would be run as a chain, so those files carry
// kDataflowFormatVersion. Runtimes that predate the field then reject the file.
uint32_t file_version(const ModelDesc& model) {
  uint32_t version = model.version;
  for (const LayerDesc& l : model.layers) {
    bool batch_norm = l.dense.batch_norm.has_value() || l.root.batch_norm.has_value();
    for (const DenseDesc& d : l.mlp) batch_norm = batch_norm || d.batch_norm.has_value();
    if (batch_norm) version = std::max(version, kBatchNormFormatVersion);
    if (!l.inputs.empty()) version = std::max(version, kDataflowFormatVersion);
    if (l.order == LayerOrder::kTransformFirst) {
      version = std::max(version, l.kind == LayerKind::kSageConv ? kTransformFirstSageFormatVersion
                                                                 : kTransformFirstFormatVersion);
    }
  }
  if (!model.input_column_scales.empty()) version = std::max(version, kInputColumnsFormatVersion);
  return version;
}

std::vector<uint8_t> pack_int4(const std::vector<int8_t>& values) {
  std::vector<uint8_t> packed((values.size() + 1) / 2, 0);
  for (size_t i = 0; i < values.size(); ++i) kernels::store_int4(packed.data(), i, values[i]);
  return packed;
}

template <typename T>
std::vector<uint8_t> to_bytes(const std::vector<T>& values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(T));
  if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

class ModelWriter {
 public:
  // Every field is written explicitly, defaults included, so the file states its numerics (bits = 8,
  // scale = 1, ...) rather than relying on each reader knowing the schema defaults.
  ModelWriter() { fbb_.ForceDefaults(true); }

  std::vector<uint8_t> write(const ModelDesc& model) {
    std::vector<Offset<fbs::Layer>> layers;
    for (const LayerDesc& layer : model.layers) layers.push_back(write_layer(layer, model.quantized));

    std::vector<Offset<flatbuffers::String>> class_names;
    for (const std::string& n : model.class_names) class_names.push_back(fbb_.CreateString(n));

    const fbs::Range input_range = to_range(model.input_range);
    const auto input = fbs::CreateInputSpec(
        fbb_, static_cast<uint32_t>(model.input_dim),
        model.input_int8 ? fbs::TensorType::INT8 : fbs::TensorType::FLOAT32,
        model.quantized ? write_quant(model.input_quant) : Offset<fbs::QuantParams>(),
        model.input_range ? &input_range : nullptr,
        model.input_column_scales.empty() ? Offset<flatbuffers::Vector<float>>()
                                          : fbb_.CreateVector(model.input_column_scales));
    const auto ranges_source =
        model.ranges_source.empty() ? Offset<flatbuffers::String>() : fbb_.CreateString(model.ranges_source);
    const LimitsDesc& l = model.limits;
    const auto limits = fbs::CreateLimits(fbb_, l.max_nodes, l.max_edges, l.max_degree, l.max_graphs);
    const auto root = fbs::CreateModel(
        fbb_, file_version(model), fbb_.CreateString(model.name), fbb_.CreateString(model.description),
        fbb_.CreateString(model.producer), static_cast<fbs::Task>(model.task), fbb_.CreateVector(class_names),
        model.quantized, input, fbb_.CreateVector(layers), fbb_.CreateVector(tensors_),
        fbb_.CreateVector(buffers_), limits, ranges_source);
    fbs::FinishModelBuffer(fbb_, root);
    return std::vector<uint8_t>(fbb_.GetBufferPointer(), fbb_.GetBufferPointer() + fbb_.GetSize());
  }

 private:
  int32_t add_tensor(const std::string& name, fbs::TensorType type, const std::vector<uint32_t>& shape,
                     const std::vector<uint8_t>& bytes, const std::vector<float>* scales) {
    fbb_.ForceVectorAlignment(bytes.size(), sizeof(uint8_t), kBufferAlignment);
    const auto data = fbb_.CreateVector(bytes);
    const auto buffer_index = static_cast<uint32_t>(buffers_.size());
    buffers_.push_back(fbs::CreateBuffer(fbb_, data));
    const auto name_offset = fbb_.CreateString(name);
    const auto shape_offset = fbb_.CreateVector(shape);
    const auto scales_offset = scales ? fbb_.CreateVector(*scales) : Offset<flatbuffers::Vector<float>>();
    tensors_.push_back(fbs::CreateTensor(fbb_, name_offset, type, shape_offset, buffer_index, scales_offset));
    return static_cast<int32_t>(tensors_.size() - 1);
  }

  static fbs::Range to_range(const std::optional<StoredRange>& r) {
    return r ? fbs::Range(r->min, r->max) : fbs::Range();
  }

  Offset<fbs::BatchNorm> write_batch_norm(const BatchNormDesc& bn) {
    return fbs::CreateBatchNorm(fbb_, fbb_.CreateVector(bn.mean), fbb_.CreateVector(bn.var),
                                fbb_.CreateVector(bn.gamma), fbb_.CreateVector(bn.beta), bn.eps);
  }

  Offset<fbs::QuantParams> write_quant(const QuantParams& q) {
    return fbs::CreateQuantParams(fbb_, static_cast<uint8_t>(q.bits), q.scale, q.zero_point);
  }

  Offset<fbs::Requant> write_requant(const Requant& r) {
    return fbs::CreateRequant(fbb_, fbb_.CreateVector(r.multiplier), fbb_.CreateVector(r.shift));
  }

  Offset<fbs::Dense> write_dense(const DenseDesc& d, const std::string& prefix, bool quantized) {
    const std::vector<uint32_t> weight_shape = {static_cast<uint32_t>(d.out_features),
                                                static_cast<uint32_t>(d.in_features)};
    int32_t weight = -1;
    int32_t bias = -1;
    Offset<fbs::Requant> requant;
    if (quantized) {
      const bool int4 = d.weight_bits == 4;
      weight =
          add_tensor(prefix + ".weight", int4 ? fbs::TensorType::INT4 : fbs::TensorType::INT8, weight_shape,
                     int4 ? pack_int4(d.weight_q) : to_bytes(d.weight_q), &d.weight_scales);
      if (!d.bias_q.empty()) {
        bias = add_tensor(prefix + ".bias", fbs::TensorType::INT32, {static_cast<uint32_t>(d.bias_q.size())},
                          to_bytes(d.bias_q), nullptr);
      }
      requant = write_requant(d.requant);
    } else {
      weight =
          add_tensor(prefix + ".weight", fbs::TensorType::FLOAT32, weight_shape, to_bytes(d.weight), nullptr);
      if (!d.bias.empty()) {
        bias = add_tensor(prefix + ".bias", fbs::TensorType::FLOAT32, {static_cast<uint32_t>(d.bias.size())},
                          to_bytes(d.bias), nullptr);
      }
    }
    const auto batch_norm = d.batch_norm ? write_batch_norm(*d.batch_norm) : Offset<fbs::BatchNorm>();
    return fbs::CreateDense(fbb_, weight, bias, requant,
                            d.relu ? fbs::Activation::RELU : fbs::Activation::NONE, batch_norm);
  }

  // GATConvOptions: the attention vectors as [1, H F] tensors (INT8 with their one scale, or FLOAT32), the
  // output bias, and the quantized fields (docs/format.md).
  Offset<fbs::GATConvOptions> write_gat(const LayerDesc& layer, Offset<fbs::Dense> dense, bool quantized) {
    const std::vector<uint32_t> att_shape = {1, static_cast<uint32_t>(layer.heads * layer.head_dim)};
    const std::vector<float> att_scales = {layer.att_scale};
    const std::string& n = layer.name;
    int32_t att_src = -1, att_dst = -1, bias = -1;
    if (quantized) {
      att_src = add_tensor(n + ".att_src", fbs::TensorType::INT8, att_shape, to_bytes(layer.att_src_q),
                           &att_scales);
      att_dst = add_tensor(n + ".att_dst", fbs::TensorType::INT8, att_shape, to_bytes(layer.att_dst_q),
                           &att_scales);
      if (!layer.output_bias_q.empty()) {
        bias = add_tensor(n + ".bias", fbs::TensorType::INT32,
                          {static_cast<uint32_t>(layer.output_bias_q.size())}, to_bytes(layer.output_bias_q),
                          nullptr);
      }
    } else {
      att_src =
          add_tensor(n + ".att_src", fbs::TensorType::FLOAT32, att_shape, to_bytes(layer.att_src), nullptr);
      att_dst =
          add_tensor(n + ".att_dst", fbs::TensorType::FLOAT32, att_shape, to_bytes(layer.att_dst), nullptr);
      if (!layer.output_bias.empty()) {
        bias = add_tensor(n + ".bias", fbs::TensorType::FLOAT32,
                          {static_cast<uint32_t>(layer.output_bias.size())}, to_bytes(layer.output_bias),
                          nullptr);
      }
    }
    Offset<fbs::QuantParams> message, logit;
    Offset<fbs::Requant> logit_requant, logit_negative_requant, output_requant;
    Offset<flatbuffers::Vector<uint16_t>> exp_table;
    if (quantized) {
      message = write_quant(layer.message);
      logit = write_quant(layer.logit);
      logit_requant = write_requant(layer.logit_requant);
      logit_negative_requant = write_requant(layer.logit_negative_requant);
      exp_table = fbb_.CreateVector(layer.exp_table);
      output_requant = write_requant(layer.output_requant);
    }
    const fbs::Range message_range = to_range(layer.message_range);
    const fbs::Range logit_range = to_range(layer.logit_range);
    return fbs::CreateGATConvOptions(
        fbb_, static_cast<uint32_t>(layer.heads), static_cast<uint32_t>(layer.head_dim), layer.concat, 0.2f,
        dense, att_src, att_dst, bias, message, logit, logit_requant, logit_negative_requant, exp_table,
        output_requant, layer.message_range ? &message_range : nullptr,
        layer.logit_range ? &logit_range : nullptr);
  }

  Offset<fbs::Layer> write_layer(const LayerDesc& layer, bool quantized) {
    const std::string& n = layer.name;
    fbs::LayerOptions type = fbs::LayerOptions::NONE;
    Offset<void> options;
    Offset<fbs::Requant> aggregation_requant;
    // A transform-first layer's intermediate activation is its messages (LayerDesc::order).
    const bool transform_first = layer.order == LayerOrder::kTransformFirst;
    // serialize_model_unchecked writes corrupt descriptions too: an unknown kind gets no options.
    const LayerKindTraits* kind = find_layer_traits(layer.kind);
    // Dense ops first, in the kind's order (tensors and buffers are numbered as they are written).
    std::vector<Offset<fbs::Dense>> dense;
    for (const DenseOp& op : kind ? kind->dense_ops(layer) : std::vector<DenseOp>())
      dense.push_back(write_dense(dense_of(layer, op), n + op.tensor_name, quantized));
    // The schema has one options table per kind.
    switch (layer.kind) {
      case LayerKind::kLinear:
        type = fbs::LayerOptions::LinearOptions;
        options = fbs::CreateLinearOptions(fbb_, dense[0]).Union();
        break;
      case LayerKind::kGcnConv: {
        if (quantized) aggregation_requant = write_requant(layer.aggregation_requant);
        const auto message =
            quantized && transform_first ? write_quant(layer.aggregation) : Offset<fbs::QuantParams>();
        const fbs::Range message_range = to_range(layer.aggregation_range);
        type = fbs::LayerOptions::GCNConvOptions;
        options = fbs::CreateGCNConvOptions(
                      fbb_, dense[0], aggregation_requant,
                      transform_first ? fbs::LayerOrder::TRANSFORM_FIRST : fbs::LayerOrder::AGGREGATE_FIRST,
                      message, transform_first && layer.aggregation_range ? &message_range : nullptr)
                      .Union();
        break;
      }
      case LayerKind::kSageConv: {
        const auto root = dense.size() > 1 ? dense[1] : Offset<fbs::Dense>();
        if (quantized) aggregation_requant = write_requant(layer.aggregation_requant);
        type = fbs::LayerOptions::SAGEConvOptions;
        const bool quantized_tf = quantized && transform_first;
        const auto message = quantized_tf ? write_quant(layer.message) : Offset<fbs::QuantParams>();
        const auto output_requant =
            quantized_tf ? write_requant(layer.output_requant) : Offset<fbs::Requant>();
        const fbs::Range message_range = to_range(layer.message_range);
        options = fbs::CreateSAGEConvOptions(
                      fbb_, static_cast<fbs::Reduce>(layer.reduce), dense[0], root, aggregation_requant,
                      transform_first ? fbs::LayerOrder::TRANSFORM_FIRST : fbs::LayerOrder::AGGREGATE_FIRST,
                      message, layer.message_range ? &message_range : nullptr, output_requant)
                      .Union();
        break;
      }
      case LayerKind::kGinConv: {
        Offset<flatbuffers::Vector<Offset<fbs::QuantParams>>> hidden;
        Offset<flatbuffers::Vector<const fbs::Range*>> hidden_ranges;
        if (!layer.hidden_ranges.empty()) {
          std::vector<fbs::Range> ranges;
          for (const StoredRange& r : layer.hidden_ranges) ranges.emplace_back(r.min, r.max);
          hidden_ranges = fbb_.CreateVectorOfStructs(ranges);
        }
        if (quantized) {
          std::vector<Offset<fbs::QuantParams>> hidden_params;
          for (const QuantParams& q : layer.hidden) hidden_params.push_back(write_quant(q));
          hidden = fbb_.CreateVector(hidden_params);
          aggregation_requant = write_requant(layer.aggregation_requant);
        }
        const auto mlp_offset = fbb_.CreateVector(dense);
        type = fbs::LayerOptions::GINConvOptions;
        options = fbs::CreateGINConvOptions(fbb_, layer.eps, quantized ? layer.self_weight_q16 : 65536,
                                            mlp_offset, hidden, aggregation_requant, hidden_ranges)
                      .Union();
        break;
      }
      case LayerKind::kGatConv:
        type = fbs::LayerOptions::GATConvOptions;
        options = write_gat(layer, dense[0], quantized).Union();
        break;
      case LayerKind::kGlobalPool: {
        const auto requant = quantized ? write_requant(layer.pool_requant) : Offset<fbs::Requant>();
        type = fbs::LayerOptions::GlobalPoolOptions;
        options = fbs::CreateGlobalPoolOptions(fbb_, static_cast<fbs::Reduce>(layer.reduce), requant).Union();
        break;
      }
    }
    // A transform-first GCNConv's one intermediate activation, its messages, lives in its options; a
    // transform-first SAGEConv keeps Layer.aggregation (the mean of its messages).
    const bool message_passing = has_activation(layer, ActivationRole::kAggregation);
    const auto output = quantized ? write_quant(layer.output) : Offset<fbs::QuantParams>();
    const auto aggregation =
        quantized && message_passing ? write_quant(layer.aggregation) : Offset<fbs::QuantParams>();
    const fbs::Range output_range = to_range(layer.output_range);
    const fbs::Range aggregation_range = to_range(layer.aggregation_range);
    // Absent when empty (the previous layer's output), so files without a skip connection stay byte-identical
    // to the versions 1 and 2 writer's.
    const auto inputs =
        layer.inputs.empty() ? Offset<flatbuffers::Vector<int32_t>>() : fbb_.CreateVector(layer.inputs);
    return fbs::CreateLayer(fbb_, fbb_.CreateString(layer.name), type, options,
                            layer.relu ? fbs::Activation::RELU : fbs::Activation::NONE, output, aggregation,
                            layer.output_range ? &output_range : nullptr,
                            message_passing && layer.aggregation_range ? &aggregation_range : nullptr,
                            inputs);
  }

  flatbuffers::FlatBufferBuilder fbb_{1 << 16};
  std::vector<Offset<fbs::Tensor>> tensors_;
  std::vector<Offset<fbs::Buffer>> buffers_;
};

// FlatBuffers offsets are 32-bit: refuse descriptions whose parameters alone would overflow them.
bool fits_flatbuffer(const ModelDesc& model) {
  size_t bytes = 0;
  auto add_dense = [&bytes](const DenseDesc& d) {
    bytes += d.weight.size() * 4 + d.bias.size() * 4 + d.weight_q.size() + d.bias_q.size() * 4 +
             d.weight_scales.size() * 4 + 64;
    if (d.batch_norm) {
      const BatchNormDesc& bn = *d.batch_norm;
      bytes += (bn.mean.size() + bn.var.size() + bn.gamma.size() + bn.beta.size()) * 4 + 64;
    }
  };
  for (const LayerDesc& layer : model.layers) {
    add_dense(layer.dense);
    add_dense(layer.root);
    for (const DenseDesc& d : layer.mlp) add_dense(d);
    bytes += (layer.att_src.size() + layer.att_dst.size() + layer.output_bias.size() +
              layer.output_bias_q.size()) *
                 4 +
             layer.att_src_q.size() + layer.att_dst_q.size() + layer.exp_table.size() * 2;
  }
  return bytes < (size_t{1} << 31) - (size_t{1} << 24);
}

}  // namespace

Result<std::vector<uint8_t>> serialize_model_unchecked(const ModelDesc& model) {
  using R = Result<std::vector<uint8_t>>;
  if (!fits_flatbuffer(model)) return R::failure("the model's parameters exceed the 2 GiB FlatBuffers limit");
  R r;
  r.value = ModelWriter().write(model);
  return r;
}

Result<std::vector<uint8_t>> serialize_model(const ModelDesc& model) {
  const Result<bool> checked = check_model(model);
  if (!checked.ok()) return Result<std::vector<uint8_t>>::failure(checked.error);
  return serialize_model_unchecked(model);
}

}  // namespace converter
}  // namespace qgnn
