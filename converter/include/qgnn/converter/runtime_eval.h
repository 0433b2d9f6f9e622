// Accuracy and memory of a .qgnn model measured on the real runtime (the C API of include/qgnn/qgnn.h), not
// on a simulation: what the automatic bit selection (auto_bits.h) optimises is what a device would get.
#ifndef QGNN_CONVERTER_RUNTIME_EVAL_H_
#define QGNN_CONVERTER_RUNTIME_EVAL_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "qgnn/converter/dataset.h"
#include "qgnn/converter/model_builder.h"

namespace qgnn {
namespace converter {

struct RuntimeEvaluation {
  size_t correct = 0;  ///< graphs (graph task) or nodes (node task) whose argmax equals the label
  size_t total = 0;    ///< graphs or nodes scored
  /// correct / total in [0, 1] (0 when nothing was scored).
  double accuracy() const { return total == 0 ? 0.0 : static_cast<double>(correct) / total; }
  /// qgnn_arena_size of the runtime's planner for what a device must hold at once: the largest single graph
  /// of the evaluated set (graph classification: max nodes and max edges over those graphs, one graph), or
  /// the whole graph (node classification).
  size_t arena_bytes = 0;
  size_t model_bytes = 0;      ///< size of the .qgnn file (what a device stores)
  size_t parameter_bytes = 0;  ///< of which parameter buffers (qgnn_model_info.parameter_bytes)
};

/// Runs `model_bytes` (float or quantized, float input features) with the runtime on the graphs (graph
/// classification) or nodes (node classification) `indices` of `set` (a checked set: load_graph_set or
/// check_graph_set; `indices` as split_indices gives them) and
/// scores the argmax against the set's labels.
///  * Graph classification batches many graphs per invoke (within the model's limits): the runtime's results
///    are bit-exact across batchings, so each graph's prediction is the one it gets when run alone; the
///    batching only saves setup and invoke overhead.
///  * Node classification runs the whole graph once (every node's neighbourhood is needed) and scores the
///    nodes `indices`.
/// Fails with a message on a model the runtime rejects, a model that takes int8 features, a task or feature
/// size that differs from the set's, an empty or out-of-range index list, or a graph larger than the model's
/// limits.
Result<RuntimeEvaluation> evaluate_on_runtime(const std::vector<uint8_t>& model_bytes,
                                              const GraphSetDesc& set, const std::vector<uint32_t>& indices);

}  // namespace converter
}  // namespace qgnn

#endif  // QGNN_CONVERTER_RUNTIME_EVAL_H_
