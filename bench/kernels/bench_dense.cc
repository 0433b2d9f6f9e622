// Dense update y = relu(x W^T + b) over M rows: FP32 vs the quantized reference kernel with int8 or int4
// weights and activations. Items processed = M * K * N multiply-accumulates.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "isa_tables.h"
#include "kernel_data.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace bench {
namespace {

struct DenseVariant {
  int weight_bits;      ///< 0: FP32
  int activation_bits;  ///< input and output activations
};

constexpr DenseVariant kF32{0, 0};
constexpr DenseVariant kW8A8{8, 8};
constexpr DenseVariant kW4A8{4, 8};
constexpr DenseVariant kW4A4{4, 4};

void run_f32(benchmark::State& state, int32_t m, int32_t k, int32_t n) {
  Rng rng(0xD0E5F32u);
  const std::vector<float> x = random_floats(static_cast<size_t>(m) * k, -1.0f, 1.0f, rng);
  const float bound = 1.0f / std::sqrt(static_cast<float>(k));
  const std::vector<float> w = random_floats(static_cast<size_t>(n) * k, -bound, bound, rng);
  const std::vector<float> bias = random_floats(static_cast<size_t>(n), -bound, bound, rng);
  std::vector<float> y(static_cast<size_t>(m) * n);
  float* out = y.data();
  for (auto _ : state) {
    kernels::dense_f32(x.data(), k, w.data(), bias.data(), nullptr, /*relu=*/true, out, n, 0, m);
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
}

void run_quantized(benchmark::State& state, DenseVariant v, int32_t m, int32_t k, int32_t n,
                   const kernels::KernelTable* table) {
  Rng rng(0xD0E5u + static_cast<uint32_t>(v.weight_bits * 16 + v.activation_bits));
  const int a = v.activation_bits;
  const std::vector<uint8_t> x = random_activation(m, k, a, rng);
  const std::vector<uint8_t> w = random_weights(n, k, v.weight_bits, rng);
  const std::vector<int32_t> bias = random_ints(static_cast<size_t>(n), -1000, 1000, rng);
  // Rescale so the outputs spread over their range instead of saturating.
  const double acc_spread =
      std::sqrt(static_cast<double>(k)) * kernels::qmax(a) * kernels::qmax(v.weight_bits);
  const ChannelRescaleData rq(n, kernels::qmax(a) / acc_spread);
  std::vector<uint8_t> y(kernels::row_bytes(static_cast<size_t>(n), a) * static_cast<size_t>(m));
  uint8_t* out = y.data();
  const kernels::QActivationConst in{x.data(), a, /*zero_point=*/-3};
  const kernels::QWeights weights{w.data(), v.weight_bits};
  const kernels::QActivation output{out, a, /*zero_point=*/-5};
  for (auto _ : state) {
    table->dense(in, k, weights, bias.data(), rq.view(), nullptr, /*relu=*/true, output, n, 0, m);
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
}

void BM_Dense(benchmark::State& state, DenseVariant v, const kernels::KernelTable* table) {
  const int32_t m = static_cast<int32_t>(state.range(0));
  const int32_t k = static_cast<int32_t>(state.range(1));
  const int32_t n = static_cast<int32_t>(state.range(2));
  if (v.weight_bits == 0) {
    run_f32(state, m, k, n);
  } else {
    run_quantized(state, v, m, k, n, table);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(m) * k * n);  // MACs
}

// M = Cora's node count; K = a GCN's input width (1433) and hidden widths; N = hidden widths.
void dense_shapes(benchmark::internal::Benchmark* b) {
  b->ArgsProduct({{kCoraNodes}, {16, 64, 1433}, {16, 64}})->ArgNames({"M", "K", "N"});
  b->Unit(benchmark::kMicrosecond);
}

// BM_Dense/<f32|w8a8|w4a8|w4a4>[/isa:<name>]/M:/K:/N:, the quantized variants once per kernel table.
[[maybe_unused]] const bool kRegistered = [] {
  const struct {
    const char* name;
    DenseVariant variant;
  } variants[] = {{"f32", kF32}, {"w8a8", kW8A8}, {"w4a8", kW4A8}, {"w4a4", kW4A4}};
  for (const auto& v : variants) {
    for (const kernels::KernelTable* table : isa_tables()) {
      if (v.variant.weight_bits == 0 && table->isa != kernels::Isa::kReference) continue;  // no float twins
      const std::string name = std::string("BM_Dense/") + v.name + isa_suffix(table);
      benchmark::RegisterBenchmark(name.c_str(), BM_Dense, v.variant, table)->Apply(dense_shapes);
    }
  }
  return true;
}();

}  // namespace
}  // namespace bench
}  // namespace qgnn
