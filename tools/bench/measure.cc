#include "bench/measure.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>

#include "common/errors.h"
#include "qgnn/converter/runtime_graph.h"
#include "qgnn/kernels/numerics.h"

namespace qgnn {
namespace tools {
namespace {

using converter::GraphBatch;
using converter::GraphSetDesc;
using converter::Task;
using Clock = std::chrono::steady_clock;

double us_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::micro>(b - a).count();
}

/// The profiler's user data: the clock at every stage boundary of the current invoke. Sized before the
/// timed loop, so the callback only stores.
struct StageClock {
  std::vector<Clock::time_point> marks;
};

void mark_stage(void* user_data, uint32_t step) {
  auto* clock = static_cast<StageClock*>(user_data);
  if (step < clock->marks.size()) clock->marks[step] = Clock::now();
}

bool make_batches(const GraphSetDesc& set, const BenchOptions& options, std::vector<GraphBatch>* batches,
                  converter::SplitSelection* selection, std::string* error) {
  auto selected = converter::select_split(set, options.split, options.fold);
  if (!selected.ok()) {
    *error = selected.error;
    return false;
  }
  *selection = selected.value;
  const std::vector<uint32_t>& split = selection->indices;
  if (set.task == Task::kNodeClassification) {
    // The whole graph in one invoke, as qgnn-run does; the split only matters for scoring, not here.
    auto all = converter::extract_all_graphs(set, converter::FeatureForm::kAsStored);
    if (!all.ok()) {
      *error = all.error;
      return false;
    }
    all.value.num_graphs = 1;
    all.value.graph_ptr = {0, static_cast<int32_t>(all.value.num_nodes)};
    batches->push_back(std::move(all.value));
    return true;
  }
  for (size_t first = 0; first < split.size(); first += options.batch) {
    const size_t end = std::min(split.size(), first + options.batch);
    const std::vector<uint32_t> graphs(split.begin() + static_cast<ptrdiff_t>(first),
                                       split.begin() + static_cast<ptrdiff_t>(end));
    auto extracted = converter::extract_graphs(set, graphs, converter::FeatureForm::kAsStored);
    if (!extracted.ok()) {
      *error = extracted.error;
      return false;
    }
    batches->push_back(std::move(extracted.value));
  }
  return true;
}

bool check_fit(const BenchModel& m, const GraphSetDesc& set, std::string* error) {
  const Task task =
      m.info.task == QGNN_TASK_NODE_CLASSIFICATION ? Task::kNodeClassification : Task::kGraphClassification;
  std::string why;
  if (task != set.task) {
    why = "the model's task differs from the data set's";
  } else if (static_cast<uint32_t>(set.feature_dim) != m.info.input_dim) {
    why = "the model takes " + std::to_string(m.info.input_dim) + " features per node, the data set has " +
          std::to_string(set.feature_dim);
  }
  if (why.empty()) return true;
  *error = m.path + " on data set \"" + set.name + "\": " + why;
  return false;
}

/// The batches in both feature forms, each made on first use: models that take the stored form share the
/// stored batches, the others a converted copy.
struct BatchForms {
  std::vector<GraphBatch> stored;
  std::vector<GraphBatch> converted;
  bool stored_sparse = false;

