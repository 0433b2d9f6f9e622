#include "qgnn/converter/runtime_eval.h"

#include <algorithm>
#include <string>

#include "qgnn/converter/runtime_graph.h"
#include "qgnn/session.hpp"

namespace qgnn {
namespace converter {
namespace {

using R = Result<RuntimeEvaluation>;

// Graphs per invoke are also bounded here (besides the model's limits) so the batch arena stays small.
constexpr uint32_t kMaxBatchGraphs = 512;
constexpr uint32_t kMaxBatchNodes = 1u << 16;
constexpr uint32_t kMaxBatchEdges = 1u << 20;

template <typename T>
R fail(const session::Result<T>& r) {
  return R::failure(r.error);
}

// Runs one batch through a planned session and returns the argmax of every output row.
Result<std::vector<int32_t>> predict(session::Session& s, const GraphBatch& batch) {
  using P = Result<std::vector<int32_t>>;
  const auto ran = s.run(runtime_graph(batch));
  if (!ran.ok()) return P::failure(ran.error);
  const auto out = s.outputs();
  if (!out.ok()) return P::failure(out.error);
  P r;
  r.value = out.value.argmax;
  return r;
}

struct Chunk {
  std::vector<uint32_t> graphs;
  uint32_t nodes = 0, edges = 0;
};

// Consecutive runs of `indices` that fit one invoke.
Result<std::vector<Chunk>> cut_chunks(const GraphSetDesc& set, const std::vector<uint32_t>& indices,
                                      const qgnn_plan_limits& cap) {
  using C = Result<std::vector<Chunk>>;
  C r;
  Chunk current;
  for (const uint32_t g : indices) {
    const uint32_t first = static_cast<uint32_t>(set.graph_ptr[g]);
    const uint32_t end = static_cast<uint32_t>(set.graph_ptr[g + 1]);
    const uint32_t nodes = end - first;
    const uint32_t edges = static_cast<uint32_t>(set.row_ptr[end] - set.row_ptr[first]);
    if (nodes > cap.max_nodes || edges > cap.max_edges) {
      return C::failure("graph " + std::to_string(g) + " (" + std::to_string(nodes) + " nodes, " +
                        std::to_string(edges) + " edges) exceeds the model's limits (" +
                        std::to_string(cap.max_nodes) + " nodes, " + std::to_string(cap.max_edges) +
                        " edges)");
    }
    if (!current.graphs.empty() &&
        (current.graphs.size() + 1 > cap.max_graphs || current.nodes + nodes > cap.max_nodes ||
         current.edges + edges > cap.max_edges)) {
      r.value.push_back(std::move(current));
      current = Chunk();
    }
    current.graphs.push_back(g);
    current.nodes += nodes;
    current.edges += edges;
  }
  if (!current.graphs.empty()) r.value.push_back(std::move(current));
  return r;
}

Result<bool> check_inputs(const qgnn_model_info& info, const GraphSetDesc& set,
                          const std::vector<uint32_t>& indices) {
  using B = Result<bool>;
  if (info.input_is_int8)
    return B::failure("the model takes int8 input features; evaluation feeds float features");
  if (static_cast<int>(info.task) != static_cast<int>(set.task)) {
    return B::failure("the data set's task differs from the model's");
  }
  if (static_cast<int64_t>(info.input_dim) != set.feature_dim) {
    return B::failure("the data set has " + std::to_string(set.feature_dim) +
                      " features per node, the model expects " + std::to_string(info.input_dim));
  }
  if (indices.empty()) return B::failure("no graphs or nodes to evaluate");
  const bool graph_task = set.task == Task::kGraphClassification;
  const size_t count =
      graph_task ? static_cast<size_t>(set.num_graphs()) : static_cast<size_t>(set.num_nodes());
  if (set.labels.size() != count) return B::failure("the data set has no label for every graph or node");
  for (const uint32_t i : indices) {
    if (i >= count) {
      return B::failure(std::string(graph_task ? "graph" : "node") + " index " + std::to_string(i) +
                        " is out of range (" + std::to_string(count) + ")");
    }
  }
  return B{true, ""};
}

// Graph classification: the arena of the largest single graph, then batched invokes.
R evaluate_graphs(session::Session& s, const GraphSetDesc& set, const std::vector<uint32_t>& indices,
                  RuntimeEvaluation result) {
  const qgnn_model_info& info = s.info();
  qgnn_plan_limits single{0, 0, 1};
  for (const uint32_t g : indices) {
    const int32_t first = set.graph_ptr[g], end = set.graph_ptr[g + 1];
    single.max_nodes = std::max(single.max_nodes, static_cast<uint32_t>(end - first));
    single.max_edges =
        std::max(single.max_edges, static_cast<uint32_t>(set.row_ptr[end] - set.row_ptr[first]));
  }
  const auto single_arena = s.arena_size(single);
  if (!single_arena.ok()) return fail(single_arena);
  result.arena_bytes = single_arena.value;

  const qgnn_plan_limits cap{std::min(info.max_nodes, kMaxBatchNodes),
                             std::min(info.max_edges, kMaxBatchEdges),
                             std::min(info.max_graphs, kMaxBatchGraphs)};
  const auto chunks = cut_chunks(set, indices, cap);
  if (!chunks.ok()) return R::failure(chunks.error);
  qgnn_plan_limits plan{0, 0, 0};
  for (const Chunk& c : chunks.value)
    plan = session::cover(plan, {c.nodes, c.edges, static_cast<uint32_t>(c.graphs.size())});
  const auto planned = s.plan(plan);
  if (!planned.ok()) return fail(planned);

  for (const Chunk& c : chunks.value) {
    const Result<GraphBatch> batch = extract_graphs(set, c.graphs);
    if (!batch.ok()) return R::failure(batch.error);
    const auto predicted = predict(s, batch.value);
    if (!predicted.ok()) return R::failure(predicted.error);
    if (predicted.value.size() != c.graphs.size())
      return R::failure("the runtime returned one row per node, not per graph");
    for (size_t k = 0; k < c.graphs.size(); ++k)
      result.correct += predicted.value[k] == batch.value.labels[k] ? 1 : 0;
    result.total += c.graphs.size();
  }
  return R{result, ""};
}

// Node classification: one invoke over the whole graph, the split's nodes scored.
R evaluate_nodes(session::Session& s, const GraphSetDesc& set, const std::vector<uint32_t>& indices,
                 RuntimeEvaluation result) {
  const Result<GraphBatch> all = extract_all_graphs(set);
  if (!all.ok()) return R::failure(all.error);
  // The runtime runs node classification on one graph: the set's graphs as one block-diagonal graph.
  GraphBatch batch = all.value;
  batch.num_graphs = 1;
  batch.graph_ptr = {0, static_cast<int32_t>(batch.num_nodes)};
  const auto planned = s.plan({batch.num_nodes, batch.num_edges, 1});
  if (!planned.ok()) return fail(planned);
  result.arena_bytes = s.arena_bytes();
  const auto predicted = predict(s, batch);
  if (!predicted.ok()) return R::failure(predicted.error);
  if (predicted.value.size() != batch.num_nodes)
    return R::failure("the runtime returned one row per graph, not per node");
  for (const uint32_t n : indices) result.correct += predicted.value[n] == set.labels[n] ? 1 : 0;
  result.total = indices.size();
  return R{result, ""};
}

}  // namespace

R evaluate_on_runtime(const std::vector<uint8_t>& model_bytes, const GraphSetDesc& set,
                      const std::vector<uint32_t>& indices) {
  auto loaded = session::Session::load(model_bytes);
  if (!loaded.ok()) return fail(loaded);
  session::Session& s = loaded.value;
  const Result<bool> inputs = check_inputs(s.info(), set, indices);
  if (!inputs.ok()) return R::failure(inputs.error);
  RuntimeEvaluation result;
  result.model_bytes = model_bytes.size();
  result.parameter_bytes = s.info().parameter_bytes;
  if (set.task == Task::kGraphClassification) return evaluate_graphs(s, set, indices, result);
  return evaluate_nodes(s, set, indices, result);
}

}  // namespace converter
}  // namespace qgnn
