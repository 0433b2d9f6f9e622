// GCNConv, float path (see gcn_conv.h): the aggregation computes its 1/sqrtf(d) factors itself; the order
// is the file's.
#include "../gcn_conv.h"
#include "float_ops.h"

namespace qgnn {
namespace runtime {
namespace {

// Transform-first: out = act(aggregation of the messages + bias), in place, row ranges over the pool.
void AddBiasActivation(const EvalContext& ctx, const float* bias, bool relu, int32_t cols, float* out) {
  if (bias == nullptr && !relu) return;
  ParallelFor(*ctx.pool, ctx.num_nodes, [&](int32_t begin, int32_t end) {
    for (int32_t i = begin; i < end; ++i) {
      float* row = out + static_cast<size_t>(i) * static_cast<size_t>(cols);
      for (int32_t c = 0; c < cols; ++c) {
        const float y = bias != nullptr ? row[c] + bias[c] : row[c];
        row[c] = relu && y < 0.0f ? 0.0f : y;  // a NaN stays a NaN, as in the Dense
      }
    }
  });
}

}  // namespace

void EvalGcnConvF32(const EvalContext& ctx, const Layer& layer) {
  const GcnConvData& data = *static_cast<const GcnConvData*>(layer.data);
  const float* in = static_cast<const float*>(ctx.Data(layer.t_in));
  float* agg = static_cast<float*>(ctx.Data(data.t_agg));
  float* out = static_cast<float*>(ctx.Data(layer.t_out));
  if (data.transform_first) {
    if (layer.t_in == kExternalTensor) {  // the model input: maybe sparse, or probed
      RunInputDenseF32(ctx, data.dense, in, agg, ctx.num_nodes);
    } else {
      RunDenseF32(ctx, data.dense, in, nullptr, agg, ctx.num_nodes);  // the messages
    }
    RunAggregateF32(ctx, kernels::AggregateMode::kGcn, agg, layer.out_dim, 0.0f, out);
    AddBiasActivation(ctx, data.bias_f, layer.relu, layer.out_dim, out);
    return;
  }
  RunAggregateF32(ctx, kernels::AggregateMode::kGcn, in, layer.in_dim, 0.0f, agg);
  RunDenseF32(ctx, data.dense, agg, nullptr, out, ctx.num_nodes);
}

}  // namespace runtime
}  // namespace qgnn
