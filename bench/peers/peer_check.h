// Cross-checks of the peer engines' outputs: do they compute the same sums? Used by qgnn-bench-peers after
// its timed rounds (a benchmark whose engines disagree reports nothing) and by tests/bench/peers_test.cc.
#ifndef QGNN_BENCH_PEERS_PEER_CHECK_H_
#define QGNN_BENCH_PEERS_PEER_CHECK_H_

#include <cstdint>
#include <string>

#include "peer_engines.h"
#include "qgnn/kernels/reference.h"
#include "random_graphs.h"

namespace qgnn {
namespace bench {

struct CheckResult {
  bool ok = true;
  double max_abs_diff = 0;  ///< over all compared elements
  std::string message;      ///< the first mismatch when !ok
};

/// Two FP32 sums of the same terms, in different orders: each is within gamma_(d+1) * sum|terms| of the exact
/// sum (Higham, recursive summation), so |a - b| <= 2 (d + 1) * FLT_EPSILON * (|x_i| + sum_j |x_j|) per
/// element, d the in-degree. `x` is the float input both engines read.
CheckResult compare_f32_sums(const CsrData& graph, const float* x, int32_t cols, const PeerEngine& a,
                             const PeerEngine& b);

/// Two integer engines (int32 sums, or any exact integer outputs): equal element for element.
CheckResult compare_exact(const CsrData& graph, int32_t cols, const PeerEngine& a, const PeerEngine& b);

/// A qgnn quantized engine against an int32 sum engine over the same values: the qgnn output must be
/// exactly clamp(rescale(sum + (d + 1) * (-zero_point), rq)) at `bits` bits, the requantization of
/// GraphBLAS's sum shifted by the zero point (numerics.h rescale).
CheckResult compare_requantized(const CsrData& graph, int32_t cols, const PeerEngine& qgnn, int bits,
                                int32_t zero_point, kernels::Rescale rq, const PeerEngine& int32_sums);

}  // namespace bench
}  // namespace qgnn

#endif  // QGNN_BENCH_PEERS_PEER_CHECK_H_
