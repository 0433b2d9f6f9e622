// Host twin of a firmware (qgnn-fw-host: the GIN, qgnn-fw-gcn-host: the GCN, qgnn-fw-gat-host: the GAT): the
// same run_graphs.cc and op resolver against the host runtime (any ISA), so scripts/ci_cortex_m.sh can
// require the device's lines to be identical to these.
//
// Usage: qgnn-fw-host [ISA [THREADS]]   (qgnn-fw-gcn-host, qgnn-fw-gat-host alike)
//   ISA: reference, avx2, avx512, ... or "default" (the runtime's choice); THREADS: invoke threads (default
//   1).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "run_graphs.h"

int main(int argc, char** argv) {
  // Far more than the device's static arena (x86 kernels also keep packed weights in it): the plan, not the
  // buffer size, decides what is used.
  std::vector<uint8_t> arena(256 * 1024);
  const char* isa = argc > 1 && std::strcmp(argv[1], "default") != 0 ? argv[1] : nullptr;
  const long threads = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 1;
  if (threads < 1 || threads > 64) {
    std::fprintf(stderr, "qgnn-fw-host: THREADS must be 1..64\n");
    return 2;
  }
  return run_embedded_graphs(arena.data(), arena.size(), isa, static_cast<uint32_t>(threads)) == 0 ? 0 : 1;
}
