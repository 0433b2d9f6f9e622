// qgnn-bench output: a text table per model, or one JSON object; ratios against the first model.
#ifndef QGNN_TOOLS_BENCH_REPORT_H_
#define QGNN_TOOLS_BENCH_REPORT_H_

#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/measure.h"

namespace qgnn {
namespace tools {

struct BenchReport {
  std::string data_path;
  std::string data_name;
  BenchOptions options;
  std::vector<BenchModel> models;
  BenchResult result;
};

/// Speed-ups in the report: "speedup_p50" = p50 invoke of model 0 / p50 invoke of model i (robust to the
/// preemption spikes of a shared machine), "speedup" = median_speedup of the pass totals.
/// Model 0 over model i, paired pass by pass and summarised by the median: time_0(p) / time_i(p), so a value
/// above 1 means model i is faster. 0 when there are no passes.
double median_speedup(const std::vector<double>& first_pass_us, const std::vector<double>& pass_us);

nlohmann::ordered_json bench_report_json(const BenchReport& report);
void print_bench_report_text(const BenchReport& report, std::FILE* out);

}  // namespace tools
}  // namespace qgnn

#endif  // QGNN_TOOLS_BENCH_REPORT_H_
