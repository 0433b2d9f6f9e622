#include "run/evaluate.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "common/errors.h"
#include "common/sha256.h"
#include "qgnn/converter/runtime_graph.h"
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
  /// --reorder of a node-classification batch: perm[i] = the row of original node i in the outputs, which
  /// are brought back to the original order (empty: rows are already in order, e.g. one per graph).
  std::vector<int32_t> perm;
};

const char* task_name(Task t) {
  return t == Task::kNodeClassification ? "node classification" : "graph classification";
}

bool prepare(const qgnn_model_info& info, const float* column_scales, const GraphSetDesc& set,
             const RunOptions& options, InputForm form, std::vector<WorkItem>* items,
             converter::SplitSelection* selection, ReorderTiming* reorder_timing, std::string* error) {
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
  auto selected = converter::select_split(set, options.split, options.fold);
  if (!selected.ok()) {
    *error = selected.error;
    return false;
  }
  *selection = selected.value;
  const std::vector<uint32_t>& split = selection->indices;
  if (set.task == Task::kGraphClassification) {
    const size_t batch = options.batch;
    for (size_t first = 0; first < split.size(); first += batch) {
      const size_t end = std::min(split.size(), first + batch);
      std::vector<uint32_t> graphs(split.begin() + static_cast<ptrdiff_t>(first),
                                   split.begin() + static_cast<ptrdiff_t>(end));
      // Each batch slices the graphs' rows of the feature CSR (offsets rebased), as stored.
      auto extracted = converter::extract_graphs(set, graphs, converter::FeatureForm::kAsStored);
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
    auto extracted = converter::extract_all_graphs(set, converter::FeatureForm::kAsStored);
    if (!extracted.ok()) {
      *error = extracted.error;
      return false;
    }
    WorkItem item;
    item.batch = std::move(extracted.value);
    item.scored_rows = split;
    // The runtime sees one graph (graph_ptr may cover several components, the model does not pool).
    item.batch.num_graphs = 1;
    item.batch.graph_ptr = {0, static_cast<int32_t>(item.batch.num_nodes)};
    items->push_back(std::move(item));
  }
  for (WorkItem& item : *items) convert_batch(&item.batch, form);
  qgnn_reorder_method method = QGNN_REORDER_NONE;
  if (!parse_reorder(options.reorder, &method, error)) return false;
  if (method != QGNN_REORDER_NONE) {
    // Once per batch, before the int8 features are quantized from the (then permuted) float rows.
    for (WorkItem& item : *items) {
      std::vector<int32_t> perm;
      if (!reorder_batch(&item.batch, method, &perm, reorder_timing, error)) return false;
      // Graph classification: each graph's nodes stay in its range, the outputs are one row per graph.
      if (set.task == Task::kNodeClassification) item.perm = std::move(perm);
    }
  }
  if (form == InputForm::kInt8) {
    for (WorkItem& item : *items) {
      item.features_i8.resize(item.batch.features.size());
      for (size_t k = 0; k < item.batch.features.size(); ++k) {
        const float scale = column_scales != nullptr ? column_scales[k % info.input_dim] : info.input_scale;
        item.features_i8[k] = static_cast<int8_t>(
            kernels::quantize_float(item.batch.features[k], scale, info.input_zero_point, 8));
      }
    }
  }
  return true;
}

bool unpermute(const std::vector<int32_t>& perm, const void* rows, size_t row_bytes, void* out,
               std::string* error) {
  qgnn_error err{};
  if (qgnn_rows_unpermute(perm.data(), static_cast<uint32_t>(perm.size()), row_bytes, rows, out, &err) ==
      QGNN_OK)
    return true;
  *error = std::string("qgnn_rows_unpermute: ") + qgnn_status_name(err.status) + ": " + err.message;
  return false;
}

double elapsed_us(std::chrono::steady_clock::time_point from, std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double, std::micro>(to - from).count();
}

}  // namespace

