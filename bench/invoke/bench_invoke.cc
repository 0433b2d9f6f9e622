// End-to-end qgnn_interpreter_invoke latency through the C API, one thread, FP32 vs quantized variants of
// the same random model (GCN and GIN on random graphs, GAT on Cora's graph named by QGNN_BENCH_QGD). Model loading, arena planning and graph setup (validation) happen once before
// the timed loop; each iteration is one invoke on the bound graph (input quantization included for the
// quantized models, whose input is float). Counters: arena_bytes (qgnn_arena_size for exactly this
// graph), model_bytes (.qgnn file size), parameter_bytes (weights, biases, requant arrays).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <map>
#include <string>

#include "qgnn/converter/runtime_graph.h"
#include "qgnn/session.hpp"
#include "gat_workload.h"
#include "workloads.h"

namespace qgnn {
namespace bench {
namespace {

void run_invoke(benchmark::State& state, const ModelSet& models, Precision precision,
                const converter::GraphBatch& input, int64_t items_per_invoke) {
  if (!models.error.empty()) {
    state.SkipWithError(models.error.c_str());
    return;
  }
  // Load, plan for exactly this graph, one thread, bind: what an application does once before serving.
  auto loaded = session::Session::load(models.bytes[static_cast<int>(precision)]);
  if (!loaded.ok()) {
    state.SkipWithError(loaded.error.c_str());
    return;
  }
  session::Session& s = loaded.value;
  const qgnn_graph graph = converter::runtime_graph(input);
  session::Result<bool> ready = s.plan(session::limits_of(graph));
  if (ready.ok()) {
    ready = input.sparse_features() ? s.bind_sparse(graph, converter::sparse_features(input)) : s.bind(graph);
  }
  if (!ready.ok()) {
    state.SkipWithError(ready.error.c_str());
    return;
  }
  for (auto _ : state) {
    const session::Result<bool> invoked = s.invoke();
    if (!invoked.ok()) {
      state.SkipWithError(invoked.error.c_str());
      break;
    }
    benchmark::ClobberMemory();  // the outputs live in the arena
  }
  state.SetItemsProcessed(state.iterations() * items_per_invoke);
  state.counters["arena_bytes"] = static_cast<double>(s.arena_bytes());
  state.counters["model_bytes"] = static_cast<double>(s.model_bytes());
  state.counters["parameter_bytes"] = static_cast<double>(s.info().parameter_bytes);
}

/// GCN 1433 -> 16 -> 7 on a random Cora-sized graph. Items = nodes.
void BM_InvokeGcnCora(benchmark::State& state, Precision precision) {
  static const converter::GraphBatch input = cora_sized_input(/*seed=*/7);
  run_invoke(state, gcn_cora_models(), precision, input, input.num_nodes);
}

/// GAT 1433 -> 8 heads x 8 (concat) -> 1 head x 7 on Cora's graph (QGNN_BENCH_QGD=cora=FILE.qgd; features as
/// the file stores them, sparse ones through qgnn_interpreter_setup_sparse). Items = nodes.
void BM_InvokeGatCora(benchmark::State& state, Precision precision) {
  const converter::Result<NodeGraph>& cora = cora_graph_from_env();
  if (!cora.ok()) {
    state.SkipWithError(cora.error.c_str());
    return;
  }
  run_invoke(state, gat_cora_models(), precision, cora.value.batch, cora.value.batch.num_nodes);
}

/// 3 x GINConv (hidden 32) + sum pool + Linear on `graphs` molecules of 18 nodes. Items = graphs.
void BM_InvokeGinMutag(benchmark::State& state, Precision precision) {
  static std::map<int32_t, converter::GraphBatch> inputs;  // node-stable: sessions point into them
  const int32_t graphs = static_cast<int32_t>(state.range(0));
  auto it = inputs.find(graphs);
  if (it == inputs.end()) it = inputs.emplace(graphs, mutag_like_input(graphs, /*seed=*/1000)).first;
  run_invoke(state, gin_mutag_models(), precision, it->second, graphs);
}

[[maybe_unused]] const bool kRegistered = [] {
  const Precision precisions[] = {Precision::kF32, Precision::kW8A8, Precision::kW4A8, Precision::kW4A4};
  for (Precision p : precisions) {
    const std::string name = std::string("BM_InvokeGcnCora/") + precision_name(p);
    benchmark::RegisterBenchmark(name.c_str(), BM_InvokeGcnCora, p)->Unit(benchmark::kMillisecond);
  }
  for (Precision p : precisions) {
    const std::string name = std::string("BM_InvokeGatCora/") + precision_name(p);
    benchmark::RegisterBenchmark(name.c_str(), BM_InvokeGatCora, p)->Unit(benchmark::kMillisecond);
  }
  for (Precision p : precisions) {
    const std::string name = std::string("BM_InvokeGinMutag/") + precision_name(p);
    benchmark::RegisterBenchmark(name.c_str(), BM_InvokeGinMutag, p)
        ->ArgName("graphs")
        ->Arg(1)
        ->Arg(16)
        ->Arg(128)
        ->Unit(benchmark::kMicrosecond);
  }
  return true;
}();

}  // namespace
}  // namespace bench
}  // namespace qgnn
