// Deterministic random graphs for the benchmarks (header only, no qgnn dependency).
//
// Every generator takes an explicit seed and draws from std::mt19937 directly (never through a
// std::*_distribution, whose algorithms differ between standard libraries), so the same seed gives the
// same graph with libstdc++, libc++ and MSVC.
#ifndef QGNN_BENCH_COMMON_RANDOM_GRAPHS_H_
#define QGNN_BENCH_COMMON_RANDOM_GRAPHS_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <set>
#include <utility>
#include <vector>

namespace qgnn {
namespace bench {

/// Small deterministic PRNG helpers over std::mt19937 (whose output sequence is fixed by the standard).
class Rng {
 public:
  explicit Rng(uint32_t seed) : engine_(seed) {}

  /// Uniform integer in [0, n), n >= 1 (modulo bias is irrelevant for benchmark data).
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(engine_() % n); }

  /// Uniform integer in [lo, hi].
  int32_t between(int32_t lo, int32_t hi) {
    return lo + static_cast<int32_t>(below(static_cast<uint32_t>(hi - lo + 1)));
  }

  /// Uniform float in [0, 1) with 24 random bits.
  float unit() { return static_cast<float>(engine_() >> 8) * (1.0f / 16777216.0f); }

  /// Uniform float in [lo, hi).
  float uniform(float lo, float hi) { return lo + (hi - lo) * unit(); }

 private:
  std::mt19937 engine_;
};

/// A (batch of) graph(s) as one block-diagonal CSR: row i lists the in-neighbours of node i.
struct CsrData {
  int32_t num_nodes = 0;
  std::vector<int32_t> row_ptr{0};    ///< num_nodes + 1
  std::vector<int32_t> col_idx;       ///< row_ptr.back() source ids
  std::vector<int32_t> graph_ptr{0};  ///< num_graphs + 1 node offsets

  int32_t num_edges() const { return static_cast<int32_t>(col_idx.size()); }
  int32_t num_graphs() const { return static_cast<int32_t>(graph_ptr.size()) - 1; }
};

namespace detail {

/// Appends one graph of `nodes` nodes whose undirected edges are `pairs` (local ids, no self-loops, no
/// duplicates); both directions become CSR edges, each row sorted by source id.
inline void append_undirected(CsrData* g, int32_t nodes, const std::set<std::pair<int32_t, int32_t>>& pairs) {
  std::vector<std::vector<int32_t>> in(static_cast<size_t>(nodes));
  for (const auto& p : pairs) {
    in[static_cast<size_t>(p.second)].push_back(p.first);
    in[static_cast<size_t>(p.first)].push_back(p.second);
  }
  const int32_t first = g->num_nodes;
  for (auto& row : in) {
    std::sort(row.begin(), row.end());
    for (int32_t source : row) g->col_idx.push_back(first + source);
    g->row_ptr.push_back(static_cast<int32_t>(g->col_idx.size()));
  }
  g->num_nodes += nodes;
  g->graph_ptr.push_back(g->num_nodes);
}

inline std::pair<int32_t, int32_t> ordered(int32_t a, int32_t b) {
  return a < b ? std::make_pair(a, b) : std::make_pair(b, a);
}

}  // namespace detail

/// One graph of `nodes` nodes with `undirected_edges` distinct random undirected edges (no self-loops),
/// stored in both directions: 2 * undirected_edges CSR edges. Degrees are binomial, not power-law.
/// Cora-sized: random_undirected_graph(2708, 5278, seed) has 10556 CSR edges, like Cora.
inline CsrData random_undirected_graph(int32_t nodes, int32_t undirected_edges, uint32_t seed) {
  Rng rng(seed);
  std::set<std::pair<int32_t, int32_t>> pairs;
  while (static_cast<int32_t>(pairs.size()) < undirected_edges) {
    const int32_t a = rng.between(0, nodes - 1), b = rng.between(0, nodes - 1);
    if (a != b) pairs.insert(detail::ordered(a, b));
  }
  CsrData g;
  detail::append_undirected(&g, nodes, pairs);
  return g;
}

/// `graphs` molecule-like graphs of `nodes` nodes each, batched block-diagonally: each is a random
/// spanning tree (connected, nodes - 1 edges) plus random extra edges up to `undirected_edges`.
/// MUTAG averages 17.9 nodes and 19.8 undirected edges per graph: molecule_batch(g, 18, 20, seed).
inline CsrData molecule_batch(int32_t graphs, int32_t nodes, int32_t undirected_edges, uint32_t seed) {
  Rng rng(seed);
  CsrData g;
  for (int32_t k = 0; k < graphs; ++k) {
    std::set<std::pair<int32_t, int32_t>> pairs;
    for (int32_t v = 1; v < nodes; ++v) pairs.insert(detail::ordered(v, rng.between(0, v - 1)));
    const int32_t max_pairs = nodes * (nodes - 1) / 2;
    const int32_t target = std::min(undirected_edges, max_pairs);
    while (static_cast<int32_t>(pairs.size()) < target) {
      const int32_t a = rng.between(0, nodes - 1), b = rng.between(0, nodes - 1);
      if (a != b) pairs.insert(detail::ordered(a, b));
    }
    detail::append_undirected(&g, nodes, pairs);
  }
  return g;
}

}  // namespace bench
}  // namespace qgnn

#endif  // QGNN_BENCH_COMMON_RANDOM_GRAPHS_H_
