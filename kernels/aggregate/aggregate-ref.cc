// Quantized neighbourhood aggregation (sum / GIN, mean, max, GCN), one output element at a time: for
// output row i and column k, walk i's in-neighbours, accumulate, then requantize. No scratch memory.
#include "packed-rows.h"
#include "qgnn/kernels/numerics.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

template <int kInBits>
struct AggregateInput {
  const CsrGraph& graph;
  detail::ActivationReader<kInBits> x;
  int32_t zero_point;
};

/// sum_j (x_j - zx) [+ GIN self term] in int32: |acc| < 2^30 under the runtime limits (quantization.md).
template <int kInBits>
int64_t sum_accumulator(const AggregateInput<kInBits>& in, int32_t node, int32_t col,
                        int32_t self_weight_q16) {
  int32_t acc = 0;
  for (int32_t e = in.graph.row_ptr[node]; e < in.graph.row_ptr[node + 1]; ++e) {
    acc += in.x.at(in.graph.col_idx[e], col) - in.zero_point;
  }
  if (self_weight_q16 != 0) {
    const int64_t self_scaled = static_cast<int64_t>(in.x.at(node, col) - in.zero_point) * self_weight_q16;
    acc += static_cast<int32_t>(rounding_shift_right(self_scaled, 16));
  }
  return acc;
}

/// max_j x_j - zx; the caller handles degree 0.
template <int kInBits>
int64_t max_accumulator(const AggregateInput<kInBits>& in, int32_t node, int32_t col) {
  const int32_t first = in.graph.row_ptr[node];
  int32_t best = in.x.at(in.graph.col_idx[first], col);
  for (int32_t e = first + 1; e < in.graph.row_ptr[node + 1]; ++e) {
    const int32_t value = in.x.at(in.graph.col_idx[e], col);
    if (value > best) best = value;
  }
  return best - in.zero_point;
}

/// rounding_shift_right(norm_i * sum_{j in N(i) + self} (x_j - zx) * norm_j, 30), int64.
template <int kInBits>
int64_t gcn_accumulator(const AggregateInput<kInBits>& in, int32_t node, int32_t col,
                        const int32_t* norm_q15) {
  int64_t acc = static_cast<int64_t>(in.x.at(node, col) - in.zero_point) * norm_q15[node];  // self-loop
  for (int32_t e = in.graph.row_ptr[node]; e < in.graph.row_ptr[node + 1]; ++e) {
    const int32_t source = in.graph.col_idx[e];
    acc += static_cast<int64_t>(in.x.at(source, col) - in.zero_point) * norm_q15[source];
  }
  // Two Q15 factors: the product is Q30.
  return rounding_shift_right(acc * norm_q15[node], 30);
}

template <int kInBits, int kOutBits>
void aggregate_impl(const CsrGraph& graph, const AggregateParams& params, QActivationConst in, int32_t cols,
                    QActivation out, int32_t row_begin, int32_t row_end) {
  const AggregateMode mode = params.mode;
  const Rescale rq = params.rq;
  const AggregateInput<kInBits> input{graph, detail::ActivationReader<kInBits>(in.data, cols), in.zero_point};
  detail::ActivationWriter<kOutBits> writer(out.data, cols);
  const int32_t zo = out.zero_point;
  const int32_t hi = qmax(kOutBits);
  const int32_t lo = params.relu && zo > qmin(kOutBits) ? zo : qmin(kOutBits);

  for (int32_t node = row_begin; node < row_end; ++node) {
    writer.begin_row(node);
    const int32_t degree = detail::in_degree(graph, node);
    // Mean and max of an empty neighbourhood are real 0, i.e. the output zero point.
    if (degree == 0 && (mode == AggregateMode::kMean || mode == AggregateMode::kMax)) {
      for (int32_t col = 0; col < cols; ++col) writer.store(node, col, zo);
      continue;
    }
    // The mean folds 1/degree into the rescale, so it costs one division per row, not per element.
    const MeanRescale row_rescale = mode == AggregateMode::kMean
                                        ? mean_rescale(rq.multiplier, rq.shift, static_cast<uint32_t>(degree))
                                        : MeanRescale{rq.multiplier, rq.shift};
    for (int32_t col = 0; col < cols; ++col) {
      int64_t acc = 0;
      switch (mode) {
        case AggregateMode::kSum:
          acc = sum_accumulator(input, node, col, params.self_weight_q16);
          break;
        case AggregateMode::kMean:
          acc = sum_accumulator(input, node, col, /*self_weight_q16=*/0);
          break;
        case AggregateMode::kMax:
          acc = max_accumulator(input, node, col);
          break;
        case AggregateMode::kGcn:
          acc = gcn_accumulator(input, node, col, params.norm_q15);
          break;
      }
      // |acc| < 2^30 (sum) or < 2^20 (GCN's t) and |bias| < 2^30: the sum fits the int32 the twins use.
      if (params.bias != nullptr) acc += params.bias[col];
      writer.store(node, col,
                   clamp_i64(zo + rescale(acc, row_rescale.multiplier, row_rescale.shift), lo, hi));
    }
  }
}

}  // namespace

void aggregate(const CsrGraph& graph, const AggregateParams& params, QActivationConst in, int32_t cols,
               QActivation out, int32_t row_begin, int32_t row_end) {
  detail::dispatch_bits(in.bits, [&](auto in_bits) {
    detail::dispatch_bits(out.bits, [&](auto out_bits) {
      aggregate_impl<decltype(in_bits)::value, decltype(out_bits)::value>(graph, params, in, cols, out,
                                                                           row_begin, row_end);
    });
  });
}

}  // namespace kernels
}  // namespace qgnn
