// GATConv: H heads of F features (GATConvOptions). Three steps, each one kernel over the whole graph:
//   messages  m = x W^T (the Dense, no bias) onto `message`            [nodes][H F]
//   terms     src[j][h] = a_src[h] · m_j[h], dst[j][h] = a_dst[h] · m_j[h]   [nodes][2 H] (src block, then
//   dst) aggregate per destination row and head: LeakyReLU(0.2) logits, softmax over N(i) ∪ {i}, the
//   alpha-weighted
//             message sum, concatenated or averaged over heads, plus bias, Layer.activation
// (docs/quantization.md, "GAT attention (kernels)" and "GATConv"; the float path runs the same formulas in
// float with exp).
#ifndef QGNN_RUNTIME_OPS_GAT_CONV_H_
#define QGNN_RUNTIME_OPS_GAT_CONV_H_

#include "op.h"

namespace qgnn {
namespace runtime {

struct GatConvData {
  DenseParams dense;  ///< W of every head, no bias, no activation (both follow the aggregation)
  int32_t heads;
  int32_t head_dim;
  bool concat;
  // Quantized models.
  QParams message_q;
  QParams logit_q;
  kernels::Rescale logit_pos;  ///< logit_requant
  kernels::Rescale logit_neg;  ///< logit_negative_requant
  const uint16_t* exp_table;
  const int8_t* att_src_q;
  const int8_t* att_dst_q;
  const int32_t* bias_q;
  kernels::ChannelRescale out_rq;
  // Float models.
  const float* att_src_f;
  const float* att_dst_f;
  const float* bias_f;
  int32_t t_message;  ///< the messages
  int32_t t_terms;    ///< src terms of every node, then dst terms (int32, float in float models)
};

void EvalGatConvF32(const EvalContext& ctx, const Layer& layer);

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_OPS_GAT_CONV_H_
