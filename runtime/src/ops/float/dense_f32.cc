// The float path's Dense and aggregation: the reference float kernels, or XNNPACK's f32 fully connected
// operators where the interpreter created them (fp32_backend.h), with the unfolded BatchNorm and the SAGE
// root term the operators cannot fuse. Compiled only into builds that run float models.
#include <cmath>

#include "float_ops.h"
#include "fp32_backend.h"

#if defined(QGNN_XNNPACK_BACKEND)
#include "qgnn/xnnpack/xnnpack.h"
#endif

namespace qgnn {
namespace runtime {
namespace {

// y = (acc - mean) / sqrt(var + eps) * gamma + beta, then the activation, on rows [begin, end) of `out`.
// Computed per element from the stored statistics: no per-channel tables, so nothing to allocate.
void BatchNormF32(const DenseParams& dense, bool relu, float* out, int32_t begin, int32_t end) {
  const int32_t cols = dense.out_features;
  for (int32_t r = begin; r < end; ++r) {
    float* row = out + static_cast<size_t>(r) * static_cast<size_t>(cols);
    for (int32_t c = 0; c < cols; ++c) {
      const float y =
          (row[c] - dense.bn_mean[c]) / std::sqrt(dense.bn_var[c] + dense.bn_eps) * dense.bn_gamma[c] +
          dense.bn_beta[c];
      row[c] = relu && y < 0.0f ? 0.0f : y;
    }
  }
}

#if defined(QGNN_XNNPACK_BACKEND)
// Whether XNNPACK may read `bytes` at `p` plus its over-read: only inside the caller's arena (the caller's
// feature array has no slack we know of, so a Dense reading it stays on the reference path).
bool XnnReadable(const EvalContext& ctx, const void* p, size_t bytes) {
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p);
  const uintptr_t lo = reinterpret_cast<uintptr_t>(ctx.arena),
                  hi = reinterpret_cast<uintptr_t>(ctx.arena_end);
  return ctx.arena_end != nullptr && begin >= lo && begin <= hi && hi - begin >= bytes &&
         hi - begin - bytes >= xnnpack::kExtraInputBytes;
}
#endif

// The float Dense on XNNPACK: the product (bias added, ReLU when the operator fuses it) on the interpreter's
// pthreadpool, then, row-parallel, what the operator cannot fuse: the SAGE root term (acc + acc', as the
// reference), the BatchNorm, the ReLU. False (the reference path then writes every output) when there is no
// operator, an input XNNPACK may not over-read, or an XNNPACK error.
bool RunDenseF32Xnnpack(const EvalContext& ctx, const DenseParams& dense, const float* in,
                        const float* extra_in, float* out, int32_t rows, float* scratch,
                        size_t scratch_floats, size_t in_slack) {
#if defined(QGNN_XNNPACK_BACKEND)
  const DenseParams* extra_dense = dense.extra;
  const bool relu = dense.relu;
  if (ctx.xnn_dense == nullptr || rows <= 0) return false;
  const xnnpack::DenseF32* op = ctx.xnn_dense->Find(dense);
  const bool batch_norm = dense.bn_mean != nullptr;
  if (op == nullptr || op->relu() != (relu && !batch_norm && extra_dense == nullptr)) return false;
  const size_t n = static_cast<size_t>(rows);
  const size_t cols = static_cast<size_t>(dense.out_features);
  const size_t row_bytes = static_cast<size_t>(dense.in_features) * sizeof(float);
  pthreadpool* pool = ctx.pool->handle();
  if (!XnnReadable(ctx, in, n * row_bytes)) {
    // The caller's features (the model input, outside the arena): XNNPACK gets every row but the last few,
    // whose bytes absorb its over-read, and the reference computes those; with a root term or a BatchNorm
    // (never a first layer of ours) the whole product stays on the reference.
    if (extra_dense != nullptr || batch_norm) return false;
    // Rows of the caller's features that follow these (in_slack bytes) absorb the over-read.
    if (in_slack >= xnnpack::kExtraInputBytes) return op->Run(in, out, n, pool);
    const size_t tail = (xnnpack::kExtraInputBytes + row_bytes - 1) / row_bytes;
    if (n <= tail) return false;
    if (!op->Run(in, out, n - tail, pool)) return false;
    kernels::dense_f32(in, dense.in_features, dense.weight_f, dense.bias_f, nullptr, relu, out,
                       dense.out_features, static_cast<int32_t>(n - tail), rows);
    return true;
  }
  if (!op->Run(in, out, n, pool)) return false;
  if (extra_dense == nullptr && !batch_norm) return true;
  // The root product goes to XNNPACK as well when dead arena memory can hold it (SAGE's aggregation,
  // consumed by the product above, whenever out_features <= in_features).
  const float* root = nullptr;
  if (extra_dense != nullptr) {
    const xnnpack::DenseF32* root_op = ctx.xnn_dense->Find(*extra_dense);
    const size_t root_in = static_cast<size_t>(extra_dense->in_features);
    if (root_op != nullptr && !root_op->relu() && scratch != nullptr && scratch_floats >= n * cols &&
        XnnReadable(ctx, extra_in, n * root_in * sizeof(float)) && root_op->Run(extra_in, scratch, n, pool)) {
      root = scratch;
    }
  }
  ParallelFor(*ctx.pool, rows, [&](int32_t begin, int32_t end) {
    if (extra_dense != nullptr) {
      const size_t root_in = static_cast<size_t>(extra_dense->in_features);
      for (size_t r = static_cast<size_t>(begin); r < static_cast<size_t>(end); ++r) {
        for (size_t c = 0; c < cols; ++c) {
          float acc;
          if (root != nullptr) {
            acc = root[r * cols + c];
          } else {  // the reference's extra accumulator: from its bias, products in index order
            acc = extra_dense->bias_f != nullptr ? extra_dense->bias_f[c] : 0.0f;
            const float* x = extra_in + r * root_in;
            const float* w = extra_dense->weight_f + c * root_in;
            for (size_t k = 0; k < root_in; ++k) acc += x[k] * w[k];
          }
          out[r * cols + c] += acc;
        }
      }
    }
    if (batch_norm) {
      BatchNormF32(dense, relu, out, begin, end);
    } else if (relu) {
      for (size_t i = static_cast<size_t>(begin) * cols; i < static_cast<size_t>(end) * cols; ++i) {
        if (out[i] < 0.0f) out[i] = 0.0f;
      }
    }
  });
  return true;
#else
  (void)ctx, (void)dense, (void)in, (void)extra_in, (void)out, (void)rows, (void)scratch,
      (void)scratch_floats, (void)in_slack;
  return false;
#endif
}
}  // namespace

void RunDenseF32(const EvalContext& ctx, const DenseParams& dense, const float* in, const float* extra_in,
                 float* out, int32_t rows, float* scratch, size_t scratch_floats, size_t in_slack) {
  if (RunDenseF32Xnnpack(ctx, dense, in, extra_in, out, rows, scratch, scratch_floats, in_slack)) return;
  const DenseParams* extra_dense = dense.extra;
  const bool relu = dense.relu;
  kernels::DenseExtraInputF32 extra{};
  const kernels::DenseExtraInputF32* extra_ptr = nullptr;
  if (extra_dense != nullptr) {
    extra = kernels::DenseExtraInputF32{extra_in, extra_dense->in_features, extra_dense->weight_f,
                                        extra_dense->bias_f};
    extra_ptr = &extra;
  }
  const bool batch_norm = dense.bn_mean != nullptr;
  ParallelFor(*ctx.pool, rows, [&](int32_t begin, int32_t end) {
    // With a BatchNorm the activation waits until after it.
    kernels::dense_f32(in, dense.in_features, dense.weight_f, dense.bias_f, extra_ptr, relu && !batch_norm,
                       out, dense.out_features, begin, end);
    if (batch_norm) BatchNormF32(dense, relu, out, begin, end);
  });
}

void RunAggregateF32(const EvalContext& ctx, kernels::AggregateMode mode, const float* in, int32_t cols,
                     float self_weight, float* out) {
  ParallelFor(*ctx.pool, *ctx.partition, [&](int32_t begin, int32_t end) {
    ctx.kernels->aggregate_f32(ctx.graph, mode, in, cols, self_weight, out, begin, end);
  });
}

}  // namespace runtime
}  // namespace qgnn
