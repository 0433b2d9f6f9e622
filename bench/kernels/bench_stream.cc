// STREAM-like copy and triad (McCalpin's kernels) on this machine, one thread, the bandwidth roofline the
// SpMM benchmarks are compared with. Bytes follow STREAM's convention: copy moves 2 x 4 B per element
// (read b, write a), triad 3 x 4 B (read b and c, write a); write-allocate traffic is not counted.
// Array sizes span L2 (256 KiB), L3 (8 MiB) and memory (256 MiB per array, 8x the 32 MiB L3).
// BM_StreamCopy/bytes:<bytes per array>, BM_StreamTriad/bytes:<bytes per array>; counter bytes_per_s.
// BM_StreamRead reads one array (an OR of its words, which the compiler may vectorise, unlike a float sum):
// the floor of a kernel that must read its input once, e.g. Cora's 2,708 x 1,433 float features (15.5 MB,
// the 15,522,256-byte size: held in the 32 MiB L3 when read again and again, as a benchmark loop does).
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

// 16-byte vectors (GCC / Clang vector extensions: SSE2 on x86-64, NEON on arm64, both baseline) and four
// independent accumulators, so the loop issues two loads per cycle: a scalar OR loop reads at a fraction of
// what a SIMD kernel reads (measured 29 GB/s against ~100 GB/s from L3 on the Zen 5 development machine).
void BM_StreamRead(benchmark::State& state) {
  typedef uint32_t Vec __attribute__((vector_size(16)));
  const size_t n = static_cast<size_t>(state.range(0)) / sizeof(Vec);
  std::vector<Vec> a(n);
  for (Vec& v : a) v = Vec{1u, 1u, 1u, 1u};
  const Vec* pa = a.data();
  for (auto _ : state) {
    Vec acc0{}, acc1{}, acc2{}, acc3{};
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      acc0 |= pa[i];
      acc1 |= pa[i + 1];
      acc2 |= pa[i + 2];
      acc3 |= pa[i + 3];
    }
    for (; i < n; ++i) acc0 |= pa[i];
    const Vec acc = acc0 | acc1 | acc2 | acc3;
    benchmark::DoNotOptimize(acc);
  }
  state.counters["bytes_per_s"] = benchmark::Counter(static_cast<double>(n) * sizeof(Vec),
                                                     benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_StreamCopy)->ArgName("bytes")->Arg(256 << 10)->Arg(8 << 20)->Arg(256 << 20)->UseRealTime();
BENCHMARK(BM_StreamTriad)->ArgName("bytes")->Arg(256 << 10)->Arg(8 << 20)->Arg(256 << 20)->UseRealTime();
BENCHMARK(BM_StreamRead)->ArgName("bytes")->Arg(2708 * 1433 * 4)->Arg(256 << 20)->UseRealTime();

}  // namespace
}  // namespace bench
}  // namespace qgnn
