// The dilated k-nearest-neighbour graph of a vision GNN (ViG): per node, the squared distance to every node
// of its segment (one image), one pair at a time, and a sorted buffer of the k * dilation best (distance,
// index) pairs, of which every dilation-th is kept. Also the argument checks and the scratch size that every
// twin shares (kernels/graph/knn-body.h calls them, so all tables refuse exactly the same calls).
#include <climits>

#include "packed-rows.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

/// One candidate neighbour.
struct Candidate {
  int32_t distance;
  int32_t node;
};

size_t round_up(size_t value, size_t multiple) { return (value + multiple - 1) / multiple * multiple; }

/// Aligns scratch for the reference's buffer (the caller's scratch may have any alignment).
Candidate* candidate_buffer(void* scratch) {
  const uintptr_t address = reinterpret_cast<uintptr_t>(scratch);
  return reinterpret_cast<Candidate*>(round_up(address, alignof(Candidate)));
}

template <int kBits>
void knn_rows(const KnnGraphParams& p, const void* data, int32_t cols, int32_t row_begin, int32_t row_end,
              int32_t* col_idx, Candidate* best) {
  const detail::ActivationReader<kBits> x(data, cols);
  const int32_t kd = p.k * p.dilation;
  int32_t segment = 0;
  for (int32_t i = row_begin; i < row_end; ++i) {
    while (p.graph_ptr[segment + 1] <= i) ++segment;
    int32_t count = 0;
    for (int32_t j = p.graph_ptr[segment]; j < p.graph_ptr[segment + 1]; ++j) {
      // |x_i - x_j| <= 255 and cols <= kKnnMaxCols = 2^15: the sum stays below 2^31.
      int32_t d = 0;
      for (int32_t c = 0; c < cols; ++c) {
        const int32_t diff = x.at(i, c) - x.at(j, c);
        d += diff * diff;
      }
      // Candidates arrive in ascending index order, so a full buffer takes one only when it is strictly
      // closer than the last kept (an equal distance loses the tie on the index).
      if (count == kd && d >= best[kd - 1].distance) continue;
      int32_t slot = count < kd ? count++ : kd - 1;
      while (slot > 0 && best[slot - 1].distance > d) {
        best[slot] = best[slot - 1];
        --slot;
      }
      best[slot] = Candidate{d, j};
    }
    for (int32_t t = 0; t < p.k; ++t) {
      col_idx[static_cast<size_t>(i) * static_cast<size_t>(p.k) + static_cast<size_t>(t)] =
          best[t * p.dilation].node;
    }
  }
}

}  // namespace

size_t knn_graph_scratch_bytes(int32_t max_nodes, int32_t cols, int32_t k, int32_t dilation) {
  if (max_nodes < 1 || max_nodes > kKnnMaxNodes || cols < 1 || cols > kKnnMaxCols || k < 1 || dilation < 1) {
    return 0;
  }
  const int64_t kd = int64_t{k} * dilation;
  if (kd > max_nodes) return 0;
  // The largest layout of any twin (knn-body.h), which also covers the reference's kd candidates: nodes
  // padded to 64 (every ISA's vector of nodes divides it), features to words of 4 int8, and 64-byte
  // alignment for each of the 8 regions and for the buffer itself.
  const size_t nodes = round_up(static_cast<size_t>(max_nodes), 64);
  const size_t groups = (static_cast<size_t>(cols) + 3) / 4;
  const size_t tile_rows = 4;                    // rows of one distance tile
  const size_t query_words = 2;                  // 32-bit words of a query group's operand (AVX2)
  return 4 * groups * nodes                      // packed features, [groups][nodes] words
         + 2 * 4 * nodes                         // norms and column terms (int32)
         + 4 * tile_rows * groups * query_words  // the tile rows' query operands
         + 4 * tile_rows * nodes                 // the tile rows' distances (int32)
         + 4 * nodes                             // per-lane minima of a row (int32)
         + 4 * nodes                             // the row's candidates within the bound (int32)
         + 8 * (static_cast<size_t>(kd) + 1)     // the sorted (distance, index) candidates, one spare
         + 9 * 64;
}

KnnStatus knn_graph_check(const KnnGraphParams& p, QActivationConst in, int32_t cols, int32_t row_begin,
                          int32_t row_end, const int32_t* row_ptr, const int32_t* col_idx,
                          const void* scratch, size_t scratch_bytes) {
  if (p.graph_ptr == nullptr || in.data == nullptr || row_ptr == nullptr || col_idx == nullptr ||
      scratch == nullptr) {
    return KnnStatus::kNullPointer;
  }
  if (in.bits != 8 && in.bits != 4) return KnnStatus::kBadBits;
  if (cols < 1 || cols > kKnnMaxCols) return KnnStatus::kBadCols;
  if (p.k < 1 || p.dilation < 1) return KnnStatus::kBadK;
  if (p.num_graphs < 0 || p.graph_ptr[0] != 0) return KnnStatus::kBadGraphPtr;
  const int64_t kd = int64_t{p.k} * p.dilation;
  int32_t largest = 0;
  for (int32_t g = 0; g < p.num_graphs; ++g) {
    const int64_t size = int64_t{p.graph_ptr[g + 1]} - p.graph_ptr[g];
    if (size < 0) return KnnStatus::kBadGraphPtr;
    if (size < kd) return KnnStatus::kTooFewNodes;
    if (size > kKnnMaxNodes) return KnnStatus::kTooManyNodes;
    if (size > largest) largest = static_cast<int32_t>(size);
  }
  const int32_t total = p.graph_ptr[p.num_graphs];
  if (int64_t{total} * p.k > INT32_MAX) return KnnStatus::kTooManyEdges;
  if (row_begin < 0 || row_begin > row_end || row_end > total) return KnnStatus::kBadRowRange;
  if (p.num_graphs > 0 && scratch_bytes < knn_graph_scratch_bytes(largest, cols, p.k, p.dilation)) {
    return KnnStatus::kScratchTooSmall;
  }
  return KnnStatus::kOk;
}

KnnStatus knn_graph(const KnnGraphParams& p, QActivationConst in, int32_t cols, int32_t row_begin,
                    int32_t row_end, int32_t* row_ptr, int32_t* col_idx, void* scratch,
                    size_t scratch_bytes) {
  const KnnStatus status =
      knn_graph_check(p, in, cols, row_begin, row_end, row_ptr, col_idx, scratch, scratch_bytes);
  if (status != KnnStatus::kOk) return status;
  if (row_begin == row_end) return status;
  if (row_begin == 0) row_ptr[0] = 0;
  for (int32_t i = row_begin; i < row_end; ++i) row_ptr[i + 1] = (i + 1) * p.k;
  detail::dispatch_bits(in.bits, [&](auto bits) {
    knn_rows<decltype(bits)::value>(p, in.data, cols, row_begin, row_end, col_idx, candidate_buffer(scratch));
  });
  return status;
}

}  // namespace kernels
}  // namespace qgnn
