// The work of qgnn-convert, separated from argument parsing (docs/converter.md).
#ifndef QGNN_CONVERTER_CLI_CONVERT_COMMAND_H_
#define QGNN_CONVERTER_CLI_CONVERT_COMMAND_H_

#include <cstdio>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "qgnn/converter/calibration.h"
#include "qgnn/converter/folds.h"
#include "qgnn/converter/model_builder.h"

namespace qgnn {
namespace converter {
namespace cli {

struct ConvertOptions {
  std::string float_model_path;
  std::string output_path;
  /// Calibration data (.qgd) and its split. Required unless the model carries stored (QAT) ranges and no
  /// --calibration method is asked for; also feeds the report's activation SQNR.
  std::string calibration_path;
  std::string split = "train";
  /// --fold K: --split and --val-split are splits of cross-validation fold K (converter::select_split).
  int32_t fold = kStoredSplit;
  /// --bits: 8, 4 or a SPEC (bit_spec.h).
  std::string bits_spec = "8";
  /// Input scales: "auto" (per column when the columns differ in scale), "tensor" or "column"
  /// (docs/quantization.md, "Per-column input scales").
  std::string input_scales = "auto";
  /// --order: "auto" (transform-first where the Dense narrows the features; a model with stored QAT ranges
  /// keeps its own order, the one the ranges were learned in), "aggregate-first" or "transform-first"
  /// (every layer kind that can: GCNConv and MEAN SAGEConv, a forced transform-first on a MAX SAGEConv is an
  /// error), or per kind "KIND=ORDER[,KIND=ORDER]" (KIND GCNConv or SAGEConv; the others auto)
  /// (docs/quantization.md, "Transform-first GCNConv" / "Transform-first SAGEConv").
  std::string order = "auto";
  /// Write the model even when the collapse check refuses it (its accuracy on the calibration split fell to
  /// the majority-class rate while the float model's is well above).
  bool force = false;
  /// --calibration: when set, ranges are calibrated with this method even if the model stores ranges.
  bool range_method_given = false;
  RangeOptions ranges;
  /// Declared graph limits (0: the runtime's caps), proven overflow-free and stored in the model.
  LimitsDesc limits;
  std::string report_path;  ///< --report FILE.json ("" for none)
  /// The activation check (activation_check.h), run whenever there is calibration data: --min-sqnr DB
  /// (NaN: the default threshold by bits) and --strict (any warning is an error, nothing is written).
  double min_sqnr_db = std::numeric_limits<double>::quiet_NaN();
  bool strict = false;

  /// --auto-bits: search the bits instead of taking --bits.
  bool auto_bits = false;
  std::string val_path;
  std::string val_split = "val";
  double max_drop_points = 0.5;
  size_t budget_bytes = 0;
  std::string pareto_json_path;   ///< explored points and the Pareto front ("" for none)
  std::string pareto_svg_path;    ///< the front drawn as SVG ("" for none)
  std::FILE* progress = nullptr;  ///< where the search's progress goes (stderr from main; null: silent)
};

/// What the conversion did, for the summary lines and the notes on stderr.
struct ConvertSummary {
  size_t bytes_written = 0;
  size_t calibration_graphs = 0;
  size_t calibration_nodes = 0;
  std::string ranges_source;             ///< "calibration (pauta, k = 3)" or "stored in the model (...)"
  std::string bits_spec;                 ///< the bits of the written model, as a SPEC
  SplitSelection calibration_selection;  ///< the calibration graphs (split "" without --calib)
  SplitSelection val_selection;          ///< the --auto-bits validation graphs (split "" without)
  std::vector<std::string> notes;
  std::vector<std::string> warnings;         ///< the activation check's and the fold check's, printed by main
  std::vector<std::string> auto_bits_lines;  ///< the explored Pareto front, printed by main
};

/// Reads the float model and the data, quantizes (searching the bits with --auto-bits), proves the
/// accumulators safe for the declared limits, checks the activations, writes the model (and report / Pareto
/// files) atomically. With options.strict, a warning of the check fails the conversion and nothing is
/// written.
Result<ConvertSummary> run_convert(const ConvertOptions& options);

/// Parses --order: one order for every kind ("*"), or KIND=ORDER items (KIND GCNConv or SAGEConv, each once);
/// the result maps "*" (auto unless given) and each named kind to its order. Fails with a usage message.
Result<std::map<std::string, std::string>> parse_order_spec(const std::string& spec);

}  // namespace cli
}  // namespace converter
}  // namespace qgnn

#endif  // QGNN_CONVERTER_CLI_CONVERT_COMMAND_H_
