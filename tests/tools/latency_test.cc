#include "common/latency.h"

#include <gtest/gtest.h>

namespace qgnn {
namespace tools {
namespace {

TEST(Latency, EmptyIsZero) {
  const LatencySummary s = summarize_latency({});
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.p50, 0.0);
  EXPECT_EQ(s.p99, 0.0);
}

TEST(Latency, NearestRankPercentiles) {
  std::vector<double> samples;
  for (int i = 100; i >= 1; --i) samples.push_back(i);  // unsorted on purpose
  const LatencySummary s = summarize_latency(samples);
  EXPECT_EQ(s.count, 100u);
  EXPECT_EQ(s.p50, 50.0);
  EXPECT_EQ(s.p99, 99.0);
  EXPECT_EQ(s.min, 1.0);
  EXPECT_EQ(s.max, 100.0);
  EXPECT_DOUBLE_EQ(s.mean, 50.5);
}

TEST(Latency, SingleAndSmallSamples) {
  EXPECT_EQ(summarize_latency({7.0}).p99, 7.0);
  const LatencySummary s = summarize_latency({3.0, 1.0, 2.0});
  EXPECT_EQ(s.p50, 2.0);
  EXPECT_EQ(s.p99, 3.0);
}

}  // namespace
}  // namespace tools
}  // namespace qgnn
