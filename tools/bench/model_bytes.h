// Where a model file's bytes go: weights, quantization parameters, structure (qgnn-bench's memory split).
#ifndef QGNN_TOOLS_BENCH_MODEL_BYTES_H_
#define QGNN_TOOLS_BENCH_MODEL_BYTES_H_

#include <cstddef>
#include <string>
#include <vector>

namespace qgnn {
namespace tools {

/// Byte model (docs/performance.md, "Memory"):
///  * weights: the data of every weight and bias buffer, plus a float model's BatchNorm vectors;
///  * quant_params: what integer execution reads to rescale: per-channel weight scales (4 B each), Requant
///    multipliers and shifts (4 + 4 B per channel) and every QuantParams (bits, scale, zero point: 9 B);
///  * structure: the rest of the file (FlatBuffer tables and vtables, names, stored ranges, alignment).
struct ModelBytes {
  size_t total = 0;
  size_t weights = 0;
  size_t quant_params = 0;
  size_t structure = 0;
  std::vector<std::string> layer_names;  ///< "conv1", ...; a layer without a name gets "layerN"
  std::vector<std::string> layer_kinds;  ///< canonical kind names (LayerKindTraits::name): "GCNConv", ...
};

/// Splits a model file the runtime has accepted. The layers are read with the converter's parse_model and
/// counted from their kinds' traits (layer_kind.h), so a new kind needs nothing here. Returns false with
/// `error` set if parse_model rejects the file (the split never reads outside the buffer).
bool analyze_model_bytes(const void* data, size_t size, ModelBytes* out, std::string* error);

}  // namespace tools
}  // namespace qgnn

#endif  // QGNN_TOOLS_BENCH_MODEL_BYTES_H_
