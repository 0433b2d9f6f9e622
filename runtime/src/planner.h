// Static memory planning of the activation arena (docs/runtime.md, "Memory planner").
//
// Prepare describes every intermediate tensor symbolically (rows = nodes, edges or graphs, bytes per row)
// with its lifetime: the first and last op (kernel step) that touches it. Graph tensors (computed at setup
// from the graph alone, shared by every op that asks) live from the first op to the last. PlanArena turns
// that into byte offsets for concrete limits with a greedy-by-size first-fit, like tflite-micro's
// GreedyMemoryPlanner: tensors are placed largest first, each at the lowest 16-byte aligned offset that does
// not overlap a tensor already placed whose lifetime intersects its own. Tensors that are never alive at the
// same time share memory.
#ifndef QGNN_RUNTIME_PLANNER_H_
#define QGNN_RUNTIME_PLANNER_H_

#include <cstddef>
#include <cstdint>

namespace qgnn {
namespace runtime {

/// What one row of a tensor is: a node of the batch, (after pooling) a graph, or an edge (per-edge data such
/// as attention scores).
/// kOne: a single row, i.e. a fixed-size scratch (the streamed input's quantized row chunks).
enum class RowKind : uint8_t { kNodes = 0, kGraphs = 1, kEdges = 2, kOne = 3 };

/// The row counts a plan is made for (qgnn_plan_limits).
struct PlanRows {
  uint32_t nodes, edges, graphs;
};

/// Graph tensors (graph_stage.h) a model may plan: each is identified by the address of its definition.
constexpr uint32_t kMaxGraphTensors = 8;

/// Sentinel tensor ids.
constexpr int32_t kNoTensor = -1;
/// The caller's feature array (float models, and int8-input models with 8-bit input quantization).
constexpr int32_t kExternalTensor = -2;
/// The caller's features, quantized chunk by chunk inside the Dense ops that read them (docs/runtime.md,
/// "Streamed input"): no whole quantized copy exists. Use() of it extends the chunks' scratch tensor.
constexpr int32_t kStreamedInput = -3;

struct PlannedTensor {
  RowKind rows;
  uint32_t row_bytes;  ///< bytes of one row (<= 32768 * 4)
  uint32_t first_op;   ///< first op that writes it
  uint32_t last_op;    ///< last op that reads it (inclusive)
};

/// Collects tensors and lifetimes during Prepare. With `storage == nullptr` it only counts.
class PlanBuilder {
 public:
  PlanBuilder(PlannedTensor* storage, uint32_t capacity) : storage_(storage), capacity_(capacity) {}

  /// Starts the next op (kernel step).
  void NextOp() { ++op_; }
  /// A new tensor written by the current op.
  int32_t Add(RowKind rows, uint32_t row_bytes);
  /// The current op reads `tensor` (extends its lifetime); sentinel ids are ignored, but kStreamedInput and
  /// kExternalTensor extend the scratch set by SetStreamedInputScratch (if any).
  void Use(int32_t tensor);
  void SetStreamedInputScratch(int32_t scratch) { streamed_scratch_ = scratch; }
  /// The id of the graph tensor defined at `key` (a GraphTensorDef), declared (rows x row_bytes) on its first
  /// request; alive for the whole invoke once Finish() ran. kNoTensor (and overflowed() true) past
  /// kMaxGraphTensors distinct ones.
  int32_t AddGraphTensor(const void* key, RowKind rows, uint32_t row_bytes);
  /// Ends the plan: graph tensors live from the first op to the last.
  void Finish();
  uint32_t num_graph_tensors() const { return num_graph_; }
  const void* graph_tensor_key(uint32_t i) const { return graph_keys_[i]; }
  int32_t graph_tensor_id(uint32_t i) const { return graph_ids_[i]; }
  bool overflowed() const { return overflowed_; }

  uint32_t num_tensors() const { return count_; }
  uint32_t num_ops() const { return op_ + 1; }

 private:
  PlannedTensor* storage_;
  uint32_t capacity_;
  uint32_t count_ = 0;
  uint32_t op_ = 0;
  const void* graph_keys_[kMaxGraphTensors] = {};
  int32_t graph_ids_[kMaxGraphTensors] = {};
  uint32_t num_graph_ = 0;
  bool overflowed_ = false;
  int32_t streamed_scratch_ = kNoTensor;
};

/// Bytes of `tensor` for the given row counts, rounded up to 16; false when it overflows size_t.
bool PlannedTensorBytes(const PlannedTensor& tensor, const PlanRows& rows, size_t* bytes);

/// Greedy-by-size first-fit placement. Writes one offset per tensor into `offsets` (16-byte aligned) and the
/// arena bytes used (without alignment slack) into `total`. Returns false when a size or the total overflows
/// size_t. O(n^3) in the number of tensors (n <= kMaxPlanTensors), no memory beyond `offsets`.
bool PlanArena(const PlannedTensor* tensors, uint32_t num_tensors, const PlanRows& rows, size_t* offsets,
               size_t* total);

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_PLANNER_H_
