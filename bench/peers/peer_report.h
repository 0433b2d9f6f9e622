// The measurements of one qgnn-bench-peers run, and their two renderings: a Markdown table for people and
// JSON for scripts (scripts/bench-report).
#ifndef QGNN_BENCH_PEERS_PEER_REPORT_H_
#define QGNN_BENCH_PEERS_PEER_REPORT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "peer_check.h"

namespace qgnn {
namespace bench {

/// Seconds per call: this thread's CPU time (the figure reported) and wall-clock time.
struct Sample {
  double cpu_s = 0;
  double wall_s = 0;
};

struct EngineTiming {
  std::string key, label;
  std::vector<Sample> rounds;  ///< one per round the engine ran in
  int32_t calls_per_round = 1;
  double bytes = 0;  ///< PeerEngine::bytes()
};

struct GraphTiming {
  std::string name;
  int32_t nodes = 0;
  int64_t edges = 0;
  std::vector<EngineTiming> engines;
  std::vector<std::pair<std::string, CheckResult>> checks;  ///< what was compared, and the outcome
};

struct PeerRun {
  std::string isa;
  int32_t cols = 0;
  int32_t rounds = 0;
  double copy_bytes = 0;     ///< bytes one copy round moves (read + write, STREAM's convention)
  std::vector<Sample> copy;  ///< one copy per round, over all graphs
  std::vector<GraphTiming> graphs;
};

double median(std::vector<double> values);
/// Median CPU seconds per call (wall = true: wall-clock seconds).
double median_s(const std::vector<Sample>& samples, bool wall = false);

/// Median copy bandwidth in bytes/s (CPU time).
double copy_bandwidth(const PeerRun& run);

/// Markdown: one table of medians and target ratios, one of edges/s, bytes/s and the fraction of copy
/// bandwidth.
std::string markdown_report(const PeerRun& run);

/// JSON (see docs/benchmarks.md, "Aggregation against peers", for the fields).
std::string json_report(const PeerRun& run);

}  // namespace bench
}  // namespace qgnn

#endif  // QGNN_BENCH_PEERS_PEER_REPORT_H_
