#include "convert_command.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "qgnn/converter/dataset.h"

namespace qgnn {
namespace converter {
namespace cli {
namespace {

// Graph-classification calibration runs in batches of this many graphs to bound the float activations'
// memory; the ranges are the same as for one big batch.
constexpr size_t kGraphsPerBatch = 512;

Result<std::vector<GraphBatch>> calibration_batches(const GraphSetDesc& set, const std::string& split) {
  using R = Result<std::vector<GraphBatch>>;
  R r;
  if (set.task == Task::kNodeClassification) {
    // Node splits index nodes, but every node's neighbourhood is needed: calibrate on the whole graph.
    const Result<std::vector<uint32_t>> nodes = split_indices(set, split);
    if (!nodes.ok()) return R::failure(nodes.error);
    const Result<GraphBatch> all = extract_all_graphs(set);
    if (!all.ok()) return R::failure(all.error);
    r.value.push_back(all.value);
    return r;
  }
  const Result<std::vector<uint32_t>> graphs = split_indices(set, split);
  if (!graphs.ok()) return R::failure(graphs.error);
  for (size_t first = 0; first < graphs.value.size(); first += kGraphsPerBatch) {
    const size_t end = std::min(graphs.value.size(), first + kGraphsPerBatch);
    const std::vector<uint32_t> chunk(graphs.value.begin() + static_cast<ptrdiff_t>(first),
                                      graphs.value.begin() + static_cast<ptrdiff_t>(end));
    const Result<GraphBatch> batch = extract_graphs(set, chunk);
    if (!batch.ok()) return R::failure(batch.error);
    r.value.push_back(batch.value);
  }
  return r;
}

}  // namespace

Result<ConvertSummary> run_convert(const ConvertOptions& options) {
  using R = Result<ConvertSummary>;
  const Result<std::vector<uint8_t>> model_bytes = read_file(options.float_model_path);
  if (!model_bytes.ok()) return R::failure(model_bytes.error);
  const Result<ModelDesc> model = parse_model(model_bytes.value);
  if (!model.ok()) return R::failure(options.float_model_path + ": " + model.error);
  if (model.value.quantized) return R::failure(options.float_model_path + ": the model is already quantized");
  const Result<bool> consistent = check_model(model.value);
  if (!consistent.ok()) return R::failure(options.float_model_path + ": " + consistent.error);

  const Result<std::vector<uint8_t>> set_bytes = read_file(options.calibration_path);
  if (!set_bytes.ok()) return R::failure(set_bytes.error);
  const Result<GraphSetDesc> set = load_graph_set(set_bytes.value);
  if (!set.ok()) return R::failure(options.calibration_path + ": " + set.error);
  if (set.value.feature_dim != model.value.input_dim) {
    return R::failure("the data set has " + std::to_string(set.value.feature_dim) +
                      " features per node, the model expects " + std::to_string(model.value.input_dim));
  }
  if (set.value.task != model.value.task) return R::failure("the data set's task differs from the model's");
  const Result<std::vector<GraphBatch>> batches = calibration_batches(set.value, options.split);
  if (!batches.ok()) return R::failure(options.calibration_path + ": " + batches.error);

  QuantizationReport report;
  const Result<ModelDesc> quantized = quantize_model(model.value, batches.value, options.config, &report);
  if (!quantized.ok()) return R::failure("quantization failed: " + quantized.error);
  // Record how the model was made, so `qgnn-inspect` can tell.
  ModelDesc described = quantized.value;
  const ComponentBits& bits = options.config.default_bits;
  described.producer = "qgnn-convert";
  described.description += " (calibration: " + options.calibration_path + ", split " + options.split +
                           "; min-max ranges; bits input " + std::to_string(options.config.input_bits) +
                           ", weights " + std::to_string(bits.weights) + ", aggregation " +
                           std::to_string(bits.aggregation) + ", output " + std::to_string(bits.output) +
                           (options.config.int8_logits ? ", logits 8)" : ")");
  const Result<std::vector<uint8_t>> out_bytes = serialize_model(described);
  if (!out_bytes.ok()) return R::failure("cannot write the quantized model: " + out_bytes.error);
  const Result<bool> written = write_file_atomic(options.output_path, out_bytes.value);
  if (!written.ok()) return R::failure(written.error);

  R r;
  r.value.bytes_written = out_bytes.value.size();
  r.value.notes = report.notes;
  for (const GraphBatch& b : batches.value) {
    r.value.calibration_graphs += b.num_graphs;
    r.value.calibration_nodes += b.num_nodes;
  }
  return r;
}

}  // namespace cli
}  // namespace converter
}  // namespace qgnn
