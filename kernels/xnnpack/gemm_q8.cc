// GemmQ8: XNNPACK's INT8 GEMMs, qs8 fully connected and qc8 1x1 convolution (see xnnpack.h).
#include "qgnn/xnnpack/xnnpack.h"

#if defined(QGNN_HAVE_XNNPACK)
#include <xnnpack.h>
#endif

namespace qgnn {
namespace xnnpack {

#if defined(QGNN_HAVE_XNNPACK)

bool GemmQ8::Create(Kind kind, const GemmQ8Params& p) {
  Destroy();
  if (!available() || p.in_features <= 0 || p.out_features <= 0 || p.weights == nullptr ||
      p.weight_scales == nullptr) {
    return false;
  }
  const size_t in = static_cast<size_t>(p.in_features), out = static_cast<size_t>(p.out_features);
  const int8_t lo = p.relu ? p.out_zero_point : static_cast<int8_t>(-128);
  xnn_operator_t op = nullptr;
  xnn_status st;
  if (kind == Kind::kPerTensor) {
    st = xnn_create_fully_connected_nc_qs8(in, out, in, out, p.in_zero_point, p.in_scale, p.weight_scales[0],
                                           p.weights, p.bias, p.out_zero_point, p.out_scale, lo, 127,
                                           /*flags=*/0, &op);
  } else {
    // A 1x1 convolution over a 1 x rows "image" is a GEMM with per-output-channel weight scales; with no
    // padding and stride 1 XNNPACK runs it on its GEMM microkernels (no indirection buffer, so setup does not
    // allocate). Weights [out][1][1][in] are our [out][in].
    st = xnn_create_convolution2d_nhwc_qc8(0, 0, 0, 0, 1, 1, 1, 1, 1, 1, /*groups=*/1, in, out, in, out,
                                           p.in_zero_point, p.in_scale, p.weight_scales, p.weights, p.bias,
                                           p.out_zero_point, p.out_scale, lo, 127, /*flags=*/0, &op);
  }
  if (st != xnn_status_success) return false;
  op_ = op;
  kind_ = kind;
  return true;
}

void GemmQ8::Destroy() {
  if (op_ != nullptr) xnn_delete_operator(static_cast<xnn_operator_t>(op_));
  op_ = nullptr;
}

bool GemmQ8::Run(const int8_t* in, int8_t* out, size_t rows, pthreadpool* pool) const {
  if (op_ == nullptr) return false;
  if (rows == 0) return true;
  xnn_operator_t op = static_cast<xnn_operator_t>(op_);
  const xnn_status st = kind_ == Kind::kPerTensor
                            ? xnn_setup_fully_connected_nc_qs8(op, rows, in, out, pool)
                            : xnn_setup_convolution2d_nhwc_qc8(op, 1, 1, rows, in, out, pool);
  return st == xnn_status_success && xnn_run_operator(op, pool) == xnn_status_success;
}

#else  // no XNNPACK in this build

bool GemmQ8::Create(Kind, const GemmQ8Params&) { return false; }
void GemmQ8::Destroy() { op_ = nullptr; }
bool GemmQ8::Run(const int8_t*, int8_t*, size_t, pthreadpool*) const { return false; }

#endif

}  // namespace xnnpack
}  // namespace qgnn
