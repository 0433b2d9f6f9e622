// The graph stage: tensors that depend only on the bound graph (GraphTensor, planner.h), computed once per
// qgnn_interpreter_setup and shared by every layer that asks for one, instead of by each layer at every
// invoke. Adding one: an enumerator in GraphTensor, its row shape and its kernel in graph_stage.cc.
#ifndef QGNN_RUNTIME_GRAPH_STAGE_H_
#define QGNN_RUNTIME_GRAPH_STAGE_H_

#include <cstdint>

#include "ops/op.h"
#include "planner.h"

namespace qgnn {
namespace runtime {

/// In an op's Prepare: the current op reads graph tensor `kind`; returns its planned id.
int32_t UseGraphTensor(PlanBuilder& plan, GraphTensor kind);

/// Computes every graph tensor `model` planned, for the graph bound in `ctx` (setup, on the pool).
void RunGraphStage(const EvalContext& ctx, const qgnn_model& model);

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_GRAPH_STAGE_H_
