// GINConv: y_i = act(MLP((1 + eps) x_i + sum_{j in N(i)} x_j)).
// Quantized: aggregate(kSum, self_weight_q16) onto Layer.aggregation -> the Dense ops of the MLP, the hidden
// ones onto GINConvOptions.hidden[k] with their own fused activation, the last onto Layer.output.
#ifndef QGNN_RUNTIME_OPS_GIN_CONV_H_
#define QGNN_RUNTIME_OPS_GIN_CONV_H_

#include "op.h"

namespace qgnn {
namespace runtime {

/// Followed in the op's data by `num_dense` DenseParams (`mlp`) and num_dense - 1 QParams (`hidden`).
struct GinConvData {
  DenseParams* mlp;
  QParams* hidden;  ///< quantization of the hidden Dense outputs (quantized)
  uint32_t num_dense;
  QParams agg_q;            ///< Layer.aggregation (quantized)
  kernels::Rescale rq;      ///< aggregation_requant (quantized)
  int32_t self_weight_q16;  ///< quantized (1 + eps)
  float self_weight;        ///< float (1 + eps)
  int32_t t_agg;
  int32_t t_hidden;  ///< first of num_dense - 1 consecutive ids
};

void EvalGinConvF32(const EvalContext& ctx, const Layer& layer);

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_OPS_GIN_CONV_H_
