#include "peer_check.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <vector>

#include "qgnn/kernels/numerics.h"

namespace qgnn {
namespace bench {
namespace {

// Rows are compared in blocks so a 1M-node graph needs no full double copy of either output.
constexpr int32_t kBlockRows = 4096;

template <typename Bound>
CheckResult compare(const CsrData& graph, int32_t cols, const PeerEngine& a, const PeerEngine& b,
                    Bound bound) {
  CheckResult result;
  std::vector<double> ya, yb;
  for (int32_t begin = 0; begin < graph.num_nodes; begin += kBlockRows) {
    const int32_t end = std::min(graph.num_nodes, begin + kBlockRows);
    const size_t count = static_cast<size_t>(end - begin) * static_cast<size_t>(cols);
    ya.resize(count);
    yb.resize(count);
    a.read_rows(begin, end, ya.data());
    b.read_rows(begin, end, yb.data());
    for (int32_t r = begin; r < end; ++r) {
      for (int32_t c = 0; c < cols; ++c) {
        const size_t k = static_cast<size_t>(r - begin) * cols + c;
        const double diff = std::fabs(ya[k] - yb[k]);
        result.max_abs_diff = std::max(result.max_abs_diff, diff);
        const double allowed = bound(r, c);
        if (result.ok && !(diff <= allowed)) {
          char text[256];
          std::snprintf(text, sizeof text,
                        "%s and %s differ at node %d, column %d: %.9g vs %.9g (allowed %.3g)",
                        a.label().c_str(), b.label().c_str(), r, c, ya[k], yb[k], allowed);
          result.ok = false;
          result.message = text;
        }
      }
    }
  }
  return result;
}

}  // namespace

CheckResult compare_f32_sums(const CsrData& graph, const float* x, int32_t cols, const PeerEngine& a,
                             const PeerEngine& b) {
  return compare(graph, cols, a, b, [&](int32_t r, int32_t c) {
    const int32_t degree = graph.row_ptr[r + 1] - graph.row_ptr[r];
    double magnitude = std::fabs(x[static_cast<size_t>(r) * cols + c]);
    for (int32_t e = graph.row_ptr[r]; e < graph.row_ptr[r + 1]; ++e) {
      magnitude += std::fabs(x[static_cast<size_t>(graph.col_idx[e]) * cols + c]);
    }
    return 2.0 * (degree + 1) * FLT_EPSILON * magnitude;
  });
}

CheckResult compare_exact(const CsrData& graph, int32_t cols, const PeerEngine& a, const PeerEngine& b) {
  return compare(graph, cols, a, b, [](int32_t, int32_t) { return 0.0; });
}

CheckResult compare_requantized(const CsrData& graph, int32_t cols, const PeerEngine& qgnn, int bits,
                                int32_t zero_point, kernels::Rescale rq, const PeerEngine& int32_sums) {
  CheckResult result;
  std::vector<double> yq, ys;
  for (int32_t begin = 0; begin < graph.num_nodes; begin += kBlockRows) {
    const int32_t end = std::min(graph.num_nodes, begin + kBlockRows);
    const size_t count = static_cast<size_t>(end - begin) * static_cast<size_t>(cols);
    yq.resize(count);
    ys.resize(count);
    qgnn.read_rows(begin, end, yq.data());
    int32_sums.read_rows(begin, end, ys.data());
    for (int32_t r = begin; r < end; ++r) {
      const int64_t terms = graph.row_ptr[r + 1] - graph.row_ptr[r] + 1;  // neighbours and the self term
      for (int32_t c = 0; c < cols; ++c) {
        const size_t k = static_cast<size_t>(r - begin) * cols + c;
        const int64_t acc = static_cast<int64_t>(ys[k]) - terms * zero_point;
        const int64_t expected = std::clamp<int64_t>(kernels::rescale(acc, rq.multiplier, rq.shift),
                                                     kernels::qmin(bits), kernels::qmax(bits));
        const double diff = std::fabs(yq[k] - static_cast<double>(expected));
        result.max_abs_diff = std::max(result.max_abs_diff, diff);
        if (result.ok && diff != 0) {
          char text[256];
          std::snprintf(text, sizeof text,
                        "%s at node %d, column %d is %.0f; %s's sum %.0f requantizes to %lld",
                        qgnn.label().c_str(), r, c, yq[k], int32_sums.label().c_str(), ys[k],
                        static_cast<long long>(expected));
          result.ok = false;
          result.message = text;
        }
      }
    }
  }
  return result;
}

}  // namespace bench
}  // namespace qgnn
