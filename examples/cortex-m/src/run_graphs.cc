// See run_graphs.h. Output lines are the contract scripts/ci_cortex_m.sh compares between device and host:
// the "graph" and "reject" lines must be identical; the "arena" line may differ only in given bytes.
#include "run_graphs.h"

#include <cstdint>

#include "console.h"
#include "embedded_data.h"
#include "model_ops.h"
#include "qgnn/qgnn.h"

namespace {

int fail(const char* what, const qgnn_error& error) {
  console_write("error ");
  console_write(what);
  console_write(" ");
  console_write(qgnn_status_name(error.status));
  console_write(": ");
  console_write(error.message);
  console_write("\n");
  return error.status != QGNN_OK ? static_cast<int>(error.status) : 1;
}

// One line per graph: exact int8 logits (the runtime's output), so "identical" means bit-identical.
int run_graph(qgnn_interpreter* interpreter, const EmbeddedGraph& eg, qgnn_error* error) {
  const qgnn_graph graph{eg.num_nodes, eg.num_edges, 1,           eg.row_ptr,
                         eg.col_idx,   nullptr,      eg.features, nullptr};
  if (qgnn_interpreter_setup(interpreter, &graph, error) != QGNN_OK) return 1;
  if (qgnn_interpreter_invoke(interpreter, error) != QGNN_OK) return 1;
  qgnn_output out{};
  int32_t predicted = -1;
  if (qgnn_interpreter_output(interpreter, &out) != QGNN_OK || out.logits_q == nullptr ||
      qgnn_interpreter_argmax(interpreter, &predicted, 1) != QGNN_OK) {
    error->status = QGNN_NOT_READY;
    error->message[0] = '\0';
    return 1;
  }
  console_write("graph ");
  console_uint(eg.index);
  console_write(" nodes ");
  console_uint(eg.num_nodes);
  console_write(" edges ");
  console_uint(eg.num_edges);
  console_write(" logits_q");
  for (uint32_t c = 0; c < out.cols; ++c) {
    console_write(" ");
    console_int(out.logits_q[c]);
  }
  console_write(" argmax ");
  console_int(predicted);
  console_write(" label ");
  console_int(eg.label);
  console_write("\n");
  return 0;
}

void print_reject(const char* what, qgnn_status status) {
  console_write("reject ");
  console_write(what);
  console_write(" ");
  console_write(qgnn_status_name(status));
  console_write("\n");
}

// Hostile inputs on the device itself: each must come back as its named status, never run.
int check_rejections(const qgnn_model* model, qgnn_interpreter* interpreter, const qgnn_plan_limits& limits,
                     const qgnn_interpreter_options& options, void* arena, size_t needed) {
  // A model cut in half, as an interrupted over-the-air download would leave it.
  qgnn_model* truncated_model = nullptr;
  const qgnn_status truncated =
      create_model(qgnn_fw_model, qgnn_fw_model_size / 2, &truncated_model, nullptr);
  qgnn_model_delete(truncated_model);
  print_reject("truncated_model", truncated);

  // An arena one byte short of the plan (rejected before anything is allocated or written).
  qgnn_interpreter* small = nullptr;
  const qgnn_status st =
      qgnn_interpreter_create(model, &limits, arena, needed - 1, &options, &small, nullptr);
  qgnn_interpreter_delete(small);
  print_reject("arena_one_byte_short", st);

  const EmbeddedGraph& eg = qgnn_fw_graphs[0];

  // The first graph with one source id out of range.
  int32_t col_idx[128];
  if (eg.num_edges == 0 || eg.num_edges > 128) return 1;
  for (uint32_t e = 0; e < eg.num_edges; ++e) col_idx[e] = eg.col_idx[e];
  col_idx[eg.num_edges - 1] = static_cast<int32_t>(eg.num_nodes);
  qgnn_graph graph{eg.num_nodes, eg.num_edges, 1, eg.row_ptr, col_idx, nullptr, eg.features, nullptr};
  const qgnn_status bad_edge = qgnn_interpreter_setup(interpreter, &graph, nullptr);
  print_reject("col_idx_out_of_range", bad_edge);

  // More nodes than planned.
  graph.col_idx = eg.col_idx;
  graph.num_nodes = limits.max_nodes + 1;
  const qgnn_status too_large = qgnn_interpreter_setup(interpreter, &graph, nullptr);
  print_reject("too_many_nodes", too_large);
  const bool all_named = truncated == QGNN_MALFORMED_FLATBUFFER && st == QGNN_ARENA_TOO_SMALL &&
                         bad_edge == QGNN_INVALID_GRAPH && too_large == QGNN_GRAPH_TOO_LARGE;
  return all_named ? 0 : 1;
}

}  // namespace

