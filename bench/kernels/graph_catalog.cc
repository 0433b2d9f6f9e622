#include "graph_catalog.h"

#include <cstdio>
#include <map>
#include <memory>

#include "power_law.h"
#include "qgd_env.h"
#include "qgnn/converter/dataset.h"

namespace qgnn {
namespace bench {
namespace {

constexpr uint32_t kPowerLawSeed = 20240601u;

std::unique_ptr<CsrData> read_qgd(const QgdSource& source) {
  auto bytes = converter::read_file(source.path);
  if (!bytes.ok()) {
    std::fprintf(stderr, "QGNN_BENCH_QGD %s: %s\n", source.name.c_str(), bytes.error.c_str());
    return nullptr;
  }
  auto set = converter::load_graph_set(bytes.value);
  if (!set.ok()) {
    std::fprintf(stderr, "QGNN_BENCH_QGD %s: %s: %s\n", source.name.c_str(), source.path.c_str(),
                 set.error.c_str());
    return nullptr;
  }
  // The whole file as one CSR (a graph-classification set becomes its block-diagonal batch).
  auto g = std::make_unique<CsrData>();
  g->num_nodes = set.value.num_nodes();
  g->row_ptr = std::move(set.value.row_ptr);
  g->col_idx = std::move(set.value.col_idx);
  g->graph_ptr = std::move(set.value.graph_ptr);
  return g;
}

struct Catalog {
  std::vector<CatalogEntry> entries;
  std::map<std::string, std::string> qgd_paths;
  std::map<std::string, std::unique_ptr<CsrData>> graphs;
};

Catalog& catalog() {
  static Catalog c = [] {
    Catalog cat;
    for (const QgdSource& s : qgd_sources()) {
      cat.entries.push_back({s.name, {16, 64, 256}});
      cat.qgd_paths[s.name] = s.path;
    }
    cat.entries.push_back({"pl100k", {16, 64, 256}});
    // F = 256 would need 2 GB of FP32 input and output at 1M nodes: 16 and 64 already leave every cache.
    cat.entries.push_back({"pl1m", {16, 64}});
    return cat;
  }();
  return c;
}

}  // namespace

const std::vector<CatalogEntry>& graph_catalog() { return catalog().entries; }

const CsrData* catalog_graph(const std::string& name) {
  Catalog& cat = catalog();
  auto it = cat.graphs.find(name);
  if (it != cat.graphs.end()) return it->second.get();
  std::unique_ptr<CsrData> g;
  if (name == "pl100k") {
    g = std::make_unique<CsrData>(power_law_graph(100000, 1000000, kPowerLawSeed));
  } else if (name == "pl1m") {
    g = std::make_unique<CsrData>(power_law_graph(1000000, 10000000, kPowerLawSeed + 1));
  } else if (cat.qgd_paths.count(name) != 0) {
    g = read_qgd({name, cat.qgd_paths[name]});
  }
  const CsrData* out = g.get();
  cat.graphs[name] = std::move(g);  // a failed read is cached as nullptr: reported once
  return out;
}

}  // namespace bench
}  // namespace qgnn
