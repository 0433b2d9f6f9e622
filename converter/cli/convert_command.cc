#include "convert_command.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "qgnn/converter/activation_check.h"
#include "qgnn/converter/auto_bits.h"
#include "qgnn/converter/batch_norm.h"
#include "qgnn/converter/bit_spec.h"
#include "qgnn/converter/dataset.h"
#include "qgnn/converter/input_columns.h"
#include "qgnn/converter/layer_kind.h"
#include "qgnn/converter/overflow_check.h"
#include "qgnn/converter/pareto_plot.h"
#include "qgnn/converter/progress.h"
#include "qgnn/converter/quantizer.h"
#include "qgnn/converter/report.h"
#include "qgnn/converter/runtime_eval.h"
#include "qgnn/converter/stored_ranges.h"

namespace qgnn {
namespace converter {
namespace cli {
namespace {

// Graph-classification calibration runs in batches of this many graphs to bound the float activations'
// memory; the statistics are the same as for one big batch.
constexpr size_t kGraphsPerBatch = 512;

std::vector<uint8_t> to_bytes(const std::string& text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}

Result<GraphSetDesc> load_set(const std::string& path, const ModelDesc& model) {
  using R = Result<GraphSetDesc>;
  const Result<std::vector<uint8_t>> bytes = read_file(path);
  if (!bytes.ok()) return R::failure(bytes.error);
  R set = load_graph_set(bytes.value);
  if (!set.ok()) return R::failure(path + ": " + set.error);
  if (set.value.feature_dim != model.input_dim) {
    return R::failure(path + ": the data set has " + std::to_string(set.value.feature_dim) +
                      " features per node, the model expects " + std::to_string(model.input_dim));
  }
  if (set.value.task != model.task)
    return R::failure(path + ": the data set's task differs from the model's");
  return set;
}

Result<std::vector<GraphBatch>> calibration_batches(const GraphSetDesc& set,
                                                    const SplitSelection& selection) {
  using R = Result<std::vector<GraphBatch>>;
  const std::vector<uint32_t>& indices = selection.indices;
  R r;
  if (set.task == Task::kNodeClassification) {
    // Node splits index nodes, but every node's neighbourhood is needed: calibrate on the whole graph.
    const Result<GraphBatch> all = extract_all_graphs(set);
    if (!all.ok()) return R::failure(all.error);
    r.value.push_back(all.value);
    return r;
  }
  for (size_t first = 0; first < indices.size(); first += kGraphsPerBatch) {
    const size_t end = std::min(indices.size(), first + kGraphsPerBatch);
    const std::vector<uint32_t> chunk(indices.begin() + static_cast<ptrdiff_t>(first),
                                      indices.begin() + static_cast<ptrdiff_t>(end));
    const Result<GraphBatch> batch = extract_graphs(set, chunk);
    if (!batch.ok()) return R::failure(batch.error);
    r.value.push_back(batch.value);
  }
  return r;
}

std::string describe_ranges(const RangeOptions& o) {
  char buffer[96];
  switch (o.method) {
    case RangeMethod::kPauta:
      if (o.sigma == 0.0) return "pauta, k = 5 (8-bit) / 3 (4-bit)";
      std::snprintf(buffer, sizeof buffer, "pauta, k = %g", o.sigma);
      return buffer;
    case RangeMethod::kPercentile:
      if (o.percentile == 0.0) return "percentile, P = 99.9 (8-bit) / 99 (4-bit)";
      std::snprintf(buffer, sizeof buffer, "percentile, P = %g", o.percentile);
      return buffer;
    case RangeMethod::kMinMax:
      break;
  }
  return "minmax";
}

std::string describe_limits(const LimitsDesc& l) {
  auto one = [](uint32_t v) { return v == 0 ? std::string("runtime cap") : std::to_string(v); };
  return "nodes " + one(l.max_nodes) + ", edges " + one(l.max_edges) + ", degree " + one(l.max_degree) +
         ", graphs " + one(l.max_graphs);
}

nlohmann::ordered_json overflow_json(const OverflowProof& proof) {
  nlohmann::ordered_json bounds = nlohmann::ordered_json::array();
  for (const AccumulatorBound& b : proof.bounds) {
    nlohmann::ordered_json j;
    j["layer"] = b.layer;
    j["layer_name"] = b.layer_name;
    j["accumulator"] = b.accumulator;
    j["type"] = b.type;
    j["worst_case"] = b.worst_case;
    j["limit"] = b.limit;
    if (!b.depends_on.empty()) {
      j["depends_on"] = b.depends_on;
      j["max_safe"] = b.max_safe;
    }
    bounds.push_back(j);
  }
  nlohmann::ordered_json limits;
  limits["max_nodes"] = proof.effective.max_nodes;
  limits["max_edges"] = proof.effective.max_edges;
  limits["max_degree"] = proof.effective.max_degree;
  limits["max_graphs"] = proof.effective.max_graphs;
  nlohmann::ordered_json out;
  out["effective_limits"] = limits;
  out["accumulators"] = bounds;
  return out;
}

// Everything needed to turn a bit assignment into a written model: the float model (BatchNorm folded), where
// its ranges come from, the declared limits.
class Converter {
 public:
  Converter(const ConvertOptions& options, ModelDesc float_model, InputColumnChoice columns,
            ModelDesc calibration_model)
      : options_(options),
        float_model_(std::move(float_model)),
        columns_(std::move(columns)),
        calibration_model_(std::move(calibration_model)) {}

