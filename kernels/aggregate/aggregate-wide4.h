// The wide int4 sum (WideSum<V, WideInt4Rows<V>, kOutBits> of aggregate-wide.h, the peer benchmark's INT4
// y = x + sum_j x_j at F = 64): packed int4 rows of more than 2 * kLanes columns, int4 or int8 output, an
// input small enough for the loops without prefetch. Compiled in files of its own
// (x4-aggregate-wide-<isa>.cc), called by the x86 tables before the generic int4 twin: inside
// aggregate_rows it changed how the compiler inlined the generic loops, and the narrow int4 sum and max
// (Cora's 16-column messages) ran 2x slower. aggregate_wide_x4 hands the rows it does not take (hubs) to
// SpmmTwin::reduce, and returns false for any call it does not take at all.
//
// Why the wide loop for int4 too: int4 rows, which move half the bytes, ran at ~0.5x the speed of int8
// ones once int8 had its own loop (the generic loop's column-tile loop and per-row tests).
#ifndef QGNN_KERNELS_AGGREGATE_AGGREGATE_WIDE4_H_
#define QGNN_KERNELS_AGGREGATE_AGGREGATE_WIDE4_H_

#include <cstddef>
#include <cstdint>

#include "aggregate-body.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

/// The call, in the wide int4 sum, when it is one (header): true when done, false when the generic twin must
/// run.
template <class V, int kOutBits>
bool aggregate_wide_x4_rows(const CsrGraph& graph, const AggregateParams& params, QActivationConst in,
                            int32_t cols, QActivation out, int32_t row_begin, int32_t row_end) {
  using Twin = SpmmTwin<V, 4, kOutBits, false, false>;
  Twin twin(in.data, in.zero_point, cols, out.data, out.zero_point, nullptr, params.relu);
  const int32_t self_weight = params.self_weight_q16;
  const PairRequant<V> fixed = twin.pair_requant(twins::aggregate_row_rescale(params.mode, params.rq, 0));
  if (!fixed.high) return false;
  const auto rest = [&](int32_t node) {
    const int32_t first = graph.row_ptr[node];
    const SourceRows src{graph.col_idx + first, 0, graph.row_ptr[node + 1] - first};
    twin.reduce(params.mode, src, node, self_weight, fixed, node);
  };
  WideSum<V, WideInt4Rows<V>, kOutBits> wide(
      static_cast<const uint8_t*>(in.data), in.zero_point, cols, static_cast<uint8_t*>(out.data),
      params.relu && out.zero_point > Twin::kOutMin ? out.zero_point : Twin::kOutMin);
  if (self_weight != 0) {
    wide.template run<true>(graph, fixed, row_begin, row_end, rest);
  } else {
    wide.template run<false>(graph, fixed, row_begin, row_end, rest);
  }
  return true;
}

template <class V>
bool aggregate_wide_x4(const CsrGraph& graph, const AggregateParams& params, QActivationConst in, int32_t cols,
                       QActivation out, int32_t row_begin, int32_t row_end) {
  constexpr int32_t kSelfWeightOne = 1 << 16;
  if (params.mode != AggregateMode::kSum || params.bias != nullptr || cols <= 2 * V::kLanes ||
      (params.self_weight_q16 != 0 && params.self_weight_q16 != kSelfWeightOne) ||
      prefetch_gathers(graph, cols, 4)) {
    return false;
  }
  return out.bits == 4 ? aggregate_wide_x4_rows<V, 4>(graph, params, in, cols, out, row_begin, row_end)
                       : aggregate_wide_x4_rows<V, 8>(graph, params, in, cols, out, row_begin, row_end);
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_AGGREGATE_AGGREGATE_WIDE4_H_
