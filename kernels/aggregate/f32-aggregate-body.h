// The ONE body of the float (FP32) aggregation twins (aggregate_f32, reference.h), written against a vector
// traits type V (kernels/simd/: simd-avx2.h, simd-avx512.h, simd-neon.h, their *_f32 operations). Include
// after the traits, from a file compiled with the ISA's flags and -ffp-contract=off (kernels/CMakeLists.txt).
//
// The reference (f32-aggregate-ref.cc) walks the columns one by one and, per column, the neighbours in CSR
// order. This body walks the columns in tiles of up to kVecs vectors and, per tile, the neighbours in the
// same CSR order, each neighbour row read with contiguous vector loads. A vector lane is one column, and
// every lane performs exactly the reference's float operations on its column in the reference's order (the
// same neighbour order, the self term last, the same products, the same division and the same compare for
// max), none of them fused (-ffp-contract=off on both sides), so the results are identical to the
// reference's bit for bit: the stated tolerance is zero, and the tests compare bytes.
//
// A tile is up to kVecs vectors wide (kVecs * kLanes columns: 64 on AVX2 and AVX-512, 32 on NEON), the
// accumulators held in registers, so the GCN factor of a neighbour (1 / sqrt(its degree + 1), computed as
// the reference does) is computed once per neighbour and tile instead of once per column. The number of
// vectors a tile uses is a template argument (rows narrower than a tile use fewer), chosen per tile.
#ifndef QGNN_KERNELS_AGGREGATE_F32_AGGREGATE_BODY_H_
#define QGNN_KERNELS_AGGREGATE_F32_AGGREGATE_BODY_H_

#include <cstddef>
#include <cstdint>

#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

template <class V>
class F32AggregateTwin {
 public:
  static constexpr int kL = V::kLanes;
  static constexpr int kVecs = 64 / kL < 8 ? 64 / kL : 8;  ///< 8 vectors (AVX2, NEON), 4 (AVX-512)
  static constexpr int32_t kTile = kVecs * kL;
  using F = typename V::F32;

  F32AggregateTwin(const CsrGraph& graph, AggregateMode mode, const float* in, int32_t cols,
                   float self_weight, float* out)
      : graph_(graph), mode_(mode), in_(in), out_(out), cols_(cols), self_weight_(self_weight) {}

  void rows(int32_t row_begin, int32_t row_end) const {
    for (int32_t node = row_begin; node < row_end; ++node) {
      for (int32_t col = 0; col < cols_; col += kTile) {
        const int32_t n = cols_ - col < kTile ? cols_ - col : kTile;
        tile_of_width(node, col, n);
      }
    }
  }

 private:
  /// tile<kUsed> with kUsed = the vectors n columns fill (a predictable branch: every row's tiles repeat).
  void tile_of_width(int32_t node, int32_t col, int32_t n) const {
    switch ((n + kL - 1) / kL) {
      case 1:
        return tile<1>(node, col, n);
      case 2:
        return tile<2>(node, col, n);
      case 3:
        return tile<3>(node, col, n);
      case 4:
        return tile<4>(node, col, n);
      default:
        if constexpr (kVecs == 8) {
          switch ((n + kL - 1) / kL) {
            case 5:
              return tile<5>(node, col, n);
            case 6:
              return tile<6>(node, col, n);
            case 7:
              return tile<7>(node, col, n);
            default:
              return tile<8>(node, col, n);
          }
        }
    }
  }

