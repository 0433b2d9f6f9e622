// SAGEConv, float path (see sage_conv.h).
#include "../sage_conv.h"
#include "float_ops.h"

namespace qgnn {
namespace runtime {
namespace {

// Transform-first: y = act(mean_j m_j + b + root term), the root term already in `out` (or none).
void AddAggregationBias(const EvalContext& ctx, const float* agg, const float* bias, bool has_root, bool relu,
                        int32_t cols, float* out) {
  ParallelFor(*ctx.pool, ctx.num_nodes, [&](int32_t begin, int32_t end) {
    for (int32_t i = begin; i < end; ++i) {
      const size_t row = static_cast<size_t>(i) * static_cast<size_t>(cols);
      for (int32_t c = 0; c < cols; ++c) {
        float y = agg[row + c] + (bias != nullptr ? bias[c] : 0.0f);
        if (has_root) y += out[row + c];
        out[row + c] = relu && y < 0.0f ? 0.0f : y;  // a NaN stays a NaN, as in the Dense
      }
    }
  });
}

}  // namespace

void EvalSageConvF32(const EvalContext& ctx, const Layer& layer) {
  const SageConvData& data = *static_cast<const SageConvData*>(layer.data);
  const float* in = static_cast<const float*>(ctx.Data(layer.t_in));
  float* agg = static_cast<float*>(ctx.Data(data.t_agg));
  float* out = static_cast<float*>(ctx.Data(layer.t_out));
  if (data.transform_first) {
    float* messages = static_cast<float*>(ctx.Data(data.t_message));
    // The model input: maybe sparse features (then `in` is null), or dense ones the probe may gather.
    const bool model_input = layer.t_in == kExternalTensor;
    if (model_input) {
      RunInputDenseF32(ctx, data.neighbor, in, messages, ctx.num_nodes);
    } else {
      RunDenseF32(ctx, data.neighbor, in, nullptr, messages, ctx.num_nodes);  // x W_n^T, no bias
    }
    RunAggregateF32(ctx, kernels::AggregateMode::kMean, messages, layer.out_dim, 0.0f, agg);
    const bool has_root = data.root.out_features > 0;  // zero-initialised when the layer has none
    if (has_root && model_input) {
      RunInputDenseF32(ctx, data.root, in, out, ctx.num_nodes);
    } else if (has_root) {
      RunDenseF32(ctx, data.root, in, nullptr, out, ctx.num_nodes);
    }
    AddAggregationBias(ctx, agg, data.bias_f, has_root, layer.relu, layer.out_dim, out);
    return;
  }
  RunAggregateF32(ctx, data.mode, in, layer.in_dim, 0.0f, agg);
  // The aggregation is dead once the neighbour product has read it: scratch for the root product.
  RunDenseF32(ctx, data.neighbor, agg, in, out, ctx.num_nodes, agg,
              static_cast<size_t>(ctx.num_nodes) * static_cast<size_t>(layer.in_dim));
}

}  // namespace runtime
}  // namespace qgnn
