// The stages of one integer GATConv layer timed in the same loop (issue 16: the softmax's share of the layer
// time): BM_GatStages/<layer>[/isa:<name>] runs, per iteration, the layer's message transform (int8 weights,
// int8 messages), gat_attention_terms and gat_aggregate (softmax and weighted aggregation, the runtime's
// "softmax + aggregate" stage) over Cora's graph (QGNN_BENCH_QGD's "cora" entry; the random Cora-sized graph
// without it), and reports each stage's mean time (transform_us, terms_us, softmax_aggregate_us) and the
// softmax + aggregate share of their sum. Layers of the paper's Cora model:
//   hidden  1433 bag-of-words features (sparse rows, 1.3 % non-zero, quantized on the fly) -> 8 heads x 8
//   output  64 int8 features (dense) -> 1 head x 7
// The runtime runs the same kernels in this order (runtime/src/ops/gat_conv.cc), so the shares are those of
// an invoke's GATConv layer with one thread; qgnn-bench times whole layers.
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>
#include <vector>

#include "gat_data.h"
#include "graph_catalog.h"
#include "isa_tables.h"
#include "kernel_data.h"
#include "qgnn/kernels/kernel_table.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int32_t kCoraFeatures = 1433;
constexpr uint32_t kWordsPerMillion = 12700;  // Cora's 1.27 % non-zero features

/// Operand memory packed once before the loop, as the runtime does at interpreter creation.
struct Packed {
  std::vector<uint64_t> storage;  // 8-byte elements: at least 16-byte aligned
  void* data = nullptr;
  void reserve(size_t bytes) {
    storage.resize(bytes / sizeof(uint64_t) + 1);
    data = storage.data();
  }
};

struct StageCase {
  bool sparse_input;
  int32_t in_cols, heads, head_dim;
  const CsrData* graph;
  // Input: sparse float rows (hidden layer) or int8 activations (output layer).
  std::vector<int32_t> x_row_ptr{0}, x_col_idx;
  std::vector<float> x_values;
  std::vector<uint8_t> x_int8;
  std::vector<uint8_t> weights;
  ChannelRescaleData dense_rq;
  std::vector<uint8_t> messages;
  std::vector<uint8_t> att_src, att_dst;
  std::vector<int32_t> src_terms, dst_terms;
  std::vector<uint16_t> table;
  ChannelRescaleData out_rq;
  std::vector<int32_t> bias;
  std::vector<uint8_t> out;

  StageCase(bool sparse, int32_t in, int32_t h, int32_t f, const CsrData* g)
      : sparse_input(sparse), in_cols(in), heads(h), head_dim(f), graph(g), dense_rq(h * f, 1.0 / 2048),
        out_rq(h * f, 1.0 / 256) {
    const int32_t n = g->num_nodes, cols = h * f;
    Rng rng(0x57A6Eu + static_cast<uint32_t>(cols));
    if (sparse) {
      for (int32_t r = 0; r < n; ++r) {
        for (int32_t k = 0; k < in; ++k) {
          if (rng.below(1000000) >= kWordsPerMillion) continue;
          x_col_idx.push_back(k);
          x_values.push_back(rng.uniform(0.02f, 1.0f));
        }
        x_row_ptr.push_back(static_cast<int32_t>(x_col_idx.size()));
      }
    } else {
      x_int8 = random_activation(n, in, 8, rng);
    }
    weights = random_weights(cols, in, 8, rng);
    messages.assign(static_cast<size_t>(n) * cols, 0);
    att_src = random_weights(h, f, 8, rng);
    att_dst = random_weights(h, f, 8, rng);
    src_terms.assign(static_cast<size_t>(n) * h, 0);
    dst_terms.assign(static_cast<size_t>(n) * h, 0);
    table = gat_exp_table();
    bias = random_ints(static_cast<size_t>(cols), -2000, 2000, rng);
    out.assign(static_cast<size_t>(n) * cols, 0);
  }

  kernels::GatParams params() const {
    return gat_params(heads, head_dim, {src_terms.data(), dst_terms.data(), table.data(), bias.data(), out_rq.view()},
                      /*concat=*/true, /*relu=*/heads > 1);
  }
};

