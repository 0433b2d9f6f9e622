// qgnn-convert: post-training quantization of a float .qgnn model (docs/converter.md).
//   qgnn-convert FLOAT.qgnn --calib DATA.qgd [--split train] [--bits 8|4|SPEC]
//                [--calibration pauta|percentile|minmax] [--sigma K] [--percentile P]
//                [--max-nodes N] [--max-edges N] [--max-degree N] [--max-graphs N] [--report FILE.json]
//                [--min-sqnr DB] [--strict]
//                [--fold K] [--auto-bits --val DATA.qgd [--val-split val] --max-drop PTS [--budget-bytes N]
//                 [--pareto FILE.json] [--pareto-svg FILE.svg]] -o OUT.qgnn
// Errors go to stderr with exit status 1 (usage errors: CLI11's non-zero codes); every file is written
// atomically, never partially.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "convert_command.h"

int main(int argc, char** argv) {
  namespace qc = qgnn::converter;
  CLI::App app{
      "Quantize a float qgnn model (.qgnn) to integers: calibrated post-training quantization with "
      "per-layer / per-component bits, or an automatic bit search measured on the runtime."};
  app.set_version_flag("--version", "qgnn-convert 0.2");
  qc::cli::ConvertOptions options;
  std::string method;
  app.add_option("model", options.float_model_path, "Float model (.qgnn)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("-o,--output", options.output_path, "Quantized model to write (.qgnn)")->required();
  app.add_option("--calib", options.calibration_path,
                 "Calibration data set (.qgd); optional for models that store QAT ranges")
      ->check(CLI::ExistingFile);
  app.add_option("--split", options.split, "Calibration split: train, val, test or all")
      ->check(CLI::IsMember({"train", "val", "test", "all"}))
      ->capture_default_str();
  app.add_option(
         "--fold", options.fold,
         "Graph classification: --split and --val-split are splits of cross-validation fold K (test = "
         "fold K, val = fold (K+1)%k, train = the rest; as python3 -m qgnn.train --fold K)")
      ->check(CLI::Range(0, 255));
  app.add_option("--bits", options.bits_spec,
                 "8, 4, or a SPEC of per-layer / per-component bits, e.g. 'conv1.w=4,conv1.out=8,*=8' "
                 "(docs/converter.md)")
      ->capture_default_str();
  app.add_option("--calibration", method,
                 "Range method: pauta (mean +- k sigma), percentile, minmax [default: pauta; a model with "
                 "stored QAT ranges uses those unless this is given]")
      ->check(CLI::IsMember({"pauta", "percentile", "minmax"}));
  app.add_flag("--force", options.force,
               "Write the model even when it collapsed to majority-class accuracy on the calibration split");
  app.add_option("--input-scales", options.input_scales,
                 "Input quantization: auto (one scale per feature column when columns differ in scale, e.g. "
                 "raw attributes beside one-hot labels), tensor (one scale) or column")
      ->check(CLI::IsMember({"auto", "tensor", "column"}))
      ->capture_default_str();
  app.add_option(
         "--order", options.order,
         "What GCN and MEAN SAGE layers run first: auto (transform-first where the (neighbour) Dense "
         "narrows the features: less work and memory), aggregate-first or transform-first; or per kind, "
         "e.g. GCNConv=transform-first,SAGEConv=aggregate-first (the other kinds auto)")
      ->check(CLI::Validator(
          [](std::string& spec) {
            const auto parsed = qgnn::converter::cli::parse_order_spec(spec);
            return parsed.ok() ? std::string() : parsed.error;
          },
          "ORDER"))
      ->capture_default_str();
  app.add_option("--sigma", options.ranges.sigma,
                 "Pauta: k of mean +- k sigma [default: 5 for 8-bit, 3 for 4-bit]");
  app.add_option("--percentile", options.ranges.percentile,
                 "Percentile P in (50, 100]: clip to [100-P, P] [default: 99.9 for 8-bit, 99 for 4-bit]");
  app.add_option("--max-nodes", options.limits.max_nodes, "Declared nodes per batch (0: the runtime's cap)");
  app.add_option("--max-edges", options.limits.max_edges, "Declared edges per batch (0: the runtime's cap)");
  app.add_option("--max-degree", options.limits.max_degree, "Declared in-degree (0: the runtime's cap)");
  app.add_option("--max-graphs", options.limits.max_graphs,
                 "Declared graphs per batch (0: the runtime's cap)");
  app.add_option("--report", options.report_path,
                 "Write a JSON report: per-layer SQNR, bytes per component, chosen ranges, overflow bounds");
  app.add_option("--min-sqnr", options.min_sqnr_db,
                 "Warn about any activation whose SQNR on the calibration data is below DB [default: "
                 "0.75 dB per bit: 6 dB at 8 bits, 3 dB at 4 bits]")
      ->check(CLI::Range(-1000.0, 1000.0));
  app.add_flag("--strict", options.strict,
               "Make every warning of the activation check an error: exit 1, nothing written");
  app.add_flag("--auto-bits", options.auto_bits,
               "Search per-layer / per-component bits on the runtime (needs --val) instead of --bits");
  app.add_option("--val", options.val_path, "Validation data set (.qgd) for --auto-bits")
      ->check(CLI::ExistingFile);
  app.add_option("--val-split", options.val_split, "Split of --val to score")
      ->check(CLI::IsMember({"train", "val", "test", "all"}))
      ->capture_default_str();
  app.add_option("--max-drop", options.max_drop_points, "Accuracy points the search may lose against float")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  app.add_option("--budget-bytes", options.budget_bytes,
                 "Instead of the smallest model within --max-drop: the most accurate within this many bytes "
                 "(model + arena)");
  app.add_option("--pareto", options.pareto_json_path, "Write the explored points and Pareto front (JSON)");
  app.add_option("--pareto-svg", options.pareto_svg_path, "Draw the explored points and Pareto front (SVG)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);  // --help / --version to stdout (status 0), usage errors to stderr
  }
  options.range_method_given = !method.empty();
  if (!qc::parse_range_method(method.empty() ? "pauta" : method, &options.ranges.method).ok()) return 2;
  options.progress = options.auto_bits ? stderr : nullptr;

  const qc::Result<qc::cli::ConvertSummary> summary = qc::cli::run_convert(options);
  if (!summary.ok()) {
    std::fprintf(stderr, "qgnn-convert: error: %s\n", summary.error.c_str());
    return 1;
  }
  const qc::cli::ConvertSummary& s = summary.value;
  for (const std::string& note : s.notes) std::fprintf(stderr, "qgnn-convert: note: %s\n", note.c_str());
  for (const std::string& w : s.warnings) std::fprintf(stderr, "qgnn-convert: WARNING: %s\n", w.c_str());
  for (const std::string& line : s.auto_bits_lines) std::printf("%s\n", line.c_str());
  std::printf("wrote %s (%zu bytes): bits %s; ranges %s", options.output_path.c_str(), s.bytes_written,
              s.bits_spec.c_str(), s.ranges_source.c_str());
  if (s.calibration_graphs > 0)
    std::printf("; calibrated on %zu graphs / %zu nodes (%s)", s.calibration_graphs, s.calibration_nodes,
                s.calibration_selection.description.c_str());
  std::printf("\n");
  if (!options.report_path.empty()) std::printf("wrote %s\n", options.report_path.c_str());
  return 0;
}
