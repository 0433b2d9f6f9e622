// The graph stage (see graph_stage.h).
#include "graph_stage.h"

namespace qgnn {
namespace runtime {

int32_t UseGraphTensor(PlanBuilder& plan, GraphTensor kind) {
  int32_t id = kNoTensor;
  switch (kind) {
    case GraphTensor::kGcnNormQ15:
      id = plan.AddGraphTensor(kind, RowKind::kNodes, sizeof(int32_t));
      break;
    case GraphTensor::kCount:
      break;
  }
  plan.Use(id);
  return id;
}

void RunGraphStage(const EvalContext& ctx, const qgnn_model& model) {
  const int32_t norm = model.graph_tensors[static_cast<int>(GraphTensor::kGcnNormQ15)];
  if (norm != kNoTensor) {
    int32_t* out = static_cast<int32_t*>(ctx.Data(norm));
    ParallelFor(*ctx.pool, ctx.num_nodes,
                [&](int32_t begin, int32_t end) { kernels::gcn_norm(ctx.graph, out, begin, end); });
  }
}

}  // namespace runtime
}  // namespace qgnn