  /// Output columns [col, col + n) of row `node`, n <= kUsed * kL, in the reference's operation order.
  template <int kUsed>
  void tile(int32_t node, int32_t col, int32_t n) const {
    const int32_t first = graph_.row_ptr[node], last = graph_.row_ptr[node + 1];
    const int32_t degree = last - first;
    F acc[kUsed];
    for (int v = 0; v < kUsed; ++v) acc[v] = V::set1_f32(0.0f);
    switch (mode_) {
      case AggregateMode::kSum:
        sum<kUsed>(first, last, col, n, acc);
        if (self_weight_ != 0.0f) {
          const F w = V::set1_f32(self_weight_);
          for (int v = 0; v < kUsed; ++v) acc[v] = V::add_f32(acc[v], V::mul_f32(w, load(node, col, n, v)));
        }
        break;
      case AggregateMode::kMean:
        if (degree > 0) {
          sum<kUsed>(first, last, col, n, acc);
          const F d = V::set1_f32(static_cast<float>(degree));
          for (int v = 0; v < kUsed; ++v) acc[v] = V::div_f32(acc[v], d);
        }
        break;
      case AggregateMode::kMax:
        if (degree > 0) {
          const int32_t source = graph_.col_idx[first];
          for (int v = 0; v < kUsed; ++v) acc[v] = load(source, col, n, v);
          for (int32_t e = first + 1; e < last; ++e) {
            const int32_t next = graph_.col_idx[e];
            // The reference's `if (value > acc) acc = value`, NaNs and signed zeros included.
            for (int v = 0; v < kUsed; ++v) acc[v] = V::select_gt_f32(load(next, col, n, v), acc[v]);
          }
        }
        break;
      case AggregateMode::kGcn: {
        for (int32_t e = first; e < last; ++e) {
          const int32_t source = graph_.col_idx[e];
          const F factor = V::set1_f32(gcn_norm(source));
          for (int v = 0; v < kUsed; ++v)
            acc[v] = V::add_f32(acc[v], V::mul_f32(load(source, col, n, v), factor));
        }
        const F own = V::set1_f32(gcn_norm(node));
        for (int v = 0; v < kUsed; ++v) {
          acc[v] = V::mul_f32(V::add_f32(acc[v], V::mul_f32(load(node, col, n, v), own)), own);
        }
        break;
      }
    }
    float* row = out_ + static_cast<size_t>(node) * static_cast<size_t>(cols_) + col;
    for (int v = 0; v < kUsed; ++v) V::store_f32(row + v * kL, acc[v], count(n, v));
  }

  template <int kUsed>
  void sum(int32_t first, int32_t last, int32_t col, int32_t n, F* acc) const {
    for (int32_t e = first; e < last; ++e) {
      const int32_t source = graph_.col_idx[e];
      for (int v = 0; v < kUsed; ++v) acc[v] = V::add_f32(acc[v], load(source, col, n, v));
    }
  }

  /// 1 / sqrt(d) with d counting the self-loop: the reference's gcn_norm_f32, with the builtin rather than
  /// std::sqrt so no inline function compiled with this file's ISA flags is shared with other callers
  /// (dispatch/twins.h). Both are the correctly rounded square root.
  float gcn_norm(int32_t node) const {
    return 1.0f / __builtin_sqrtf(static_cast<float>(graph_.row_ptr[node + 1] - graph_.row_ptr[node] + 1));
  }

  static int count(int32_t n, int v) { return n - v * kL < kL ? static_cast<int>(n - v * kL) : kL; }

  /// Vector v of the tile at `col` of input row `row`; a partial vector reads only its columns.
  F load(int32_t row, int32_t col, int32_t n, int v) const {
    return V::load_f32(in_ + static_cast<size_t>(row) * static_cast<size_t>(cols_) + col + v * kL,
                       count(n, v));
  }

  const CsrGraph& graph_;
  AggregateMode mode_;
  const float* in_;
  float* out_;
  int32_t cols_;
  float self_weight_;
};

template <class V>
void aggregate_f32_twin(const CsrGraph& graph, AggregateMode mode, const float* in, int32_t cols,
                        float self_weight, float* out, int32_t row_begin, int32_t row_end) {
  if (cols <= 0) return;
  F32AggregateTwin<V>(graph, mode, in, cols, self_weight, out).rows(row_begin, row_end);
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_AGGREGATE_F32_AGGREGATE_BODY_H_
