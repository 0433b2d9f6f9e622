// qgnn-convert: post-training quantization of a float .qgnn model with a .qgd calibration set.
//   qgnn-convert FLOAT.qgnn --calibration DATA.qgd [--split train] [--bits 8|4] [--weight-bits N]
//                [--aggregation-bits N] [--output-bits N] [--input-bits N] -o OUT.qgnn
// Errors go to stderr with exit status 1 (usage errors: CLI11's non-zero codes); the output is written
// atomically, never partially.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "convert_command.h"

int main(int argc, char** argv) {
  namespace qc = qgnn::converter;
  CLI::App app{"Quantize a float qgnn model (.qgnn) to integers, calibrating on a graph data set (.qgd)."};
  app.set_version_flag("--version", "qgnn-convert 0.1");
  qc::cli::ConvertOptions options;
  int bits = 8;
  int weight_bits = 0, aggregation_bits = 0, output_bits = 0, input_bits = 0;
  app.add_option("model", options.float_model_path, "Float model (.qgnn)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--calibration", options.calibration_path, "Calibration data set (.qgd)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--split", options.split, "Calibration split: train, val, test or all")
      ->check(CLI::IsMember({"train", "val", "test", "all"}))
      ->capture_default_str();
  app.add_option("--bits", bits, "Bits of every component (weights, aggregation, outputs, input)")
      ->check(CLI::IsMember({4, 8}))
      ->capture_default_str();
  app.add_option("--weight-bits", weight_bits, "Bits of the weights (overrides --bits)")
      ->check(CLI::IsMember({4, 8}));
  app.add_option("--aggregation-bits", aggregation_bits, "Bits of the aggregation results (overrides --bits)")
      ->check(CLI::IsMember({4, 8}));
  app.add_option("--output-bits", output_bits,
                 "Bits of the layer outputs (overrides --bits; the last layer's logits stay 8 bits)")
      ->check(CLI::IsMember({4, 8}));
  app.add_option("--input-bits", input_bits, "Bits of the input features (overrides --bits)")
      ->check(CLI::IsMember({4, 8}));
  app.add_option("-o,--output", options.output_path, "Quantized model to write (.qgnn)")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);  // --help / --version to stdout (status 0), usage errors to stderr
  }

  auto pick = [bits](int specific) { return specific != 0 ? specific : bits; };
  options.config.input_bits = pick(input_bits);
  options.config.default_bits =
      qc::ComponentBits{pick(weight_bits), pick(aggregation_bits), pick(output_bits)};
  options.config.int8_logits = true;

  const qc::Result<qc::cli::ConvertSummary> summary = qc::cli::run_convert(options);
  if (!summary.ok()) {
    std::fprintf(stderr, "qgnn-convert: error: %s\n", summary.error.c_str());
    return 1;
  }
  for (const std::string& note : summary.value.notes)
    std::fprintf(stderr, "qgnn-convert: note: %s\n", note.c_str());
  std::printf("wrote %s (%zu bytes), calibrated on %zu graphs / %zu nodes\n", options.output_path.c_str(),
              summary.value.bytes_written, summary.value.calibration_graphs, summary.value.calibration_nodes);
  return 0;
}