  Result<bool> prepare_ranges(const CalibrationStats* stats) {
    using R = Result<bool>;
    const bool use_stored = has_stored_ranges(float_model_) && !options_.range_method_given;
    if (use_stored) {
      const Result<CalibrationRanges> stored = stored_ranges(float_model_);
      if (!stored.ok()) return R::failure(options_.float_model_path + ": stored ranges: " + stored.error);
      stored_ = std::make_unique<CalibrationRanges>(stored.value);
      ranges_source_ = "stored in the model (quantization-aware training)";
    } else {
      if (stats == nullptr) {
        return R::failure(
            "the model stores no activation ranges: give calibration data with --calib DATA.qgd");
      }
      stats_ = stats;
      const std::string fold =
          options_.fold == kStoredSplit ? "" : " of fold " + std::to_string(options_.fold);
      ranges_source_ = "calibrated on " + options_.calibration_path + " (" + options_.split + " split" +
                       fold + ", " + describe_ranges(options_.ranges) + ")";
    }
    return R{};
  }

  const std::string& ranges_source() const { return ranges_source_; }
  const ModelDesc& float_model() const { return float_model_; }
  /// The float model the calibration statistics describe: float_model() with per-column input gains folded
  /// in when the input is scaled per column (it reads the features divided by the gains), else the same.
  const ModelDesc& calibration_model() const { return calibration_model_; }

  /// Quantizes with `config`, proves the accumulators for the declared limits and stores those limits.
  Result<ModelDesc> quantize(const QuantizerConfig& config, QuantizationReport* report,
                             OverflowProof* proof) const {
    using R = Result<ModelDesc>;
    CalibrationRanges ranges;
    if (stored_) {
      ranges = *stored_;
    } else {
      const Result<CalibrationRanges> selected =
          select_ranges(*stats_, options_.ranges, config, float_model_.layers.size());
      if (!selected.ok()) return R::failure(selected.error);
      ranges = selected.value;
    }
    R q = quantize_with_column_scales(float_model_, ranges, columns_, config, report);
    if (!q.ok()) return R::failure("quantization failed: " + q.error);
    // Declared limits override the float model's own; undeclared ones keep them.
    LimitsDesc& l = q.value.limits;
    const LimitsDesc& d = options_.limits;
    if (d.max_nodes) l.max_nodes = d.max_nodes;
    if (d.max_edges) l.max_edges = d.max_edges;
    if (d.max_degree) l.max_degree = d.max_degree;
    if (d.max_graphs) l.max_graphs = d.max_graphs;
    const Result<OverflowProof> proven = prove_no_overflow(q.value, l);
    if (!proven.ok()) return R::failure(proven.error);
    if (proof) *proof = proven.value;
    return q;
  }

