// GAT attention kernels over the random Cora-sized graph (2708 nodes, 10556 CSR edges) with the paper's first
// layer shape, 8 heads x 8 features (int8 messages and output), and its output layer, 1 head x 7 classes:
// gat_attention_terms (items: nodes) and gat_aggregate, heads concatenated or averaged (items: edges, the
// 10556 CSR edges plus the 2708 self-loops the softmax adds, so items/s is edges/s), reference vs twins.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "gat_data.h"
#include "isa_tables.h"
#include "kernel_data.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace bench {
namespace {

/// Messages, attention vectors, terms, the exp table and the rescales of one layer shape.
struct GatData {
  int32_t heads, head_dim;
  std::vector<uint8_t> messages;
  std::vector<uint8_t> att_src, att_dst;
  std::vector<int32_t> src_terms, dst_terms;
  std::vector<uint16_t> table;
  ChannelRescaleData rq;
  std::vector<int32_t> bias;

  GatData(int32_t h, int32_t f, bool concat)
      : heads(h), head_dim(f), rq(concat ? h * f : f, concat ? 1.0 / 256 : 1.0 / (256.0 * h)) {
    const CsrData& g = cora_sized_graph();
    Rng rng(0x6A7u + static_cast<uint32_t>(h * 100 + f));
    messages = random_activation(g.num_nodes, h * f, 8, rng);
    att_src = random_weights(h, f, 8, rng);
    att_dst = random_weights(h, f, 8, rng);
    src_terms.assign(static_cast<size_t>(g.num_nodes) * h, 0);
    dst_terms.assign(static_cast<size_t>(g.num_nodes) * h, 0);
    kernels::gat_attention_terms(input(), h, f, att(att_src), att(att_dst), src_terms.data(), dst_terms.data(), 0,
                                 g.num_nodes);
    table = gat_exp_table();
    bias = random_ints(static_cast<size_t>(concat ? h * f : f), -2000, 2000, rng);
  }

  kernels::QActivationConst input() const { return kernels::QActivationConst{messages.data(), 8, -3}; }
  static const int8_t* att(const std::vector<uint8_t>& v) { return reinterpret_cast<const int8_t*>(v.data()); }

  kernels::GatParams params(bool concat) const {
    return gat_params(heads, head_dim, {src_terms.data(), dst_terms.data(), table.data(), bias.data(), rq.view()},
                      concat, /*relu=*/concat);
  }
};

void BM_GatAggregate(benchmark::State& state, bool concat, int32_t heads, int32_t head_dim,
                     const kernels::KernelTable* table) {
  const CsrData& g = cora_sized_graph();
  const GatData data(heads, head_dim, concat);
  const kernels::GatParams params = data.params(concat);
  std::vector<uint8_t> y(static_cast<size_t>(g.num_nodes) * (concat ? heads * head_dim : head_dim));
  uint8_t* out = y.data();
  for (auto _ : state) {
    table->gat_aggregate(view(g), params, data.input(), kernels::QActivation{out, 8, -2}, 0, g.num_nodes);
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * (static_cast<int64_t>(g.num_edges()) + g.num_nodes));
}

void BM_GatTerms(benchmark::State& state, int32_t heads, int32_t head_dim, const kernels::KernelTable* table) {
  const CsrData& g = cora_sized_graph();
  GatData data(heads, head_dim, true);
  int32_t* src = data.src_terms.data();
  for (auto _ : state) {
    table->gat_attention_terms(data.input(), heads, head_dim, GatData::att(data.att_src), GatData::att(data.att_dst),
                               src, data.dst_terms.data(), 0, g.num_nodes);
    benchmark::DoNotOptimize(src);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * g.num_nodes);
}

// BM_GatAggregate/<concat|mean>/H:<heads>/F:<features>[/isa:<name>], BM_GatTerms/H:<heads>/F:<features>[...].
[[maybe_unused]] const bool kRegistered = [] {
  const struct {
    int32_t heads, head_dim;
  } shapes[] = {{8, 8}, {1, 7}};
  for (const auto& s : shapes) {
    const std::string shape = "/H:" + std::to_string(s.heads) + "/F:" + std::to_string(s.head_dim);
    for (const kernels::KernelTable* table : isa_tables()) {
      if (table->gat_aggregate == nullptr) continue;
      for (bool concat : {true, false}) {
        if (!concat && s.heads == 1) continue;  // one head: the mean is the concat
        const std::string name =
            std::string("BM_GatAggregate/") + (concat ? "concat" : "mean") + shape + isa_suffix(table);
        benchmark::RegisterBenchmark(name.c_str(), BM_GatAggregate, concat, s.heads, s.head_dim, table)
            ->Unit(benchmark::kMicrosecond);
      }
      const std::string name = "BM_GatTerms" + shape + isa_suffix(table);
      benchmark::RegisterBenchmark(name.c_str(), BM_GatTerms, s.heads, s.head_dim, table)
          ->Unit(benchmark::kMicrosecond);
    }
  }
  return true;
}();

}  // namespace
}  // namespace bench
}  // namespace qgnn
