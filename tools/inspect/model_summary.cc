#include "inspect/model_summary.h"

#include <cmath>

#include "qgnn/converter/layer_kind.h"
#include "qgnn/converter/model_builder.h"

namespace qgnn {
namespace tools {
namespace {

namespace cv = ::qgnn::converter;

const char* activation_name(bool relu) { return relu ? "RELU" : "NONE"; }

// Bits of a component: its QuantParams in a quantized model (0 when missing), 32 in a float model.
int component_bits(const cv::QuantParams* quant, bool quantized) {
  if (!quantized) return 32;
  return quant != nullptr ? quant->bits : 0;
}

DenseSummary summarize_dense(const cv::DenseDesc& d, bool quantized) {
  DenseSummary out;
  out.out_features = static_cast<uint32_t>(d.out_features);
  out.in_features = static_cast<uint32_t>(d.in_features);
  out.activation = activation_name(d.relu);
  const std::vector<cv::ParameterTensor> tensors = cv::dense_tensors(d, quantized, "");
  out.weight_type = cv::tensor_element_name(tensors.front().element);
  out.weight_bits = cv::tensor_element_bits(tensors.front().element);
  if (tensors.size() > 1) out.bias_type = cv::tensor_element_name(tensors.back().element);
  for (const cv::ParameterTensor& t : tensors) out.parameter_bytes += t.bytes();
  return out;
}

// Quantized: the logit step s the exp table encodes, T[k] = round(2^15 exp(-s k)), read back at the largest
// k with T[k] >= 2^8 (model_summary.h); 0 when the table is flat.
double exp_table_step(const std::vector<uint16_t>& table) {
  for (size_t k = table.size(); k-- > 1;) {
    if (table[0] > 0 && table[k] >= 256) return std::log(static_cast<double>(table[0]) / table[k]) / k;
  }
  return 0.0;
}

// The attention parameters (their bytes are in the layer's parameter_bytes, as qgnn_model_info's total counts
// them; the exp table, like the requant arrays, is not a parameter). The logits' bits come with the layer's
// other activations.
AttentionSummary summarize_attention(const cv::LayerDesc& l, bool quantized) {
  AttentionSummary a;
  a.heads = static_cast<uint32_t>(l.heads);
  a.head_dim = static_cast<uint32_t>(l.head_dim);
  a.concat = l.concat;
  // a_src and a_dst are symmetric int8 sharing one scale in a quantized model (LayerDesc::att_src_q).
  a.att_type = quantized ? "INT8" : "FLOAT32";
  a.att_scale = quantized ? l.att_scale : 0.0f;
  // The softmax weights: unsigned 8-bit in the integer kernels.
  a.alpha_bits = quantized ? 8 : 32;
  if (quantized) {
    a.exp_table_entries = static_cast<uint32_t>(l.exp_table.size());
    a.exp_table_step = exp_table_step(l.exp_table);
  }
  return a;
}

// Describes one layer reading `in_features` columns from what its kind's traits say it holds.
LayerSummary summarize_layer(const cv::LayerDesc& l, bool quantized, uint32_t in_features) {
  // parse_model only yields kinds that have traits.
  const cv::LayerKindTraits& kind = cv::layer_traits(l.kind);
  LayerSummary out;
  out.name = l.name;
  out.kind = kind.name;
  out.activation = activation_name(l.relu);
  out.inputs = l.inputs;
  if (kind.reduces != 0) {
    const char* reduce = cv::reduce_name(l.reduce);
    out.reduce = reduce != nullptr ? reduce : "UNKNOWN";
  }
  if (kind.reduction == cv::Reduction::kNeighborsAndSelf) out.eps = l.eps;
  bool transform_first = false;
  for (const cv::DenseOp& op : kind.dense_ops(l)) {
    out.dense.push_back(summarize_dense(cv::dense_of(l, op), quantized));
    transform_first = transform_first || op.writes_message;
  }
  for (const cv::ParameterTensor& t : cv::layer_tensors(l, quantized)) out.parameter_bytes += t.bytes();
  out.in_features = out.dense.empty() ? in_features : out.dense.front().in_features;
  out.out_features = static_cast<uint32_t>(cv::output_features(l, static_cast<int32_t>(in_features)));
  if (kind.attention) out.attention = summarize_attention(l, quantized);
  if (kind.hidden) out.hidden_bits.emplace();
  bool message_passing = false;
  for (const cv::LayerActivation& a : cv::layer_activations(l)) {
    const int bits = component_bits(a.quant, quantized);
    switch (a.role) {
      case cv::ActivationRole::kMessage:
        out.message_bits = bits;
        message_passing = true;
        break;
      case cv::ActivationRole::kAggregation:
        out.aggregation_bits = bits;
        message_passing = true;
        break;
      case cv::ActivationRole::kLogit:
        if (out.attention) {
          out.attention->logit_bits = bits;
          if (quantized && a.quant != nullptr) {
            out.attention->logit_scale = a.quant->scale;
            out.attention->logit_zero_point = a.quant->zero_point;
          }
        }
        break;
      case cv::ActivationRole::kHidden:
        if (out.hidden_bits) out.hidden_bits->push_back(bits);
        break;
      case cv::ActivationRole::kOutput:
        out.output_bits = bits;
        break;
    }
  }
  // What a message-passing layer runs first: its Dense when that writes the messages, else its aggregation.
  if (message_passing) out.first = transform_first ? "transform" : "aggregate";
  return out;
}

}  // namespace

bool summarize_model(const void* data, size_t size, const qgnn_model* model, ModelSummary* out,
                     std::string* error) {
  if (qgnn_model_get_info(model, &out->info) != QGNN_OK) {
    *error = "qgnn_model_get_info failed";
    return false;
  }
  // The runtime has verified the buffer; parse_model verifies it again and checks every index it follows, so
  // this code stands on its own.
  const cv::Result<cv::ModelDesc> parsed = cv::parse_model(static_cast<const uint8_t*>(data), size);
  if (!parsed.ok()) {
    *error = parsed.error;
    return false;
  }
  const cv::ModelDesc& m = parsed.value;
  out->version = m.version;
  out->description = m.description;
  out->producer = m.producer;
  for (uint32_t c = 0; c < out->info.num_classes; ++c) {
    const char* name = qgnn_model_class_name(model, c);
    out->class_names.push_back(name != nullptr ? name : "");
  }
  out->input_type = m.input_int8 ? "INT8" : "FLOAT32";
  out->input_bits = component_bits(&m.input_quant, m.quantized);
  if (const float* scales = qgnn_model_input_column_scales(model))
    out->input_column_scales.assign(scales, scales + out->info.input_dim);

  // A layer's input is the output it lists first in Layer.inputs, by default the previous layer's.
  // parse_model leaves the indices to check_model, so they are checked here before they index the layers read
  // so far.
  for (size_t i = 0; i < m.layers.size(); ++i) {
    const cv::LayerDesc& l = m.layers[i];
    const int64_t producer = l.inputs.empty() ? static_cast<int64_t>(i) - 1 : l.inputs.front();
    if (producer < cv::kModelInput || producer >= static_cast<int64_t>(i)) {
      *error = "layer " + std::to_string(i) + ": input " + std::to_string(producer) +
               " is neither an earlier layer nor the model input";
      return false;
    }
    const uint32_t features = producer < 0 ? static_cast<uint32_t>(m.input_dim)
                                           : out->layers[static_cast<size_t>(producer)].out_features;
    out->layers.push_back(summarize_layer(l, m.quantized, features));
  }
  return true;
}

}  // namespace tools
}  // namespace qgnn
