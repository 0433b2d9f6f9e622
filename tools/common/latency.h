// Latency statistics of repeated invokes.
#ifndef QGNN_TOOLS_COMMON_LATENCY_H_
#define QGNN_TOOLS_COMMON_LATENCY_H_

#include <cstddef>
#include <vector>

namespace qgnn {
namespace tools {

struct LatencySummary {
  size_t count = 0;
  double p50 = 0, p99 = 0, mean = 0, min = 0, max = 0;  ///< microseconds
};

/// Nearest-rank percentiles (p50, p99) plus mean/min/max of `samples_us`; all zero when empty.
LatencySummary summarize_latency(std::vector<double> samples_us);

}  // namespace tools
}  // namespace qgnn

#endif  // QGNN_TOOLS_COMMON_LATENCY_H_
