// Float (FP32) aggregation: aggregate()'s semantics with float arithmetic. Sums run in index order (CSR
// order for neighbours, then the self term) so results are reproducible run to run.
#include <cmath>
#include <cstddef>

#include "packed-rows.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

const float* row_of(const float* base, int32_t row, int32_t cols) {
  return base + static_cast<size_t>(row) * static_cast<size_t>(cols);
}
float* row_of(float* base, int32_t row, int32_t cols) {
  return base + static_cast<size_t>(row) * static_cast<size_t>(cols);
}

/// 1 / sqrt(d) with d counting the self-loop.
float gcn_norm_f32(const CsrGraph& graph, int32_t node) {
  return 1.0f / std::sqrt(static_cast<float>(detail::in_degree(graph, node) + 1));
}

}  // namespace

void aggregate_f32(const CsrGraph& graph, AggregateMode mode, const float* in, int32_t cols,
                   float self_weight, float* out, int32_t row_begin, int32_t row_end) {
  for (int32_t node = row_begin; node < row_end; ++node) {
    float* out_row = row_of(out, node, cols);
    const float* self_row = row_of(in, node, cols);
    const int32_t first = graph.row_ptr[node], last = graph.row_ptr[node + 1];
    const int32_t degree = last - first;
    const float self_norm = mode == AggregateMode::kGcn ? gcn_norm_f32(graph, node) : 0.0f;

    for (int32_t col = 0; col < cols; ++col) {
      float acc = 0.0f;
      switch (mode) {
        case AggregateMode::kSum:
          for (int32_t e = first; e < last; ++e) acc += row_of(in, graph.col_idx[e], cols)[col];
          if (self_weight != 0.0f) acc += self_weight * self_row[col];
          break;
        case AggregateMode::kMean:
          if (degree > 0) {
            for (int32_t e = first; e < last; ++e) acc += row_of(in, graph.col_idx[e], cols)[col];
            acc /= static_cast<float>(degree);
          }
          break;
        case AggregateMode::kMax:
          if (degree > 0) {
            acc = row_of(in, graph.col_idx[first], cols)[col];
            for (int32_t e = first + 1; e < last; ++e) {
              const float value = row_of(in, graph.col_idx[e], cols)[col];
              if (value > acc) acc = value;
            }
          }
          break;
        case AggregateMode::kGcn:
          for (int32_t e = first; e < last; ++e) {
            const int32_t source = graph.col_idx[e];
            acc += row_of(in, source, cols)[col] * gcn_norm_f32(graph, source);
          }
          acc += self_row[col] * self_norm;
          acc *= self_norm;
          break;
      }
      out_row[col] = acc;
    }
  }
}

}  // namespace kernels
}  // namespace qgnn
