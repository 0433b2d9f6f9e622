// The fixed 8-neighbour graph of a patch grid: the cheap alternative to rebuilding a kNN graph per block,
// the same for every image and every layer, so a caller builds it once (at setup) rather than in invoke.
#include <climits>

#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {

int64_t grid_graph_edges(int32_t height, int32_t width, int32_t num_graphs, bool self_loops) {
  if (height < 1 || width < 1 || num_graphs < 0 || int64_t{height} * width > kKnnMaxNodes) return -1;
  const int64_t h = height, w = width;
  // Each undirected horizontal, vertical and diagonal link gives two directed edges.
  const int64_t per_grid = 2 * (h * (w - 1) + (h - 1) * w + 2 * (h - 1) * (w - 1)) + (self_loops ? h * w : 0);
  const int64_t total = per_grid * num_graphs;
  return total > INT32_MAX ? -1 : total;
}

KnnStatus grid_graph(int32_t height, int32_t width, int32_t num_graphs, bool self_loops, int32_t* row_ptr,
                     int32_t* col_idx) {
  if (row_ptr == nullptr || col_idx == nullptr) return KnnStatus::kNullPointer;
  if (height < 1 || width < 1) return KnnStatus::kTooFewNodes;
  if (num_graphs < 0) return KnnStatus::kBadGraphPtr;
  if (int64_t{height} * width > kKnnMaxNodes) return KnnStatus::kTooManyNodes;
  if (grid_graph_edges(height, width, num_graphs, self_loops) < 0) return KnnStatus::kTooManyEdges;
  int32_t edges = 0;
  row_ptr[0] = 0;
  int32_t node = 0;
  for (int32_t b = 0; b < num_graphs; ++b) {
    const int32_t base = node;
    for (int32_t y = 0; y < height; ++y) {
      for (int32_t x = 0; x < width; ++x) {
        // Rows above, level and below, each left to right: ascending node index.
        for (int32_t dy = -1; dy <= 1; ++dy) {
          for (int32_t dx = -1; dx <= 1; ++dx) {
            const int32_t yy = y + dy, xx = x + dx;
            if (yy < 0 || yy >= height || xx < 0 || xx >= width) continue;
            if (dy == 0 && dx == 0 && !self_loops) continue;
            col_idx[edges++] = base + yy * width + xx;
          }
        }
        row_ptr[++node] = edges;
      }
    }
  }
  return KnnStatus::kOk;
}

}  // namespace kernels
}  // namespace qgnn
