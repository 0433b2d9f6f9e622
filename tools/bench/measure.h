// qgnn-bench's measurement: several models over the same batches of one data set, interleaved pass by pass,
// with end-to-end and per-stage (profiler callback) latency of every invoke.
#ifndef QGNN_TOOLS_BENCH_MEASURE_H_
#define QGNN_TOOLS_BENCH_MEASURE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/model_bytes.h"
#include "common/input_form.h"
#include "common/latency.h"
#include "common/reorder.h"
#include "qgnn/converter/dataset.h"
#include "qgnn/converter/folds.h"
#include "qgnn/qgnn.h"
#include "qgnn/session.hpp"

namespace qgnn {
namespace tools {

struct BenchOptions {
  std::string split = "all";
  int32_t fold = converter::kStoredSplit;  ///< --fold K: the split of fold K (converter::select_split)
  uint32_t threads = 1;
  bool spin_workers = false;   ///< qgnn_interpreter_options.spin_workers
  uint32_t batch = 1;          ///< graphs per invoke (graph classification)
  uint32_t warmup = 2;         ///< untimed passes over the split before measuring
  uint32_t repeat = 10;        ///< timed passes over the split
  std::string isa;             ///< "" = QGNN_ISA or the fastest available
  std::string input = "auto";  ///< --input auto|dense|sparse, per model (common/input_form.h)
  /// --reorder: the node orders to run every model with (none, rcm, degree; common/reorder.h); each model
  /// file is measured once per order, interleaved with the others.
  std::vector<std::string> reorder{"none"};
};

/// One model file, loaded (read and verified) by the caller, which owns the session; measure plans it.
struct BenchModel {
  std::string path;
  std::string reorder = "none";  ///< the node order its batches are renumbered with
  session::Session* session = nullptr;
  qgnn_model_info info{};
  ModelBytes bytes;
};

struct StageResult {
  std::string name;  ///< "input", a layer's name, "logits"
  std::string kind;  ///< "Input", "GCNConv", ..., "Logits"
  LatencySummary us;
};

struct ModelResult {
  std::string isa;
  InputForm input = InputForm::kDense;  ///< the form the features were handed in
  ReorderTiming reorder;                ///< renumbering all batches once, before the passes
  size_t arena_bytes = 0;
  LatencySummary invoke_us;         ///< one invoke (a batch of `batch` graphs, or the whole graph)
  double graph_us = 0;              ///< p50 invoke time / graphs per invoke
  double graphs_per_s = 0;          ///< graphs run / total invoke time
  std::vector<double> pass_us;      ///< total invoke time of each timed pass
  std::vector<StageResult> stages;  ///< input, every layer, logits
  double profiled_overhead_us = 0;  ///< p50 of (invoke time - sum of stages): callback and call cost
};

struct BenchResult {
  converter::SplitSelection selection;  ///< the graphs that were run
  uint32_t graphs_per_pass = 0;
  uint32_t nodes_per_pass = 0;
  uint32_t invokes_per_pass = 0;
  qgnn_plan_limits plan{};
  std::vector<ModelResult> models;  ///< in the order given
};

/// Runs every model over the same batches of `set`'s split. Passes are interleaved (pass p runs every model,
/// starting with model p mod M) so that slow phases of a shared machine hit all models alike. Returns false
/// with `error` set when a model does not fit the data or the runtime rejects something.
bool measure(const std::vector<BenchModel>& models, const converter::GraphSetDesc& set,
             const BenchOptions& options, BenchResult* result, std::string* error);

}  // namespace tools
}  // namespace qgnn

#endif  // QGNN_TOOLS_BENCH_MEASURE_H_
