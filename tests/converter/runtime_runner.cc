#include "runtime_runner.h"

#include <cstring>

#include "qgnn/qgnn.h"

namespace qgnn {
namespace converter {
namespace testing {
namespace {

// The runtime reads the model in place and wants 16-byte aligned model and arena buffers.
struct alignas(16) Block {
  uint8_t bytes[16];
};

std::vector<Block> aligned_copy(const std::vector<uint8_t>& bytes) {
  std::vector<Block> blocks((bytes.size() + 15) / 16);
  if (!bytes.empty()) std::memcpy(blocks.data(), bytes.data(), bytes.size());
  return blocks;
}

std::string failure(const char* step, qgnn_status status, const qgnn_error& error) {
  return std::string(step) + ": " + qgnn_status_name(status) + ": " + error.message;
}

}  // namespace

std::string run_on_runtime(const std::vector<uint8_t>& model_bytes, const GraphBatch& batch,
                           RuntimeOutput* out) {
  const std::vector<Block> model_data = aligned_copy(model_bytes);
  qgnn_error error{};
  qgnn_model* model = nullptr;
  qgnn_status st = qgnn_model_create(model_data.data(), model_bytes.size(), &model, &error);
  if (st != QGNN_OK) return failure("qgnn_model_create", st, error);
  const qgnn_plan_limits limits{batch.num_nodes, batch.num_edges, batch.num_graphs};
  size_t arena_bytes = 0;
  st = qgnn_arena_size(model, &limits, &arena_bytes, &error);
  if (st != QGNN_OK) {
    qgnn_model_delete(model);
    return failure("qgnn_arena_size", st, error);
  }
  std::vector<Block> arena((arena_bytes + 15) / 16);
  qgnn_interpreter* interpreter = nullptr;
  st = qgnn_interpreter_create(model, &limits, arena.data(), arena.size() * sizeof(Block), nullptr,
                               &interpreter, &error);
  if (st != QGNN_OK) {
    qgnn_model_delete(model);
    return failure("qgnn_interpreter_create", st, error);
  }
  qgnn_graph graph{};
  graph.num_nodes = batch.num_nodes;
  graph.num_edges = batch.num_edges;
  graph.num_graphs = batch.num_graphs;
  graph.row_ptr = batch.row_ptr.data();
  graph.col_idx = batch.col_idx.data();
  graph.graph_ptr = batch.graph_ptr.data();
  graph.features_f32 = batch.features.data();
  std::string result;
  qgnn_output output{};
  st = qgnn_interpreter_setup(interpreter, &graph, &error);
  if (st != QGNN_OK) result = failure("qgnn_interpreter_setup", st, error);
  if (result.empty() && (st = qgnn_interpreter_invoke(interpreter, &error)) != QGNN_OK) {
    result = failure("qgnn_interpreter_invoke", st, error);
  }
  if (result.empty() && (st = qgnn_interpreter_output(interpreter, &output)) != QGNN_OK) {
    result = failure("qgnn_interpreter_output", st, error);
  }
  if (result.empty()) {
    out->rows = output.rows;
    out->cols = output.cols;
    out->values.assign(static_cast<size_t>(output.rows) * output.cols, 0.0f);
    out->argmax.assign(output.rows, -1);
    if ((st = qgnn_interpreter_output_float(interpreter, out->values.data(), out->values.size())) !=
            QGNN_OK ||
        (st = qgnn_interpreter_argmax(interpreter, out->argmax.data(), out->argmax.size())) != QGNN_OK) {
      result = std::string("output query: ") + qgnn_status_name(st);
    }
  }
  qgnn_interpreter_delete(interpreter);
  qgnn_model_delete(model);
  return result;
}

}  // namespace testing
}  // namespace converter
}  // namespace qgnn
