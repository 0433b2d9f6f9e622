// The kNN graph of one image (kernels/graph/, knn_graph): n patch nodes of c features, uniform random int8 or
// int4, k = 9 neighbours (ViG's), dilation 1, reference vs twins. One iteration is one image, so the time per
// iteration is the time per image; items are the n^2 candidate pairs (items/s = pairs/s). n = 49, 196, 784:
// 7 x 7, 14 x 14 and 28 x 28 patch grids (a 224-pixel image at 32, 16 and 8 pixels per patch, three stages
// of the pyramid ViG).
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

void BM_KnnGraph(benchmark::State& state, int bits, int32_t n, int32_t cols, int32_t k,
                 const kernels::KernelTable* table) {
  Rng rng(0x6B6Eu + static_cast<uint32_t>(n * 1000 + cols + bits));
  const std::vector<uint8_t> x = random_activation(n, cols, bits, rng);
  const std::vector<int32_t> graph_ptr{0, n};
  const kernels::KnnGraphParams params{graph_ptr.data(), 1, k, 1};
  std::vector<uint8_t> scratch(kernels::knn_graph_scratch_bytes(n, cols, k, 1));
  std::vector<int32_t> row_ptr(static_cast<size_t>(n) + 1), col_idx(static_cast<size_t>(n) * k);
  const kernels::QActivationConst in{x.data(), bits, 0};
  for (auto _ : state) {
    const kernels::KnnStatus status = table->knn_graph(params, in, cols, 0, n, row_ptr.data(), col_idx.data(),
                                                       scratch.data(), scratch.size());
    if (status != kernels::KnnStatus::kOk) {
      state.SkipWithError("knn_graph refused the call");
      break;
    }
    benchmark::DoNotOptimize(col_idx.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n) * n);
  state.counters["scratch_bytes"] = static_cast<double>(scratch.size());
}

// BM_KnnGraph/<int8|int4>/isa:<name>/n:<nodes>/c:<features>/k:9 (the reference named too: no historical
// name).
[[maybe_unused]] const bool kRegistered = [] {
  for (int bits : {8, 4}) {
    for (int32_t n : {49, 196, 784}) {
      for (const kernels::KernelTable* table : isa_tables()) {
        if (table->knn_graph == nullptr) continue;
        const std::string name = std::string("BM_KnnGraph/") + (bits == 8 ? "int8" : "int4") +
                                 "/isa:" + table->name + "/n:" + std::to_string(n) + "/c:64/k:9";
        benchmark::RegisterBenchmark(name.c_str(), BM_KnnGraph, bits, n, 64, 9, table)
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
  return true;
}();

}  // namespace
}  // namespace bench
}  // namespace qgnn
