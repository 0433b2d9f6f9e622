// Deterministic power-law graphs for the SpMM benchmarks (header only, no qgnn dependency): a Chung-Lu style
// generator whose node weights follow Zipf's law, so degrees follow a power law like real citation and
// social graphs (and unlike random_undirected_graph's binomial degrees).
#ifndef QGNN_BENCH_COMMON_POWER_LAW_H_
#define QGNN_BENCH_COMMON_POWER_LAW_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "random_graphs.h"

namespace qgnn {
namespace bench {

/// `nodes` nodes and about `target_csr_edges` CSR edges (undirected edges stored both ways): each undirected
/// edge joins two endpoints drawn independently with probability proportional to (rank + 1)^-exponent,
/// exponent 0.8 giving in-degrees distributed as a power law with slope 1 + 1/0.8 = 2.25. Self-loops and
/// duplicate edges are dropped, so the graph has somewhat fewer edges than the target (num_edges() says how
/// many). Ranks are shuffled into node ids with the same seed, so hubs are spread over the id range instead
/// of sharing cache lines at its start. Draws come from std::mt19937 directly (see random_graphs.h).
inline CsrData power_law_graph(int32_t nodes, int64_t target_csr_edges, uint32_t seed,
                               double exponent = 0.8) {
  std::mt19937 engine(seed);
  std::vector<double> cumulative(static_cast<size_t>(nodes));
  double total = 0;
  for (int32_t r = 0; r < nodes; ++r) {
    total += std::pow(static_cast<double>(r) + 1.0, -exponent);
    cumulative[static_cast<size_t>(r)] = total;
  }
  // 53 random bits from two draws: with 1M ranks the tail probabilities are far below 2^-24.
  auto draw_rank = [&]() {
    const uint64_t bits = (static_cast<uint64_t>(engine()) << 21) ^ static_cast<uint64_t>(engine() >> 11);
    const double u =
        static_cast<double>(bits & ((uint64_t{1} << 53) - 1)) * (1.0 / 9007199254740992.0) * total;
    const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), u);
    return static_cast<int32_t>(std::min<ptrdiff_t>(it - cumulative.begin(), nodes - 1));
  };
  std::vector<int32_t> id_of_rank(static_cast<size_t>(nodes));
  for (int32_t r = 0; r < nodes; ++r) id_of_rank[static_cast<size_t>(r)] = r;
  for (int32_t r = nodes - 1; r > 0; --r) {
    const int32_t k = static_cast<int32_t>(engine() % static_cast<uint32_t>(r + 1));
    std::swap(id_of_rank[static_cast<size_t>(r)], id_of_rank[static_cast<size_t>(k)]);
  }

  // Edge list (destination, source), both directions, then a counting sort by destination.
  const int64_t undirected = target_csr_edges / 2;
  std::vector<int32_t> dst, src;
  dst.reserve(static_cast<size_t>(undirected) * 2);
  src.reserve(static_cast<size_t>(undirected) * 2);
  for (int64_t e = 0; e < undirected; ++e) {
    const int32_t a = id_of_rank[static_cast<size_t>(draw_rank())];
    const int32_t b = id_of_rank[static_cast<size_t>(draw_rank())];
    if (a == b) continue;
    dst.push_back(a);
    src.push_back(b);
    dst.push_back(b);
    src.push_back(a);
  }
  std::vector<int64_t> start(static_cast<size_t>(nodes) + 1, 0);
  for (int32_t d : dst) ++start[static_cast<size_t>(d) + 1];
  for (size_t i = 1; i < start.size(); ++i) start[i] += start[i - 1];
  std::vector<int32_t> sorted(src.size());
  std::vector<int64_t> fill(start.begin(), start.end() - 1);
  for (size_t e = 0; e < src.size(); ++e)
    sorted[static_cast<size_t>(fill[static_cast<size_t>(dst[e])]++)] = src[e];

  CsrData g;
  g.num_nodes = nodes;
  g.row_ptr.assign(1, 0);
  g.row_ptr.reserve(static_cast<size_t>(nodes) + 1);
  g.col_idx.reserve(sorted.size());
  for (int32_t v = 0; v < nodes; ++v) {
    auto first = sorted.begin() + start[static_cast<size_t>(v)];
    auto last = sorted.begin() + start[static_cast<size_t>(v) + 1];
    std::sort(first, last);
    last = std::unique(first, last);
    g.col_idx.insert(g.col_idx.end(), first, last);
    g.row_ptr.push_back(static_cast<int32_t>(g.col_idx.size()));
  }
  g.graph_ptr = {0, nodes};
  return g;
}

}  // namespace bench
}  // namespace qgnn

#endif  // QGNN_BENCH_COMMON_POWER_LAW_H_
