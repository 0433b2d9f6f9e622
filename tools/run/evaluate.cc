#include "run/evaluate.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "common/errors.h"
#include "common/file.h"
#include "common/sha256.h"
#include "qgnn/kernels/numerics.h"

namespace qgnn {
namespace tools {
namespace {

using converter::GraphBatch;
using converter::GraphSetDesc;
using converter::Task;

// One invoke's input: a batch plus its int8 features for int8-input models, and which of its output rows
// are scored (node classification: the split's nodes; graph classification: every row).
struct WorkItem {
  GraphBatch batch;
  std::vector<int8_t> features_i8;
  std::vector<uint32_t> scored_rows;
};

const char* task_name(Task t) {
  return t == Task::kNodeClassification ? "node classification" : "graph classification";
}

bool prepare(const qgnn_model_info& info, const GraphSetDesc& set, const RunOptions& options,
             std::vector<WorkItem>* items, std::string* error) {
  const Task model_task =
      info.task == QGNN_TASK_NODE_CLASSIFICATION ? Task::kNodeClassification : Task::kGraphClassification;
  if (model_task != set.task) {
    *error = std::string("the model does ") + task_name(model_task) + " but data set \"" + set.name +
             "\" is for " + task_name(set.task);
    return false;
  }
  if (static_cast<uint32_t>(set.feature_dim) != info.input_dim) {
    *error = "the model takes " + std::to_string(info.input_dim) + " features per node, data set \"" +
             set.name + "\" has " + std::to_string(set.feature_dim);
    return false;
  }
  if (static_cast<uint32_t>(set.num_classes) != info.num_classes) {
    *error = "the model predicts " + std::to_string(info.num_classes) + " classes, data set \"" + set.name +
             "\" has " + std::to_string(set.num_classes);
    return false;
  }
  auto split = converter::split_indices(set, options.split);
  if (!split.ok()) {
    *error = split.error;
    return false;
  }
  if (set.task == Task::kGraphClassification) {
    const size_t batch = options.batch;
    for (size_t first = 0; first < split.value.size(); first += batch) {
      const size_t end = std::min(split.value.size(), first + batch);
      std::vector<uint32_t> graphs(split.value.begin() + static_cast<ptrdiff_t>(first),
                                   split.value.begin() + static_cast<ptrdiff_t>(end));
      auto extracted = converter::extract_graphs(set, graphs);
      if (!extracted.ok()) {
        *error = extracted.error;
        return false;
      }
      WorkItem item;
      item.batch = std::move(extracted.value);
      for (uint32_t r = 0; r < item.batch.num_graphs; ++r) item.scored_rows.push_back(r);
      items->push_back(std::move(item));
    }
  } else {
    // The whole graph in one invoke; the split names the nodes that are scored.
    auto extracted = converter::extract_all_graphs(set);
    if (!extracted.ok()) {
      *error = extracted.error;
      return false;
    }
    WorkItem item;
    item.batch = std::move(extracted.value);
    item.scored_rows = split.value;
    // The runtime sees one graph (graph_ptr may cover several components, the model does not pool).
    item.batch.num_graphs = 1;
    item.batch.graph_ptr = {0, static_cast<int32_t>(item.batch.num_nodes)};
    items->push_back(std::move(item));
  }
  if (info.input_is_int8) {
    for (WorkItem& item : *items) {
      item.features_i8.resize(item.batch.features.size());
      for (size_t k = 0; k < item.batch.features.size(); ++k) {
        item.features_i8[k] = static_cast<int8_t>(
            kernels::quantize_float(item.batch.features[k], info.input_scale, info.input_zero_point, 8));
      }
    }
  }
  return true;
}

double elapsed_us(std::chrono::steady_clock::time_point from, std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double, std::micro>(to - from).count();
}

}  // namespace

bool evaluate(const qgnn_model* model, const qgnn_model_info& info, const GraphSetDesc& set,
              const RunOptions& options, RunResult* result, std::string* error) {
  std::vector<WorkItem> items;
  if (!prepare(info, set, options, &items, error)) return false;

  // Plan for the largest batch: one arena for the whole run.
  qgnn_plan_limits plan{1, 0, 1};
  size_t max_rows = 1;
  for (const WorkItem& item : items) {
    plan.max_nodes = std::max(plan.max_nodes, item.batch.num_nodes);
    plan.max_edges = std::max(plan.max_edges, item.batch.num_edges);
    plan.max_graphs = std::max(plan.max_graphs, item.batch.num_graphs);
    max_rows = std::max<size_t>(max_rows, std::max(item.batch.num_nodes, item.batch.num_graphs));
    result->graphs += item.batch.num_graphs;
    result->nodes += item.batch.num_nodes;
  }
  result->task = set.task;
  result->plan = plan;
  qgnn_error qerr{};
  if (qgnn_arena_size(model, &plan, &result->arena_bytes, &qerr) != QGNN_OK) {
    *error = "arena size: " + describe(qerr);
    return false;
  }
  auto arena = allocate_aligned(result->arena_bytes);
  if (!arena) {
    *error = "cannot allocate an arena of " + std::to_string(result->arena_bytes) + " bytes";
    return false;
  }
  qgnn_interpreter_options interpreter_options = QGNN_INTERPRETER_OPTIONS_INIT;
  interpreter_options.num_threads = options.threads;
  interpreter_options.isa = options.isa.empty() ? nullptr : options.isa.c_str();
  qgnn_interpreter* interpreter = nullptr;
  if (qgnn_interpreter_create(model, &plan, arena.get(), result->arena_bytes, &interpreter_options,
                              &interpreter, &qerr) != QGNN_OK) {
    *error = "interpreter: " + describe(qerr);
    return false;
  }
  struct InterpreterGuard {
    qgnn_interpreter* p;
    ~InterpreterGuard() { qgnn_interpreter_delete(p); }
  } guard{interpreter};
  result->isa = qgnn_interpreter_isa(interpreter);

  std::vector<int32_t> predicted(max_rows);
  std::vector<double> invoke_us, setup_us;
  invoke_us.reserve(items.size() * options.repeat);
  setup_us.reserve(items.size() * options.repeat);
  result->has_labels = !set.labels.empty();
  for (uint32_t pass = 0; pass < options.repeat; ++pass) {
    Sha256 outputs;
    for (size_t k = 0; k < items.size(); ++k) {
      const WorkItem& item = items[k];
      const GraphBatch& b = item.batch;
      const qgnn_graph graph{b.num_nodes,
                             b.num_edges,
                             b.num_graphs,
                             b.row_ptr.data(),
                             b.col_idx.data(),
                             b.graph_ptr.data(),
                             info.input_is_int8 ? nullptr : b.features.data(),
                             info.input_is_int8 ? item.features_i8.data() : nullptr};
      const auto t0 = std::chrono::steady_clock::now();
      const qgnn_status setup_status = qgnn_interpreter_setup(interpreter, &graph, &qerr);
      const auto t1 = std::chrono::steady_clock::now();
      const qgnn_status invoke_status =
          setup_status == QGNN_OK ? qgnn_interpreter_invoke(interpreter, &qerr) : setup_status;
      const auto t2 = std::chrono::steady_clock::now();
      if (invoke_status != QGNN_OK) {
        *error = std::string(setup_status != QGNN_OK ? "setup" : "invoke") + " of batch " +
                 std::to_string(k) + " (" + std::to_string(b.num_graphs) + " graph(s), " +
                 std::to_string(b.num_nodes) + " nodes): " + describe(qerr);
        return false;
      }
      setup_us.push_back(elapsed_us(t0, t1));
      invoke_us.push_back(elapsed_us(t1, t2));

      qgnn_output out{};
      if (qgnn_interpreter_output(interpreter, &out) != QGNN_OK) {
        *error = "qgnn_interpreter_output failed after invoke of batch " + std::to_string(k);
        return false;
      }
      const size_t count = static_cast<size_t>(out.rows) * out.cols;
      if (out.logits_q != nullptr) {
        outputs.update(out.logits_q, count);
      } else if (out.logits_f32 != nullptr) {
        outputs.update(out.logits_f32, count * sizeof(float));
      }
      if (pass > 0 || !result->has_labels) continue;
      if (out.rows > predicted.size() ||
          qgnn_interpreter_argmax(interpreter, predicted.data(), predicted.size()) != QGNN_OK) {
        *error = "qgnn_interpreter_argmax failed after invoke of batch " + std::to_string(k);
        return false;
      }
      for (uint32_t row : item.scored_rows) {
        if (row >= out.rows || row >= b.labels.size()) continue;
        ++result->evaluated;
        if (predicted[row] == b.labels[row]) ++result->correct;
      }
    }
    const std::string digest = outputs.hex_digest();
    if (pass == 0) {
      result->outputs_sha256 = digest;
    } else if (digest != result->outputs_sha256) {
      result->outputs_deterministic = false;
    }
  }
  result->invokes = invoke_us.size();
  result->invoke_us = summarize_latency(std::move(invoke_us));
  result->setup_us = summarize_latency(std::move(setup_us));
  return true;
}

}  // namespace tools
}  // namespace qgnn
