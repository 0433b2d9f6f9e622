#include "bench/report.h"

#include <algorithm>

#include "common/selection.h"

namespace qgnn {
namespace tools {
namespace {

nlohmann::ordered_json latency_json(const LatencySummary& s) {
  return {{"p50", s.p50}, {"p99", s.p99}, {"mean", s.mean}, {"min", s.min}, {"max", s.max}};
}

double ratio(double a, double b) { return b > 0 ? a / b : 0; }

}  // namespace

double median_speedup(const std::vector<double>& first_pass_us, const std::vector<double>& pass_us) {
  std::vector<double> r;
  for (size_t p = 0; p < std::min(first_pass_us.size(), pass_us.size()); ++p)
    if (pass_us[p] > 0) r.push_back(first_pass_us[p] / pass_us[p]);
  if (r.empty()) return 0;
  std::sort(r.begin(), r.end());
  const size_t n = r.size();
  return n % 2 == 1 ? r[n / 2] : 0.5 * (r[n / 2 - 1] + r[n / 2]);
}

nlohmann::ordered_json bench_report_json(const BenchReport& report) {
  const BenchResult& res = report.result;
  nlohmann::ordered_json j;
  j["data"] = report.data_path;
  j["data_name"] = report.data_name;
  j["options"] = {{"split", report.options.split},    {"threads", report.options.threads},
                  {"batch", report.options.batch},    {"warmup", report.options.warmup},
                  {"repeat", report.options.repeat},  {"isa", report.options.isa},
                  {"input", report.options.input},    {"spin_workers", report.options.spin_workers},
                  {"reorder", report.options.reorder}};
  add_selection_json(res.selection, &j);
  j["options"]["fold"] = j["fold"];
  j.erase("fold");
  j["graphs_per_pass"] = res.graphs_per_pass;
  j["nodes_per_pass"] = res.nodes_per_pass;
  j["invokes_per_pass"] = res.invokes_per_pass;
  j["plan"] = {{"max_nodes", res.plan.max_nodes},
               {"max_edges", res.plan.max_edges},
               {"max_graphs", res.plan.max_graphs}};
  nlohmann::ordered_json models = nlohmann::ordered_json::array();
  for (size_t i = 0; i < report.models.size(); ++i) {
    const BenchModel& m = report.models[i];
    const ModelResult& r = res.models[i];
    nlohmann::ordered_json mj;
    mj["model"] = m.path;
    mj["name"] = m.info.name != nullptr ? m.info.name : "";
    mj["quantized"] = m.info.quantized != 0;
    mj["isa"] = r.isa;
    mj["input"] = input_form_name(r.input);
    mj["reorder"] = {{"method", m.reorder},
                     {"permutation_us", r.reorder.permutation_us},
                     {"apply_us", r.reorder.apply_us}};
    mj["arena_bytes"] = r.arena_bytes;
    mj["model_bytes"] = {{"total", m.bytes.total},
                         {"weights", m.bytes.weights},
                         {"quant_params", m.bytes.quant_params},
                         {"structure", m.bytes.structure}};
    mj["invoke_us"] = latency_json(r.invoke_us);
    mj["graph_us"] = r.graph_us;
    mj["graphs_per_s"] = r.graphs_per_s;
    mj["pass_us"] = r.pass_us;
    mj["profiler_overhead_us"] = r.profiled_overhead_us;
    nlohmann::ordered_json stages = nlohmann::ordered_json::array();
    for (const StageResult& s : r.stages)
      stages.push_back({{"name", s.name}, {"kind", s.kind}, {"us", latency_json(s.us)}});
    mj["stages"] = stages;
    if (i > 0) {
      const BenchModel& first = report.models[0];
      mj["vs_first"] = {
          {"speedup", median_speedup(res.models[0].pass_us, r.pass_us)},
          {"speedup_p50", ratio(res.models[0].invoke_us.p50, r.invoke_us.p50)},
          {"model_bytes", ratio(static_cast<double>(first.bytes.total), static_cast<double>(m.bytes.total))},
          {"weight_bytes",
           ratio(static_cast<double>(first.bytes.weights), static_cast<double>(m.bytes.weights))},
          {"arena_bytes",
           ratio(static_cast<double>(res.models[0].arena_bytes), static_cast<double>(r.arena_bytes))}};
    }
    models.push_back(std::move(mj));
  }
  j["models"] = models;
  return j;
}

void print_bench_report_text(const BenchReport& report, std::FILE* out) {
  const BenchResult& res = report.result;
  std::fprintf(out, "data     %s (%s): %u graph(s), %u nodes per pass in %u invoke(s)\n",
               report.data_path.c_str(), report.data_name.c_str(), res.graphs_per_pass, res.nodes_per_pass,
               res.invokes_per_pass);
  std::fprintf(out, "split    %s\n", res.selection.description.c_str());
  std::fprintf(out, "options  split %s, batch %u, threads %u%s, %u warm-up + %u timed passes, interleaved\n",
               report.options.split.c_str(), report.options.batch, report.options.threads,
               report.options.spin_workers ? " (spinning workers)" : "", report.options.warmup,
               report.options.repeat);
  for (size_t i = 0; i < report.models.size(); ++i) {
    const BenchModel& m = report.models[i];
    const ModelResult& r = res.models[i];
    std::fprintf(out, "\nmodel %zu  %s (%s, isa %s, %s input, %s node order)\n", i + 1, m.path.c_str(),
                 m.info.quantized ? "quantized" : "float", r.isa.c_str(), input_form_name(r.input),
                 m.reorder.c_str());
    if (m.reorder != "none") {
      std::fprintf(out, "  reorder  once before the passes: permutation %.1f us, applying it %.1f us\n",
                   r.reorder.permutation_us, r.reorder.apply_us);
    }
    std::fprintf(out, "  invoke   p50 %.1f us  p99 %.1f us  mean %.1f us; per graph %.2f us, %.1f graphs/s\n",
                 r.invoke_us.p50, r.invoke_us.p99, r.invoke_us.mean, r.graph_us, r.graphs_per_s);
    std::fprintf(out,
                 "  memory   arena %zu B; model %zu B = weights %zu + quant params %zu + structure %zu\n",
                 r.arena_bytes, m.bytes.total, m.bytes.weights, m.bytes.quant_params, m.bytes.structure);
    std::fprintf(out, "  %-20s %-11s %12s %12s %7s\n", "stage", "kind", "p50 us", "p99 us", "share");
    double sum = 0;
    for (const StageResult& s : r.stages) sum += s.us.p50;
    for (const StageResult& s : r.stages) {
      std::fprintf(out, "  %-20s %-11s %12.2f %12.2f %6.1f%%\n", s.name.c_str(), s.kind.c_str(), s.us.p50,
                   s.us.p99, sum > 0 ? 100.0 * s.us.p50 / sum : 0.0);
    }
    if (i > 0) {
      std::fprintf(
          out,
          "  vs model 1: %.2fx faster (p50 invoke), %.2fx (median of paired passes), model %.2fx smaller, "
          "arena %.2fx smaller\n",
          ratio(res.models[0].invoke_us.p50, r.invoke_us.p50),
          median_speedup(res.models[0].pass_us, r.pass_us),
          ratio(static_cast<double>(report.models[0].bytes.total), static_cast<double>(m.bytes.total)),
          ratio(static_cast<double>(res.models[0].arena_bytes), static_cast<double>(r.arena_bytes)));
    }
  }
}

}  // namespace tools
}  // namespace qgnn
