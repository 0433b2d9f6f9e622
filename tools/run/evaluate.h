// qgnn-run's measurement: runs a model over one split of a data set with a single, once-allocated arena.
#ifndef QGNN_TOOLS_RUN_EVALUATE_H_
#define QGNN_TOOLS_RUN_EVALUATE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/input_form.h"
#include "common/latency.h"
#include "common/reorder.h"
#include "qgnn/converter/dataset.h"
#include "qgnn/converter/folds.h"
#include "qgnn/qgnn.h"
#include "qgnn/session.hpp"

namespace qgnn {
namespace tools {

struct RunOptions {
  std::string split = "all";
  int32_t fold = converter::kStoredSplit;  ///< --fold K: the split of fold K (converter::select_split)
  uint32_t threads = 1;
  uint32_t batch = 1;          ///< graphs per invoke (graph classification)
  uint32_t repeat = 1;         ///< passes over the split; latency covers all, accuracy and hash the first
  std::string isa;             ///< integer kernels' instruction set ("" = QGNN_ISA or the fastest available)
  std::string input = "auto";  ///< --input auto|dense|sparse (common/input_form.h)
  std::string reorder = "none";  ///< --reorder none|rcm|degree (common/reorder.h), once per batch at setup
};

struct RunResult {
  converter::Task task = converter::Task::kGraphClassification;
  converter::SplitSelection selection;  ///< the graphs (or scored nodes) that were run
  uint32_t graphs = 0;                  ///< graphs run per pass (node classification: 1)
  uint32_t nodes = 0;                   ///< nodes run per pass
  uint64_t evaluated = 0;               ///< labelled graphs (or split nodes) scored
  uint64_t correct = 0;
  /// How many scored rows were predicted each class (index = class; first pass): one class taking every row
  /// is a collapsed model, whatever its accuracy says.
  std::vector<uint64_t> predicted_per_class;
  bool has_labels = false;
  uint64_t invokes = 0;  ///< over all passes
  LatencySummary invoke_us;
  LatencySummary setup_us;
  qgnn_plan_limits plan{};
  size_t arena_bytes = 0;
  std::string isa;                      ///< the instruction set the kernels ran with
  InputForm input = InputForm::kDense;  ///< the form the features were handed in
  ReorderTiming reorder;                ///< time spent renumbering the batches (zero for --reorder none)
  std::string outputs_sha256;           ///< over the first pass's logits, in the original node order
  bool outputs_deterministic = true;    ///< every pass produced the same logits
};

/// Runs the loaded `model` over `set`, planning it for the largest batch. Returns false with `error` set when
/// the model and the data do not fit together or the runtime rejects something.
bool evaluate(session::Session* model, const converter::GraphSetDesc& set, const RunOptions& options,
              RunResult* result, std::string* error);

}  // namespace tools
}  // namespace qgnn

#endif  // QGNN_TOOLS_RUN_EVALUATE_H_
