// The prefetch threshold of the aggregation twins (aggregate-prefetch.h), compiled without ISA flags.
#include "aggregate-prefetch.h"

#include <atomic>

namespace qgnn {
namespace kernels {
namespace twins {
namespace {

// Atomic only so that a test's set_aggregate_prefetch_bytes is not a data race with worker threads that
// read it; a relaxed load is one plain load per call.
std::atomic<size_t> g_prefetch_bytes{kAggregatePrefetchBytes};

}  // namespace

bool aggregate_prefetches(size_t input_bytes) {
  return input_bytes >= g_prefetch_bytes.load(std::memory_order_relaxed);
}

size_t set_aggregate_prefetch_bytes(size_t bytes) {
  const size_t previous = g_prefetch_bytes.load(std::memory_order_relaxed);
  g_prefetch_bytes.store(bytes, std::memory_order_relaxed);
  return previous;
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
