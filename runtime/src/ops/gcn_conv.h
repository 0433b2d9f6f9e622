// GCNConv: y_i = act(W · sum_{j in N(i) ∪ {i}} x_j / sqrt(d_i d_j) + b), aggregation before the update.
// Quantized: aggregate(kGcn) with the graph stage's Q15 factors onto Layer.aggregation -> dense onto
// Layer.output.
#ifndef QGNN_RUNTIME_OPS_GCN_CONV_H_
#define QGNN_RUNTIME_OPS_GCN_CONV_H_

#include "op.h"

namespace qgnn {
namespace runtime {

struct GcnConvData {
  DenseParams dense;
  QParams agg_q;        ///< Layer.aggregation (quantized)
  kernels::Rescale rq;  ///< aggregation_requant (quantized)
  int32_t t_norm;       ///< the graph stage's normalisation factors (quantized)
  int32_t t_agg;
};

void EvalGcnConvF32(const EvalContext& ctx, const Layer& layer);

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_OPS_GCN_CONV_H_
