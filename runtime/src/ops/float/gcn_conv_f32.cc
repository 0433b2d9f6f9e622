// GCNConv, float path (see gcn_conv.h): aggregation with 1/sqrtf(d) factors, then the Dense.
#include "../gcn_conv.h"
#include "float_ops.h"

namespace qgnn {
namespace runtime {

void EvalGcnConvF32(const EvalContext& ctx, const Layer& layer) {
  const GcnConvData& data = *static_cast<const GcnConvData*>(layer.data);
  float* agg = static_cast<float*>(ctx.Data(data.t_agg));
  RunAggregateF32(ctx, kernels::AggregateMode::kGcn, static_cast<const float*>(ctx.Data(layer.t_in)),
                  layer.in_dim, 0.0f, agg);
  RunDenseF32(ctx, data.dense, agg, nullptr, static_cast<float*>(ctx.Data(layer.t_out)), ctx.num_nodes);
}

}  // namespace runtime
}  // namespace qgnn
