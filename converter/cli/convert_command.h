// The work of qgnn-convert, separated from argument parsing.
#ifndef QGNN_CONVERTER_CLI_CONVERT_COMMAND_H_
#define QGNN_CONVERTER_CLI_CONVERT_COMMAND_H_

#include <string>
#include <vector>

#include "qgnn/converter/model_builder.h"
#include "qgnn/converter/quantizer.h"

namespace qgnn {
namespace converter {
namespace cli {

struct ConvertOptions {
  std::string float_model_path;
  std::string calibration_path;
  std::string split = "train";
  std::string output_path;
  QuantizerConfig config;
};

/// What the conversion did, for the summary line and the notes on stderr.
struct ConvertSummary {
  size_t bytes_written = 0;
  size_t calibration_graphs = 0;
  size_t calibration_nodes = 0;
  std::vector<std::string> notes;
};

/// Reads the float model and the calibration set, quantizes, writes the output atomically.
Result<ConvertSummary> run_convert(const ConvertOptions& options);

}  // namespace cli
}  // namespace converter
}  // namespace qgnn

#endif  // QGNN_CONVERTER_CLI_CONVERT_COMMAND_H_
