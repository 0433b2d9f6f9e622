// The end-to-end benchmark workloads: random float models built with the converter library, their
// post-training quantized variants (calibrated on random graphs of the same kind), and input graphs.
// Everything is deterministic (fixed seeds, no std:: distributions).
#ifndef QGNN_BENCH_INVOKE_WORKLOADS_H_
#define QGNN_BENCH_INVOKE_WORKLOADS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "qgnn/converter/dataset.h"
#include "qgnn/converter/model_builder.h"

namespace qgnn {
namespace bench {

/// Model variants. Quantized ones keep the input features and the logits at 8 bits.
enum class Precision : int {
  kF32 = 0,   ///< the float model (FP32 kernels)
  kW8A8 = 1,  ///< int8 weights, int8 activations
  kW4A8 = 2,  ///< int4 weights, int8 activations
  kW4A4 = 3,  ///< int4 weights, int4 activations (hidden / aggregation)
};
constexpr int kNumPrecisions = 4;
const char* precision_name(Precision p);

/// The serialized .qgnn bytes of each variant of one model, built once per process.
struct ModelSet {
  std::vector<uint8_t> bytes[kNumPrecisions];
  std::string error;  ///< empty on success
};

/// The float model and its int8 / int4 variants (Precision), all calibrated once on `calibration` (dense
/// features); any failure ends up in ModelSet::error.
ModelSet build_variants(const converter::ModelDesc& float_model,
                        const std::vector<converter::GraphBatch>& calibration);

/// GCN on a Cora-sized graph: GCNConv(1433 -> 16) + ReLU -> GCNConv(16 -> 7), node classification.
/// Calibrated on two other random Cora-sized graphs.
const ModelSet& gcn_cora_models();

/// A random Cora-sized input: 2708 nodes, 10556 CSR edges (5278 undirected), bag-of-words features
/// (1433 binary features, 18 set per node, Cora's average).
converter::GraphBatch cora_sized_input(uint32_t seed);

/// GIN like the MUTAG demo model: 3 x GINConv(MLP in -> 32 -> 32, eps 0, ReLU) -> GlobalPool(sum) ->
/// Linear(32 -> 2), 7 input features; calibrated on 4 batches of 32 random molecules.
const ModelSet& gin_mutag_models();

/// `graphs` random molecules of 18 nodes and 20 undirected bonds each (MUTAG averages 17.9 / 19.8), batched
/// block-diagonally, one-hot atom types over 7 features.
converter::GraphBatch mutag_like_input(int32_t graphs, uint32_t seed);

}  // namespace bench
}  // namespace qgnn

#endif  // QGNN_BENCH_INVOKE_WORKLOADS_H_
