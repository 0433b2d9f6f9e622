// The float (FP32) path: same semantics as the quantized kernels with float arithmetic. Sums run in index
// order (CSR order for neighbours, then the self term) so results are reproducible run to run.
#include <cmath>
#include <cstddef>

#include "packed_rows.h"
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

void dense_f32(const float* in, int32_t in_cols, const float* weights, const float* bias,
               const DenseExtraInputF32* extra, bool relu, float* out, int32_t out_cols, int32_t row_begin,
               int32_t row_end) {
  for (int32_t row = row_begin; row < row_end; ++row) {
    const float* x = row_of(in, row, in_cols);
    float* y = row_of(out, row, out_cols);
    for (int32_t c = 0; c < out_cols; ++c) {
      const float* w = row_of(weights, c, in_cols);
      float acc = bias != nullptr ? bias[c] : 0.0f;
      for (int32_t k = 0; k < in_cols; ++k) acc += x[k] * w[k];
      if (extra != nullptr) {
        const float* extra_x = row_of(extra->in, row, extra->in_cols);
        const float* extra_w = row_of(extra->weights, c, extra->in_cols);
        float extra_acc = extra->bias != nullptr ? extra->bias[c] : 0.0f;
        for (int32_t k = 0; k < extra->in_cols; ++k) extra_acc += extra_x[k] * extra_w[k];
        acc += extra_acc;
      }
      y[c] = (relu && acc < 0.0f) ? 0.0f : acc;
    }
  }
}

void global_pool_f32(const int32_t* graph_ptr, AggregateMode mode, const float* in, int32_t cols, float* out,
                     int32_t graph_begin, int32_t graph_end) {
  for (int32_t graph = graph_begin; graph < graph_end; ++graph) {
    float* out_row = row_of(out, graph, cols);
    const int32_t first = graph_ptr[graph], last = graph_ptr[graph + 1];
    const int32_t count = last - first;
    for (int32_t col = 0; col < cols; ++col) {
      float acc = 0.0f;
      if (count > 0) {
        if (mode == AggregateMode::kMax) {
          acc = row_of(in, first, cols)[col];
          for (int32_t node = first + 1; node < last; ++node) {
            if (row_of(in, node, cols)[col] > acc) acc = row_of(in, node, cols)[col];
          }
        } else {
          for (int32_t node = first; node < last; ++node) acc += row_of(in, node, cols)[col];
          if (mode == AggregateMode::kMean) acc /= static_cast<float>(count);
        }
      }
      out_row[col] = acc;
    }
  }
}

}  // namespace kernels
}  // namespace qgnn