double us_since(Clock::time_point* t) {
  const Clock::time_point now = Clock::now();
  const double us = std::chrono::duration<double, std::micro>(now - *t).count();
  *t = now;
  return us;
}

void BM_GatStages(benchmark::State& state, bool hidden, const kernels::KernelTable* table) {
  const CsrData* cora = catalog_graph("cora");
  const CsrData* g = cora != nullptr ? cora : &cora_sized_graph();
  StageCase c(hidden, hidden ? kCoraFeatures : 64, hidden ? 8 : 1, hidden ? 8 : 7, g);
  const int32_t n = g->num_nodes, cols = c.heads * c.head_dim;
  kernels::QWeights w{c.weights.data(), 8};
  Packed packed;
  if (hidden) {
    packed.reserve(table->sparse_dense_packed_bytes(c.in_cols, cols, 8));
    table->sparse_dense_pack(w, c.in_cols, cols, packed.data);
  } else {
    packed.reserve(table->dense_packed_bytes(c.in_cols, cols, 8));
    table->dense_pack(w, c.in_cols, cols, nullptr, c.dense_rq.view(), packed.data);
  }
  w.packed = packed.data;
  const kernels::QActivation messages{c.messages.data(), 8, -3};
  const kernels::QActivationConst messages_in{c.messages.data(), 8, -3};
  const kernels::QActivationConst x_in{c.x_int8.data(), 8, -128};
  const kernels::InputQuantization q{1.0f / 127.0f, nullptr, -128, 8};
  const kernels::SparseRows rows{c.x_row_ptr.data(), c.x_col_idx.data(), c.x_values.data()};
  const kernels::GatParams params = c.params();
  const auto terms = table->gat_attention_terms != nullptr ? table->gat_attention_terms : kernels::gat_attention_terms;
  const auto aggregate = table->gat_aggregate != nullptr ? table->gat_aggregate : kernels::gat_aggregate;
  const auto* att_src = reinterpret_cast<const int8_t*>(c.att_src.data());
  const auto* att_dst = reinterpret_cast<const int8_t*>(c.att_dst.data());
  double transform_us = 0, terms_us = 0, aggregate_us = 0;
  for (auto _ : state) {
    Clock::time_point t = Clock::now();
    if (hidden) {
      table->sparse_dense(rows, c.in_cols, q, w, nullptr, c.dense_rq.view(), false, messages, cols, 0, n);
    } else {
      table->dense(x_in, c.in_cols, w, nullptr, c.dense_rq.view(), nullptr, false, messages, cols, 0, n);
    }
    benchmark::ClobberMemory();
    transform_us += us_since(&t);
    terms(messages_in, c.heads, c.head_dim, att_src, att_dst, c.src_terms.data(), c.dst_terms.data(), 0, n);
    benchmark::ClobberMemory();
    terms_us += us_since(&t);
    aggregate(view(*g), params, messages_in, kernels::QActivation{c.out.data(), 8, -2}, 0, n);
    benchmark::DoNotOptimize(c.out.data());
    benchmark::ClobberMemory();
    aggregate_us += us_since(&t);
  }
  const double iterations = static_cast<double>(state.iterations());
  state.counters["transform_us"] = transform_us / iterations;
  state.counters["terms_us"] = terms_us / iterations;
  state.counters["softmax_aggregate_us"] = aggregate_us / iterations;
  state.counters["softmax_share"] = aggregate_us / (transform_us + terms_us + aggregate_us);
  state.counters["edges"] = static_cast<double>(g->num_edges());
  state.SetLabel(cora != nullptr ? "cora" : "random Cora-sized graph");
}

[[maybe_unused]] const bool kRegistered = [] {
  for (const kernels::KernelTable* table : isa_tables()) {
    if (table->sparse_dense == nullptr) continue;  // no sparse rows in this table: no hidden layer
    for (bool hidden : {true, false}) {
      const std::string name = std::string("BM_GatStages/") + (hidden ? "hidden" : "output") + isa_suffix(table);
      benchmark::RegisterBenchmark(name.c_str(), BM_GatStages, hidden, table)->Unit(benchmark::kMicrosecond);
    }
  }
  return true;
}();

}  // namespace
}  // namespace bench
}  // namespace qgnn
