#include "peer_report.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace qgnn {
namespace bench {
namespace {

// Issue 15's ratios, each a speedup (> 1: the first engine is faster): time(denominator) / time(numerator).
struct RatioDef {
  const char* key;
  const char* faster;  // engine key whose speed is measured
  const char* than;    // engine key it is compared with
  double target;       // 0: reported, no target
};
constexpr RatioDef kRatios[] = {
    {"fp32_vs_graphblas_fp32", "qgnn_fp32", "graphblas_fp32", 1.5},
    {"int8_vs_graphblas_fp32", "qgnn_int8", "graphblas_fp32", 4.0},
    {"int4_vs_int8", "qgnn_int4", "qgnn_int8", 1.0},
    {"int8_vs_graphblas_int32", "qgnn_int8", "graphblas_int32", 0.0},
    {"int8_vs_graphblas_int8_typecast", "qgnn_int8", "graphblas_int8_typecast", 0.0},
};

const EngineTiming* find(const GraphTiming& g, const std::string& key) {
  for (const EngineTiming& e : g.engines) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

double ratio(const GraphTiming& g, const RatioDef& def) {
  const EngineTiming* a = find(g, def.faster);
  const EngineTiming* b = find(g, def.than);
  if (a == nullptr || b == nullptr || a->rounds.empty() || b->rounds.empty()) return 0;
  return median_s(b->rounds) / median_s(a->rounds);
}

std::string time_text(double s) {
  char text[32];
  const double ms = s * 1e3;
  std::snprintf(text, sizeof text,
                ms >= 100  ? "%.0f ms"
                : ms >= 10 ? "%.1f ms"
                : ms >= 1  ? "%.2f ms"
                           : "%.3f ms",
                ms);
  return text;
}

std::string number(double v, const char* format) {
  char text[32];
  std::snprintf(text, sizeof text, format, v);
  return text;
}

std::vector<double> cpu_of(const std::vector<Sample>& samples) {
  std::vector<double> out;
  for (const Sample& s : samples) out.push_back(s.cpu_s);
  return out;
}

std::vector<double> wall_of(const std::vector<Sample>& samples) {
  std::vector<double> out;
  for (const Sample& s : samples) out.push_back(s.wall_s);
  return out;
}

}  // namespace

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

double median_s(const std::vector<Sample>& samples, bool wall) {
  std::vector<double> values;
  for (const Sample& s : samples) values.push_back(wall ? s.wall_s : s.cpu_s);
  return median(values);
}

double copy_bandwidth(const PeerRun& run) {
  const double s = median_s(run.copy);
  return s > 0 ? run.copy_bytes / s : 0;
}

std::string markdown_report(const PeerRun& run) {
  const double bandwidth = copy_bandwidth(run);
  std::string out;
  out += "Aggregation against peers: sum over in-neighbours + self, F = " + std::to_string(run.cols) +
         ", one thread, median CPU time of " + std::to_string(run.rounds) + " interleaved rounds; qgnn ISA " +
         run.isa + "; copy bandwidth (memcpy, read + write) " + number(bandwidth / 1e9, "%.1f") + " GB/s\n\n";
  if (run.graphs.empty()) return out;
  out += "| graph (n / CSR edges) |";
  std::string rule = "|---|";
  for (const EngineTiming& e : run.graphs.front().engines) {
    out += " " + e.label + " |";
    rule += "---:|";
  }
  for (const RatioDef& r : kRatios) {
    out +=
        std::string(" ") + r.key + (r.target > 0 ? " (target " + number(r.target, "%.1f") + "x)" : "") + " |";
    rule += "---:|";
  }
  out += "\n" + rule + "\n";
  for (const GraphTiming& g : run.graphs) {
    out += "| " + g.name + " (" + std::to_string(g.nodes) + " / " + std::to_string(g.edges) + ") |";
    for (const EngineTiming& e : g.engines) {
      out +=
          " " + time_text(median_s(e.rounds)) +
          (e.rounds.size() < static_cast<size_t>(run.rounds) ? " (" + std::to_string(e.rounds.size()) + " rd)"
                                                             : "") +
          " |";
    }
    for (const RatioDef& r : kRatios) out += " " + number(ratio(g, r), "%.2f") + "x |";
    out += "\n";
  }
  out +=
      "\n| graph | engine | M edges/s | GB/s (byte model) | fraction of copy bandwidth "
      "|\n|---|---|---:|---:|---:|\n";
  for (const GraphTiming& g : run.graphs) {
    for (const EngineTiming& e : g.engines) {
      const double s = median_s(e.rounds);
      out += "| " + g.name + " | " + e.label + " | " + number(g.edges / s / 1e6, "%.1f") + " | " +
             number(e.bytes / s / 1e9, "%.2f") + " | " +
             number(bandwidth > 0 ? e.bytes / s / bandwidth : 0, "%.3f") + " |\n";
    }
  }
  out += "\nChecks:";
  for (const GraphTiming& g : run.graphs) {
    for (const auto& check : g.checks) {
      out += "\n* " + g.name + ": " + check.first + ": " +
             (check.second.ok ? "ok" : "FAILED: " + check.second.message) + " (max |diff| " +
             number(check.second.max_abs_diff, "%.3g") + ")";
    }
  }
  return out + "\n";
}

std::string json_report(const PeerRun& run) {
  using nlohmann::json;
  const double bandwidth = copy_bandwidth(run);
  json root = {{"isa", run.isa},
               {"cols", run.cols},
               {"threads", 1},
               {"rounds", run.rounds},
               {"copy",
                {{"bytes", run.copy_bytes},
                 {"round_cpu_s", cpu_of(run.copy)},
                 {"round_wall_s", wall_of(run.copy)},
                 {"bytes_per_s", bandwidth}}},
               {"graphs", json::array()}};
  for (const GraphTiming& g : run.graphs) {
    json graph = {{"name", g.name},           {"nodes", g.nodes},
                  {"edges", g.edges},         {"engines", json::object()},
                  {"ratios", json::object()}, {"checks", json::array()}};
    for (const EngineTiming& e : g.engines) {
      const double s = median_s(e.rounds);
      graph["engines"][e.key] = {{"label", e.label},
                                 {"median_s", s},
                                 {"median_wall_s", median_s(e.rounds, true)},
                                 {"round_cpu_s", cpu_of(e.rounds)},
                                 {"round_wall_s", wall_of(e.rounds)},
                                 {"calls_per_round", e.calls_per_round},
                                 {"bytes", e.bytes},
                                 {"edges_per_s", g.edges / s},
                                 {"bytes_per_s", e.bytes / s},
                                 {"copy_fraction", bandwidth > 0 ? e.bytes / s / bandwidth : 0.0}};
    }
    for (const RatioDef& r : kRatios) {
      graph["ratios"][r.key] = {{"value", ratio(g, r)},
                                {"faster", r.faster},
                                {"than", r.than},
                                {"target", r.target > 0 ? json(r.target) : json(nullptr)}};
    }
    for (const auto& check : g.checks) {
      graph["checks"].push_back({{"what", check.first},
                                 {"ok", check.second.ok},
                                 {"max_abs_diff", check.second.max_abs_diff},
                                 {"message", check.second.message}});
    }
    root["graphs"].push_back(graph);
  }
  return root.dump(1) + "\n";
}

}  // namespace bench
}  // namespace qgnn
