// The graph stage (see graph_stage.h).
#include "graph_stage.h"

namespace qgnn {
namespace runtime {

int32_t UseGraphTensor(PlanBuilder& plan, const GraphTensorDef& def) {
  const int32_t id = plan.AddGraphTensor(&def, def.rows, def.row_bytes);
  plan.Use(id);
  return id;
}

void RunGraphStage(const EvalContext& ctx, const qgnn_model& model) {
  for (uint32_t i = 0; i < model.num_graph_tensors; ++i) {
    model.graph_defs[i]->compute(ctx, ctx.Data(model.graph_tensors[i]));
  }
}

}  // namespace runtime
}  // namespace qgnn
