// What the GAT kernel benchmarks (bench_gat.cc, bench_gat_stages.cc) share: the exp table and the GatParams
// of one layer over random int8 messages and attention vectors.
#ifndef QGNN_BENCH_KERNELS_GAT_DATA_H_
#define QGNN_BENCH_KERNELS_GAT_DATA_H_

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernel_data.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace bench {

/// The converter's exp table for a logit scale of 1/16 (logits spanning +-8 in real units).
inline std::vector<uint16_t> gat_exp_table() {
  std::vector<uint16_t> table;
  for (int32_t k = 0; k < kernels::kGatExpTableSize; ++k) {
    table.push_back(static_cast<uint16_t>(std::lround(32768.0 * std::exp(-k / 16.0))));
  }
  return table;
}

/// The buffers a GatParams points into (the caller keeps them alive and fills the terms).
struct GatLayerBuffers {
  const int32_t* src_terms;
  const int32_t* dst_terms;
  const uint16_t* exp_table;
  const int32_t* bias;
  kernels::ChannelRescale rq;
};

/// A layer of `heads` x `head_dim` over random int8 terms, heads concatenated or averaged.
inline kernels::GatParams gat_params(int32_t heads, int32_t head_dim, const GatLayerBuffers& b, bool concat,
                                     bool relu) {
  kernels::GatParams p{};
  p.heads = heads;
  p.head_dim = head_dim;
  p.src_terms = b.src_terms;
  p.dst_terms = b.dst_terms;
  // Random int8 terms are ~ 127 * 74 * sqrt(F) apart: 2^-10 spreads them over the int8 logits.
  p.logit_pos = rescale_for(1.0 / 1024);
  p.logit_neg = rescale_for(0.2 / 1024);
  p.logit_zero_point = 5;
  p.exp_table = b.exp_table;
  p.concat = concat;
  p.bias = b.bias;
  p.rq = b.rq;
  p.relu = relu;
  return p;
}

}  // namespace bench
}  // namespace qgnn

#endif  // QGNN_BENCH_KERNELS_GAT_DATA_H_
