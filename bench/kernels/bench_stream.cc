// STREAM-like copy and triad (McCalpin's kernels) on this machine, one thread, the bandwidth roofline the
// SpMM benchmarks are compared with. Bytes follow STREAM's convention: copy moves 2 x 4 B per element
// (read b, write a), triad 3 x 4 B (read b and c, write a); write-allocate traffic is not counted.
// Array sizes span L2 (256 KiB), L3 (8 MiB) and memory (256 MiB per array, 8x the 32 MiB L3).
// BM_StreamCopy/bytes:<bytes per array>, BM_StreamTriad/bytes:<bytes per array>; counter bytes_per_s.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace qgnn {
namespace bench {
namespace {

void BM_StreamCopy(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0)) / sizeof(float);
  std::vector<float> a(n, 0.0f), b(n, 1.0f);
  float* pa = a.data();
  const float* pb = b.data();
  for (auto _ : state) {
    for (size_t i = 0; i < n; ++i) pa[i] = pb[i];
    benchmark::DoNotOptimize(pa);
    benchmark::ClobberMemory();
  }
  state.counters["bytes_per_s"] = benchmark::Counter(2.0 * static_cast<double>(n) * sizeof(float),
                                                     benchmark::Counter::kIsIterationInvariantRate);
}

void BM_StreamTriad(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0)) / sizeof(float);
  std::vector<float> a(n, 0.0f), b(n, 1.0f), c(n, 2.0f);
  float* pa = a.data();
  const float* pb = b.data();
  const float* pc = c.data();
  const float s = 3.0f;
  for (auto _ : state) {
    for (size_t i = 0; i < n; ++i) pa[i] = pb[i] + s * pc[i];
    benchmark::DoNotOptimize(pa);
    benchmark::ClobberMemory();
  }
  state.counters["bytes_per_s"] = benchmark::Counter(3.0 * static_cast<double>(n) * sizeof(float),
                                                     benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_StreamCopy)->ArgName("bytes")->Arg(256 << 10)->Arg(8 << 20)->Arg(256 << 20)->UseRealTime();
BENCHMARK(BM_StreamTriad)->ArgName("bytes")->Arg(256 << 10)->Arg(8 << 20)->Arg(256 << 20)->UseRealTime();

}  // namespace
}  // namespace bench
}  // namespace qgnn
