// SAGEConv: y_i = act(W_n · reduce_{j in N(i)} x_j + b + W_r · x_i), reduce = MEAN | MAX.
// Quantized: aggregate(kMean|kMax) onto Layer.aggregation -> the neighbour Dense with the root Dense as its
// extra term on the layer input (rescaled separately, then added).
#ifndef QGNN_RUNTIME_OPS_SAGE_CONV_H_
#define QGNN_RUNTIME_OPS_SAGE_CONV_H_

#include "op.h"

namespace qgnn {
namespace runtime {

struct SageConvData {
  DenseParams neighbor;  ///< extra = &root when the layer has a root term
  DenseParams root;
  kernels::AggregateMode mode;
  QParams agg_q;        ///< Layer.aggregation (quantized)
  kernels::Rescale rq;  ///< aggregation_requant (quantized)
  int32_t t_agg;
};

void EvalSageConvF32(const EvalContext& ctx, const Layer& layer);

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_OPS_SAGE_CONV_H_
