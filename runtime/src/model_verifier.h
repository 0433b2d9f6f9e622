// Verification of an untrusted .qgnn buffer (docs/format.md, "Verification"; docs/runtime.md):
//   VerifyEnvelope   alignment, size, identifier, FlatBuffers Verifier, version;
//   CountModel       each layer's op in the resolver, structural caps, the sizes of the tables to allocate;
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
  uint32_t denses = 0;       ///< Dense ops of every layer (the ops' footprints)
  size_t op_data_bytes = 0;  ///< every op's data, each rounded up to 16 bytes
};

/// Finds every layer's op in `resolver` (a kind it does not list is QGNN_UNSUPPORTED_LAYER) and counts the
/// tables qgnn_model_create allocates from the ops' footprints; QGNN_LIMIT_EXCEEDED beyond the structural
/// caps.
qgnn_status CountModel(const fb::Model& model, const qgnn_op_resolver& resolver, ErrorReporter& reporter,
                       ModelCounts* counts);

/// Runs every semantic check and fills `out`, whose layer table, op data and Dense table are allocated from
/// CountModel's counts: the model-level checks here, each layer's own by its op's Init.
qgnn_status VerifyAndResolve(const fb::Model& model, const qgnn_op_resolver& resolver,
                             ErrorReporter& reporter, qgnn_model* out);

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_MODEL_VERIFIER_H_
