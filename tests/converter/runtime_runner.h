// Runs .qgnn bytes on a GraphBatch through the runtime's C API (include/qgnn/qgnn.h).
#ifndef QGNN_TESTS_CONVERTER_RUNTIME_RUNNER_H_
#define QGNN_TESTS_CONVERTER_RUNTIME_RUNNER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "qgnn/converter/dataset.h"

namespace qgnn {
namespace converter {
namespace testing {

struct RuntimeOutput {
  uint32_t rows = 0;
  uint32_t cols = 0;
  std::vector<float> values;    ///< dequantized (or float) logits, rows x cols
  std::vector<int32_t> argmax;  ///< one per row
};

/// Loads the model, plans an arena for this batch and runs it (qgnn::session).
/// Returns an empty string or the failing step with the runtime's status name and message.
std::string run_on_runtime(const std::vector<uint8_t>& model_bytes, const GraphBatch& batch,
                           RuntimeOutput* out);

}  // namespace testing
}  // namespace converter
}  // namespace qgnn

#endif  // QGNN_TESTS_CONVERTER_RUNTIME_RUNNER_H_
