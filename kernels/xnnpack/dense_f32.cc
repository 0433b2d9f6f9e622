// DenseF32: XNNPACK's f32 fully connected operator (see xnnpack.h).
#include <limits>

#include "qgnn/xnnpack/xnnpack.h"

#if defined(QGNN_HAVE_XNNPACK)
#include <xnnpack.h>
#endif

namespace qgnn {
namespace xnnpack {

#if defined(QGNN_HAVE_XNNPACK)

bool DenseF32::Create(int32_t in_features, int32_t out_features, const float* weights, const float* bias,
                      bool relu) {
  Destroy();
  if (!available() || in_features <= 0 || out_features <= 0 || weights == nullptr) return false;
  const float lo = relu ? 0.0f : -std::numeric_limits<float>::infinity();
  const float hi = std::numeric_limits<float>::infinity();
  xnn_operator_t op = nullptr;
  // Default flags: the kernel is [output_channels][input_channels], as ours; the operator copies (packs) it.
  if (xnn_create_fully_connected_nc_f32(static_cast<size_t>(in_features), static_cast<size_t>(out_features),
                                        static_cast<size_t>(in_features), static_cast<size_t>(out_features),
                                        weights, bias, lo, hi, /*flags=*/0, &op) != xnn_status_success) {
    return false;
  }
  op_ = op;
  in_features_ = in_features;
  out_features_ = out_features;
  relu_ = relu;
  return true;
}

void DenseF32::Destroy() {
  if (op_ != nullptr) xnn_delete_operator(static_cast<xnn_operator_t>(op_));
  op_ = nullptr;
}

bool DenseF32::Run(const float* in, float* out, size_t rows, pthreadpool* pool) const {
  if (op_ == nullptr) return false;
  if (rows == 0) return true;
  xnn_operator_t op = static_cast<xnn_operator_t>(op_);
  return xnn_setup_fully_connected_nc_f32(op, rows, in, out, pool) == xnn_status_success &&
         xnn_run_operator(op, pool) == xnn_status_success;
}

#else  // no XNNPACK in this build

bool DenseF32::Create(int32_t, int32_t, const float*, const float*, bool) { return false; }
void DenseF32::Destroy() { op_ = nullptr; }
bool DenseF32::Run(const float*, float*, size_t, pthreadpool*) const { return false; }

#endif

}  // namespace xnnpack
}  // namespace qgnn
