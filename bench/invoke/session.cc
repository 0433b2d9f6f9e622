#include "session.h"

#include <cstring>

namespace qgnn {
namespace bench {
namespace {

std::string describe(const char* step, qgnn_status status, const qgnn_error& error) {
  return std::string(step) + ": " + qgnn_status_name(status) + ": " + error.message;
}

}  // namespace

Session::~Session() {
  qgnn_interpreter_delete(interpreter_);
  qgnn_model_delete(model_);
}

bool Session::open(const std::vector<uint8_t>& model_bytes, const converter::GraphBatch& batch,
                   std::string* error) {
  model_bytes_ = model_bytes.size();
  model_data_.assign((model_bytes.size() + sizeof(Block) - 1) / sizeof(Block), Block{});
  if (!model_bytes.empty()) std::memcpy(model_data_.data(), model_bytes.data(), model_bytes.size());

  qgnn_error err{};
  qgnn_status st = qgnn_model_create(model_data_.data(), model_bytes.size(), &model_, &err);
  if (st != QGNN_OK) {
    *error = describe("qgnn_model_create", st, err);
    return false;
  }
  qgnn_model_info info{};
  if ((st = qgnn_model_get_info(model_, &info)) != QGNN_OK) {
    *error = std::string("qgnn_model_get_info: ") + qgnn_status_name(st);
    return false;
  }
  parameter_bytes_ = info.parameter_bytes;

  const qgnn_plan_limits limits{batch.num_nodes, batch.num_edges, batch.num_graphs};
  if ((st = qgnn_arena_size(model_, &limits, &arena_bytes_, &err)) != QGNN_OK) {
    *error = describe("qgnn_arena_size", st, err);
    return false;
  }
  arena_.assign((arena_bytes_ + sizeof(Block) - 1) / sizeof(Block), Block{});
  qgnn_interpreter_options options = QGNN_INTERPRETER_OPTIONS_INIT;
  options.num_threads = 1;
  st = qgnn_interpreter_create(model_, &limits, arena_.data(), arena_.size() * sizeof(Block), &options,
                               &interpreter_, &err);
  if (st != QGNN_OK) {
    *error = describe("qgnn_interpreter_create", st, err);
    return false;
  }

  qgnn_graph graph{};
  graph.num_nodes = batch.num_nodes;
  graph.num_edges = batch.num_edges;
  graph.num_graphs = batch.num_graphs;
  graph.row_ptr = batch.row_ptr.data();
  graph.col_idx = batch.col_idx.data();
  graph.graph_ptr = batch.graph_ptr.data();
  graph.features_f32 = batch.features.data();
  if ((st = qgnn_interpreter_setup(interpreter_, &graph, &err)) != QGNN_OK) {
    *error = describe("qgnn_interpreter_setup", st, err);
    return false;
  }
  return true;
}

}  // namespace bench
}  // namespace qgnn
