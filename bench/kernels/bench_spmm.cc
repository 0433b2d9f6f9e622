// SpMM (neighbourhood aggregation) over the graph catalog: real topologies and power-law graphs up to 1M
// nodes / 10M edges, every mode, FP32 and int8 / int4 per ISA, F in {16, 64, 256}.
//
// BM_Spmm/<graph>/<mode>/<f32|int8|int4>[/isa:<name>]/F:<features>, with counters (all per second):
//  * edges_per_s: CSR edges;
//  * ops_per_s:   edges x F, one accumulate per gathered element (GCN's multiply and the requantization on
//                 top are not counted), so GOPS = ops_per_s / 1e9;
//  * bytes_per_s: the byte model below.
// Byte model (useful bytes, no cache reuse): row_ptr 4 (N + 1) + col_idx 4 E + one input row per edge
// E * row + one output row per node N * row (+ N * row read for the self term of sum (GIN) and GCN), where
// row = F * 4 for FP32 and ceil(F * bits / 8) for int8 / int4. It is the traffic of a gather that finds no
// neighbour row in cache, so bytes_per_s against the STREAM copy bandwidth (bench_stream.cc) is SpMM's
// fraction of the memory roofline; in cache it may exceed 1.
// The set-up counters nodes, edges, F, bits and working_set_bytes (input + output + indices) let a report
// tell in-cache from out-of-cache cases.
//
// BM_SpmmDegree/<int8|int4>/isa:<name>/d:<degree>: the sum (self weight 1, F = 64) over a graph of 4,096
// nodes whose rows all have `degree` random neighbours: rows of 64 or 32 bytes, all in L2. It separates a
// row's fixed cost (requantization and store of its output) from the cost per gathered row, which in cache
// is instructions, not bytes (docs/performance.md, issue 15's INT4-vs-INT8 row).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "graph_catalog.h"
#include "isa_tables.h"
#include "kernel_data.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace bench {
namespace {

using kernels::AggregateMode;

constexpr int32_t kGinSelfWeightQ16 = 65536;

double row_bytes_of(int32_t cols, int bits) {
  return bits == 0 ? 4.0 * cols : static_cast<double>(kernels::row_bytes(static_cast<size_t>(cols), bits));
}

void set_counters(benchmark::State& state, const CsrData& g, AggregateMode mode, int32_t cols, int bits) {
  const double n = g.num_nodes, e = g.num_edges(), row = row_bytes_of(cols, bits);
  const bool self = mode == AggregateMode::kSum || mode == AggregateMode::kGcn;
  const double indices = 4.0 * (n + 1) + 4.0 * e;
  const double bytes = indices + e * row + n * row + (self ? n * row : 0.0);
  using benchmark::Counter;
  state.counters["edges_per_s"] = Counter(e, Counter::kIsIterationInvariantRate);
  state.counters["ops_per_s"] = Counter(e * cols, Counter::kIsIterationInvariantRate);
  state.counters["bytes_per_s"] = Counter(bytes, Counter::kIsIterationInvariantRate);
  state.counters["nodes"] = n;
  state.counters["edges"] = e;
  state.counters["F"] = cols;
  state.counters["bits"] = bits == 0 ? 32 : bits;
  state.counters["working_set_bytes"] = indices + 2.0 * n * row;
}

void run_f32(benchmark::State& state, const CsrData& g, AggregateMode mode, int32_t cols,
             const kernels::KernelTable* table) {
  Rng rng(0x5B33F32u);
  const std::vector<float> x = random_floats(static_cast<size_t>(g.num_nodes) * cols, -1.0f, 1.0f, rng);
  std::vector<float> y(x.size());
  float* out = y.data();
  const float self_weight = mode == AggregateMode::kSum ? 1.0f : 0.0f;
  for (auto _ : state) {
    table->aggregate_f32(view(g), mode, x.data(), cols, self_weight, out, 0, g.num_nodes);
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
}

void run_quantized(benchmark::State& state, const CsrData& g, AggregateMode mode, int bits, int32_t cols,
                   const kernels::KernelTable* table) {
  Rng rng(0x5B330u + static_cast<uint32_t>(bits));
  const std::vector<uint8_t> x = random_activation(g.num_nodes, cols, bits, rng);
  std::vector<uint8_t> y(x.size());
  uint8_t* out = y.data();
  std::vector<int32_t> norm(static_cast<size_t>(g.num_nodes));
  kernels::gcn_norm(view(g), norm.data(), 0, g.num_nodes);
  // Sum over a power-law hub's neighbours is large: scale it down so outputs use their range, not saturate.
  const kernels::Rescale rq = rescale_for(mode == AggregateMode::kSum ? 0.05 : 1.0);
  const int32_t self_weight_q16 = mode == AggregateMode::kSum ? kGinSelfWeightQ16 : 0;
  const kernels::QActivationConst in{x.data(), bits, /*zero_point=*/-1};
  const kernels::QActivation output{out, bits, /*zero_point=*/0};
  for (auto _ : state) {
    table->aggregate(view(g), {mode, rq, self_weight_q16, norm.data()}, in, cols, output, 0, g.num_nodes);
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
}

void BM_Spmm(benchmark::State& state, std::string graph, AggregateMode mode, int bits,
             const kernels::KernelTable* table) {
  const CsrData* g = catalog_graph(graph);
  if (g == nullptr) {
    state.SkipWithError(("graph " + graph + " is not available").c_str());
    return;
  }
  const int32_t cols = static_cast<int32_t>(state.range(0));
  if (bits == 0) {
    run_f32(state, *g, mode, cols, table);
  } else {
    run_quantized(state, *g, mode, bits, cols, table);
  }
  set_counters(state, *g, mode, cols, bits);
}

/// `nodes` rows of exactly `degree` distinct random neighbours each (sorted), one graph.
CsrData uniform_degree_graph(int32_t nodes, int32_t degree, uint32_t seed) {
  Rng rng(seed);
  CsrData g;
  g.num_nodes = nodes;
  std::vector<int32_t> row;
  for (int32_t i = 0; i < nodes; ++i) {
    row.clear();
    while (static_cast<int32_t>(row.size()) < degree) {
      const int32_t j = static_cast<int32_t>(rng.below(static_cast<uint32_t>(nodes)));
      if (std::find(row.begin(), row.end(), j) == row.end()) row.push_back(j);
    }
    std::sort(row.begin(), row.end());
    g.col_idx.insert(g.col_idx.end(), row.begin(), row.end());
    g.row_ptr.push_back(static_cast<int32_t>(g.col_idx.size()));
  }
  g.graph_ptr.push_back(nodes);
  return g;
}

void BM_SpmmDegree(benchmark::State& state, int bits, const kernels::KernelTable* table) {
  constexpr int32_t kNodes = 4096, kCols = 64;
  const int32_t degree = static_cast<int32_t>(state.range(0));
  const CsrData g = uniform_degree_graph(kNodes, degree, 0xDE6u + static_cast<uint32_t>(degree));
  run_quantized(state, g, AggregateMode::kSum, bits, kCols, table);
  set_counters(state, g, AggregateMode::kSum, kCols, bits);
  state.counters["ns_per_row"] =
      benchmark::Counter(static_cast<double>(kNodes) * 1e-9,
                         benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

[[maybe_unused]] const bool kRegistered = [] {
  const struct {
    const char* name;
    AggregateMode mode;
  } modes[] = {{"sum", AggregateMode::kSum},
               {"mean", AggregateMode::kMean},
               {"max", AggregateMode::kMax},
               {"gcn", AggregateMode::kGcn}};
  const struct {
    const char* name;
    int bits;
  } widths[] = {{"f32", 0}, {"int8", 8}, {"int4", 4}};
  for (const CatalogEntry& entry : graph_catalog()) {
    for (const auto& m : modes) {
      for (const auto& w : widths) {
        for (const kernels::KernelTable* table : isa_tables()) {
          if (w.bits == 0 && table->aggregate_f32 == nullptr) continue;  // a build without the float path
          const std::string name = "BM_Spmm/" + entry.name + "/" + m.name + "/" + w.name + isa_suffix(table);
          auto* b = benchmark::RegisterBenchmark(name.c_str(), BM_Spmm, entry.name, m.mode, w.bits, table);
          b->ArgName("F")->Unit(benchmark::kMillisecond)->UseRealTime();
          for (int32_t cols : entry.cols) b->Arg(cols);
        }
      }
    }
  }
  for (const kernels::KernelTable* table : isa_tables()) {
    if (table->isa == kernels::Isa::kReference) continue;
    for (const char* w : {"int8", "int4"}) {
      const std::string name = std::string("BM_SpmmDegree/") + w + isa_suffix(table);
      auto* b = benchmark::RegisterBenchmark(name.c_str(), BM_SpmmDegree, w[3] == '8' ? 8 : 4, table);
      b->ArgName("d")->Unit(benchmark::kMicrosecond)->UseRealTime();
      for (int32_t degree : {1, 2, 4, 8, 16, 32}) b->Arg(degree);
    }
  }
  return true;
}();

}  // namespace
}  // namespace bench
}  // namespace qgnn
