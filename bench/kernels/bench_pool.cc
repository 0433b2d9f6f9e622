// Global pooling of a batch of 150 molecule-sized graphs (18 nodes each, 2700 nodes in all), sum / mean /
// max, FP32 vs int8 vs int4. Items processed = nodes * features.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "isa_tables.h"
#include "kernel_data.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace bench {
namespace {

using kernels::AggregateMode;

constexpr int32_t kGraphs = 150;
constexpr int32_t kNodesPerGraph = 18;

/// Only graph_ptr matters to pooling; the edges are those of MUTAG-like molecules anyway.
const CsrData& batch() {
  static const CsrData g = molecule_batch(kGraphs, kNodesPerGraph, /*undirected_edges=*/20, /*seed=*/188);
  return g;
}

void run_f32(benchmark::State& state, AggregateMode mode, int32_t cols) {
  const CsrData& g = batch();
  Rng rng(0x9001F32u);
  const std::vector<float> x = random_floats(static_cast<size_t>(g.num_nodes) * cols, -1.0f, 1.0f, rng);
  std::vector<float> y(static_cast<size_t>(g.num_graphs()) * cols);
  float* out = y.data();
  for (auto _ : state) {
    kernels::global_pool_f32(g.graph_ptr.data(), mode, x.data(), cols, out, 0, g.num_graphs());
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
}

void run_quantized(benchmark::State& state, AggregateMode mode, int bits, int32_t cols,
                   const kernels::KernelTable* table) {
  const CsrData& g = batch();
  Rng rng(0x9001u + static_cast<uint32_t>(bits));
  const std::vector<uint8_t> x = random_activation(g.num_nodes, cols, bits, rng);
  std::vector<uint8_t> y(kernels::row_bytes(static_cast<size_t>(cols), bits) *
                         static_cast<size_t>(g.num_graphs()));
  uint8_t* out = y.data();
  const kernels::Rescale rq = rescale_for(mode == AggregateMode::kSum ? 0.25 : 1.0);
  const kernels::QActivationConst in{x.data(), bits, /*zero_point=*/-2};
  const kernels::QActivation output{out, bits, /*zero_point=*/0};
  for (auto _ : state) {
    table->global_pool(g.graph_ptr.data(), mode, in, cols, rq, output, 0, g.num_graphs());
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
}

/// bits: 0 = FP32, else 8 or 4 (run through `table`).
void BM_GlobalPool(benchmark::State& state, AggregateMode mode, int bits, const kernels::KernelTable* table) {
  const int32_t cols = static_cast<int32_t>(state.range(0));
  if (bits == 0) {
    run_f32(state, mode, cols);
  } else {
    run_quantized(state, mode, bits, cols, table);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(batch().num_nodes) * cols);
}

// BM_GlobalPool/<mode>/<f32|int8|int4>[/isa:<name>]/F:<features>.
[[maybe_unused]] const bool kRegistered = [] {
  const struct {
    const char* name;
    AggregateMode mode;
  } modes[] = {{"sum", AggregateMode::kSum}, {"mean", AggregateMode::kMean}, {"max", AggregateMode::kMax}};
  const struct {
    const char* name;
    int bits;
  } widths[] = {{"f32", 0}, {"int8", 8}, {"int4", 4}};
  for (const auto& m : modes) {
    for (const auto& w : widths) {
      for (const kernels::KernelTable* table : isa_tables()) {
        if (w.bits == 0 && table->isa != kernels::Isa::kReference) continue;  // no float twins
        const std::string name = std::string("BM_GlobalPool/") + m.name + "/" + w.name + isa_suffix(table);
        benchmark::RegisterBenchmark(name.c_str(), BM_GlobalPool, m.mode, w.bits, table)
            ->ArgName("F")
            ->Arg(16)
            ->Arg(64)
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
  return true;
}();

}  // namespace
}  // namespace bench
}  // namespace qgnn
