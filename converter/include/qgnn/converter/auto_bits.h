// Automatic bit selection (SGQuant's ABS, measured for real): searches per-layer, per-component bit widths
// (8 or 4) of a quantized model, scoring every point with the real runtime (accuracy on a validation split)
// and the real planner (model file + arena bytes).
//
// The search space: the input features, and per layer its weights (layers with a Dense), its aggregation
// result (message-passing layers) and its output (every layer but the last, whose logits stay 8 bits). With
// C such components there are 2^C points (2^(3L+1) for L message-passing layers): far too many to measure
// each on the runtime, hence a greedy descent (at most C(C+1)/2 evaluations) plus a few fixed points:
//  * structured points first: all 8, all 4, weights 4 (activations 8), activations 4 (weights 8), so the
//    explored front spans the space even where the descent stops early;
//  * max-drop mode (no budget): from all 8, try lowering each component still at 8 to 4, one at a time; take
//    the move with the most bytes saved per accuracy point lost (a move that loses nothing ranks first; ties:
//    more bytes saved) among those that keep accuracy >= float accuracy - max_drop; when no such move saves
//    bytes, take the most accurate one that keeps the bytes (the arena, a peak over the tensors live at once,
//    shrinks only once all of them are narrow); stop when no move keeps the constraint without adding bytes.
//    The choice is the smallest explored point within the drop (ties: the more accurate).
//  * budget mode (budget_bytes > 0): the same descent, without the accuracy constraint, until the current
//    point fits the budget; then, from the most accurate point found within the budget, hill climbing (lower
//    or raise one component) while accuracy strictly improves. The choice is the most accurate explored point
//    within the budget (ties: the smaller); max_drop is then only reported (within_drop).
// Every evaluated point is kept in `explored` (a configuration is evaluated once), and the Pareto front
// (points no other point matches or beats in both bytes and accuracy) is computed over all of them.
#ifndef QGNN_CONVERTER_AUTO_BITS_H_
#define QGNN_CONVERTER_AUTO_BITS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "qgnn/converter/model_builder.h"
#include "qgnn/converter/quantizer.h"
#include "qgnn/converter/runtime_eval.h"

namespace qgnn {
namespace converter {

/// One searchable component: the input (layer -1) or a layer's weights, aggregation (a GATConv's messages),
/// attention logits (GATConv) or output.
struct BitComponent {
  enum class Kind { kInput, kWeights, kAggregation, kOutput, kAttention };
  Kind kind = Kind::kInput;
  int layer = -1;
};

/// The components of a float model the search may set to 4 bits, in order: input, then per layer weights,
/// aggregation (or messages), attention logits, output.
std::vector<BitComponent> searchable_components(const ModelDesc& float_model);

/// A point of the space as quantize_model takes it: `base` (range method, int8 logits...) with input_bits
/// and layer_bits of every layer set from `bits` (8 or 4, one per component of `components`).
QuantizerConfig config_for_bits(const ModelDesc& float_model, const std::vector<BitComponent>& components,
                                const std::vector<int>& bits, const QuantizerConfig& base);

/// Compact human label of a configuration, e.g. "in8 conv1:w4a8o8 pool:o8 lin:w8" (w: weights, a:
/// aggregation or GATConv messages, e: GATConv attention logits, o: output; components a layer does not
/// have are left out), "gat1:w8a8e4o8".
std::string bits_label(const ModelDesc& float_model, const QuantizerConfig& config);

struct Candidate {
  QuantizerConfig config;
  std::string label;
  double accuracy = 0.0;  ///< in [0, 1] on the evaluated split
  size_t correct = 0, total = 0;
  size_t model_bytes = 0;      ///< .qgnn file
  size_t parameter_bytes = 0;  ///< of which parameter buffers (weights, biases, scales, requant)
  size_t arena_bytes = 0;      ///< planner arena (RuntimeEvaluation::arena_bytes)
  size_t total_bytes() const { return model_bytes + arena_bytes; }
  bool within_drop = false;    ///< accuracy >= float accuracy - max_drop
  bool within_budget = false;  ///< total_bytes <= budget (true when there is no budget)
};

struct AutoBitsOptions {
  double max_drop_points = 0.5;  ///< accuracy points (percent) below the float model's
  size_t budget_bytes = 0;       ///< 0: no budget (max-drop mode)
  /// Everything but the bits of each point (range method, int8_logits) comes from here.
  QuantizerConfig base;
};

struct AutoBitsResult {
  Candidate float_reference;        ///< the float model, run by the runtime
  std::vector<Candidate> explored;  ///< in evaluation order
  std::vector<size_t> pareto;       ///< indices into explored, by increasing total bytes
  size_t chosen = 0;                ///< index into explored
  bool budget_mode = false;
  double max_drop_points = 0.0;
  size_t budget_bytes = 0;
};

/// Quantizes the float model with a configuration and serializes it (the caller calibrates once).
using BuildModel = std::function<Result<std::vector<uint8_t>>(const QuantizerConfig&)>;
/// Runs model bytes on the validation data (typically evaluate_on_runtime on a split).
using Evaluate = std::function<Result<RuntimeEvaluation>(const std::vector<uint8_t>&)>;
/// Called after every evaluation (the float reference included): `done` evaluations so far of an estimated
/// `total_estimate` (an upper bound that shrinks as the greedy descent goes: it assumes the descent continues
/// until every component is at 4 bits), the point just measured, and the current choice (nullptr while no
/// point meets the constraint).
using Progress =
    std::function<void(size_t done, size_t total_estimate, const Candidate& last, const Candidate* best)>;

/// Runs the search. Fails when building or evaluating a point fails (the error names the point), or when no
/// explored point meets the constraint: "impossible budget: the smallest model found needs N bytes ..." or
/// "no bit assignment keeps the accuracy within ...: the most accurate found is ...".
Result<AutoBitsResult> search_bits(const ModelDesc& float_model,
                                   const std::vector<uint8_t>& float_model_bytes, const BuildModel& build,
                                   const Evaluate& evaluate, const AutoBitsOptions& options,
                                   const Progress& progress = nullptr);

/// The result as JSON with a stable key order: mode, max_drop_points, budget_bytes, float_reference, chosen,
/// pareto, explored (each point: label, accuracy, correct, total, model_bytes, parameter_bytes, arena_bytes,
/// total_bytes,
/// within_drop, within_budget, pareto, bits {input, layers [{layer, weights, aggregation, output}]}).
std::string auto_bits_to_json(const AutoBitsResult& result);

}  // namespace converter
}  // namespace qgnn

#endif  // QGNN_CONVERTER_AUTO_BITS_H_
