// qgnn-bench-miss-model: how many of an aggregation's row gathers a node order can keep in cache, for the
// SpMM benchmarks' graphs (bench/kernels/graph_catalog.h). Hardware counters are not readable in the
// development VM, so the bound on what a reordering can buy (issue 15: "≥ 2x more with the reordering") is a
// model: the gathers of y_i = x_i + sum_{j in N(i)} x_j, rows i in order, through a set-associative LRU cache
// of the given size, one access per cache line of x_j (`--row-bytes`: 64 = an int8 row of F = 64). The miss
// rate of each order (none, qgnn's rcm and degree, a seeded random shuffle) is the share of those accesses
// that go to memory; a latency-bound gather's time follows its misses, so an order can speed it up at most by
// the ratio of the miss rates. Line addresses are hashed onto the sets, as the L3 slices hash them.
//
// Usage: qgnn-bench-miss-model [--graphs pl1m,pl100k] [--cache-kib 2048,16384,32768] [--ways 16]
//                              [--row-bytes 64]
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "graph_catalog.h"
#include "qgnn/qgnn.h"

namespace {

std::vector<std::string> Split(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// Set-associative LRU over line addresses; Touch returns whether the line missed.
class LruCache {
 public:
  LruCache(uint64_t bytes, int ways)
      : ways_(ways),
        sets_(bytes / 64 / static_cast<uint64_t>(ways)),
        tags_(sets_ * ways_, ~uint64_t{0}),
        stamps_(sets_ * ways_, 0) {}

  bool Touch(uint64_t line) {
    const uint64_t set = ((line * 0x9E3779B97F4A7C15ull) >> 20) % sets_;
    uint64_t* tags = &tags_[set * ways_];
    uint64_t* stamps = &stamps_[set * ways_];
    ++now_;
    int victim = 0;
    for (int w = 0; w < ways_; ++w) {
      if (tags[w] == line) {
        stamps[w] = now_;
        return false;
      }
      if (stamps[w] < stamps[victim]) victim = w;
    }
    tags[victim] = line;
    stamps[victim] = now_;
    return true;
  }

 private:
  int ways_;
  uint64_t sets_;
  std::vector<uint64_t> tags_, stamps_;
  uint64_t now_ = 0;
};

// Miss rate of the gathers with the nodes renumbered by `perm` (perm[old] = new, qgnn_graph_reorder's
// convention: node perm[i]'s row lists perm[j] for the j of node i's row).
double MissRate(const qgnn::bench::CsrData& g, const std::vector<int32_t>& perm, uint64_t cache_bytes,
                int ways, uint32_t row_bytes) {
  const int32_t n = g.num_nodes;
  std::vector<int32_t> old_of(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) old_of[static_cast<size_t>(perm[static_cast<size_t>(i)])] = i;
  const uint64_t lines = (row_bytes + 63) / 64;
  LruCache cache(cache_bytes, ways);
  uint64_t accesses = 0, misses = 0;
  auto gather = [&](int32_t row) {
    for (uint64_t l = 0; l < lines; ++l) {
      ++accesses;
      misses += cache.Touch(static_cast<uint64_t>(row) * lines + l) ? 1 : 0;
    }
  };
  for (int32_t v = 0; v < n; ++v) {  // rows in the new order
    const int32_t old = old_of[static_cast<size_t>(v)];
    for (int32_t e = g.row_ptr[static_cast<size_t>(old)]; e < g.row_ptr[static_cast<size_t>(old) + 1]; ++e) {
      gather(perm[static_cast<size_t>(g.col_idx[static_cast<size_t>(e)])]);
    }
    gather(v);  // the self term
  }
  return accesses ? static_cast<double>(misses) / static_cast<double>(accesses) : 0.0;
}

bool Reorder(const qgnn::bench::CsrData& g, qgnn_reorder_method method, std::vector<int32_t>* perm) {
  qgnn_graph view{};
  view.num_nodes = static_cast<uint32_t>(g.num_nodes);
  view.num_edges = static_cast<uint32_t>(g.num_edges());
  view.row_ptr = g.row_ptr.data();
  view.col_idx = g.col_idx.data();
  view.num_graphs = static_cast<uint32_t>(g.num_graphs());
  view.graph_ptr = g.graph_ptr.data();
  size_t bytes = 0;
  qgnn_error error{};
  if (qgnn_graph_reorder_scratch_size(view.num_nodes, method, &bytes, &error) != QGNN_OK) {
    std::fprintf(stderr, "qgnn-bench-miss-model: %s\n", error.message);
    return false;
  }
  std::vector<uint8_t> scratch(bytes + 1);
  perm->assign(static_cast<size_t>(g.num_nodes), 0);
  if (qgnn_graph_reorder(&view, method, perm->data(), scratch.data(), bytes, &error) != QGNN_OK) {
    std::fprintf(stderr, "qgnn-bench-miss-model: %s\n", error.message);
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> graphs = {"pl1m"};
  std::vector<uint64_t> caches_kib = {2048, 16384, 32768};
  int ways = 16;
  uint32_t row_bytes = 64;
  for (int a = 1; a < argc; ++a) {
    const std::string arg = argv[a];
    const char* value = a + 1 < argc ? argv[a + 1] : nullptr;
    if (value == nullptr) {
      std::fprintf(stderr, "qgnn-bench-miss-model: %s needs a value\n", arg.c_str());
      return 2;
    }
    ++a;
    if (arg == "--graphs") {
      graphs = Split(value);
    } else if (arg == "--cache-kib") {
      caches_kib.clear();
      for (const std::string& c : Split(value)) caches_kib.push_back(std::strtoull(c.c_str(), nullptr, 10));
    } else if (arg == "--ways") {
      ways = std::atoi(value);
    } else if (arg == "--row-bytes") {
      row_bytes = static_cast<uint32_t>(std::strtoul(value, nullptr, 10));
    } else {
      std::fprintf(stderr, "qgnn-bench-miss-model: unknown option %s\n", arg.c_str());
      return 2;
    }
  }
  for (uint64_t kib : caches_kib) {
    if (ways < 1 || kib * 1024 / 64 < static_cast<uint64_t>(ways) || row_bytes == 0) {
      std::fprintf(
          stderr, "qgnn-bench-miss-model: need ways >= 1, a cache of at least `ways` lines, row bytes > 0\n");
      return 2;
    }
  }
  for (const std::string& name : graphs) {
    const qgnn::bench::CsrData* g = qgnn::bench::catalog_graph(name);
    if (g == nullptr) {
      std::fprintf(stderr, "qgnn-bench-miss-model: unknown graph %s\n", name.c_str());
      return 2;
    }
    struct Order {
      const char* name;
      std::vector<int32_t> perm;
    };
    std::vector<Order> orders(4);
    orders[0].name = "none";
    orders[0].perm.resize(static_cast<size_t>(g->num_nodes));
    for (int32_t i = 0; i < g->num_nodes; ++i) orders[0].perm[static_cast<size_t>(i)] = i;
    orders[1].name = "rcm";
    orders[2].name = "degree";
    if (!Reorder(*g, QGNN_REORDER_RCM, &orders[1].perm) ||
        !Reorder(*g, QGNN_REORDER_DEGREE, &orders[2].perm)) {
      return 1;
    }
    orders[3].name = "shuffle";
    orders[3].perm = orders[0].perm;
    std::shuffle(orders[3].perm.begin(), orders[3].perm.end(), std::mt19937(12345));
    std::printf("%s: %d nodes, %d edges, %u-byte rows\n", name.c_str(), g->num_nodes, g->num_edges(),
                row_bytes);
    for (uint64_t kib : caches_kib) {
      std::printf("  cache %6" PRIu64 " KiB, %d-way:", kib, ways);
      for (const Order& o : orders) {
        std::printf("  %s %.3f", o.name, MissRate(*g, o.perm, kib * 1024, ways, row_bytes));
      }
      std::printf("\n");
    }
  }
  return 0;
}
