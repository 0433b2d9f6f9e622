// Input quantization (quantize_rows) of Cora-sized float features, 2708 x 1433: the first op of every
// quantized model with float input, which the FP32 path does not have. Items processed = elements.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "kernel_data.h"
#include "qgnn/kernels/kernel_table.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace bench {
namespace {

void BM_QuantizeRows(benchmark::State& state) {
  const int bits = static_cast<int>(state.range(0));
  const int32_t rows = kCoraNodes;
  const int32_t cols = static_cast<int32_t>(state.range(1));
  Rng rng(0x0DA7Au);
  const std::vector<float> x = random_floats(static_cast<size_t>(rows) * cols, 0.0f, 1.0f, rng);
  std::vector<uint8_t> y(kernels::row_bytes(static_cast<size_t>(cols), bits) * static_cast<size_t>(rows));
  uint8_t* out = y.data();
  const float scale = 1.0f / static_cast<float>((1 << bits) - 1);
  const kernels::QActivation output{out, bits, kernels::qmin(bits)};
  for (auto _ : state) {
    kernels::quantize_rows(x.data(), cols, scale, nullptr, output, 0, rows);
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(rows) * cols);
}
BENCHMARK(BM_QuantizeRows)
    ->ArgNames({"bits", "F"})
    ->Args({8, 1433})
    ->Args({4, 1433})
    ->Unit(benchmark::kMicrosecond);

/// The same through an ISA's kernel table (isa: the kernels::Isa value; skipped where unavailable).
void BM_QuantizeRowsIsa(benchmark::State& state) {
  const kernels::KernelTable* table = kernels::kernels_for(static_cast<kernels::Isa>(state.range(2)));
  if (table == nullptr) {
    state.SkipWithError("ISA not available in this build / on this CPU");
    return;
  }
  const int bits = static_cast<int>(state.range(0));
  const int32_t rows = kCoraNodes;
  const int32_t cols = static_cast<int32_t>(state.range(1));
  Rng rng(0x0DA7Au);
  const std::vector<float> x = random_floats(static_cast<size_t>(rows) * cols, 0.0f, 1.0f, rng);
  std::vector<uint8_t> y(kernels::row_bytes(static_cast<size_t>(cols), bits) * static_cast<size_t>(rows));
  uint8_t* out = y.data();
  const float scale = 1.0f / static_cast<float>((1 << bits) - 1);
  const kernels::QActivation output{out, bits, kernels::qmin(bits)};
  for (auto _ : state) {
    table->quantize_rows(x.data(), cols, scale, nullptr, output, 0, rows);
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(rows) * cols);
}
BENCHMARK(BM_QuantizeRowsIsa)
    ->ArgNames({"bits", "F", "isa"})
    ->ArgsProduct({{8, 4}, {1433}, {1, 2}})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace bench
}  // namespace qgnn
