// Verification of an untrusted .qgnn buffer (docs/format.md, "Verification"; docs/runtime.md):
//   VerifyEnvelope   alignment, size, identifier, FlatBuffers Verifier, version;
//   CountModel       structural caps, and the sizes of the per-model tables to allocate;
//   VerifyAndResolve every semantic check, resolving layers into the model handle (zero copy).
#ifndef QGNN_RUNTIME_MODEL_VERIFIER_H_
#define QGNN_RUNTIME_MODEL_VERIFIER_H_

#include <cstddef>
#include <cstdint>

#include "error_reporter.h"
#include "model.h"
#include "qgnn/qgnn.h"

namespace qgnn {
namespace fb {
struct Model;
}  // namespace fb

namespace runtime {

/// Checks the envelope and structure; on success *model is the verified root table.
qgnn_status VerifyEnvelope(const void* data, size_t size, ErrorReporter& reporter, const fb::Model** model);

struct ModelCounts {
  uint32_t layers = 0;
  uint32_t denses = 0;  ///< Dense slots (SAGE reserves two: neighbor and root)
  uint32_t hidden = 0;  ///< GIN hidden quantizations (mlp length - 1 per GIN layer)
};

/// Counts the tables qgnn_model_create allocates; QGNN_LIMIT_EXCEEDED beyond the structural caps.
qgnn_status CountModel(const fb::Model& model, ErrorReporter& reporter, ModelCounts* counts);

/// Runs every semantic check and fills `out` (whose layer / dense / hidden tables are allocated from
/// CountModel's counts).
qgnn_status VerifyAndResolve(const fb::Model& model, ErrorReporter& reporter, qgnn_model* out);

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_MODEL_VERIFIER_H_
