// Linear: y = act(x W^T + b) on every row (nodes, or graphs after pooling).
#ifndef QGNN_RUNTIME_OPS_LINEAR_H_
#define QGNN_RUNTIME_OPS_LINEAR_H_

#include "op.h"

namespace qgnn {
namespace runtime {

struct LinearData {
  DenseParams dense;
};

void EvalLinearF32(const EvalContext& ctx, const Layer& layer);

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_OPS_LINEAR_H_
