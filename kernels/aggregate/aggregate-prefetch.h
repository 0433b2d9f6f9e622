// When the integer aggregation twins prefetch their gathers (aggregate-body.h, SpmmTwin's kPrefetch): chosen
// once per call from the size of the input, compiled WITHOUT ISA flags (dispatch/twins.h explains why).
#ifndef QGNN_KERNELS_AGGREGATE_AGGREGATE_PREFETCH_H_
#define QGNN_KERNELS_AGGREGATE_AGGREGATE_PREFETCH_H_

#include <cstddef>

namespace qgnn {
namespace kernels {
namespace twins {

/// Inputs (nodes x packed row bytes) of at least this many bytes run the prefetching loops, smaller ones the
/// loops without any prefetch. Measured (BM_Spmm F:64, prefetch vs none, AVX2 / AVX-512, docs/runtime.md
/// "Prefetching the gathers"): Cora and PubMed (0.17 / 1.3 MB, in L2) int8 sum 0.67-0.74x, power-law 100k
/// (6.4 MB, in the 32 MB L3) int8 sum 0.81-0.90x but GCN 1.12-1.16x, power-law 1M (64 / 32 MB) 2.4-4.4x.
constexpr size_t kAggregatePrefetchBytes = size_t{8} << 20;

/// Whether an aggregation over an input of `input_bytes` prefetches.
bool aggregate_prefetches(size_t input_bytes);

/// Sets the threshold of aggregate_prefetches (0: always prefetch) and returns the previous one. For tests,
/// which run the prefetching loops on graphs small enough to check against the reference; not to be called
/// while an aggregation runs.
size_t set_aggregate_prefetch_bytes(size_t bytes);

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_AGGREGATE_AGGREGATE_PREFETCH_H_