  Result<std::vector<uint8_t>> build(const QuantizerConfig& config) const {
    const Result<ModelDesc> q = quantize(config, nullptr, nullptr);
    if (!q.ok()) return Result<std::vector<uint8_t>>::failure(q.error);
    return serialize_model(q.value);
  }

 private:
  const ConvertOptions& options_;
  ModelDesc float_model_;
  InputColumnChoice columns_;
  ModelDesc calibration_model_;
  const CalibrationStats* stats_ = nullptr;
  std::unique_ptr<CalibrationRanges> stored_;
  std::string ranges_source_;
};

std::string pareto_line(const Candidate& c, bool chosen) {
  char buffer[160];
  std::snprintf(buffer, sizeof buffer, "%10zu B (model %zu + arena %zu)  accuracy %6.2f%%  ", c.total_bytes(),
                c.model_bytes, c.arena_bytes, 100.0 * c.accuracy);
  return std::string(buffer) + c.label + (chosen ? "   <- chosen" : "");
}

// The collapse check of qgnn-convert (docs/converter.md, "Warnings"): "" when the quantized model answers,
// else why it does not. Collapsed = its accuracy on the calibration split is at most the majority-class rate
// + 1 point while the float model is at least 5 points above that rate (the thresholds of python's
// qgnn.train.quant.check_collapse, which refuses such QAT models the same way).
Result<std::string> collapse_check(const std::vector<uint8_t>& float_bytes,
                                   const std::vector<uint8_t>& quantized, const GraphSetDesc& set,
                                   const std::vector<uint32_t>& indices,
                                   const std::vector<std::string>& warnings) {
  using R = Result<std::string>;
  if (indices.empty()) return R{};
  std::vector<size_t> counts(std::max<uint32_t>(set.num_classes, 1), 0);
  for (uint32_t i : indices) {
    const int32_t label = set.labels[i];
    if (label >= 0 && static_cast<size_t>(label) < counts.size()) ++counts[static_cast<size_t>(label)];
  }
  const double majority = static_cast<double>(*std::max_element(counts.begin(), counts.end())) /
                          static_cast<double>(indices.size());
  const Result<RuntimeEvaluation> f = evaluate_on_runtime(float_bytes, set, indices);
  if (!f.ok()) return R::failure("collapse check, float model: " + f.error);
  const Result<RuntimeEvaluation> q = evaluate_on_runtime(quantized, set, indices);
  if (!q.ok()) return R::failure("collapse check, quantized model: " + q.error);
  R r;
  if (q.value.accuracy() > majority + 0.01 || f.value.accuracy() < majority + 0.05) return r;
  char buffer[256];
  std::snprintf(buffer, sizeof buffer,
                "the quantized model collapsed to majority-class accuracy on the calibration split: %.4f "
                "(majority-class rate %.4f) where the float model scores %.4f",
                q.value.accuracy(), majority, f.value.accuracy());
  r.value = buffer;
  if (!warnings.empty()) r.value += "; the activation check warned: " + warnings.front();
  r.value += "; try --bits 8 for the components named, another --calibration method, or QAT";
  return r;
}

// The split of `path` the options name (--split or --val-split, with --fold), with its note and the warning
// when the float model's training fold (its description) is another one.
Result<SplitSelection> select(const std::string& path, const GraphSetDesc& set, const std::string& split,
                              const ConvertOptions& options, const ModelDesc& model,
                              ConvertSummary* summary) {
  Result<SplitSelection> r = select_split(set, split, options.fold);
  if (!r.ok()) return Result<SplitSelection>::failure(path + ": " + r.error);
  if (!r.value.note.empty()) summary->notes.push_back(path + ": " + r.value.note);
  const std::string warning = fold_mismatch_warning(training_fold(model.description), set, r.value);
  if (!warning.empty()) summary->warnings.push_back(path + ": " + warning);
  return r;
}

Result<AutoBitsResult> search(const ConvertOptions& options, const Converter& converter,
                              const std::vector<uint8_t>& float_bytes, const QuantizerConfig& base,
                              ConvertSummary* summary) {
  using R = Result<AutoBitsResult>;
  const Result<GraphSetDesc> val = load_set(options.val_path, converter.float_model());
  if (!val.ok()) return R::failure(val.error);
  const Result<SplitSelection> selected =
      select(options.val_path, val.value, options.val_split, options, converter.float_model(), summary);
  if (!selected.ok()) return R::failure(selected.error);
  summary->val_selection = selected.value;
  const std::vector<uint32_t>& indices = selected.value.indices;
  AutoBitsOptions search_options;
  search_options.max_drop_points = options.max_drop_points;
  search_options.budget_bytes = options.budget_bytes;
  search_options.base = base;
  const BuildModel build = [&converter](const QuantizerConfig& c) { return converter.build(c); };
  const Evaluate evaluate = [&](const std::vector<uint8_t>& bytes) {
    return evaluate_on_runtime(bytes, val.value, indices);
  };
  std::unique_ptr<ProgressBar> bar;
  Progress progress;
  if (options.progress != nullptr) {
    bar = std::make_unique<ProgressBar>(options.progress);
    progress = auto_bits_progress(bar.get());
  }
  R r = search_bits(converter.float_model(), float_bytes, build, evaluate, search_options, progress);
  if (bar) bar->finish();
  return r;
}

}  // namespace

Result<std::map<std::string, std::string>> parse_order_spec(const std::string& spec) {
  using R = Result<std::map<std::string, std::string>>;
  const auto known = [](const std::string& o) {
    return o == "auto" || o == "aggregate-first" || o == "transform-first";
  };
  R r;
  r.value["*"] = "auto";
  if (known(spec)) {
    r.value["*"] = spec;
    return r;
  }
  size_t begin = 0;
  while (begin <= spec.size()) {
    const size_t end = std::min(spec.find(',', begin), spec.size());
    const std::string item = spec.substr(begin, end - begin);
    const size_t eq = item.find('=');
    const std::string kind = eq == std::string::npos ? "" : item.substr(0, eq);
    const std::string order = eq == std::string::npos ? item : item.substr(eq + 1);
    const LayerKindTraits* traits = layer_traits_by_name(kind);
    if (traits == nullptr || !traits->transform_first || !known(order) || r.value.count(kind) != 0) {
      return R::failure("expected auto, aggregate-first, transform-first or KIND=ORDER[,KIND=ORDER] with KIND "
                        "GCNConv or SAGEConv, got '" + spec + "'");
    }
    r.value[kind] = order;
    begin = end + 1;
  }
  return r;
}

namespace {

// Sets each layer's order (--order). Stored QAT ranges describe the intermediate activation of the order
// they were learned in (aggregation or messages), so a model quantized with them keeps its order under
// "auto" and cannot be forced into the other; ranges that are not used are dropped when an order changes.
Result<bool> choose_order(const std::string& spec, bool stored_ranges_used, ModelDesc* model,
                          std::vector<std::string>* notes) {
  using R = Result<bool>;
  const Result<std::map<std::string, std::string>> orders = parse_order_spec(spec);
  if (!orders.ok()) return R::failure(orders.error);
  bool changed = false;
  for (size_t i = 0; i < model->layers.size(); ++i) {
    LayerDesc& layer = model->layers[i];
    if (!layer_traits(layer.kind).transform_first) continue;
    const auto named = orders.value.find(layer_traits(layer.kind).name);
    const std::string& order = named != orders.value.end() ? named->second : orders.value.at("*");
    if (order == "transform-first" && !can_transform_first(layer)) {
      return R::failure("layer " + std::to_string(i) + " (" + layer.name + ") is a " +
                        layer_traits(layer.kind).name +
                        " with MAX, which cannot run transform-first (max does not commute with W_n); use "
                        "--order auto");
    }
    LayerOrder wanted = order == "transform-first"   ? LayerOrder::kTransformFirst
                        : order == "aggregate-first" ? LayerOrder::kAggregateFirst
                        : stored_ranges_used         ? layer.order
                                                     : cheaper_order(layer);
    const bool tf = wanted == LayerOrder::kTransformFirst;
    if (wanted != layer.order) {
      if (stored_ranges_used) {
        return R::failure(
            "layer " + std::to_string(i) + " (" + layer.name + ")'s stored ranges were learned " +
            (tf ? "aggregate" : "transform") +
            "-first; calibrate instead (--calib DATA --calibration METHOD) or use --order auto");
      }
      layer.order = wanted;
      changed = true;
    }
    notes->push_back("layer " + std::to_string(i) + " (" + layer.name +
                     "): " + (tf ? "transform-first, aggregates " : "aggregate-first, aggregates ") +
                     std::to_string(tf ? layer.dense.out_features : layer.dense.in_features) + " columns");
  }
  if (changed && has_stored_ranges(*model)) {
    model->input_range.reset();
    for (LayerDesc& layer : model->layers) {
      layer.output_range.reset();
      layer.aggregation_range.reset();
      layer.message_range.reset();
      layer.hidden_ranges.clear();
    }
  }
  R r;
  r.value = true;
  return r;
}

}  // namespace

Result<ConvertSummary> run_convert(const ConvertOptions& options) {
  using R = Result<ConvertSummary>;
  R r;
  // The float model, checked, BatchNorm folded.
  const Result<std::vector<uint8_t>> model_bytes = read_file(options.float_model_path);
  if (!model_bytes.ok()) return R::failure(model_bytes.error);
  Result<ModelDesc> model = parse_model(model_bytes.value);
  if (!model.ok()) return R::failure(options.float_model_path + ": " + model.error);
  if (model.value.quantized) return R::failure(options.float_model_path + ": the model is already quantized");
  const Result<bool> consistent = check_model(model.value);
  if (!consistent.ok()) return R::failure(options.float_model_path + ": " + consistent.error);
  if (has_batch_norm(model.value)) {
    model = fold_batch_norm(model.value);
    if (!model.ok()) return R::failure(options.float_model_path + ": folding BatchNorm: " + model.error);
    r.value.notes.push_back("BatchNorm folded into the preceding Dense ops");
  }
  const Result<bool> options_ok = validate_range_options(options.ranges);
  if (!options_ok.ok()) return R::failure(options_ok.error);
  if (options.auto_bits && options.val_path.empty()) return R::failure("--auto-bits needs --val DATA.qgd");
  if (!options.report_path.empty() && options.calibration_path.empty())
    return R::failure("--report needs calibration data (--calib DATA.qgd) to measure the activations");

  const bool stored_ranges_used = has_stored_ranges(model.value) && !options.range_method_given;
  const Result<bool> ordered = choose_order(options.order, stored_ranges_used, &model.value, &r.value.notes);
  if (!ordered.ok()) return R::failure("--order: " + ordered.error);

  InputScaleMode input_scales = InputScaleMode::kAuto;
  const Result<bool> mode_ok = parse_input_scale_mode(options.input_scales, &input_scales);
  if (!mode_ok.ok()) return R::failure("--input-scales: " + mode_ok.error);
  Result<QuantizerConfig> config = parse_bit_spec(options.bits_spec, model.value);
  if (!config.ok()) return R::failure("--bits: " + config.error);
  config.value.ranges = options.ranges;

  // Calibration statistics (when there is calibration data).
  std::vector<GraphBatch> batches;
  CalibrationStats stats;
  const bool have_calibration = !options.calibration_path.empty();
  InputColumnChoice columns;
  ModelDesc calibration_model = model.value;
  if (input_scales == InputScaleMode::kColumn && (!have_calibration || stored_ranges_used)) {
    return R::failure(
        "--input-scales column needs calibration data and a --calibration method (stored ranges "
        "are per tensor)");
  }
  GraphSetDesc calibration_set;
  std::vector<uint32_t> calibration_indices;
  if (have_calibration) {
    const Result<GraphSetDesc> set = load_set(options.calibration_path, model.value);
    if (!set.ok()) return R::failure(set.error);
    const Result<SplitSelection> selected =
        select(options.calibration_path, set.value, options.split, options, model.value, &r.value);
    if (!selected.ok()) return R::failure(selected.error);
    calibration_set = set.value;
    calibration_indices = selected.value.indices;
    r.value.calibration_selection = selected.value;
    Result<std::vector<GraphBatch>> b = calibration_batches(set.value, selected.value);
    if (!b.ok()) return R::failure(options.calibration_path + ": " + b.error);
    batches = std::move(b.value);
    if (!stored_ranges_used) {
      // Per-column input scales (docs/quantization.md): decided from each column's range; the rest of the
      // model is then calibrated in the normalised domain (features / gains, weights * gains).
      std::vector<ActivationRange> column_ranges;
      ActivationRange indicators;
      for (const ActivationStats& c : collect_column_statistics(batches, model.value.input_dim)) {
        bool indicator = false;
        column_ranges.push_back(input_column_range(c, options.ranges, config.value.input_bits, &indicator));
        if (indicator) {
          indicators.min = std::min(indicators.min, column_ranges.back().min);
          indicators.max = std::max(indicators.max, column_ranges.back().max);
        }
      }
      Result<InputColumnChoice> chosen =
          choose_input_columns(column_ranges, input_scales, column_scales_blocker(model.value));
      if (!chosen.ok()) return R::failure("--input-scales: " + chosen.error);
      columns = std::move(chosen.value);
      columns.indicator_range = indicators;
      if (!columns.reason.empty()) r.value.notes.push_back(columns.reason);
      if (columns.per_column) {
        calibration_model = fold_input_gains(model.value, columns.gains);
        divide_features(&batches, columns.gains);
      }
    }
    Result<CalibrationStats> s = collect_statistics(calibration_model, batches);
    if (!s.ok()) return R::failure("calibration: " + s.error);
    stats = std::move(s.value);
    for (const GraphBatch& batch : batches) {
      r.value.calibration_graphs += batch.num_graphs;
      r.value.calibration_nodes += batch.num_nodes;
    }
  }
  Converter converter(options, model.value, columns, calibration_model);
  const Result<bool> prepared = converter.prepare_ranges(have_calibration ? &stats : nullptr);
  if (!prepared.ok()) return R::failure(prepared.error);
  r.value.ranges_source = converter.ranges_source();

  // Bits: the SPEC, or the search's choice.
  nlohmann::ordered_json pareto_json;
  std::string pareto_svg_text;
  if (options.auto_bits) {
    const Result<AutoBitsResult> found =
        search(options, converter, model_bytes.value, config.value, &r.value);
    if (!found.ok()) return R::failure("--auto-bits: " + found.error);
    const AutoBitsResult& a = found.value;
    const Candidate& f = a.float_reference;
    char header[200];
    std::snprintf(header, sizeof header,
                  "float model: %zu B (model %zu + arena %zu), accuracy %.2f%% on %s (%s split)",
                  f.total_bytes(), f.model_bytes, f.arena_bytes, 100.0 * f.accuracy, options.val_path.c_str(),
                  options.val_split.c_str());
    r.value.auto_bits_lines.push_back(header);
    r.value.auto_bits_lines.push_back("validation: " + r.value.val_selection.description);
    r.value.auto_bits_lines.push_back("Pareto front of " + std::to_string(a.explored.size()) +
                                      " explored bit assignments:");
    for (size_t index : a.pareto)
      r.value.auto_bits_lines.push_back(pareto_line(a.explored[index], index == a.chosen));
    const Candidate& chosen = a.explored[a.chosen];
    char ratio[160];
    std::snprintf(ratio, sizeof ratio, "chosen: %.2fx smaller than the float model, accuracy %+.2f points",
                  static_cast<double>(f.total_bytes()) / static_cast<double>(chosen.total_bytes()),
                  100.0 * (chosen.accuracy - f.accuracy));
    r.value.auto_bits_lines.push_back(ratio);
    config.value = chosen.config;
    config.value.ranges = options.ranges;
    // Written once the chosen configuration passed the activation check (nothing is written under --strict).
    if (!options.pareto_json_path.empty()) pareto_json = nlohmann::ordered_json::parse(auto_bits_to_json(a));
    if (!options.pareto_svg_path.empty())
      pareto_svg_text = pareto_svg(a, "qgnn-convert --auto-bits: " + model.value.name);
  }

  // The final model.
  QuantizationReport notes;
  OverflowProof proof;
  const Result<ModelDesc> quantized = converter.quantize(config.value, &notes, &proof);
  if (!quantized.ok()) return R::failure(quantized.error);
  ModelDesc described = quantized.value;
  r.value.bits_spec = format_bit_spec(config.value, model.value);
  described.producer = "qgnn-convert";
  described.description += "; bits " + r.value.bits_spec + "; ranges " + r.value.ranges_source + "; limits " +
                           describe_limits(described.limits);
  const Result<std::vector<uint8_t>> out_bytes = serialize_model(described);
  if (!out_bytes.ok()) return R::failure("cannot write the quantized model: " + out_bytes.error);

  // The activation check, whenever calibration statistics exist (they hold everything it measures: no
  // float pass); the report, when asked for, carries the same measurement.
  std::unique_ptr<ConversionReport> report;
  std::vector<std::string> activation_warnings;
  if (have_calibration) {
    if (!options.report_path.empty()) {
      Result<ConversionReport> built = build_report(converter.calibration_model(), quantized.value, stats,
                                                    options.ranges, options.min_sqnr_db);
      if (!built.ok()) return R::failure("report: " + built.error);
      report = std::make_unique<ConversionReport>(std::move(built.value));
      activation_warnings = report->warnings;
    } else {
      Result<std::vector<ActivationReport>> measured = measure_activations(quantized.value, stats);
      if (!measured.ok()) return R::failure("activation check: " + measured.error);
      activation_warnings = check_activations(&measured.value, options.min_sqnr_db);
    }
  }
  r.value.warnings.insert(r.value.warnings.end(), activation_warnings.begin(), activation_warnings.end());
  if (have_calibration) {
    // No silent collapse: the calibration graphs carry labels, so the quantized model is scored against the
    // float one on them (the runtime, one graph at a time) before anything is written.
    const Result<std::string> collapse = collapse_check(model_bytes.value, out_bytes.value, calibration_set,
                                                        calibration_indices, activation_warnings);
    if (!collapse.ok()) return R::failure(collapse.error);
    if (!collapse.value.empty()) {
      if (!options.force) return R::failure(collapse.value + ". Nothing written; --force writes it anyway");
      r.value.warnings.push_back("--force: writing a collapsed model: " + collapse.value);
    }
  }
  if (options.strict && !activation_warnings.empty()) {
    std::string error = "--strict: the activation check warned, nothing written:";
    for (const std::string& w : activation_warnings) error += "\n  " + w;
    return R::failure(error);
  }
  if (!pareto_json.is_null()) {
    pareto_json["chosen_warnings"] = r.value.warnings;
    const Result<bool> w = write_file_atomic(options.pareto_json_path, to_bytes(pareto_json.dump(2) + "\n"));
    if (!w.ok()) return R::failure(w.error);
  }
  if (!pareto_svg_text.empty()) {
    const Result<bool> w = write_file_atomic(options.pareto_svg_path, to_bytes(pareto_svg_text));
    if (!w.ok()) return R::failure(w.error);
  }
  if (report) {
    nlohmann::ordered_json json = nlohmann::ordered_json::parse(report_to_json(*report));
    json["bits_spec"] = r.value.bits_spec;
    json["ranges_source"] = r.value.ranges_source;
    json["model_bytes"] = out_bytes.value.size();
    json["overflow"] = overflow_json(proof);
    json["calibration_selection"] =
        nlohmann::ordered_json::parse(split_selection_json(r.value.calibration_selection));
    if (options.auto_bits)
      json["val_selection"] = nlohmann::ordered_json::parse(split_selection_json(r.value.val_selection));
    json["warnings"] = r.value.warnings;
    const Result<bool> w = write_file_atomic(options.report_path, to_bytes(json.dump(2) + "\n"));
    if (!w.ok()) return R::failure(w.error);
  }
  const Result<bool> written = write_file_atomic(options.output_path, out_bytes.value);
  if (!written.ok()) return R::failure(written.error);
  r.value.bytes_written = out_bytes.value.size();
  for (const std::string& n : notes.notes) r.value.notes.push_back(n);
  return r;
}

}  // namespace cli
}  // namespace converter
}  // namespace qgnn
