// Float (FP32) global pooling: global_pool()'s semantics with float arithmetic, nodes in index order.
#include <cstddef>

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

}  // namespace

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