  const std::vector<GraphBatch>& get(InputForm form) {
    if ((form == InputForm::kSparse) == stored_sparse) return stored;
    if (converted.empty()) {
      converted = stored;
      for (GraphBatch& b : converted) convert_batch(&b, form);
    }
    return converted;
  }
};

/// Everything one model needs during the timed loop besides its session, allocated before it.
struct ModelRun {
  const std::vector<GraphBatch>* batches = nullptr;  ///< in the model's input form
  std::vector<std::vector<int8_t>> features_i8;      ///< per batch, for int8-input models
  StageClock clock;
  std::vector<double> invoke_us;
  std::vector<std::vector<double>> stage_us;
  std::vector<double> overhead_us;
};

bool open_session(const BenchModel& m, const GraphSetDesc& set, BatchForms* forms,
                  const qgnn_plan_limits& plan, const BenchOptions& options, ModelRun* s, ModelResult* r,
                  std::string* error) {
  if (!choose_input_form(*m.session, set, options.input, &r->input, error)) {
    *error = m.path + ": " + *error;
    return false;
  }
  s->batches = &forms->get(r->input);
  const std::vector<GraphBatch>& batches = *s->batches;
  session::Options io;
  io.threads = options.threads;
  io.spin_workers = options.spin_workers;
  io.isa = options.isa;
  const auto planned = m.session->plan(plan, io);
  if (!planned.ok()) {
    *error = m.path + ": " + planned.error;
    return false;
  }
  r->arena_bytes = m.session->arena_bytes();
  r->isa = m.session->isa();
  const size_t stages = m.info.num_layers + 2;
  s->clock.marks.resize(stages + 1);
  s->stage_us.resize(stages);
  qgnn_interpreter_set_profiler(m.session->interpreter(), mark_stage, &s->clock);
  if (m.info.input_is_int8) {
    const float* column_scales = m.session->model().InputColumnScales();
    for (const GraphBatch& b : batches) {
      std::vector<int8_t> q(b.features.size());
      for (size_t k = 0; k < q.size(); ++k) {
        const float scale =
            column_scales != nullptr ? column_scales[k % m.info.input_dim] : m.info.input_scale;
        q[k] = static_cast<int8_t>(kernels::quantize_float(b.features[k], scale, m.info.input_zero_point, 8));
      }
      s->features_i8.push_back(std::move(q));
    }
  }
  return true;
}

/// One pass over every batch; returns the summed invoke time, or a negative value on a runtime error.
double run_pass(const BenchModel& m, bool timed, ModelRun* s, std::string* error) {
  const std::vector<GraphBatch>& batches = *s->batches;
  double total = 0;
  for (size_t k = 0; k < batches.size(); ++k) {
    const GraphBatch& b = batches[k];
    const bool i8 = m.info.input_is_int8 != 0;
    const session::Result<bool> bound = bind_batch(m.session, b, i8 ? s->features_i8[k].data() : nullptr);
    if (!bound.ok()) {
      *error = m.path + ": setup of batch " + std::to_string(k) + ": " + describe(bound);
      return -1;
    }
    const Clock::time_point t0 = Clock::now();
    const session::Result<bool> invoked = m.session->invoke();
    const Clock::time_point t1 = Clock::now();
    if (!invoked.ok()) {
      *error = m.path + ": invoke of batch " + std::to_string(k) + ": " + describe(invoked);
      return -1;
    }
    const double us = us_between(t0, t1);
    total += us;
    if (!timed) continue;
    s->invoke_us.push_back(us);
    const auto& marks = s->clock.marks;
    for (size_t stage = 0; stage < s->stage_us.size(); ++stage)
      s->stage_us[stage].push_back(us_between(marks[stage], marks[stage + 1]));
    s->overhead_us.push_back(us - us_between(marks.front(), marks.back()));
  }
  return total;
}

}  // namespace

bool measure(const std::vector<BenchModel>& models, const GraphSetDesc& set, const BenchOptions& options,
             BenchResult* result, std::string* error) {
  for (const BenchModel& m : models)
    if (!check_fit(m, set, error)) return false;
  std::vector<GraphBatch> batches;
  if (!make_batches(set, options, &batches, &result->selection, error)) return false;
  // The batches in each node order the models run with, renumbered once each (not timed with the passes).
  std::map<std::string, BatchForms> forms;
  std::map<std::string, ReorderTiming> reorder_timing;
  for (const BenchModel& m : models) {
    if (forms.count(m.reorder) != 0) continue;
    qgnn_reorder_method method = QGNN_REORDER_NONE;
    if (!parse_reorder(m.reorder, &method, error)) return false;
    BatchForms& f = forms[m.reorder];
    f.stored_sparse = set.sparse_features();
    f.stored = batches;
    if (method == QGNN_REORDER_NONE) continue;
    std::vector<int32_t> perm;  // latency only: the outputs are not read, so the order is not undone
    for (GraphBatch& b : f.stored) {
      if (!reorder_batch(&b, method, &perm, &reorder_timing[m.reorder], error)) {
        *error = "--reorder " + m.reorder + ": " + *error;
        return false;
      }
    }
  }

  qgnn_plan_limits plan{1, 0, 1};
  for (const GraphBatch& b : batches) {
    plan = session::cover(plan, {b.num_nodes, b.num_edges, b.num_graphs});
    result->graphs_per_pass += b.num_graphs;
    result->nodes_per_pass += b.num_nodes;
  }
  result->plan = plan;
  result->invokes_per_pass = static_cast<uint32_t>(batches.size());
  result->models.assign(models.size(), ModelResult{});

  std::vector<std::unique_ptr<ModelRun>> runs;
  for (size_t i = 0; i < models.size(); ++i) {
    runs.push_back(std::make_unique<ModelRun>());
    result->models[i].reorder = reorder_timing[models[i].reorder];
    if (!open_session(models[i], set, &forms[models[i].reorder], plan, options, runs[i].get(),
                      &result->models[i], error))
      return false;
  }
  const size_t count = models.size();
  for (uint32_t pass = 0; pass < options.warmup + options.repeat; ++pass) {
    const bool timed = pass >= options.warmup;
    for (size_t j = 0; j < count; ++j) {
      const size_t i = (pass + j) % count;
      const double us = run_pass(models[i], timed, runs[i].get(), error);
      if (us < 0) return false;
      if (timed) result->models[i].pass_us.push_back(us);
    }
  }

  for (size_t i = 0; i < count; ++i) {
    ModelResult& r = result->models[i];
    ModelRun& s = *runs[i];
    const ModelBytes& bytes = models[i].bytes;
    double total_us = 0;
    for (double us : r.pass_us) total_us += us;
    r.graphs_per_s =
        total_us > 0 ? 1e6 * result->graphs_per_pass * static_cast<double>(r.pass_us.size()) / total_us : 0;
    r.invoke_us = summarize_latency(s.invoke_us);
    const double graphs_per_invoke =
        static_cast<double>(result->graphs_per_pass) / static_cast<double>(result->invokes_per_pass);
    r.graph_us = r.invoke_us.p50 / graphs_per_invoke;
    r.profiled_overhead_us = summarize_latency(s.overhead_us).p50;
    for (size_t stage = 0; stage < s.stage_us.size(); ++stage) {
      StageResult sr;
      if (stage == 0) {
        sr.name = "input";
        sr.kind = "Input";
      } else if (stage == s.stage_us.size() - 1) {
        sr.name = "logits";
        sr.kind = "Logits";
      } else {
        const size_t layer = stage - 1;
        sr.name =
            layer < bytes.layer_names.size() ? bytes.layer_names[layer] : "layer" + std::to_string(layer);
        sr.kind = layer < bytes.layer_kinds.size() ? bytes.layer_kinds[layer] : "";
      }
      sr.us = summarize_latency(std::move(s.stage_us[stage]));
      r.stages.push_back(std::move(sr));
    }
  }
  return true;
}

}  // namespace tools
}  // namespace qgnn
