#include "qgnn/converter/runtime_eval.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "qgnn/qgnn.hpp"

namespace qgnn {
namespace converter {
namespace {

using R = Result<RuntimeEvaluation>;

// Graphs per invoke are also bounded here (besides the model's limits) so the batch arena stays small.
constexpr uint32_t kMaxBatchGraphs = 512;
constexpr uint32_t kMaxBatchNodes = 1u << 16;
constexpr uint32_t kMaxBatchEdges = 1u << 20;

// The runtime reads the model in place and wants 16-byte aligned model and arena buffers.
struct alignas(16) Block {
  uint8_t bytes[16];
};

std::vector<Block> aligned_copy(const std::vector<uint8_t>& bytes) {
  std::vector<Block> blocks((bytes.size() + 15) / 16);
  if (!bytes.empty()) std::memcpy(blocks.data(), bytes.data(), bytes.size());
  return blocks;
}

std::string describe(const char* step, const qgnn::Error& error) {
  return std::string(step) + ": " + error.name() + ": " + error.message();
}

qgnn_graph as_runtime_graph(const GraphBatch& batch) {
  qgnn_graph graph{};
  graph.num_nodes = batch.num_nodes;
  graph.num_edges = batch.num_edges;
  graph.num_graphs = batch.num_graphs;
  graph.row_ptr = batch.row_ptr.data();
  graph.col_idx = batch.col_idx.data();
  graph.graph_ptr = batch.graph_ptr.data();
  graph.features_f32 = batch.features.data();
  return graph;
}

// Runs one batch through a planned interpreter and returns the argmax of every output row.
Result<std::vector<int32_t>> predict(qgnn::Interpreter& interpreter, const GraphBatch& batch) {
  using P = Result<std::vector<int32_t>>;
  const qgnn::Error setup = interpreter.Setup(as_runtime_graph(batch));
  if (!setup.ok()) return P::failure(describe("qgnn_interpreter_setup", setup));
  const qgnn::Error invoke = interpreter.Invoke();
  if (!invoke.ok()) return P::failure(describe("qgnn_interpreter_invoke", invoke));
  const auto output = interpreter.Output();
  if (!output.ok()) return P::failure(describe("qgnn_interpreter_output", output.error()));
  P r;
  r.value.assign(output->rows, -1);
  const qgnn::Error argmax = interpreter.Argmax(r.value.data(), r.value.size());
  if (!argmax.ok()) return P::failure(describe("qgnn_interpreter_argmax", argmax));
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
R evaluate_graphs(const qgnn::Model& model, const qgnn_model_info& info, const GraphSetDesc& set,
                  const std::vector<uint32_t>& indices, RuntimeEvaluation result) {
  qgnn_plan_limits single{0, 0, 1};
  for (const uint32_t g : indices) {
    const int32_t first = set.graph_ptr[g], end = set.graph_ptr[g + 1];
    single.max_nodes = std::max(single.max_nodes, static_cast<uint32_t>(end - first));
    single.max_edges =
        std::max(single.max_edges, static_cast<uint32_t>(set.row_ptr[end] - set.row_ptr[first]));
  }
  const auto single_arena = model.ArenaSize(single);
  if (!single_arena.ok()) return R::failure(describe("qgnn_arena_size", single_arena.error()));
  result.arena_bytes = *single_arena;

  const qgnn_plan_limits cap{std::min(info.max_nodes, kMaxBatchNodes),
                             std::min(info.max_edges, kMaxBatchEdges),
                             std::min(info.max_graphs, kMaxBatchGraphs)};
  const auto chunks = cut_chunks(set, indices, cap);
  if (!chunks.ok()) return R::failure(chunks.error);
  qgnn_plan_limits plan{0, 0, 0};
  for (const Chunk& c : chunks.value) {
    plan.max_nodes = std::max(plan.max_nodes, c.nodes);
    plan.max_edges = std::max(plan.max_edges, c.edges);
    plan.max_graphs = std::max(plan.max_graphs, static_cast<uint32_t>(c.graphs.size()));
  }
  const auto arena_size = model.ArenaSize(plan);
  if (!arena_size.ok()) return R::failure(describe("qgnn_arena_size", arena_size.error()));
  std::vector<Block> arena((*arena_size + sizeof(Block) - 1) / sizeof(Block));
  auto interpreter = qgnn::Interpreter::Create(model, plan, arena.data(), arena.size() * sizeof(Block));
  if (!interpreter.ok()) return R::failure(describe("qgnn_interpreter_create", interpreter.error()));

  for (const Chunk& c : chunks.value) {
    const Result<GraphBatch> batch = extract_graphs(set, c.graphs);
    if (!batch.ok()) return R::failure(batch.error);
    const auto predicted = predict(*interpreter, batch.value);
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
R evaluate_nodes(const qgnn::Model& model, const GraphSetDesc& set, const std::vector<uint32_t>& indices,
                 RuntimeEvaluation result) {
  const Result<GraphBatch> all = extract_all_graphs(set);
  if (!all.ok()) return R::failure(all.error);
  // The runtime runs node classification on one graph: the set's graphs as one block-diagonal graph.
  GraphBatch batch = all.value;
  batch.num_graphs = 1;
  batch.graph_ptr = {0, static_cast<int32_t>(batch.num_nodes)};
  const qgnn_plan_limits plan{batch.num_nodes, batch.num_edges, 1};
  const auto arena_size = model.ArenaSize(plan);
  if (!arena_size.ok()) return R::failure(describe("qgnn_arena_size", arena_size.error()));
  result.arena_bytes = *arena_size;
  std::vector<Block> arena((*arena_size + sizeof(Block) - 1) / sizeof(Block));
  auto interpreter = qgnn::Interpreter::Create(model, plan, arena.data(), arena.size() * sizeof(Block));
  if (!interpreter.ok()) return R::failure(describe("qgnn_interpreter_create", interpreter.error()));
  const auto predicted = predict(*interpreter, batch);
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
  const std::vector<Block> model_data = aligned_copy(model_bytes);
  auto model = qgnn::Model::Create(model_data.data(), model_bytes.size());
  if (!model.ok()) return R::failure(describe("qgnn_model_create", model.error()));
  const qgnn_model_info info = model->Info();
  const Result<bool> inputs = check_inputs(info, set, indices);
  if (!inputs.ok()) return R::failure(inputs.error);
  RuntimeEvaluation result;
  result.model_bytes = model_bytes.size();
  result.parameter_bytes = info.parameter_bytes;
  if (set.task == Task::kGraphClassification) return evaluate_graphs(*model, info, set, indices, result);
  return evaluate_nodes(*model, set, indices, result);
}

}  // namespace converter
}  // namespace qgnn
