// The named graphs of the SpMM benchmarks: synthetic power-law graphs (fixed seeds) always, and real
// topologies (Cora, the PubMed topology, ...) read from .qgd files named by QGNN_BENCH_QGD.
#ifndef QGNN_BENCH_KERNELS_GRAPH_CATALOG_H_
#define QGNN_BENCH_KERNELS_GRAPH_CATALOG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "random_graphs.h"

namespace qgnn {
namespace bench {

struct CatalogEntry {
  std::string name;           ///< benchmark name component, e.g. "pl1m", "cora"
  std::vector<int32_t> cols;  ///< feature widths F to benchmark on this graph
};

/// The graphs, in benchmark order: QGNN_BENCH_QGD's first ("NAME=PATH[,NAME=PATH...]"), then
/// pl100k (100k nodes, ~1M CSR edges) and pl1m (1M nodes, ~10M CSR edges). A .qgd that cannot be read is
/// reported on stderr and its benchmarks end with a skip error; the other benchmarks still run.
const std::vector<CatalogEntry>& graph_catalog();

/// The graph named `name` (built or read on first use, then cached); nullptr for an unknown name.
const CsrData* catalog_graph(const std::string& name);

}  // namespace bench
}  // namespace qgnn

#endif  // QGNN_BENCH_KERNELS_GRAPH_CATALOG_H_
