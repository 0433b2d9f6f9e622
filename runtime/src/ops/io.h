// The model's edges, around the layers: the caller's features into the first activation, int4 logits out to
// int8.
#ifndef QGNN_RUNTIME_OPS_IO_H_
#define QGNN_RUNTIME_OPS_IO_H_

#include "op.h"

namespace qgnn {
namespace runtime {

/// Quantizes (float) or packs (int8) the caller's features into the model's input tensor, when it has one.
void EvalInput(const EvalContext& ctx, const qgnn_model& model, const float* features_f32,
               const int8_t* features_i8);
/// Unpacks int4 logits into the int8 logits tensor, when the model has one.
void EvalLogits(const EvalContext& ctx, const qgnn_model& model);

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_OPS_IO_H_
