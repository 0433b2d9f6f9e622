// GlobalPool, float path (see global_pool.h).
#include "../global_pool.h"
#include "float_ops.h"

namespace qgnn {
namespace runtime {

void EvalGlobalPoolF32(const EvalContext& ctx, const Layer& layer) {
  const GlobalPoolData& data = *static_cast<const GlobalPoolData*>(layer.data);
  const float* in = static_cast<const float*>(ctx.Data(layer.t_in));
  float* out = static_cast<float*>(ctx.Data(layer.t_out));
  ParallelFor(*ctx.pool, ctx.num_graphs, [&](int32_t begin, int32_t end) {
    kernels::global_pool_f32(ctx.graph_ptr, data.mode, in, layer.in_dim, out, begin, end);
  });
}

}  // namespace runtime
}  // namespace qgnn
