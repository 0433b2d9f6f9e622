#include "bench/model_bytes.h"

#include "qgnn/converter/layer_kind.h"
#include "qgnn/converter/model_builder.h"

namespace qgnn {
namespace tools {
namespace {

namespace cv = ::qgnn::converter;

constexpr size_t kQuantParamsBytes = 1 + 4 + 4;  // bits, scale, zero point
constexpr size_t kRequantEntryBytes = 4;         // a multiplier or a shift
constexpr size_t kScaleBytes = sizeof(float);

// Adds one layer's bytes from what its kind's traits say it holds (layer_kind.h): no kind is named here.
void count_layer(const cv::LayerDesc& layer, bool quantized, ModelBytes* out) {
  for (const cv::ParameterTensor& t : cv::layer_tensors(layer, quantized)) {
    out->weights += t.bytes();
    out->quant_params += t.scales * kScaleBytes;
  }
  for (const cv::DenseOp& op : cv::layer_traits(layer.kind).dense_ops(layer)) {
    if (const auto& bn = cv::dense_of(layer, op).batch_norm)
      out->weights += (bn->mean.size() + bn->var.size() + bn->gamma.size() + bn->beta.size()) * sizeof(float);
  }
  if (quantized) out->quant_params += cv::layer_activations(layer).size() * kQuantParamsBytes;
  for (const cv::Requant* r : cv::layer_requants(layer))
    out->quant_params += (r->multiplier.size() + r->shift.size()) * kRequantEntryBytes;
  // The softmax's exp table is derived from the logits' scale: quantization data, not weights.
  out->quant_params += cv::layer_table_bytes(layer);
}

}  // namespace

bool analyze_model_bytes(const void* data, size_t size, ModelBytes* out, std::string* error) {
  // parse_model verifies the FlatBuffer and checks every index, type and buffer size it follows.
  const cv::Result<cv::ModelDesc> parsed = cv::parse_model(static_cast<const uint8_t*>(data), size);
  if (!parsed.ok()) {
    *error = parsed.error;
    return false;
  }
  const cv::ModelDesc& m = parsed.value;
  *out = ModelBytes{};
  out->total = size;
  if (m.quantized) out->quant_params += kQuantParamsBytes;  // the input's
  for (size_t i = 0; i < m.layers.size(); ++i) {
    const cv::LayerDesc& l = m.layers[i];
    count_layer(l, m.quantized, out);
    out->layer_names.push_back(l.name.empty() ? "layer" + std::to_string(i) : l.name);
    out->layer_kinds.push_back(cv::layer_traits(l.kind).name);
  }
  // Float models carry no quantization fields; a malformed count can never make structure negative.
  const size_t accounted = out->weights + out->quant_params;
  out->structure = accounted <= size ? size - accounted : 0;
  return true;
}

}  // namespace tools
}  // namespace qgnn
