// GCNConv: y_i = act(W · sum_{j in N(i) ∪ {i}} x_j / sqrt(d_i d_j) + b), in either order
// (GCNConvOptions.order):
//   aggregate-first:  aggregate(kGcn) with the graph stage's Q15 factors onto Layer.aggregation -> dense onto
//                     Layer.output;
//   transform-first:  dense without bias onto `message` -> aggregate(kGcn) of the messages with the bias and
//                     the activation onto Layer.output (docs/quantization.md, "Transform-first GCNConv").
#ifndef QGNN_RUNTIME_OPS_GCN_CONV_H_
#define QGNN_RUNTIME_OPS_GCN_CONV_H_

#include "op.h"

namespace qgnn {
namespace runtime {

struct GcnConvData {
  DenseParams dense;  ///< transform-first: without its bias and activation (both move to the aggregation)
  bool transform_first;
  QParams agg_q;        ///< aggregate-first: Layer.aggregation (quantized)
  QParams message_q;    ///< transform-first: GCNConvOptions.message (quantized)
  kernels::Rescale rq;  ///< aggregation_requant (quantized)
  /// Transform-first: the Dense's bias, added after the aggregation (quantized: INT32 at the message scale).
  const int32_t* bias_q;
  const float* bias_f;
  int32_t t_norm;  ///< the graph stage's normalisation factors (quantized)
  int32_t t_agg;   ///< aggregate-first: the aggregation; transform-first: the messages
};

void EvalGcnConvF32(const EvalContext& ctx, const Layer& layer);

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_OPS_GCN_CONV_H_
