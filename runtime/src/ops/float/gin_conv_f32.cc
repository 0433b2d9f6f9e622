// GINConv, float path (see gin_conv.h).
#include "../gin_conv.h"
#include "float_ops.h"

namespace qgnn {
namespace runtime {

void EvalGinConvF32(const EvalContext& ctx, const Layer& layer) {
  const GinConvData& data = *static_cast<const GinConvData*>(layer.data);
  float* agg = static_cast<float*>(ctx.Data(data.t_agg));
  RunAggregateF32(ctx, kernels::AggregateMode::kSum, static_cast<const float*>(ctx.Data(layer.t_in)),
                  layer.in_dim, data.self_weight, agg);
  const float* in = agg;
  for (uint32_t k = 0; k < data.num_dense; ++k) {
    const bool last = k + 1 == data.num_dense;
    float* out = static_cast<float*>(ctx.Data(last ? layer.t_out : data.t_hidden + static_cast<int32_t>(k)));
    RunDenseF32(ctx, data.mlp[k], in, nullptr, out, ctx.num_nodes);
    in = out;
  }
}

}  // namespace runtime
}  // namespace qgnn
