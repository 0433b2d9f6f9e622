// Linear, float path (see linear.h).
#include "../linear.h"
#include "float_ops.h"

namespace qgnn {
namespace runtime {

void EvalLinearF32(const EvalContext& ctx, const Layer& layer) {
  const LinearData& data = *static_cast<const LinearData*>(layer.data);
  const float* in = static_cast<const float*>(ctx.Data(layer.t_in));
  float* out = static_cast<float*>(ctx.Data(layer.t_out));
  if (layer.t_in == kExternalTensor) {
    RunInputDenseF32(ctx, data.dense, in, out, ctx.Rows(layer.in_rows));
    return;
  }
  RunDenseF32(ctx, data.dense, in, nullptr, out, ctx.Rows(layer.in_rows));
}

}  // namespace runtime
}  // namespace qgnn