bool evaluate(session::Session* model, const GraphSetDesc& set, const RunOptions& options, RunResult* result,
              std::string* error) {
  const qgnn_model_info& info = model->info();
  if (!choose_input_form(*model, set, options.input, &result->input, error)) return false;
  std::vector<WorkItem> items;
  if (!prepare(info, model->model().InputColumnScales(), set, options, result->input, &items,
               &result->selection, &result->reorder, error))
    return false;

  // Plan for the largest batch: one arena for the whole run.
  qgnn_plan_limits plan{1, 0, 1};
  size_t max_rows = 1;
  for (const WorkItem& item : items) {
    plan = session::cover(plan, {item.batch.num_nodes, item.batch.num_edges, item.batch.num_graphs});
    max_rows = std::max<size_t>(max_rows, std::max(item.batch.num_nodes, item.batch.num_graphs));
    result->graphs += item.batch.num_graphs;
    result->nodes += item.batch.num_nodes;
  }
  result->task = set.task;
  result->plan = plan;
  session::Options interpreter_options;
  interpreter_options.threads = options.threads;
  interpreter_options.isa = options.isa;
  const auto planned = model->plan(plan, interpreter_options);
  if (!planned.ok()) {
    *error = planned.error;
    return false;
  }
  result->arena_bytes = model->arena_bytes();
  result->isa = model->isa();

  std::vector<int32_t> predicted(max_rows), predicted_in_order;
  std::vector<uint8_t> unpermuted;  // logits of a reordered batch in the original node order
  std::vector<double> invoke_us, setup_us;
  invoke_us.reserve(items.size() * options.repeat);
  setup_us.reserve(items.size() * options.repeat);
  result->has_labels = !set.labels.empty();
  for (uint32_t pass = 0; pass < options.repeat; ++pass) {
    Sha256 outputs;
    for (size_t k = 0; k < items.size(); ++k) {
      const WorkItem& item = items[k];
      const GraphBatch& b = item.batch;
      const int8_t* features_i8 = result->input == InputForm::kInt8 ? item.features_i8.data() : nullptr;
      const auto t0 = std::chrono::steady_clock::now();
      const session::Result<bool> bound = bind_batch(model, b, features_i8);
      const auto t1 = std::chrono::steady_clock::now();
      const session::Result<bool> invoked = bound.ok() ? model->invoke() : bound;
      const auto t2 = std::chrono::steady_clock::now();
      if (!invoked.ok()) {
        *error = std::string(!bound.ok() ? "setup" : "invoke") + " of batch " + std::to_string(k) + " (" +
                 std::to_string(b.num_graphs) + " graph(s), " + std::to_string(b.num_nodes) +
                 " nodes): " + describe(invoked);
        return false;
      }
      setup_us.push_back(elapsed_us(t0, t1));
      invoke_us.push_back(elapsed_us(t1, t2));

      const auto view = model->output();
      if (!view.ok()) {
        *error = "qgnn_interpreter_output failed after invoke of batch " + std::to_string(k);
        return false;
      }
      const qgnn_output& out = view.value;
      const size_t count = static_cast<size_t>(out.rows) * out.cols;
      const bool permuted = !item.perm.empty();
      if (permuted && item.perm.size() != out.rows) {
        *error = "batch " + std::to_string(k) + ": " + std::to_string(out.rows) + " output rows for " +
                 std::to_string(item.perm.size()) + " reordered nodes";
        return false;
      }
      // The hash is over the original node order: the same bytes as a run without --reorder.
      const size_t element = out.logits_q != nullptr ? 1 : sizeof(float);
      const void* logits = out.logits_q != nullptr ? static_cast<const void*>(out.logits_q) : out.logits_f32;
      if (logits != nullptr) {
        if (permuted) {
          unpermuted.resize(count * element);
          if (!unpermute(item.perm, logits, out.cols * element, unpermuted.data(), error)) return false;
          logits = unpermuted.data();
        }
        outputs.update(logits, count * element);
      }
      if (pass > 0 || !result->has_labels) continue;
      if (out.rows > predicted.size() || !model->argmax(predicted.data(), predicted.size()).ok()) {
        *error = "qgnn_interpreter_argmax failed after invoke of batch " + std::to_string(k);
        return false;
      }
      if (permuted) {
        predicted_in_order.resize(out.rows);
        if (!unpermute(item.perm, predicted.data(), sizeof(int32_t), predicted_in_order.data(), error))
          return false;
        std::copy(predicted_in_order.begin(), predicted_in_order.end(), predicted.begin());
      }
      if (result->predicted_per_class.size() < out.cols) result->predicted_per_class.resize(out.cols, 0);
      for (uint32_t row : item.scored_rows) {
        if (row >= out.rows || row >= b.labels.size()) continue;
        ++result->evaluated;
        if (predicted[row] == b.labels[row]) ++result->correct;
        if (predicted[row] >= 0) ++result->predicted_per_class[static_cast<size_t>(predicted[row])];
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
