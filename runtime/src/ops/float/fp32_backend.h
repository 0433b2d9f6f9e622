// The backend of the float path's dense updates, chosen once at qgnn_interpreter_create: the reference
// kernels (kernels::dense_f32, sums in index order) or XNNPACK's f32 fully connected operators (host builds
// with XNNPACK; one operator per float Dense of the model, created here, run by RunDenseF32 on the
// interpreter's pthreadpool). Integer kernels are never affected.
#ifndef QGNN_RUNTIME_OPS_FLOAT_FP32_BACKEND_H_
#define QGNN_RUNTIME_OPS_FLOAT_FP32_BACKEND_H_

#include <cstdint>

#include "error_reporter.h"
#include "model.h"
#include "qgnn/qgnn.h"

namespace qgnn {
namespace xnnpack {
class DenseF32;
}  // namespace xnnpack

namespace runtime {

enum class Fp32Backend : uint8_t { kReference, kXnnpack };

/// "reference" or "xnnpack".
const char* Fp32BackendName(Fp32Backend backend);

/// Outcome of SelectFp32Backend; `error` is a static message when !ok.
struct Fp32Choice {
  bool ok;
  Fp32Backend backend;
  const char* error;
};

/// Null or "": XNNPACK where this build has it and it initialises on this CPU, else the reference.
/// "reference" always works; "xnnpack" where XNNPACK is unavailable, or any other name, is an error (never a
/// silent fallback, like QGNN_ISA).
Fp32Choice SelectFp32Backend(const char* name);

/// The XNNPACK operators of one interpreter, one per float Dense of the model (indexed by DenseParams::id).
/// Created at interpreter creation (packs a copy of the weights: heap); Find() and the operators' Run()
/// allocate nothing.
class XnnDenseSet {
 public:
  XnnDenseSet() = default;
  XnnDenseSet(const XnnDenseSet&) = delete;
  XnnDenseSet& operator=(const XnnDenseSet&) = delete;
  ~XnnDenseSet();

  /// Creates the operators of a float model (a quantized model gets none). Each fuses ReLU exactly when its
  /// Dense ends in a plain ReLU on the product (DenseParams::relu with no BatchNorm and no extra term).
  qgnn_status Create(const qgnn_model& model, ErrorReporter& reporter);
  /// The operator of `dense` (a DenseParams of the model), or null.
  const xnnpack::DenseF32* Find(const DenseParams& dense) const;

 private:
  xnnpack::DenseF32* ops_ = nullptr;
  uint32_t count_ = 0;
};

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_OPS_FLOAT_FP32_BACKEND_H_
