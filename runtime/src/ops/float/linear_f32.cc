// Linear, float path (see linear.h).
#include "../linear.h"
#include "float_ops.h"

namespace qgnn {
namespace runtime {

void EvalLinearF32(const EvalContext& ctx, const Layer& layer) {
  const LinearData& data = *static_cast<const LinearData*>(layer.data);
  RunDenseF32(ctx, data.dense, static_cast<const float*>(ctx.Data(layer.t_in)), nullptr,
              static_cast<float*>(ctx.Data(layer.t_out)), ctx.Rows(layer.in_rows));
}

}  // namespace runtime
}  // namespace qgnn
