// The runtime's hard caps (docs/format.md, "Limits"). They bound every accumulator of the integer kernels,
// so they are not configurable upwards; a model's own Limits may only lower them.
#ifndef QGNN_RUNTIME_LIMITS_H_
#define QGNN_RUNTIME_LIMITS_H_

#include <cstdint>

#include "qgnn/qgnn.h"

namespace qgnn {
namespace runtime {

/// Graph and feature caps: the public QGNN_MAX_* of include/qgnn/qgnn.h, which say why each is what it is.
constexpr uint32_t kMaxFeatures = QGNN_MAX_FEATURES;
constexpr uint32_t kMaxNodes = QGNN_MAX_NODES;
constexpr uint32_t kMaxEdges = QGNN_MAX_EDGES;
constexpr uint32_t kMaxDegree = QGNN_MAX_DEGREE;
constexpr uint32_t kMaxGraphs = QGNN_MAX_GRAPHS;

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
