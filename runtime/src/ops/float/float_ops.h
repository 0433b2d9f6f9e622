// The float path of the layer ops (float models): each op's EvalF32 lives in ops/float/<op>_f32.cc and is
// registered through QGNN_FLOAT_EVAL, so an integer-only build (QGNN_FLOAT_MODELS=OFF, firmware) compiles
// none of these files and links no float kernel: the registrations then carry a null eval_f32 and
// qgnn_model_create refuses float models before anything could run them.
#ifndef QGNN_RUNTIME_OPS_FLOAT_FLOAT_OPS_H_
#define QGNN_RUNTIME_OPS_FLOAT_FLOAT_OPS_H_

#include <cstddef>
#include <cstdint>

#include "../op.h"

#if defined(QGNN_NO_FLOAT_MODELS)
#define QGNN_FLOAT_EVAL(fn) nullptr
#else
#define QGNN_FLOAT_EVAL(fn) &fn
#endif

namespace qgnn {
namespace runtime {

/// Float Dense over `rows` rows (activation dense.relu, extra term dense.extra on `extra_in`). With XNNPACK,
/// `scratch` (arena memory dead after this call, `scratch_floats` floats, e.g. the SAGE aggregation just
/// consumed) lets the extra product run on XNNPACK too; without it the extra term is added by a plain loop.
/// `in_slack`: bytes readable past the rows of `in` when it is the caller's features (the rows that follow),
/// which lets XNNPACK over-read there instead of leaving the last rows to the reference.
void RunDenseF32(const EvalContext& ctx, const DenseParams& dense, const float* in, const float* extra_in,
                 float* out, int32_t rows, float* scratch = nullptr, size_t scratch_floats = 0,
                 size_t in_slack = 0);
/// The float Dense of a layer reading the model input (`in`, the caller's features; `rows` of them): with
/// sparse features bound, sparse_dense_f32 over them; with dense features, blocks the density probe finds
/// mostly zeros (input_probe.h) go to sparse_dense_f32 over their gathered non-zeros, runs of the other
/// blocks to RunDenseF32. Models without float_input_sparse take RunDenseF32 as before.
void RunInputDenseF32(const EvalContext& ctx, const DenseParams& dense, const float* in, float* out,
                      int32_t rows);
/// Float aggregation over all nodes, in the chunks of ctx.partition.
void RunAggregateF32(const EvalContext& ctx, kernels::AggregateMode mode, const float* in, int32_t cols,
                     float self_weight, float* out);

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_OPS_FLOAT_FLOAT_OPS_H_
