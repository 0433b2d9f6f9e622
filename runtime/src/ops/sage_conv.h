// SAGEConv: y_i = act(W_n · reduce_{j in N(i)} x_j + b + W_r · x_i), reduce = MEAN | MAX, in either order
// (SAGEConvOptions.order):
//   aggregate-first:  aggregate(kMean|kMax) onto Layer.aggregation -> the neighbour Dense with the root Dense
//                     as its extra term on the layer input (rescaled separately, then added);
//   transform-first:  (MEAN only) the neighbour Dense without bias onto `message` -> aggregate(kMean) of the
//                     messages onto Layer.aggregation -> the same output step with the identity in place of
//                     W_n, the neighbour bias and `output_requant` (docs/quantization.md, "Transform-first
//                     SAGEConv").
#ifndef QGNN_RUNTIME_OPS_SAGE_CONV_H_
#define QGNN_RUNTIME_OPS_SAGE_CONV_H_

#include "op.h"

namespace qgnn {
namespace runtime {

struct SageConvData {
  /// Aggregate-first: extra = &root when the layer has a root term. Transform-first: onto the messages,
  /// without its bias and activation (both move to `output`).
  DenseParams neighbor;
  DenseParams root;
  /// Transform-first, quantized: the output step, its weights the identity (materialised in the op's data
  /// after this struct, never stored in the file), its bias the neighbour's, its requant output_requant per
  /// channel, extra = &root when the layer has one.
  DenseParams output;
  bool transform_first;
  kernels::AggregateMode mode;
  QParams agg_q;        ///< Layer.aggregation (quantized)
  QParams message_q;    ///< transform-first: SAGEConvOptions.message (quantized)
  kernels::Rescale rq;  ///< aggregation_requant (quantized)
  const float* bias_f;  ///< transform-first float: the neighbour bias, added after the aggregation
  int32_t t_message;    ///< transform-first: the messages
  int32_t t_agg;
};

void EvalSageConvF32(const EvalContext& ctx, const Layer& layer);

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_OPS_SAGE_CONV_H_
