// SAGEConv, float path (see sage_conv.h).
#include "../sage_conv.h"
#include "float_ops.h"

namespace qgnn {
namespace runtime {

void EvalSageConvF32(const EvalContext& ctx, const Layer& layer) {
  const SageConvData& data = *static_cast<const SageConvData*>(layer.data);
  const float* in = static_cast<const float*>(ctx.Data(layer.t_in));
  float* agg = static_cast<float*>(ctx.Data(data.t_agg));
  RunAggregateF32(ctx, data.mode, in, layer.in_dim, 0.0f, agg);
  // The aggregation is dead once the neighbour product has read it: scratch for the root product.
  RunDenseF32(ctx, data.neighbor, agg, in, static_cast<float*>(ctx.Data(layer.t_out)), ctx.num_nodes, agg,
              static_cast<size_t>(ctx.num_nodes) * static_cast<size_t>(layer.in_dim));
}

}  // namespace runtime
}  // namespace qgnn
