// The aggregation engines qgnn-bench-peers times against each other on the same CSR graph: qgnn's FP32, INT8
// and INT4 sum aggregation (through a kernel table) and SuiteSparse:GraphBLAS's C += A·X, FP32 and integer.
//
// Every engine computes the same thing, a sum over in-neighbours plus a self term, for all nodes:
//   y_i = x_i + sum_{j -> i} x_j        (row i of the CSR lists the sources j)
// in its own arithmetic (docs/benchmarks.md, "Aggregation against peers"):
//  * qgnn FP32: KernelTable::aggregate_f32(kSum, self_weight 1): neighbours in CSR order, then the self term.
//  * qgnn INT8 / INT4: KernelTable::aggregate(kSum, self_weight_q16 = 65536): the same int32 sum of
//    (x - zero_point), then requantized to int8 / int4 (rescale + clamp) as a GIN layer does.
//  * GraphBLAS FP32: C = X, then GrB_mxm(C, accum PLUS, PLUS_TIMES_FP32, A, X) with C full row-major (its
//    in-place saxpy kernel); A is iso-valued 1. Summation order is GraphBLAS's.
//  * GraphBLAS INT8 -> INT32 (typecast): X held as INT8, C and the semiring INT32 (PLUS_TIMES_INT32): every X
//    entry is typecast inside mxm, which takes GraphBLAS's generic kernel. C = int32(X) first.
//  * GraphBLAS INT32 (pre-cast): the same int8 values stored as INT32 once, outside the timed call, so mxm
//    runs its fast built-in kernel at 4x the input bytes.
// The integer paths' int32 sums equal qgnn's accumulators (zero point 0); qgnn requantizes them on top.
#ifndef QGNN_BENCH_PEERS_PEER_ENGINES_H_
#define QGNN_BENCH_PEERS_PEER_ENGINES_H_

#include <cstdint>
#include <memory>
#include <string>

#include "qgnn/kernels/kernel_table.h"
#include "random_graphs.h"

namespace qgnn {
namespace bench {

/// One aggregation engine bound to one graph and one input matrix (both must outlive it).
class PeerEngine {
 public:
  virtual ~PeerEngine() = default;
  /// Stable key for JSON and scripts, e.g. "qgnn_int8", "graphblas_fp32".
  virtual std::string key() const = 0;
  /// Human-readable label for the table, e.g. "qgnn INT8 (avx512)".
  virtual std::string label() const = 0;
  /// One full aggregation (every node). Throws std::runtime_error when the engine reports an error.
  virtual void run() = 0;
  /// The useful bytes of one run() in the engine's own storage formats: the graph's indices (int32 in qgnn,
  /// 64-bit GrB_Index in GraphBLAS) + one input row per edge + one input row per node (the self term) + one
  /// output row per node. Cache reuse is not modelled, so bytes / time may exceed memory bandwidth in cache.
  virtual double bytes() const = 0;
  /// Output rows [row_begin, row_end) of the last run() as doubles (row-major, `cols` per row): floats as
  /// they are, integer outputs as their int8 / int4 / int32 values.
  virtual void read_rows(int32_t row_begin, int32_t row_end, double* out) const = 0;
};

/// qgnn's FP32 sum aggregation with self weight 1 through `table->aggregate_f32`. `x` is [nodes][cols].
std::unique_ptr<PeerEngine> make_qgnn_f32(const kernels::KernelTable* table, const CsrData& graph,
                                          const float* x, int32_t cols);

/// qgnn's quantized sum aggregation (self_weight_q16 = 65536) through `table->aggregate`. `x` holds packed
/// activations of `bits` (8 or 4) bits with `zero_point`; `rq` rescales the int32 sum to the output (zero
/// point 0, same width).
std::unique_ptr<PeerEngine> make_qgnn_quantized(const kernels::KernelTable* table, const CsrData& graph,
                                                const uint8_t* x, int bits, int32_t zero_point,
                                                kernels::Rescale rq, int32_t cols);

/// The gather floor (gather_floor.cc): the loads of an aggregation of packed `bits`-bit rows of `cols`
/// columns (a multiple of 8 bytes) in CSR order, each row prefetched `distance` edges ahead, ORed together,
/// and nothing else. Key "floor_int<bits>_d<distance>". Its outputs are not sums: read_rows gives each row's
/// ORed bytes (row bytes per row, not `cols` values).
std::unique_ptr<PeerEngine> make_gather_floor(const CsrData& graph, const uint8_t* x, int bits, int32_t cols,
                                              int32_t distance);

/// Whether this build has GraphBLAS; when not, `why_not` says why (configuration or a missing library).
bool graphblas_available(std::string* why_not);

enum class GraphBlasPath {
  kFp32,          ///< X FP32, PLUS_TIMES_FP32
  kInt8Typecast,  ///< X INT8, C INT32, PLUS_TIMES_INT32: typecast inside mxm (generic kernel)
  kInt32,         ///< X pre-cast to INT32 outside the timed call, PLUS_TIMES_INT32
};

/// A GraphBLAS engine (one thread). `x` is float [nodes][cols] for kFp32, int8 [nodes][cols] otherwise.
/// Throws std::runtime_error without GraphBLAS (graphblas_available) or on a GraphBLAS error.
std::unique_ptr<PeerEngine> make_graphblas(GraphBlasPath path, const CsrData& graph, const void* x,
                                           int32_t cols);

}  // namespace bench
}  // namespace qgnn

#endif  // QGNN_BENCH_PEERS_PEER_ENGINES_H_
