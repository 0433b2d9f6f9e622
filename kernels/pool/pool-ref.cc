// Quantized global pooling: one output row per graph of a batch, reducing over that graph's nodes.
#include "packed-rows.h"
#include "qgnn/kernels/numerics.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

template <int kInBits, int kOutBits>
void global_pool_impl(const int32_t* graph_ptr, AggregateMode mode, QActivationConst in, int32_t cols,
                      Rescale rq, QActivation out, int32_t graph_begin, int32_t graph_end) {
  const detail::ActivationReader<kInBits> x(in.data, cols);
  detail::ActivationWriter<kOutBits> writer(out.data, cols);
  const int32_t zx = in.zero_point, zo = out.zero_point;
  const int32_t lo = qmin(kOutBits), hi = qmax(kOutBits);

  for (int32_t graph = graph_begin; graph < graph_end; ++graph) {
    writer.begin_row(graph);
    const int32_t first = graph_ptr[graph], last = graph_ptr[graph + 1];
    const int32_t count = last - first;
    if (count == 0) {  // an empty graph pools to real 0
      for (int32_t col = 0; col < cols; ++col) writer.store(graph, col, zo);
      continue;
    }
    const MeanRescale graph_rescale =
        mode == AggregateMode::kMean ? mean_rescale(rq.multiplier, rq.shift, static_cast<uint32_t>(count))
                                     : MeanRescale{rq.multiplier, rq.shift};
    for (int32_t col = 0; col < cols; ++col) {
      int32_t acc = 0;
      if (mode == AggregateMode::kMax) {
        int32_t best = x.at(first, col);
        for (int32_t node = first + 1; node < last; ++node) {
          if (x.at(node, col) > best) best = x.at(node, col);
        }
        acc = best - zx;
      } else {  // kSum and kMean
        for (int32_t node = first; node < last; ++node) acc += x.at(node, col) - zx;
      }
      writer.store(graph, col,
                   clamp_i64(zo + rescale(acc, graph_rescale.multiplier, graph_rescale.shift), lo, hi));
    }
  }
}

}  // namespace

void global_pool(const int32_t* graph_ptr, AggregateMode mode, QActivationConst in, int32_t cols, Rescale rq,
                 QActivation out, int32_t graph_begin, int32_t graph_end) {
  detail::dispatch_bits(in.bits, [&](auto in_bits) {
    detail::dispatch_bits(out.bits, [&](auto out_bits) {
      global_pool_impl<decltype(in_bits)::value, decltype(out_bits)::value>(graph_ptr, mode, in, cols, rq,
                                                                            out, graph_begin, graph_end);
    });
  });
}

}  // namespace kernels
}  // namespace qgnn