int run_embedded_graphs(void* arena, size_t arena_bytes, const char* isa, uint32_t num_threads) {
  qgnn_error error{};
  qgnn_model* model = nullptr;
  if (create_model(qgnn_fw_model, qgnn_fw_model_size, &model, &error) != QGNN_OK) {
    return fail("model", error);
  }
  qgnn_model_info info{};
  qgnn_model_get_info(model, &info);
  const qgnn_plan_limits limits{qgnn_fw_dataset_max_nodes, qgnn_fw_dataset_max_edges, 1};
  qgnn_interpreter_options options = QGNN_INTERPRETER_OPTIONS_INIT;
  options.num_threads = num_threads;
  options.isa = isa;
  // The arena this interpreter needs (its kernels may keep packed weights in it), and the one the reference
  // kernels need: the latter is what a microcontroller build needs on every host, so it is the line printed
  // and compared between the devices and the host twins.
  qgnn_interpreter_options reference = QGNN_INTERPRETER_OPTIONS_INIT;
  reference.isa = "reference";
  size_t needed = 0, needed_reference = 0;
  if (qgnn_arena_size_for_options(model, &limits, &options, &needed, &error) != QGNN_OK ||
      qgnn_arena_size_for_options(model, &limits, &reference, &needed_reference, &error) != QGNN_OK) {
    qgnn_model_delete(model);
    return fail("arena_size", error);
  }
  console_write("model ");
  console_write(info.name);
  console_write(" layers ");
  console_uint(info.num_layers);
  console_write(" classes ");
  console_uint(info.num_classes);
  console_write(" quantized ");
  console_uint(static_cast<uint64_t>(info.quantized));
  console_write("\narena needed ");
  console_uint(needed_reference);
  console_write(" for nodes ");
  console_uint(limits.max_nodes);
  console_write(" edges ");
  console_uint(limits.max_edges);
  console_write(" given ");
  console_uint(arena_bytes);
  console_write("\n");

  qgnn_interpreter* interpreter = nullptr;
  if (qgnn_interpreter_create(model, &limits, arena, arena_bytes, &options, &interpreter, &error) !=
      QGNN_OK) {
    qgnn_model_delete(model);
    return fail("interpreter", error);
  }
  console_write("isa ");
  console_write(qgnn_interpreter_isa(interpreter));
  console_write("\n");

  int rc = 0;
  for (uint32_t k = 0; k < qgnn_fw_num_graphs && rc == 0; ++k) {
    if (run_graph(interpreter, qgnn_fw_graphs[k], &error) != 0) rc = fail("graph", error);
  }
  if (rc == 0 && check_rejections(model, interpreter, limits, options, arena, needed) != 0) {
    console_write("error: a hostile input was not rejected with its status\n");
    rc = 1;
  }
  qgnn_interpreter_delete(interpreter);
  qgnn_model_delete(model);
  if (rc == 0) {
    console_write("done graphs ");
    console_uint(qgnn_fw_num_graphs);
    console_write("\n");
  }
  return rc;
}
