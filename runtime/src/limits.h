// The runtime's hard caps (docs/format.md, "Limits"). They bound every accumulator of the integer kernels,
// so they are not configurable upwards; a model's own Limits may only lower them.
#ifndef QGNN_RUNTIME_LIMITS_H_
#define QGNN_RUNTIME_LIMITS_H_

#include <cstdint>

namespace qgnn {
namespace runtime {

/// Features per node of any layer: 255 * 128 * 32768 + 2^30 < 2^31 (int32 dense accumulator).
constexpr uint32_t kMaxFeatures = 32768;
/// Nodes per batch: 255 * 2^22 < 2^31 (int32 pooling accumulator).
constexpr uint32_t kMaxNodes = uint32_t{1} << 22;
/// Edges per batch: int32 CSR offsets with headroom.
constexpr uint32_t kMaxEdges = uint32_t{1} << 28;
/// In-degree: int32 aggregation accumulator; mean rescale shift + 22 <= 62.
constexpr uint32_t kMaxDegree = uint32_t{1} << 22;
/// Graphs per batch.
constexpr uint32_t kMaxGraphs = uint32_t{1} << 22;

/// Structural caps that bound the create-time allocations and the planner's stack scratch.
constexpr uint32_t kMaxLayers = 64;
constexpr uint32_t kMaxDenseOps = 256;
/// Activation tensors the planner places; qgnn_arena_size keeps one offset per tensor on the stack.
constexpr uint32_t kMaxPlanTensors = 128;

/// Fixed-point rescale ranges (schema Requant). A Dense rescales an int32 accumulator (|acc * m| < 2^62 for
/// any shift up to 62, the largest rescale accepts); aggregation and pooling stop at 40 because MEAN adds up
/// to 22 (log2 of the in-degree / node cap) to the shift.
constexpr int64_t kMultiplierMin = int64_t{1} << 30;
constexpr int64_t kMultiplierMax = (int64_t{1} << 31) - 1;
constexpr int32_t kShiftMin = 1;
constexpr int32_t kDenseShiftMax = 62;
constexpr int32_t kAggregationShiftMax = 40;
/// |quantized bias| < 2^30.
constexpr int64_t kMaxAbsBias = int64_t{1} << 30;
/// GIN self_weight_q16 in [0, 2^23).
constexpr int64_t kSelfWeightLimit = int64_t{1} << 23;

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_LIMITS_H_
