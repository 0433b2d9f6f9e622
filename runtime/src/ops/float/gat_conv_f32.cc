// GATConv, float path (see gat_conv.h): the integer path's steps with binary32 arithmetic and expf, sums in
// index order (docs/quantization.md, "The float (FP32) path"):
//   src[j][h] = sum_f a_src[h F + f] m_j[h F + f] (f ascending), dst likewise;
//   e_j = s + d, e_j = e_j < 0 ? 0.2f * e_j : e_j for j over i itself, then its edges in CSR order;
//   t_j = expf(e_j - max_j e_j); S = sum_j t_j; acc[f] = sum_j (t_j / S) m_j[h F + f];
//   concat: out = acc + b; mean: out = (sum_h acc_h) / H + b; then ReLU.
#include <cmath>

#include "../gat_conv.h"
#include "float_ops.h"

namespace qgnn {
namespace runtime {
namespace {

void Terms(const EvalContext& ctx, const GatConvData& data, const float* m, float* src, float* dst) {
  const int32_t H = data.heads, F = data.head_dim;
  ParallelFor(*ctx.pool, ctx.num_nodes, [&](int32_t begin, int32_t end) {
    for (int32_t j = begin; j < end; ++j) {
      const float* row = m + static_cast<size_t>(j) * static_cast<size_t>(H * F);
      for (int32_t h = 0; h < H; ++h) {
        float s = 0.0f, d = 0.0f;
        for (int32_t f = 0; f < F; ++f) {
          s += data.att_src_f[h * F + f] * row[h * F + f];
          d += data.att_dst_f[h * F + f] * row[h * F + f];
        }
        src[static_cast<size_t>(j) * H + h] = s;
        dst[static_cast<size_t>(j) * H + h] = d;
      }
    }
  });
}

// One destination row and head: the edges plus the self-loop (k == 0), as the integer kernel walks them.
class Row {
 public:
  Row(const kernels::CsrGraph& g, const float* src, float dst, int32_t heads, int32_t node, int32_t head)
      : g_(g), src_(src), dst_(dst), heads_(heads), node_(node), head_(head) {}
  int32_t count() const { return g_.row_ptr[node_ + 1] - g_.row_ptr[node_] + 1; }
  int32_t source(int32_t k) const { return k == 0 ? node_ : g_.col_idx[g_.row_ptr[node_] + k - 1]; }
  float logit(int32_t k) const {
    const float e = src_[static_cast<size_t>(source(k)) * heads_ + head_] + dst_;
    return e < 0.0f ? 0.2f * e : e;
  }

 private:
  const kernels::CsrGraph& g_;
  const float* src_;
  float dst_;
  int32_t heads_, node_, head_;
};

}  // namespace

void EvalGatConvF32(const EvalContext& ctx, const Layer& layer) {
  const GatConvData& data = *static_cast<const GatConvData*>(layer.data);
  const int32_t H = data.heads, F = data.head_dim, cols = H * F;
  const float* in = static_cast<const float*>(ctx.Data(layer.t_in));
  float* m = static_cast<float*>(ctx.Data(data.t_message));
  float* out = static_cast<float*>(ctx.Data(layer.t_out));
  if (layer.t_in == kExternalTensor) {  // the model input: maybe sparse, or probed
    RunInputDenseF32(ctx, data.dense, in, m, ctx.num_nodes);
  } else {
    RunDenseF32(ctx, data.dense, in, nullptr, m, ctx.num_nodes);
  }
  float* src = static_cast<float*>(ctx.Data(data.t_terms));
  float* dst = src + static_cast<size_t>(ctx.num_nodes) * static_cast<size_t>(H);
  Terms(ctx, data, m, src, dst);
  const int32_t out_cols = layer.out_dim;
  ParallelFor(*ctx.pool, *ctx.partition, [&](int32_t begin, int32_t end) {
    for (int32_t i = begin; i < end; ++i) {
      float* y = out + static_cast<size_t>(i) * static_cast<size_t>(out_cols);
      for (int32_t c = 0; c < out_cols; ++c) y[c] = 0.0f;
      for (int32_t h = 0; h < H; ++h) {
        const Row row(ctx.graph, src, dst[static_cast<size_t>(i) * H + h], H, i, h);
        float emax = row.logit(0);
        for (int32_t k = 1; k < row.count(); ++k) emax = row.logit(k) > emax ? row.logit(k) : emax;
        float sum = 0.0f;
        for (int32_t k = 0; k < row.count(); ++k) sum += std::exp(row.logit(k) - emax);
        float* acc = data.concat ? y + h * F : y;
        for (int32_t k = 0; k < row.count(); ++k) {
          const float alpha = std::exp(row.logit(k) - emax) / sum;
          const float* mj = m + static_cast<size_t>(row.source(k)) * static_cast<size_t>(cols) + h * F;
          for (int32_t f = 0; f < F; ++f) acc[f] += alpha * mj[f];
        }
      }
      for (int32_t c = 0; c < out_cols; ++c) {
        float v = data.concat ? y[c] : y[c] / static_cast<float>(H);
        if (data.bias_f != nullptr) v += data.bias_f[c];
        y[c] = layer.relu && v < 0.0f ? 0.0f : v;  // a NaN stays a NaN, as in the Dense
      }
    }
  });
}

}  // namespace runtime
}  // namespace qgnn
