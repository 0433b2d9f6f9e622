// Greedy-by-size first-fit arena planner (see planner.h).
#include "planner.h"

#include "checked_math.h"

namespace qgnn {
namespace runtime {
namespace {

constexpr size_t kUnplaced = ~static_cast<size_t>(0);

bool LifetimesOverlap(const PlannedTensor& a, const PlannedTensor& b) {
  return a.first_op <= b.last_op && b.first_op <= a.last_op;
}

// True when `a` goes before `b` in placement order: larger first, then earlier first use, then lower id.
bool PlacedBefore(size_t size_a, const PlannedTensor& a, uint32_t id_a, size_t size_b, const PlannedTensor& b,
                  uint32_t id_b) {
  if (size_a != size_b) return size_a > size_b;
  if (a.first_op != b.first_op) return a.first_op < b.first_op;
  return id_a < id_b;
}

}  // namespace

int32_t PlanBuilder::Add(RowKind rows, uint32_t row_bytes) {
  const uint32_t id = count_++;
  if (storage_ != nullptr && id < capacity_) storage_[id] = PlannedTensor{rows, row_bytes, op_, op_};
  return static_cast<int32_t>(id);
}

int32_t PlanBuilder::AddGraphTensor(const void* key, RowKind rows, uint32_t row_bytes) {
  for (uint32_t i = 0; i < num_graph_; ++i) {
    if (graph_keys_[i] == key) return graph_ids_[i];
  }
  if (num_graph_ == kMaxGraphTensors) {
    overflowed_ = true;
    return kNoTensor;
  }
  const int32_t id = Add(rows, row_bytes);
  if (storage_ != nullptr && static_cast<uint32_t>(id) < capacity_) storage_[id].first_op = 0;
  graph_keys_[num_graph_] = key;
  graph_ids_[num_graph_++] = id;
  return id;
}

void PlanBuilder::Finish() {
  for (uint32_t i = 0; i < num_graph_; ++i) Use(graph_ids_[i]);
}

void PlanBuilder::Use(int32_t tensor) {
  // The model input's scratch lives as long as an op reads the input (streamed, or a float model's in place).
  if (tensor == kStreamedInput || tensor == kExternalTensor) tensor = streamed_scratch_;
  if (tensor < 0 || storage_ == nullptr || static_cast<uint32_t>(tensor) >= capacity_) return;
  PlannedTensor& t = storage_[tensor];
  if (op_ > t.last_op) t.last_op = op_;
}

bool PlannedTensorBytes(const PlannedTensor& tensor, const PlanRows& plan_rows, size_t* bytes) {
  const uint64_t rows = tensor.rows == RowKind::kGraphs  ? plan_rows.graphs
                        : tensor.rows == RowKind::kEdges ? plan_rows.edges
                        : tensor.rows == RowKind::kOne   ? 1
                                                         : plan_rows.nodes;
  const uint64_t limit = static_cast<uint64_t>(~static_cast<size_t>(0));
  uint64_t raw = 0, aligned = 0;
  if (!CheckedMul(rows, tensor.row_bytes, limit, &raw)) return false;
  if (!CheckedAlignUp(raw, limit, &aligned)) return false;
  *bytes = static_cast<size_t>(aligned);
  return true;
}

bool PlanArena(const PlannedTensor* tensors, uint32_t num_tensors, const PlanRows& rows, size_t* offsets,
               size_t* total) {
  const uint64_t limit = static_cast<uint64_t>(~static_cast<size_t>(0)) - kArenaAlignment;
  for (uint32_t i = 0; i < num_tensors; ++i) {
    size_t bytes = 0;
    if (!PlannedTensorBytes(tensors[i], rows, &bytes)) return false;
    offsets[i] = kUnplaced;
  }
  size_t used = 0;
  for (uint32_t placed = 0; placed < num_tensors; ++placed) {
    // Next tensor in placement order: the largest one not placed yet.
    uint32_t best = num_tensors;
    size_t best_bytes = 0;
    for (uint32_t i = 0; i < num_tensors; ++i) {
      if (offsets[i] != kUnplaced) continue;
      size_t bytes = 0;
      PlannedTensorBytes(tensors[i], rows, &bytes);
      if (best == num_tensors || PlacedBefore(bytes, tensors[i], i, best_bytes, tensors[best], best)) {
        best = i;
        best_bytes = bytes;
      }
    }
    // First fit: start at 0; while [offset, offset + size) hits a placed tensor alive at the same time, jump
    // past that tensor. Every feasible offset at or above the current one also lies past it, so this finds
    // the lowest feasible offset after at most one jump per placed tensor.
    uint64_t offset = 0;
    bool moved = true;
    while (moved) {
      moved = false;
      for (uint32_t j = 0; j < num_tensors; ++j) {
        if (offsets[j] == kUnplaced || j == best || !LifetimesOverlap(tensors[best], tensors[j])) continue;
        size_t other_bytes = 0;
        PlannedTensorBytes(tensors[j], rows, &other_bytes);
        if (other_bytes == 0 || best_bytes == 0) continue;
        const uint64_t other_begin = offsets[j];
        const uint64_t other_end = other_begin + other_bytes;
        // [offset, offset + best_bytes) intersects [other_begin, other_end), without overflowing.
        if (offset < other_end && (other_begin < offset || other_begin - offset < best_bytes)) {
          offset = other_end;
          moved = true;
        }
      }
    }
    uint64_t end = 0;
    if (!CheckedAdd(offset, best_bytes, limit, &end)) return false;
    offsets[best] = static_cast<size_t>(offset);
    if (end > used) used = static_cast<size_t>(end);
  }
  *total = used;
  return true;
}

}  // namespace runtime
}  // namespace qgnn
