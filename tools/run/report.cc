#include "run/report.h"

#include "common/selection.h"

namespace qgnn {
namespace tools {
namespace {

nlohmann::ordered_json latency_json(const LatencySummary& s) {
  return {{"p50", s.p50}, {"p99", s.p99}, {"mean", s.mean}, {"min", s.min}, {"max", s.max}};
}

bool node_task(const RunResult& r) { return r.task == converter::Task::kNodeClassification; }

}  // namespace

nlohmann::ordered_json run_report_json(const RunReport& rep) {
  const RunResult& r = rep.result;
  nlohmann::ordered_json j;
  j["model"] = rep.model_path;
  j["model_name"] = rep.model_name;
  j["model_bytes"] = rep.model_bytes;
  j["quantized"] = rep.quantized;
  j["data"] = rep.data_path;
  j["data_name"] = rep.data_name;
  j["task"] = node_task(r) ? "node_classification" : "graph_classification";
  j["split"] = rep.options.split;
  add_selection_json(r.selection, &j);
  j["warning"] = rep.warning.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(rep.warning);
  j["threads"] = rep.options.threads;
  j["isa"] = r.isa;
  j["input"] = input_form_name(r.input);
  j["reorder"] = {{"method", rep.options.reorder},
                  {"permutation_us", r.reorder.permutation_us},
                  {"apply_us", r.reorder.apply_us}};
  j["batch"] = node_task(r) ? 1u : rep.options.batch;
  j["repeat"] = rep.options.repeat;
  j["graphs"] = r.graphs;
  j["nodes"] = r.nodes;
  j["evaluated"] = r.evaluated;
  j["correct"] = r.correct;
  j["accuracy"] =
      r.has_labels && r.evaluated > 0
          ? nlohmann::ordered_json(static_cast<double>(r.correct) / static_cast<double>(r.evaluated))
          : nlohmann::ordered_json(nullptr);
  j["predicted_per_class"] = r.has_labels ? nlohmann::ordered_json(r.predicted_per_class)
                                          : nlohmann::ordered_json(nullptr);
  j["invokes"] = r.invokes;
  j["latency_us"] = latency_json(r.invoke_us);
  j["setup_us"] = latency_json(r.setup_us);
  j["plan"] = {{"nodes", r.plan.max_nodes}, {"edges", r.plan.max_edges}, {"graphs", r.plan.max_graphs}};
  j["arena_bytes"] = r.arena_bytes;
  j["outputs_sha256"] = r.outputs_sha256;
  j["outputs_deterministic"] = r.outputs_deterministic;
  return j;
}

void print_run_report_text(const RunReport& rep, std::FILE* out) {
  const RunResult& r = rep.result;
  std::fprintf(out, "model     %s (%s, %s, %zu bytes)\n", rep.model_path.c_str(),
               rep.model_name.empty() ? "unnamed" : rep.model_name.c_str(),
               rep.quantized ? "quantized" : "float32", rep.model_bytes);
  if (node_task(r)) {
    std::fprintf(out, "data      %s (%s): node classification, %s scored of %u\n", rep.data_path.c_str(),
                 rep.data_name.c_str(), r.selection.description.c_str(), r.nodes);
    std::fprintf(
        out,
        "run       %u thread(s), %s kernels, %s input, whole graph per invoke, %u pass(es): %llu invokes\n",
        rep.options.threads, r.isa.c_str(), input_form_name(r.input), rep.options.repeat,
        static_cast<unsigned long long>(r.invokes));
  } else {
    std::fprintf(out, "data      %s (%s): graph classification, %s\n", rep.data_path.c_str(),
                 rep.data_name.c_str(), r.selection.description.c_str());
    std::fprintf(out,
                 "run       %u thread(s), %s kernels, %s input, %u graph(s) per invoke, %u pass(es): %llu "
                 "invokes\n",
                 rep.options.threads, r.isa.c_str(), input_form_name(r.input), rep.options.batch,
                 rep.options.repeat, static_cast<unsigned long long>(r.invokes));
  }
  if (r.has_labels && r.evaluated > 0) {
    std::fprintf(out, "accuracy  %.4f (%llu / %llu)\n",
                 static_cast<double>(r.correct) / static_cast<double>(r.evaluated),
                 static_cast<unsigned long long>(r.correct), static_cast<unsigned long long>(r.evaluated));
    std::fprintf(out, "predicted");
    for (size_t c = 0; c < r.predicted_per_class.size(); ++c)
      std::fprintf(out, "%s class %zu: %llu", c == 0 ? "" : ",", c,
                   static_cast<unsigned long long>(r.predicted_per_class[c]));
    std::fprintf(out, "\n");
  } else {
    std::fprintf(out, "accuracy  n/a (no labels)\n");
  }
  std::fprintf(
      out,
      "latency   p50 %.1f us, p99 %.1f us per invoke (mean %.1f, min %.1f, max %.1f); setup p50 %.1f us\n",
      r.invoke_us.p50, r.invoke_us.p99, r.invoke_us.mean, r.invoke_us.min, r.invoke_us.max, r.setup_us.p50);
  if (rep.options.reorder != "none") {
    std::fprintf(out, "reorder   %s once at setup: permutation %.1f us, applying it %.1f us (all batches)\n",
                 rep.options.reorder.c_str(), r.reorder.permutation_us, r.reorder.apply_us);
  }
  std::fprintf(out,
               "memory    arena %zu bytes (planned for %u nodes, %u edges, %u graph(s)), model %zu bytes\n",
               r.arena_bytes, r.plan.max_nodes, r.plan.max_edges, r.plan.max_graphs, rep.model_bytes);
  std::fprintf(out, "outputs   sha256 %s%s\n", r.outputs_sha256.c_str(),
               r.outputs_deterministic ? "" : "  (WARNING: differs between passes)");
}

}  // namespace tools
}  // namespace qgnn
