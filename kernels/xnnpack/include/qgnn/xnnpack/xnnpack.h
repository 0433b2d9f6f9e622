// Optional XNNPACK backends (kernels/xnnpack): an FP32 fully connected operator for the float path, and INT8
// GEMMs (qs8 fully connected, qc8 per-channel 1x1 convolution) for benchmarks and comparisons. Host builds
// that found XNNPACK define QGNN_HAVE_XNNPACK for this library; without it every Create fails and available()
// is false, so callers keep their reference path.
//
// Operators are created (weights packed into XNNPACK-owned memory: heap) at creation time only; Run() calls
// xnn_setup_* and xnn_run_operator, which allocate nothing for these operator kinds (fully connected, and the
// 1x1 convolution that XNNPACK runs as a GEMM), so it may be used from an allocation-free invoke.
#ifndef QGNN_XNNPACK_XNNPACK_H_
#define QGNN_XNNPACK_XNNPACK_H_

#include <cstddef>
#include <cstdint>

// pthreadpool's handle type (pthreadpool_t is `struct pthreadpool*`), without its header.
struct pthreadpool;

namespace qgnn {
namespace xnnpack {

/// Bytes XNNPACK may read (never write) past the end of an input array (XNN_EXTRA_BYTES).
constexpr size_t kExtraInputBytes = 16;

/// True when this build has XNNPACK and xnn_initialize succeeded on this CPU (initialises it once).
bool available();

/// y = act(x W^T + b) in binary32 through xnn_create_fully_connected_nc_f32. W is [out][in] row-major (the
/// reference kernels' layout), `bias` may be null; `relu` fuses max(y, 0) into the operator's output clamp.
/// Sums are reassociated (SIMD lanes, FMA), so results agree with kernels::dense_f32 within the float path's
/// rounding bound (docs/quantization.md), not bit for bit.
class DenseF32 {
 public:
  DenseF32() = default;
  DenseF32(const DenseF32&) = delete;
  DenseF32& operator=(const DenseF32&) = delete;
  ~DenseF32() { Destroy(); }

  /// Creation time (allocates the packed weights). False when XNNPACK is unavailable or refuses the shape.
  bool Create(int32_t in_features, int32_t out_features, const float* weights, const float* bias, bool relu);
  void Destroy();
  bool created() const { return op_ != nullptr; }
  bool relu() const { return relu_; }
  int32_t in_features() const { return in_features_; }
  int32_t out_features() const { return out_features_; }

  /// Invoke time, allocation-free: out[rows][out] from in[rows][in]. `in` must stay readable for
  /// kExtraInputBytes past its last element. `pool` may be null (calling thread). False on an XNNPACK error
  /// (nothing written then, or a partial result the caller must recompute).
  bool Run(const float* in, float* out, size_t rows, pthreadpool* pool) const;

 private:
  void* op_ = nullptr;
  int32_t in_features_ = 0;
  int32_t out_features_ = 0;
  bool relu_ = false;
};

/// Quantization of an INT8 GEMM y = requant(x W^T + b): input and output int8 with zero points, weights
/// symmetric int8 [out][in] with one scale per output channel (qc8) or `weight_scales[0]` for all (qs8).
/// XNNPACK requantizes with the float scale in_scale * w_scale / out_scale (x86: round to nearest even;
/// arm64: fixed-point "rndnu"), not with qgnn's multiplier/shift, so it is never part of the bit-exact path.
struct GemmQ8Params {
  int32_t in_features = 0;
  int32_t out_features = 0;
  const int8_t* weights = nullptr;
  const float* weight_scales = nullptr;
  const int32_t* bias = nullptr;  ///< may be null
  int8_t in_zero_point = 0;
  float in_scale = 1.0f;
  int8_t out_zero_point = 0;
  float out_scale = 1.0f;
  bool relu = false;  ///< clamp the output at its zero point
};

/// INT8 GEMM over XNNPACK: kPerTensor = xnn_create_fully_connected_nc_qs8 (one weight scale),
/// kPerChannel = xnn_create_convolution2d_nhwc_qc8 with a 1x1 kernel (one scale per output channel).
class GemmQ8 {
 public:
  enum class Kind { kPerTensor, kPerChannel };

  GemmQ8() = default;
  GemmQ8(const GemmQ8&) = delete;
  GemmQ8& operator=(const GemmQ8&) = delete;
  ~GemmQ8() { Destroy(); }

  bool Create(Kind kind, const GemmQ8Params& params);
  void Destroy();
  bool created() const { return op_ != nullptr; }

  /// out[rows][out] from in[rows][in] (kExtraInputBytes readable past the end); allocation-free.
  bool Run(const int8_t* in, int8_t* out, size_t rows, pthreadpool* pool) const;

 private:
  void* op_ = nullptr;
  Kind kind_ = Kind::kPerTensor;
};

}  // namespace xnnpack
}  // namespace qgnn

#endif  // QGNN_XNNPACK_XNNPACK_H_
