// Neighbourhood aggregation over the random Cora-sized graph (2708 nodes, 10556 CSR edges), every mode,
// FP32 vs int8 vs int4 (input and output of the same width). Items processed = CSR edges * features
// (GCN's implicit self-loops and GIN's self term come on top and are not counted). gcn_bias_relu is kGcn
// with a transform-first layer's per-column bias and fused ReLU (AggregateParams::bias / relu).
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

/// GIN's self term (1 + eps) with eps = 0: kSum is only used by GINConv, always with its self term.
constexpr int32_t kGinSelfWeightQ16 = 65536;
constexpr float kGinSelfWeight = 1.0f;

void run_f32(benchmark::State& state, AggregateMode mode, int32_t cols, const kernels::KernelTable* table) {
  const CsrData& g = cora_sized_graph();
  Rng rng(0xA66F32u);
  const std::vector<float> x = random_floats(static_cast<size_t>(g.num_nodes) * cols, -1.0f, 1.0f, rng);
  std::vector<float> y(x.size());
  float* out = y.data();
  const float self_weight = mode == AggregateMode::kSum ? kGinSelfWeight : 0.0f;
  for (auto _ : state) {
    table->aggregate_f32(view(g), mode, x.data(), cols, self_weight, out, 0, g.num_nodes);
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
}

void run_quantized(benchmark::State& state, AggregateMode mode, bool bias_relu, int bits, int32_t cols,
                   const kernels::KernelTable* table) {
  const CsrData& g = cora_sized_graph();
  Rng rng(0xA660u + static_cast<uint32_t>(bits));
  const std::vector<uint8_t> x = random_activation(g.num_nodes, cols, bits, rng);
  std::vector<uint8_t> y(x.size());
  uint8_t* out = y.data();
  // GCN's Q15 normalisation factors come from their own kernel (see BM_GcnNorm), run before aggregate.
  std::vector<int32_t> norm(static_cast<size_t>(g.num_nodes));
  kernels::gcn_norm(view(g), norm.data(), 0, g.num_nodes);
  const kernels::Rescale rq = rescale_for(mode == AggregateMode::kSum ? 0.5 : 1.0);
  const int32_t self_weight_q16 = mode == AggregateMode::kSum ? kGinSelfWeightQ16 : 0;
  const kernels::QActivationConst in{x.data(), bits, /*zero_point=*/-1};
  const kernels::QActivation output{out, bits, /*zero_point=*/0};
  std::vector<int32_t> bias(static_cast<size_t>(cols));
  for (auto& b : bias) b = rng.between(-100, 100);
  kernels::AggregateParams params{mode, rq, self_weight_q16, norm.data()};
  params.bias = bias_relu ? bias.data() : nullptr;
  params.relu = bias_relu;
  for (auto _ : state) {
    table->aggregate(view(g), params, in, cols, output, 0, g.num_nodes);
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
}

/// bits: 0 = FP32, else 8 or 4; run through `table` (the reference table: the portable kernels).
void BM_Aggregate(benchmark::State& state, AggregateMode mode, bool bias_relu, int bits,
                  const kernels::KernelTable* table) {
  const int32_t cols = static_cast<int32_t>(state.range(0));
  if (bits == 0) {
    run_f32(state, mode, cols, table);
  } else {
    run_quantized(state, mode, bias_relu, bits, cols, table);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(cora_sized_graph().num_edges()) * cols);
}

void BM_GcnNorm(benchmark::State& state) {
  const CsrData& g = cora_sized_graph();
  std::vector<int32_t> norm(static_cast<size_t>(g.num_nodes));
  int32_t* out = norm.data();
  for (auto _ : state) {
    kernels::gcn_norm(view(g), out, 0, g.num_nodes);
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * g.num_nodes);
}
BENCHMARK(BM_GcnNorm)->Unit(benchmark::kMicrosecond);

// BM_Aggregate/<mode>/<f32|int8|int4>[/isa:<name>]/F:<features>, grouped by mode so the widths sit together.
// F:7 and F:16 are a transform-first Cora GCN's two aggregations (1433 -> 16 -> 7), F:64 a wide layer.
[[maybe_unused]] const bool kRegistered = [] {
  const struct {
    const char* name;
    AggregateMode mode;
    bool bias_relu;
  } modes[] = {{"sum", AggregateMode::kSum, false},
               {"mean", AggregateMode::kMean, false},
               {"max", AggregateMode::kMax, false},
               {"gcn", AggregateMode::kGcn, false},
               {"gcn_bias_relu", AggregateMode::kGcn, true}};
  const struct {
    const char* name;
    int bits;
  } widths[] = {{"f32", 0}, {"int8", 8}, {"int4", 4}};
  for (const auto& m : modes) {
    for (const auto& w : widths) {
      for (const kernels::KernelTable* table : isa_tables()) {
        if (w.bits == 0 && m.bias_relu) continue;  // the float path fuses them in its dense
        const std::string name = std::string("BM_Aggregate/") + m.name + "/" + w.name + isa_suffix(table);
        benchmark::RegisterBenchmark(name.c_str(), BM_Aggregate, m.mode, m.bias_relu, w.bits, table)
            ->ArgName("F")
            ->Arg(7)
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
