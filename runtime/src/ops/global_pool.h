// GlobalPool: one row per graph (sum | mean | max over the graph's nodes), rescaled onto Layer.output.
#ifndef QGNN_RUNTIME_OPS_GLOBAL_POOL_H_
#define QGNN_RUNTIME_OPS_GLOBAL_POOL_H_

#include "op.h"

namespace qgnn {
namespace runtime {

struct GlobalPoolData {
  kernels::AggregateMode mode;
  kernels::Rescale rq;  ///< requant (quantized)
};

void EvalGlobalPoolF32(const EvalContext& ctx, const Layer& layer);

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_OPS_GLOBAL_POOL_H_
