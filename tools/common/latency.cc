#include "common/latency.h"

#include <algorithm>
#include <cmath>

namespace qgnn {
namespace tools {
namespace {

// Nearest rank: the smallest sample with at least p percent of the samples at or below it.
double percentile(const std::vector<double>& sorted, double p) {
  const double rank = std::ceil(p / 100.0 * static_cast<double>(sorted.size()));
  const size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

}  // namespace

LatencySummary summarize_latency(std::vector<double> samples_us) {
  LatencySummary s;
  if (samples_us.empty()) return s;
  std::sort(samples_us.begin(), samples_us.end());
  s.count = samples_us.size();
  s.p50 = percentile(samples_us, 50);
  s.p99 = percentile(samples_us, 99);
  s.min = samples_us.front();
  s.max = samples_us.back();
  double sum = 0;
  for (double v : samples_us) sum += v;
  s.mean = sum / static_cast<double>(s.count);
  return s;
}

}  // namespace tools
}  // namespace qgnn
