// Overflow proof for a quantized model: for every accumulator of every layer, the worst case over all inputs
// the model's quantization allows and all graphs within the declared limits, computed from the model's own
// weights, biases, zero points, bit widths and rescales (docs/quantization.md, "Accumulator widths").
//
// The runtime's caps (QGNN_MAX_* in qgnn/qgnn.h) make every bound hold for any valid model; the proof matters
// when a firmware author declares limits (qgnn-convert --max-degree ...), and it is what lets the converter
// state, per layer, the largest degree / graph size the model can take. A model is written only when the
// proof holds, and the declared limits are stored in it so the runtime rejects larger graphs.
#ifndef QGNN_CONVERTER_OVERFLOW_CHECK_H_
#define QGNN_CONVERTER_OVERFLOW_CHECK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "qgnn/converter/model_builder.h"

namespace qgnn {
namespace converter {

/// The worst case of one accumulator.
struct AccumulatorBound {
  size_t layer = 0;
  std::string layer_name;
  std::string accumulator;  ///< e.g. "dense conv1.mlp[0]", "sum aggregation", "mean rescale", "pool sum"
  std::string type;         ///< "int32" or "int64"
  double worst_case = 0;    ///< largest magnitude it can reach under the limits
  double limit = 0;         ///< what it must stay below (2^31 - 1 for int32, 2^62 for int64 products)
  /// The limit this bound depends on ("" for none, "max_degree", "max_nodes") and the largest value of it
  /// for which the bound still holds (0 when it does not depend on one).
  std::string depends_on;
  uint64_t max_safe = 0;
  bool holds() const { return worst_case < limit; }
};

struct OverflowProof {
  LimitsDesc effective;  ///< declared limits, 0 replaced by the runtime's caps
  std::vector<AccumulatorBound> bounds;
};

/// Proves that no accumulator of `quantized` can overflow for graphs within `declared` (0 = the runtime's
/// cap). Fails with a message naming the first layer and accumulator that can overflow and the largest
/// limit that would be safe, or when a declared limit exceeds the runtime's cap.
Result<OverflowProof> prove_no_overflow(const ModelDesc& quantized, const LimitsDesc& declared);

}  // namespace converter
}  // namespace qgnn

#endif  // QGNN_CONVERTER_OVERFLOW_CHECK_H_
