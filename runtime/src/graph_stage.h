// The graph stage: tensors that depend only on the bound graph, computed once per qgnn_interpreter_setup and
// shared by every layer that asks for one, instead of by each layer at every invoke. A graph tensor is a
// GraphTensorDef, defined next to the op that needs it (GCNConv's normalisation factors live in
// gcn_conv.cc), so a firmware that does not link the op links neither the tensor nor its kernel.
#ifndef QGNN_RUNTIME_GRAPH_STAGE_H_
#define QGNN_RUNTIME_GRAPH_STAGE_H_

#include <cstdint>

#include "ops/op.h"
#include "planner.h"

namespace qgnn {
namespace runtime {

struct GraphTensorDef {
  RowKind rows;
  uint32_t row_bytes;
  /// Writes the tensor for the graph bound in `ctx` (every row, on ctx.pool).
  void (*compute)(const EvalContext& ctx, void* out);
};

/// In an op's Prepare: the current op reads graph tensor `def`; returns its planned id (shared with every
/// other op asking for the same definition).
int32_t UseGraphTensor(PlanBuilder& plan, const GraphTensorDef& def);

/// Computes every graph tensor `model` planned, for the graph bound in `ctx` (setup).
void RunGraphStage(const EvalContext& ctx, const qgnn_model& model);

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_GRAPH_STAGE_H_
