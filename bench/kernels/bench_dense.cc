// Dense update y = relu(x W^T + b) over M rows: FP32 vs the quantized kernels with int8 or int4 weights and
// activations, the SIMD twins over weights packed once before the loop (KernelTable::dense_pack, as the
// runtime does at interpreter creation). Items processed = M * K * N multiply-accumulates.
//
// BM_Gemm: the GEMM of a dense update at batch M = 10000 for K, N in {64, 128, 256}, every backend on one
// thread: qgnn INT8 (w8a8) and INT4 weights (w4a8) per kernel table, XNNPACK qs8 (fully connected, one weight
// scale) and qc8 (1x1 convolution, per-channel scales, what our per-channel weights need), XNNPACK f32 and
// the reference f32. Counter GOPS = 2 * M * K * N / time / 1e9. Compare ratios within one run only.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "isa_tables.h"
#include "kernel_data.h"
#include "qgnn/kernels/reference.h"
#include "qgnn/xnnpack/xnnpack.h"

namespace qgnn {
namespace bench {
namespace {

struct DenseVariant {
  int weight_bits;      ///< 0: FP32
  int activation_bits;  ///< input and output activations
  bool plain = false;   ///< run from the plain weights even where the table packs (the unpacked twin)
};

constexpr DenseVariant kF32{0, 0};
constexpr DenseVariant kW8A8{8, 8};
constexpr DenseVariant kW4A8{4, 8};
constexpr DenseVariant kW4A4{4, 4};

/// The weights packed once by the table, as the runtime does at interpreter creation (empty where the
/// table runs from the plain weights). 8-byte elements keep the memory at least 16-byte aligned.
struct PackedWeights {
  std::vector<uint64_t> storage;
  kernels::QWeights weights;
  PackedWeights(const kernels::KernelTable* table, kernels::QWeights plain, int32_t k, int32_t n,
                const int32_t* bias, kernels::ChannelRescale rq)
      : weights(plain) {
    const size_t bytes = table->dense_packed_bytes(k, n, plain.bits);
    if (bytes == 0) return;
    storage.resize(bytes / sizeof(uint64_t) + 1);
    table->dense_pack(plain, k, n, bias, rq, storage.data());
    weights.packed = storage.data();
  }
};

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
  const kernels::QWeights plain{w.data(), v.weight_bits};
  const PackedWeights packed(table, plain, k, n, bias.data(), rq.view());
  const kernels::QWeights weights = v.plain ? plain : packed.weights;
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

// MUTAG-size updates (one graph of ~18 nodes per invoke, widths 7 -> 64 -> 64): per-call overheads dominate.
void small_dense_shapes(benchmark::internal::Benchmark* b) {
  b->Args({18, 7, 64})->Args({18, 64, 64})->Args({1, 64, 64})->ArgNames({"M", "K", "N"});
  b->Unit(benchmark::kNanosecond);
}

// BM_DenseSmall/<f32|w8a8|w4a8|w4a4>[/isa:<name>][/plain]/M:/K:/N:, the quantized variants once per kernel
// table over packed weights (where the table packs), and once more over the plain weights ("/plain").
[[maybe_unused]] const bool kSmallRegistered = [] {
  const struct {
    const char* name;
    DenseVariant variant;
  } variants[] = {{"f32", kF32}, {"w8a8", kW8A8}, {"w4a8", kW4A8}, {"w4a4", kW4A4}};
  for (const auto& v : variants) {
    for (const kernels::KernelTable* table : isa_tables()) {
      if (v.variant.weight_bits == 0 && table->isa != kernels::Isa::kReference) continue;  // no float twins
      const std::string name = std::string("BM_DenseSmall/") + v.name + isa_suffix(table);
      benchmark::RegisterBenchmark(name.c_str(), BM_Dense, v.variant, table)->Apply(small_dense_shapes);
      if (v.variant.weight_bits != 0 && table->dense_packed_bytes(64, 64, v.variant.weight_bits) > 0) {
        DenseVariant plain = v.variant;
        plain.plain = true;
        benchmark::RegisterBenchmark((name + "/plain").c_str(), BM_Dense, plain, table)
            ->Apply(small_dense_shapes);
      }
    }
  }
  return true;
}();

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

// ---- BM_Gemm ----------------------------------------------------------------------------------------------

constexpr int32_t kGemmBatch = 10000;

enum class GemmImpl { kQgnnW8A8, kQgnnW4A8, kXnnQs8, kXnnQc8, kXnnF32, kReferenceF32 };

void set_gops(benchmark::State& state, int32_t m, int32_t k, int32_t n) {
  state.counters["GOPS"] =
      benchmark::Counter(2.0 * static_cast<double>(m) * k * n * static_cast<double>(state.iterations()) / 1e9,
                         benchmark::Counter::kIsRate);
}

void gemm_qgnn(benchmark::State& state, int weight_bits, const kernels::KernelTable* table, int32_t m,
               int32_t k, int32_t n) {
  Rng rng(0x6E33u + static_cast<uint32_t>(weight_bits));
  const std::vector<uint8_t> x = random_activation(m, k, 8, rng);
  const std::vector<uint8_t> w = random_weights(n, k, weight_bits, rng);
  const std::vector<int32_t> bias = random_ints(static_cast<size_t>(n), -1000, 1000, rng);
  const double acc_spread = std::sqrt(static_cast<double>(k)) * 127.0 * kernels::qmax(weight_bits);
  const ChannelRescaleData rq(n, 127.0 / acc_spread);
  std::vector<uint8_t> y(static_cast<size_t>(m) * n);
  const kernels::QActivationConst in{x.data(), 8, -3};
  const kernels::QActivation out{y.data(), 8, -5};
  const PackedWeights packed(table, kernels::QWeights{w.data(), weight_bits}, k, n, bias.data(), rq.view());
  for (auto _ : state) {
    table->dense(in, k, packed.weights, bias.data(), rq.view(), nullptr, true, out, n, 0, m);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
}

void gemm_xnn_q8(benchmark::State& state, xnnpack::GemmQ8::Kind kind, int32_t m, int32_t k, int32_t n) {
  Rng rng(0x6E38u);
  std::vector<uint8_t> x = random_activation(m, k, 8, rng);
  x.resize(x.size() + xnnpack::kExtraInputBytes);
  const std::vector<uint8_t> w = random_weights(n, k, 8, rng);
  const std::vector<int32_t> bias = random_ints(static_cast<size_t>(n), -1000, 1000, rng);
  std::vector<float> w_scales(static_cast<size_t>(n));
  for (size_t c = 0; c < w_scales.size(); ++c) w_scales[c] = 0.01f * (1.0f + 0.001f * static_cast<float>(c));
  xnnpack::GemmQ8Params p;
  p.in_features = k;
  p.out_features = n;
  p.weights = reinterpret_cast<const int8_t*>(w.data());
  p.weight_scales = w_scales.data();
  p.bias = bias.data();
  p.in_zero_point = -3;
  p.in_scale = 0.02f;
  p.out_zero_point = -5;
  p.out_scale = static_cast<float>(0.02 * 0.01 * std::sqrt(static_cast<double>(k)) * 127.0 / 127.0);
  p.relu = true;
  xnnpack::GemmQ8 op;
  if (!op.Create(kind, p)) {
    state.SkipWithError("XNNPACK refused the operator");
    return;
  }
  std::vector<int8_t> y(static_cast<size_t>(m) * n);
  const int8_t* in = reinterpret_cast<const int8_t*>(x.data());
  for (auto _ : state) {
    if (!op.Run(in, y.data(), static_cast<size_t>(m), nullptr)) {
      state.SkipWithError("XNNPACK run failed");
      break;
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
}

void gemm_f32(benchmark::State& state, bool xnn, int32_t m, int32_t k, int32_t n) {
  Rng rng(0x6E32u);
  const std::vector<float> x =
      random_floats(static_cast<size_t>(m) * k + xnnpack::kExtraInputBytes / sizeof(float), -1.0f, 1.0f, rng);
  const float bound = 1.0f / std::sqrt(static_cast<float>(k));
  const std::vector<float> w = random_floats(static_cast<size_t>(n) * k, -bound, bound, rng);
  const std::vector<float> bias = random_floats(static_cast<size_t>(n), -bound, bound, rng);
  std::vector<float> y(static_cast<size_t>(m) * n);
  xnnpack::DenseF32 op;
  if (xnn && !op.Create(k, n, w.data(), bias.data(), true)) {
    state.SkipWithError("XNNPACK refused the operator");
    return;
  }
  for (auto _ : state) {
    if (xnn) {
      op.Run(x.data(), y.data(), static_cast<size_t>(m), nullptr);
    } else {
      kernels::dense_f32(x.data(), k, w.data(), bias.data(), nullptr, true, y.data(), n, 0, m);
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
}

void BM_Gemm(benchmark::State& state, GemmImpl impl, const kernels::KernelTable* table) {
  const int32_t m = static_cast<int32_t>(state.range(0));
  const int32_t k = static_cast<int32_t>(state.range(1));
  const int32_t n = static_cast<int32_t>(state.range(2));
  switch (impl) {
    case GemmImpl::kQgnnW8A8:
      gemm_qgnn(state, 8, table, m, k, n);
      break;
    case GemmImpl::kQgnnW4A8:
      gemm_qgnn(state, 4, table, m, k, n);
      break;
    case GemmImpl::kXnnQs8:
      gemm_xnn_q8(state, xnnpack::GemmQ8::Kind::kPerTensor, m, k, n);
      break;
    case GemmImpl::kXnnQc8:
      gemm_xnn_q8(state, xnnpack::GemmQ8::Kind::kPerChannel, m, k, n);
      break;
    case GemmImpl::kXnnF32:
      gemm_f32(state, true, m, k, n);
      break;
    case GemmImpl::kReferenceF32:
      gemm_f32(state, false, m, k, n);
      break;
  }
  set_gops(state, m, k, n);
}

void gemm_shapes(benchmark::internal::Benchmark* b) {
  b->ArgsProduct({{kGemmBatch}, {64, 128, 256}, {64, 128, 256}})->ArgNames({"M", "K", "N"});
  b->Unit(benchmark::kMicrosecond);
}

// BM_Gemm/<qgnn_w8a8|qgnn_w4a8>/isa:<name>, BM_Gemm/<xnnpack_qs8|xnnpack_qc8|xnnpack_f32|reference_f32>.
[[maybe_unused]] const bool kGemmRegistered = [] {
  for (const kernels::KernelTable* table : isa_tables()) {
    for (const auto& v : {std::make_pair("qgnn_w8a8", GemmImpl::kQgnnW8A8),
                          std::make_pair("qgnn_w4a8", GemmImpl::kQgnnW4A8)}) {
      const std::string name = std::string("BM_Gemm/") + v.first + "/isa:" + table->name;
      benchmark::RegisterBenchmark(name.c_str(), BM_Gemm, v.second, table)->Apply(gemm_shapes);
    }
  }
  if (xnnpack::available()) {
    for (const auto& v :
         {std::make_pair("xnnpack_qs8", GemmImpl::kXnnQs8), std::make_pair("xnnpack_qc8", GemmImpl::kXnnQc8),
          std::make_pair("xnnpack_f32", GemmImpl::kXnnF32)}) {
      benchmark::RegisterBenchmark((std::string("BM_Gemm/") + v.first).c_str(), BM_Gemm, v.second, nullptr)
          ->Apply(gemm_shapes);
    }
  }
  benchmark::RegisterBenchmark("BM_Gemm/reference_f32", BM_Gemm, GemmImpl::kReferenceF32, nullptr)
      ->Apply(gemm_shapes);
  return true;
}();

}  // namespace
}  // namespace bench
}  // namespace qgnn
