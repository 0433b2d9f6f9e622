// Runtime test helpers (see test_util.h).
#include "test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>

#include "qgnn/converter/quantizer.h"
#include "qgnn/kernels/numerics.h"
#include "qgnn/session.hpp"

namespace qgnn {
namespace test {

namespace k = ::qgnn::kernels;

// ---- AlignedBuffer
// -------------------------------------------------------------------------------------------

AlignedBuffer::AlignedBuffer(size_t size, size_t offset) : size_(size), offset_(offset) {
  storage_.reset(static_cast<uint8_t*>(::operator new[](size + offset, std::align_val_t(16))));
  std::memset(storage_.get(), 0, size + offset);
}

AlignedBuffer::AlignedBuffer(const uint8_t* bytes, size_t size, size_t offset) : AlignedBuffer(size, offset) {
  if (size > 0) std::memcpy(data(), bytes, size);
}

// ---- Graph
// ---------------------------------------------------------------------------------------------------

qgnn_graph Graph::view(bool int8) const {
  qgnn_graph g{};
  g.num_nodes = num_nodes;
  g.num_edges = num_edges();
  g.num_graphs = num_graphs;
  g.row_ptr = row_ptr.data();
  g.col_idx = col_idx.empty() ? nullptr : col_idx.data();
  g.graph_ptr = graph_ptr.data();
  g.features_f32 = int8 || features_f32.empty() ? nullptr : features_f32.data();
  g.features_i8 = !int8 || features_i8.empty() ? nullptr : features_i8.data();
  return g;
}

Graph Graph::Subgraph(uint32_t g) const {
  Graph s;
  const int32_t begin = graph_ptr[g], end = graph_ptr[g + 1];
  s.num_nodes = static_cast<uint32_t>(end - begin);
  s.num_graphs = 1;
  s.feature_dim = feature_dim;
  s.graph_ptr = {0, static_cast<int32_t>(s.num_nodes)};
  s.row_ptr = {0};
  for (int32_t i = begin; i < end; ++i) {
    for (int32_t e = row_ptr[i]; e < row_ptr[i + 1]; ++e) s.col_idx.push_back(col_idx[e] - begin);
    s.row_ptr.push_back(static_cast<int32_t>(s.col_idx.size()));
  }
  const size_t f = static_cast<size_t>(feature_dim);
  if (!features_f32.empty()) {
    s.features_f32.assign(features_f32.begin() + begin * f, features_f32.begin() + end * f);
  }
  if (!features_i8.empty())
    s.features_i8.assign(features_i8.begin() + begin * f, features_i8.begin() + end * f);
  return s;
}

Graph RandomGraph(std::mt19937& rng, const std::vector<uint32_t>& nodes_per_graph, int32_t max_degree,
                  int32_t feature_dim, int int8_bits) {
  Graph g;
  g.num_graphs = static_cast<uint32_t>(nodes_per_graph.size());
  g.feature_dim = feature_dim;
  g.graph_ptr = {0};
  for (uint32_t n : nodes_per_graph) {
    const int32_t base = static_cast<int32_t>(g.num_nodes);
    for (uint32_t i = 0; i < n; ++i) {
      int32_t degree = std::uniform_int_distribution<int32_t>(0, max_degree)(rng);
      if (std::uniform_int_distribution<int>(0, 6)(rng) == 0) degree = 0;  // isolated nodes
      for (int32_t d = 0; d < degree; ++d) {
        g.col_idx.push_back(base +
                            std::uniform_int_distribution<int32_t>(0, static_cast<int32_t>(n) - 1)(rng));
      }
      g.row_ptr.push_back(static_cast<int32_t>(g.col_idx.size()));
    }
    g.num_nodes += n;
    g.graph_ptr.push_back(static_cast<int32_t>(g.num_nodes));
  }
  const size_t count = static_cast<size_t>(g.num_nodes) * static_cast<size_t>(feature_dim);
  std::uniform_real_distribution<float> feature(-2.0f, 2.0f);
  std::uniform_int_distribution<int> q(k::qmin(int8_bits), k::qmax(int8_bits));
  for (size_t i = 0; i < count; ++i) {
    g.features_f32.push_back(feature(rng));
    g.features_i8.push_back(static_cast<int8_t>(q(rng)));
  }
  return g;
}

// ---- ModelMaker
// ----------------------------------------------------------------------------------------------

ModelMaker::ModelMaker(bool quantized, Task task, int32_t input_dim, uint32_t seed)
    : rng_(seed), dim_(input_dim) {
  desc_.name = "test-model";
  desc_.quantized = quantized;
  desc_.task = task;
  desc_.input_dim = input_dim;
  if (quantized) Input(8);
}

ModelMaker& ModelMaker::Input(int bits, int32_t zero_point, bool int8_input) {
  range_ = 2.0f;
  bits_ = bits;
  scale_ = range_ / static_cast<float>(k::qmax(bits));
  desc_.input_quant = converter::QuantParams{bits, scale_, zero_point};
  desc_.input_int8 = int8_input;
  return *this;
}

converter::QuantParams ModelMaker::NextQuant(int bits, float range) {
  const int32_t spread = k::qmax(bits) / 8;
  const int32_t zp = std::uniform_int_distribution<int32_t>(-spread, spread)(rng_);
  return converter::QuantParams{bits, range / static_cast<float>(k::qmax(bits)), zp};
}

converter::Requant ModelMaker::OneRescale(double real, int32_t max_shift) {
  real = std::min(std::max(real, std::ldexp(1.01, 30 - max_shift)), 1.0e8);
  const auto fixed = converter::quantize_multiplier(real, max_shift);
  EXPECT_TRUE(fixed.ok()) << fixed.error;
  return converter::Requant{{fixed.value.first}, {fixed.value.second}};
}

converter::DenseDesc ModelMaker::MakeDense(int32_t in, int32_t out, bool bias, int weight_bits, float s_in,
                                           int in_bits, float s_out) {
  converter::DenseDesc d;
  d.in_features = in;
  d.out_features = out;
  const size_t count = static_cast<size_t>(in) * static_cast<size_t>(out);
  const float fan = 1.0f / std::sqrt(static_cast<float>(in));
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  if (!desc_.quantized) {
    for (size_t i = 0; i < count; ++i) d.weight.push_back(1.7f * unit(rng_) * fan);
    if (bias) {
      for (int32_t c = 0; c < out; ++c) d.bias.push_back(0.3f * unit(rng_));
    }
    return d;
  }
  (void)in_bits;
  d.weight_bits = weight_bits;
  const int32_t wq = k::qmax(weight_bits);
  std::uniform_int_distribution<int32_t> weight(-wq, wq);
  for (size_t i = 0; i < count; ++i) d.weight_q.push_back(static_cast<int8_t>(weight(rng_)));
  std::uniform_real_distribution<float> spread(0.5f, 1.5f);
  for (int32_t c = 0; c < out; ++c) {
    // w_real has about the standard deviation 1/sqrt(in): activations keep their magnitude layer to layer.
    const float s_w = 1.7f * spread(rng_) * fan / static_cast<float>(wq);
    d.weight_scales.push_back(s_w);
    if (bias) {
      const double b = 0.3 * unit(rng_) / (static_cast<double>(s_in) * s_w);
      d.bias_q.push_back(static_cast<int32_t>(std::max(-1.0e9, std::min(1.0e9, std::round(b)))));
    }
    const converter::Requant r =
        OneRescale(static_cast<double>(s_in) * s_w / s_out, converter::kDenseRequantShiftMax);
    d.requant.multiplier.push_back(r.multiplier[0]);
    d.requant.shift.push_back(r.shift[0]);
  }
  return d;
}

void ModelMaker::Push(converter::LayerDesc layer) {
  layer.name = "layer" + std::to_string(desc_.layers.size());
  desc_.layers.push_back(std::move(layer));
}

ModelMaker& ModelMaker::Linear(int32_t out, bool relu, Bits bits, bool bias) {
  converter::LayerDesc l;
  l.kind = LayerKind::kLinear;
  l.relu = relu;
  const float range = range_ + 0.3f;
  if (desc_.quantized) l.output = NextQuant(bits.out, range);
  l.dense = MakeDense(dim_, out, bias, bits.weight, scale_, bits_, l.output.scale);
  dim_ = out;
  scale_ = l.output.scale;
  bits_ = bits.out;
  range_ = range;
  Push(std::move(l));
  return *this;
}

ModelMaker& ModelMaker::Gcn(int32_t out, bool relu, Bits bits, bool transform_first) {
  converter::LayerDesc l;
  l.kind = LayerKind::kGcnConv;
  l.relu = relu;
  const float range = range_ + 0.3f;
  if (transform_first) {
    l.order = converter::LayerOrder::kTransformFirst;
    if (desc_.quantized) {
      l.aggregation = NextQuant(bits.agg, range_);  // the messages
      l.output = NextQuant(bits.out, range);
      l.aggregation_requant = OneRescale(static_cast<double>(l.aggregation.scale) / l.output.scale,
                                         converter::kAggregationRequantShiftMax);
    }
    l.dense = MakeDense(dim_, out, !desc_.quantized, bits.weight, scale_, bits_, l.aggregation.scale);
    if (desc_.quantized) {  // the bias at the message scale
      std::uniform_real_distribution<double> unit(-1.0, 1.0);
      for (int32_t c = 0; c < out; ++c)
        l.dense.bias_q.push_back(static_cast<int32_t>(std::round(0.3 * unit(rng_) / l.aggregation.scale)));
    }
  } else {
    if (desc_.quantized) {
      l.aggregation = NextQuant(bits.agg, range_);
      l.aggregation_requant = OneRescale(static_cast<double>(scale_) / l.aggregation.scale,
                                         converter::kAggregationRequantShiftMax);
      l.output = NextQuant(bits.out, range);
    }
    l.dense = MakeDense(dim_, out, true, bits.weight, l.aggregation.scale, bits.agg, l.output.scale);
  }
  dim_ = out;
  scale_ = l.output.scale;
  bits_ = bits.out;
  range_ = range;
  Push(std::move(l));
  return *this;
}

ModelMaker& ModelMaker::Sage(int32_t out, Reduce reduce, bool root, bool relu, Bits bits,
                             bool transform_first) {
  converter::LayerDesc l;
  l.kind = LayerKind::kSageConv;
  l.reduce = reduce;
  l.relu = relu;
  l.has_root = root;
  const float range = range_ * (root ? 1.5f : 1.0f) + 0.3f;
  if (transform_first) {
    l.order = converter::LayerOrder::kTransformFirst;
    if (desc_.quantized) {
      l.message = NextQuant(bits.agg, range_);
      l.aggregation = NextQuant(bits.agg, range_ * 0.8f);
      l.aggregation_requant = OneRescale(static_cast<double>(l.message.scale) / l.aggregation.scale,
                                         converter::kAggregationRequantShiftMax);
      l.output = NextQuant(bits.out, range);
      l.output_requant = OneRescale(static_cast<double>(l.aggregation.scale) / l.output.scale,
                                    converter::kDenseRequantShiftMax);
    }
    // Quantized: the messages without bias; the neighbour bias at the aggregation scale, added after.
    l.dense = MakeDense(dim_, out, !desc_.quantized, bits.weight, scale_, bits_, l.message.scale);
    if (desc_.quantized) {
      std::uniform_real_distribution<double> unit(-1.0, 1.0);
      for (int32_t c = 0; c < out; ++c)
        l.dense.bias_q.push_back(static_cast<int32_t>(std::round(0.3 * unit(rng_) / l.aggregation.scale)));
    }
    if (root) l.root = MakeDense(dim_, out, false, bits.weight, scale_, bits_, l.output.scale);
    dim_ = out;
    scale_ = l.output.scale;
    bits_ = bits.out;
    range_ = range;
    Push(std::move(l));
    return *this;
  }
  if (desc_.quantized) {
    l.aggregation = NextQuant(bits.agg, range_);
    l.aggregation_requant =
        OneRescale(static_cast<double>(scale_) / l.aggregation.scale, converter::kAggregationRequantShiftMax);
    l.output = NextQuant(bits.out, range);
  }
  l.dense = MakeDense(dim_, out, true, bits.weight, l.aggregation.scale, bits.agg, l.output.scale);
  if (root) l.root = MakeDense(dim_, out, false, bits.weight, scale_, bits_, l.output.scale);
  dim_ = out;
  scale_ = l.output.scale;
  bits_ = bits.out;
  range_ = range;
  Push(std::move(l));
  return *this;
}

ModelMaker& ModelMaker::Gin(const std::vector<int32_t>& mlp_out, float eps, bool relu, Bits bits) {
  converter::LayerDesc l;
  l.kind = LayerKind::kGinConv;
  l.relu = relu;
  l.eps = eps;
  l.self_weight_q16 = static_cast<int32_t>(std::lround((1.0 + eps) * 65536.0));
  float range = range_ * 2.0f;
  float s_in = scale_;
  int in_bits = bits_;
  if (desc_.quantized) {
    l.aggregation = NextQuant(bits.agg, range);
    l.aggregation_requant =
        OneRescale(static_cast<double>(scale_) / l.aggregation.scale, converter::kAggregationRequantShiftMax);
    s_in = l.aggregation.scale;
    in_bits = bits.agg;
  }
  int32_t in = dim_;
  for (size_t kk = 0; kk < mlp_out.size(); ++kk) {
    const bool last = kk + 1 == mlp_out.size();
    range += 0.3f;
    converter::QuantParams q;
    if (desc_.quantized) q = NextQuant(last ? bits.out : bits.hidden, range);
    converter::DenseDesc d = MakeDense(in, mlp_out[kk], true, bits.weight, s_in, in_bits, q.scale);
    d.relu = !last;
    l.mlp.push_back(std::move(d));
    if (!last && desc_.quantized) l.hidden.push_back(q);
    if (last) l.output = q;
    in = mlp_out[kk];
    s_in = q.scale;
    in_bits = q.bits;
  }
  dim_ = in;
  scale_ = l.output.scale;
  bits_ = bits.out;
  range_ = range;
  Push(std::move(l));
  return *this;
}

ModelMaker& ModelMaker::Pool(Reduce reduce, Bits bits) {
  converter::LayerDesc l;
  l.kind = LayerKind::kGlobalPool;
  l.reduce = reduce;
  const float range = reduce == Reduce::kSum ? range_ * 3.0f : range_;
  if (desc_.quantized) {
    l.output = NextQuant(bits.out, range);
    l.pool_requant =
        OneRescale(static_cast<double>(scale_) / l.output.scale, converter::kAggregationRequantShiftMax);
  }
  scale_ = l.output.scale;
  bits_ = bits.out;
  range_ = range;
  Push(std::move(l));
  return *this;
}

ModelMaker& ModelMaker::Gat(int32_t heads, int32_t head_dim, bool concat, bool relu, Bits bits, bool bias) {
  converter::LayerDesc l;
  l.kind = LayerKind::kGatConv;
  l.relu = relu;
  l.heads = heads;
  l.head_dim = head_dim;
  l.concat = concat;
  const int32_t cols = heads * head_dim, out = concat ? cols : head_dim;
  const float range = range_ + 0.3f;
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  // Attention vectors of norm about 2, so the logits spread over a few units and the softmax is not flat.
  const float a = 2.0f / std::sqrt(static_cast<float>(head_dim));
  if (!desc_.quantized) {
    l.dense = MakeDense(dim_, cols, false, bits.weight, scale_, bits_, 1.0f);
    for (int32_t c = 0; c < cols; ++c) {
      l.att_src.push_back(a * unit(rng_));
      l.att_dst.push_back(a * unit(rng_));
    }
    if (bias) {
      for (int32_t c = 0; c < out; ++c) l.output_bias.push_back(0.3f * unit(rng_));
    }
  } else {
    l.message = NextQuant(bits.agg, range_);
    l.dense = MakeDense(dim_, cols, false, bits.weight, scale_, bits_, l.message.scale);
    l.att_scale = a / 127.0f;
    std::uniform_int_distribution<int32_t> att(-127, 127);
    for (int32_t c = 0; c < cols; ++c) {
      l.att_src_q.push_back(static_cast<int8_t>(att(rng_)));
      l.att_dst_q.push_back(static_cast<int8_t>(att(rng_)));
    }
    l.logit = converter::QuantParams{8, 8.0f / 255.0f, std::uniform_int_distribution<int32_t>(-20, 20)(rng_)};
    const double term = static_cast<double>(l.message.scale) * l.att_scale / l.logit.scale;
    l.logit_requant = OneRescale(term, converter::kDenseRequantShiftMax);
    l.logit_negative_requant = OneRescale(0.2 * term, converter::kDenseRequantShiftMax);
    l.exp_table = converter::gat_exp_table(l.logit.scale);
    l.output = NextQuant(bits.out, range);
    const double factor = l.message.scale / (256.0 * (concat ? 1 : heads) * l.output.scale);
    for (int32_t c = 0; c < out; ++c) {
      const converter::Requant r = OneRescale(factor, converter::kDenseRequantShiftMax);
      l.output_requant.multiplier.push_back(r.multiplier[0]);
      l.output_requant.shift.push_back(r.shift[0]);
      if (bias)
        l.output_bias_q.push_back(
            static_cast<int32_t>(std::round(0.3 * unit(rng_) * 256.0 / l.message.scale)));
    }
    if (!concat && heads > 1) {
      const uint32_t bound = converter::gat_mean_max_degree(heads);
      if (desc_.limits.max_degree == 0 || desc_.limits.max_degree > bound) desc_.limits.max_degree = bound;
    }
  }
  dim_ = out;
  scale_ = l.output.scale;
  bits_ = bits.out;
  range_ = range;
  Push(std::move(l));
  return *this;
}

ModelMaker& ModelMaker::ClassNames(const std::vector<std::string>& names) {
  desc_.class_names = names;
  return *this;
}

std::vector<uint8_t> ModelMaker::Bytes() const {
  auto r = converter::serialize_model(desc_);
  EXPECT_TRUE(r.ok()) << r.error;
  return r.value;
}

std::vector<uint8_t> ModelMaker::UncheckedBytes() const {
  auto r = converter::serialize_model_unchecked(desc_);
  EXPECT_TRUE(r.ok()) << r.error;
  return r.value;
}

// ---- Quantized oracle
// ----------------------------------------------------------------------------------------

namespace {

struct QAct {
  int32_t rows = 0, cols = 0;
  int bits = 8;
  int32_t zp = 0;
  std::vector<int32_t> v;
  int32_t at(int32_t r, int32_t c) const { return v[static_cast<size_t>(r) * cols + c]; }
};

// A GATConv's attention vector (a_src or a_dst, [H F], float or int8) as a Dense [H][H F] that is zero
// outside head h's F columns: the attention terms a . m_j of every head are then the Dense oracles' outputs
// (DenseAcc, DenseF), with the products added in the same f order.
converter::DenseDesc AttentionDense(const converter::LayerDesc& l, bool src) {
  const int32_t H = l.heads, F = l.head_dim;
  converter::DenseDesc d;
  d.out_features = H;
  d.in_features = H * F;
  const size_t size = static_cast<size_t>(H) * H * F;
  const std::vector<int8_t>& q = src ? l.att_src_q : l.att_dst_q;
  const std::vector<float>& f = src ? l.att_src : l.att_dst;
  if (!q.empty()) d.weight_q.assign(size, 0);
  if (!f.empty()) d.weight.assign(size, 0.0f);
  for (int32_t h = 0; h < H; ++h) {
    for (int32_t c = h * F; c < (h + 1) * F; ++c) {
      const size_t at = static_cast<size_t>(h) * H * F + c;
      if (!q.empty()) d.weight_q[at] = q[static_cast<size_t>(c)];
      if (!f.empty()) d.weight[at] = f[static_cast<size_t>(c)];
    }
  }
  return d;
}

// The sources of node i's attention softmax: its self-loop first, then its in-neighbours in CSR order.
std::vector<int32_t> SelfAndInNeighbours(const Graph& g, int32_t i) {
  std::vector<int32_t> sources = {i};
  for (int32_t e = g.row_ptr[i]; e < g.row_ptr[i + 1]; ++e) sources.push_back(g.col_idx[e]);
  return sources;
}

QAct MakeAct(int32_t rows, int32_t cols, const converter::QuantParams& q) {
  QAct a;
  a.rows = rows;
  a.cols = cols;
  a.bits = q.bits;
  a.zp = q.zero_point;
  a.v.assign(static_cast<size_t>(rows) * cols, 0);
  return a;
}

int32_t Saturate(int64_t v, int bits, bool relu, int32_t zp) {
  const int32_t lo = relu ? std::max(k::qmin(bits), zp) : k::qmin(bits);
  return static_cast<int32_t>(std::min<int64_t>(std::max<int64_t>(v, lo), k::qmax(bits)));
}

// round(acc * m / 2^s), halves up, in 128 bits: unlike k::rescale it needs no |acc * m| < 2^62 headroom, so
// Dense shifts up to 62 are checked against an independent computation.
int64_t Rescale(int64_t acc, int64_t m, int s) {
  const __int128 product = static_cast<__int128>(acc) * m + (static_cast<__int128>(1) << (s - 1));
  return static_cast<int64_t>(product >> s);
}

int64_t DenseAcc(const QAct& in, const converter::DenseDesc& d, int32_t r, int32_t c) {
  int64_t acc = d.bias_q.empty() ? 0 : d.bias_q[c];
  for (int32_t kk = 0; kk < d.in_features; ++kk) {
    acc +=
        static_cast<int64_t>(in.at(r, kk) - in.zp) * d.weight_q[static_cast<size_t>(c) * d.in_features + kk];
  }
  return acc;
}

QAct Dense(const QAct& in, const converter::DenseDesc& d, bool relu, const converter::QuantParams& out_q,
           const QAct* extra_in = nullptr, const converter::DenseDesc* extra = nullptr) {
  QAct out = MakeAct(in.rows, d.out_features, out_q);
  for (int32_t r = 0; r < in.rows; ++r) {
    for (int32_t c = 0; c < d.out_features; ++c) {
      int64_t v = out.zp + Rescale(DenseAcc(in, d, r, c), d.requant.multiplier[c], d.requant.shift[c]);
      if (extra != nullptr) {
        v +=
            Rescale(DenseAcc(*extra_in, *extra, r, c), extra->requant.multiplier[c], extra->requant.shift[c]);
      }
      out.v[static_cast<size_t>(r) * out.cols + c] = Saturate(v, out.bits, relu, out.zp);
    }
  }
  return out;
}

enum class Agg { kSum, kMean, kMax, kGcn };

QAct Aggregate(const Graph& g, Agg mode, const QAct& in, const converter::Requant& rq,
               int32_t self_weight_q16, const converter::QuantParams& out_q,
               const std::vector<int32_t>* bias = nullptr, bool relu = false) {
  QAct out = MakeAct(in.rows, in.cols, out_q);
  const int32_t m = rq.multiplier[0], s = rq.shift[0];
  auto degree = [&](int32_t i) { return g.row_ptr[i + 1] - g.row_ptr[i]; };
  for (int32_t i = 0; i < in.rows; ++i) {
    const int32_t d = degree(i);
    for (int32_t c = 0; c < in.cols; ++c) {
      int64_t value = out.zp;
      if (mode == Agg::kSum || mode == Agg::kMean) {
        int64_t acc = 0;
        for (int32_t e = g.row_ptr[i]; e < g.row_ptr[i + 1]; ++e) acc += in.at(g.col_idx[e], c) - in.zp;
        if (mode == Agg::kSum) {
          if (self_weight_q16 != 0) {
            acc += k::rounding_shift_right(static_cast<int64_t>(in.at(i, c) - in.zp) * self_weight_q16, 16);
          }
          value = out.zp + Rescale(acc, m, s);
        } else if (d > 0) {
          const k::MeanRescale mr = k::mean_rescale(m, s, static_cast<uint32_t>(d));
          value = out.zp + Rescale(acc, mr.multiplier, mr.shift);
        }
      } else if (mode == Agg::kMax) {
        if (d > 0) {
          int32_t best = in.at(g.col_idx[g.row_ptr[i]], c);
          for (int32_t e = g.row_ptr[i]; e < g.row_ptr[i + 1]; ++e)
            best = std::max(best, in.at(g.col_idx[e], c));
          value = out.zp + Rescale(best - in.zp, m, s);
        }
      } else {  // GCN: sum over N(i) and i of (x_j - zx) * n_j, then * n_i, Q30 -> integer
        auto norm = [&](int32_t j) {
          return static_cast<int64_t>(k::gcn_norm_q15(static_cast<uint32_t>(degree(j) + 1)));
        };
        int64_t acc = (in.at(i, c) - in.zp) * norm(i);
        for (int32_t e = g.row_ptr[i]; e < g.row_ptr[i + 1]; ++e) {
          acc += (in.at(g.col_idx[e], c) - in.zp) * norm(g.col_idx[e]);
        }
        const int64_t t = k::rounding_shift_right(acc * norm(i), 30);
        value = out.zp + Rescale(t + (bias != nullptr ? (*bias)[static_cast<size_t>(c)] : 0), m, s);
      }
      out.v[static_cast<size_t>(i) * out.cols + c] = Saturate(value, out.bits, relu, out.zp);
    }
  }
  return out;
}

// GATConv from docs/quantization.md, "GAT attention (kernels)": messages, int64 attention terms, the sign-
// dependent logit rescale, the table softmax with its one division per row and head, alpha-weighted sums.
QAct Gat(const Graph& g, const converter::LayerDesc& l, const QAct& x) {
  converter::DenseDesc unbiased = l.dense;
  unbiased.bias_q.clear();
  const QAct m = Dense(x, unbiased, false, l.message);
  const int32_t H = l.heads, F = l.head_dim, n = x.rows;
  const converter::DenseDesc att_src = AttentionDense(l, true), att_dst = AttentionDense(l, false);
  std::vector<int64_t> src(static_cast<size_t>(n) * H), dst(src.size());  // the terms, once per node
  for (int32_t j = 0; j < n; ++j) {
    for (int32_t h = 0; h < H; ++h) {
      src[static_cast<size_t>(j) * H + h] = DenseAcc(m, att_src, j, h);
      dst[static_cast<size_t>(j) * H + h] = DenseAcc(m, att_dst, j, h);
    }
  }
  const int32_t out_cols = l.concat ? H * F : F;
  QAct out = MakeAct(n, out_cols, l.output);
  std::vector<int64_t> acc(static_cast<size_t>(out_cols));
  for (int32_t i = 0; i < n; ++i) {
    std::fill(acc.begin(), acc.end(), 0);
    const std::vector<int32_t> sources = SelfAndInNeighbours(g, i);
    for (int32_t h = 0; h < H; ++h) {
      std::vector<int64_t> logits;
      for (int32_t j : sources) {
        const int64_t sum = src[static_cast<size_t>(j) * H + h] + dst[static_cast<size_t>(i) * H + h];
        const converter::Requant& r = sum >= 0 ? l.logit_requant : l.logit_negative_requant;
        logits.push_back(std::min<int64_t>(
            127, std::max<int64_t>(-128, l.logit.zero_point + Rescale(sum, r.multiplier[0], r.shift[0]))));
      }
      const int64_t emax = *std::max_element(logits.begin(), logits.end());
      int64_t total = 0;
      for (int64_t e : logits) total += l.exp_table[static_cast<size_t>(emax - e)];
      const int64_t inv =
          total == 0 ? 0 : std::min<int64_t>(((int64_t{1} << 47) + total / 2) / total, 0xFFFFFFFFll);
      for (size_t k = 0; k < sources.size(); ++k) {
        const int64_t t = l.exp_table[static_cast<size_t>(emax - logits[k])];
        const int64_t alpha = std::min<int64_t>(255, (t * inv + (int64_t{1} << 38)) >> 39);
        for (int32_t f = 0; f < F; ++f)
          acc[static_cast<size_t>(l.concat ? h * F + f : f)] += alpha * (m.at(sources[k], h * F + f) - m.zp);
      }
    }
    for (int32_t c = 0; c < out_cols; ++c) {
      const int64_t b = l.output_bias_q.empty() ? 0 : l.output_bias_q[static_cast<size_t>(c)];
      const int64_t v = out.zp + Rescale(acc[static_cast<size_t>(c)] + b, l.output_requant.multiplier[c],
                                         l.output_requant.shift[c]);
      out.v[static_cast<size_t>(i) * out.cols + c] = Saturate(v, out.bits, l.relu, out.zp);
    }
  }
  return out;
}

QAct Pool(const Graph& g, Reduce reduce, const QAct& in, const converter::Requant& rq,
          const converter::QuantParams& out_q) {
  QAct out = MakeAct(static_cast<int32_t>(g.num_graphs), in.cols, out_q);
  const int32_t m = rq.multiplier[0], s = rq.shift[0];
  for (uint32_t gi = 0; gi < g.num_graphs; ++gi) {
    const int32_t begin = g.graph_ptr[gi], end = g.graph_ptr[gi + 1];
    for (int32_t c = 0; c < in.cols; ++c) {
      int64_t value = out.zp;
      if (end > begin) {
        if (reduce == Reduce::kMax) {
          int32_t best = in.at(begin, c);
          for (int32_t i = begin; i < end; ++i) best = std::max(best, in.at(i, c));
          value = out.zp + Rescale(best - in.zp, m, s);
        } else {
          int64_t acc = 0;
          for (int32_t i = begin; i < end; ++i) acc += in.at(i, c) - in.zp;
          if (reduce == Reduce::kSum) {
            value = out.zp + Rescale(acc, m, s);
          } else {
            const k::MeanRescale mr = k::mean_rescale(m, s, static_cast<uint32_t>(end - begin));
            value = out.zp + Rescale(acc, mr.multiplier, mr.shift);
          }
        }
      }
      out.v[static_cast<size_t>(gi) * out.cols + c] = Saturate(value, out.bits, false, out.zp);
    }
  }
  return out;
}

}  // namespace

std::vector<int32_t> OracleQuantized(const ModelDesc& model, const Graph& graph) {
  const int32_t n = static_cast<int32_t>(graph.num_nodes);
  QAct x = MakeAct(n, model.input_dim, model.input_quant);
  for (size_t i = 0; i < x.v.size(); ++i) {
    x.v[i] = model.input_int8 ? graph.features_i8[i]
                              : k::quantize_float(graph.features_f32[i], model.input_quant.scale,
                                                  model.input_quant.zero_point, model.input_quant.bits);
  }
  for (const converter::LayerDesc& l : model.layers) {
    switch (l.kind) {
      case LayerKind::kLinear:
        x = Dense(x, l.dense, l.relu, l.output);
        break;
      case LayerKind::kGcnConv: {
        if (l.order == converter::LayerOrder::kTransformFirst) {
          // Messages x W^T without the bias, onto the message quantization; their GCN sum plus the bias.
          converter::DenseDesc unbiased = l.dense;
          unbiased.bias_q.clear();
          const QAct messages = Dense(x, unbiased, false, l.aggregation);
          x = Aggregate(graph, Agg::kGcn, messages, l.aggregation_requant, 0, l.output, &l.dense.bias_q,
                        l.relu);
          break;
        }
        const QAct agg = Aggregate(graph, Agg::kGcn, x, l.aggregation_requant, 0, l.aggregation);
        x = Dense(agg, l.dense, l.relu, l.output);
        break;
      }
      case LayerKind::kSageConv: {
        if (l.order == converter::LayerOrder::kTransformFirst) {
          // docs/quantization.md, "Transform-first SAGEConv": messages x W_n^T without the bias, their mean,
          // then out = zo + rescale(b + (a - z_a), output_requant) [+ rescale(root acc, root requant)].
          converter::DenseDesc unbiased = l.dense;
          unbiased.bias_q.clear();
          const QAct messages = Dense(x, unbiased, false, l.message);
          const QAct agg = Aggregate(graph, Agg::kMean, messages, l.aggregation_requant, 0, l.aggregation);
          QAct y = MakeAct(x.rows, l.dense.out_features, l.output);
          for (int32_t r = 0; r < y.rows; ++r) {
            for (int32_t c = 0; c < y.cols; ++c) {
              const int64_t b = l.dense.bias_q.empty() ? 0 : l.dense.bias_q[static_cast<size_t>(c)];
              int64_t v = y.zp + Rescale(b + agg.at(r, c) - agg.zp, l.output_requant.multiplier[0],
                                         l.output_requant.shift[0]);
              if (l.has_root) {
                v += Rescale(DenseAcc(x, l.root, r, c), l.root.requant.multiplier[static_cast<size_t>(c)],
                             l.root.requant.shift[static_cast<size_t>(c)]);
              }
              y.v[static_cast<size_t>(r) * y.cols + c] = Saturate(v, y.bits, l.relu, y.zp);
            }
          }
          x = y;
          break;
        }
        const QAct agg = Aggregate(graph, l.reduce == Reduce::kMax ? Agg::kMax : Agg::kMean, x,
                                   l.aggregation_requant, 0, l.aggregation);
        x = l.has_root ? Dense(agg, l.dense, l.relu, l.output, &x, &l.root)
                       : Dense(agg, l.dense, l.relu, l.output);
        break;
      }
      case LayerKind::kGinConv: {
        QAct h = Aggregate(graph, Agg::kSum, x, l.aggregation_requant, l.self_weight_q16, l.aggregation);
        for (size_t kk = 0; kk < l.mlp.size(); ++kk) {
          const bool last = kk + 1 == l.mlp.size();
          h = Dense(h, l.mlp[kk], last ? l.relu : l.mlp[kk].relu, last ? l.output : l.hidden[kk]);
        }
        x = h;
        break;
      }
      case LayerKind::kGlobalPool:
        x = Pool(graph, l.reduce, x, l.pool_requant, l.output);
        break;
      case LayerKind::kGatConv:
        x = Gat(graph, l, x);
        break;
    }
  }
  return x.v;
}

// ---- Float oracle
// --------------------------------------------------------------------------------------------

namespace {

struct FAct {
  int32_t rows = 0, cols = 0;
  std::vector<double> v;
  double at(int32_t r, int32_t c) const { return v[static_cast<size_t>(r) * cols + c]; }
  double& at(int32_t r, int32_t c) { return v[static_cast<size_t>(r) * cols + c]; }
};

FAct MakeF(int32_t rows, int32_t cols) {
  return FAct{rows, cols, std::vector<double>(static_cast<size_t>(rows) * cols)};
}

FAct DenseF(const FAct& in, const converter::DenseDesc& d, bool relu, const FAct* extra_in = nullptr,
            const converter::DenseDesc* extra = nullptr) {
  FAct out = MakeF(in.rows, d.out_features);
  for (int32_t r = 0; r < in.rows; ++r) {
    for (int32_t c = 0; c < d.out_features; ++c) {
      double acc = d.bias.empty() ? 0.0 : d.bias[c];
      for (int32_t kk = 0; kk < d.in_features; ++kk)
        acc += in.at(r, kk) * d.weight[static_cast<size_t>(c) * d.in_features + kk];
      if (extra != nullptr) {
        if (!extra->bias.empty()) acc += extra->bias[c];
        for (int32_t kk = 0; kk < extra->in_features; ++kk) {
          acc += extra_in->at(r, kk) * extra->weight[static_cast<size_t>(c) * extra->in_features + kk];
        }
      }
      out.at(r, c) = relu ? std::max(acc, 0.0) : acc;
    }
  }
  return out;
}

// GATConv in double precision: softmax of LeakyReLU(0.2) logits over each row's edges and self-loop.
FAct GatF(const Graph& g, const converter::LayerDesc& l, const FAct& x) {
  const FAct m = DenseF(x, l.dense, false);
  const FAct src = DenseF(m, AttentionDense(l, true), false),
             dst = DenseF(m, AttentionDense(l, false), false);
  const int32_t H = l.heads, F = l.head_dim, n = x.rows;
  FAct out = MakeF(n, l.concat ? H * F : F);
  for (int32_t i = 0; i < n; ++i) {
    const std::vector<int32_t> sources = SelfAndInNeighbours(g, i);
    for (int32_t h = 0; h < H; ++h) {
      std::vector<double> e;
      for (int32_t j : sources) {
        const double v = src.at(j, h) + dst.at(i, h);
        e.push_back(v < 0.0 ? 0.2 * v : v);
      }
      const double emax = *std::max_element(e.begin(), e.end());
      double total = 0.0;
      for (double v : e) total += std::exp(v - emax);
      for (size_t k = 0; k < sources.size(); ++k) {
        const double alpha = std::exp(e[k] - emax) / total;
        for (int32_t f = 0; f < F; ++f)
          out.at(i, l.concat ? h * F + f : f) += alpha * m.at(sources[k], h * F + f) / (l.concat ? 1.0 : H);
      }
    }
    for (int32_t c = 0; c < out.cols; ++c) {
      double v = out.at(i, c) + (l.output_bias.empty() ? 0.0 : l.output_bias[static_cast<size_t>(c)]);
      out.at(i, c) = l.relu ? std::max(v, 0.0) : v;
    }
  }
  return out;
}

}  // namespace

std::vector<double> OracleFloat(const ModelDesc& model, const Graph& graph) {
  const int32_t n = static_cast<int32_t>(graph.num_nodes);
  FAct x = MakeF(n, model.input_dim);
  for (size_t i = 0; i < x.v.size(); ++i) x.v[i] = graph.features_f32[i];
  auto degree = [&](int32_t i) { return graph.row_ptr[i + 1] - graph.row_ptr[i]; };
  for (const converter::LayerDesc& l : model.layers) {
    FAct agg = MakeF(x.rows, x.cols);
    switch (l.kind) {
      case LayerKind::kLinear:
        x = DenseF(x, l.dense, l.relu);
        break;
      case LayerKind::kGcnConv:
        for (int32_t i = 0; i < n; ++i) {
          const double di = degree(i) + 1.0;
          for (int32_t c = 0; c < x.cols; ++c) {
            double acc = x.at(i, c) / di;
            for (int32_t e = graph.row_ptr[i]; e < graph.row_ptr[i + 1]; ++e) {
              const int32_t j = graph.col_idx[e];
              acc += x.at(j, c) / std::sqrt(di * (degree(j) + 1.0));
            }
            agg.at(i, c) = acc;
          }
        }
        x = DenseF(agg, l.dense, l.relu);
        break;
      case LayerKind::kSageConv:
        for (int32_t i = 0; i < n; ++i) {
          for (int32_t c = 0; c < x.cols; ++c) {
            double acc = 0.0;
            if (degree(i) > 0) {
              acc = l.reduce == Reduce::kMax ? -INFINITY : 0.0;
              for (int32_t e = graph.row_ptr[i]; e < graph.row_ptr[i + 1]; ++e) {
                const double v = x.at(graph.col_idx[e], c);
                acc = l.reduce == Reduce::kMax ? std::max(acc, v) : acc + v;
              }
              if (l.reduce == Reduce::kMean) acc /= degree(i);
            }
            agg.at(i, c) = acc;
          }
        }
        x = l.has_root ? DenseF(agg, l.dense, l.relu, &x, &l.root) : DenseF(agg, l.dense, l.relu);
        break;
      case LayerKind::kGinConv: {
        for (int32_t i = 0; i < n; ++i) {
          for (int32_t c = 0; c < x.cols; ++c) {
            double acc = (1.0 + static_cast<double>(l.eps)) * x.at(i, c);
            for (int32_t e = graph.row_ptr[i]; e < graph.row_ptr[i + 1]; ++e)
              acc += x.at(graph.col_idx[e], c);
            agg.at(i, c) = acc;
          }
        }
        FAct h = agg;
        for (size_t kk = 0; kk < l.mlp.size(); ++kk) {
          const bool last = kk + 1 == l.mlp.size();
          h = DenseF(h, l.mlp[kk], last ? l.relu : l.mlp[kk].relu);
        }
        x = h;
        break;
      }
      case LayerKind::kGatConv:
        x = GatF(graph, l, x);
        break;
      case LayerKind::kGlobalPool: {
        FAct out = MakeF(static_cast<int32_t>(graph.num_graphs), x.cols);
        for (uint32_t gi = 0; gi < graph.num_graphs; ++gi) {
          const int32_t begin = graph.graph_ptr[gi], end = graph.graph_ptr[gi + 1];
          for (int32_t c = 0; c < x.cols; ++c) {
            double acc = 0.0;
            if (end > begin) {
              acc = l.reduce == Reduce::kMax ? -INFINITY : 0.0;
              for (int32_t i = begin; i < end; ++i)
                acc = l.reduce == Reduce::kMax ? std::max(acc, x.at(i, c)) : acc + x.at(i, c);
              if (l.reduce == Reduce::kMean) acc /= (end - begin);
            }
            out.at(static_cast<int32_t>(gi), c) = acc;
          }
        }
        x = out;
        break;
      }
    }
  }
  return x.v;
}

// ---- Running the runtime
// -------------------------------------------------------------------------------------

qgnn_status LoadStatus(const std::vector<uint8_t>& bytes, std::string* message) {
  AlignedBuffer buffer(bytes);
  qgnn_model* model = nullptr;
  qgnn_error error{};
  const qgnn_status status = qgnn_model_create(buffer.data(), buffer.size(), &model, &error);
  EXPECT_EQ(status, error.status);
  if (status == QGNN_OK) {
    EXPECT_NE(model, nullptr);
  } else {
    EXPECT_EQ(model, nullptr);
    EXPECT_NE(error.message[0], '\0') << "status " << qgnn_status_name(status) << " without a message";
  }
  if (message != nullptr) *message = error.message;
  qgnn_model_delete(model);
  return status;
}

RunResult RunModel(const std::vector<uint8_t>& bytes, const Graph& graph, uint32_t threads,
                   const char* fp32) {
  RunResult result;
  // Every failure here is the runtime's: the session reports its status and message as they are.
  auto failed = [&result](const auto& r) {
    EXPECT_NE(r.status, QGNN_OK) << "a failure outside the runtime: " << r.error;
    result.status = r.status == QGNN_OK ? QGNN_INVALID_ARGUMENT : r.status;
    result.message = r.message;
    return result;
  };
  auto loaded = session::Session::load(bytes);
  if (!loaded.ok()) return failed(loaded);
  session::Session& s = loaded.value;
  const qgnn_graph view = graph.view(s.info().input_is_int8 != 0);
  session::Options options;
  options.threads = threads;
  options.fp32 = fp32 != nullptr ? fp32 : "";
  const auto planned = s.plan(session::limits_of(view), options);
  if (!planned.ok()) return failed(planned);
  const auto ran = s.run(view);
  if (!ran.ok()) return failed(ran);
  const auto out = s.outputs();
  if (!out.ok()) return failed(out);
  result.rows = out.value.rows;
  result.cols = out.value.cols;
  result.scale = out.value.scale;
  result.zero_point = out.value.zero_point;
  result.logits_q = out.value.logits_q;
  result.logits_f32 = out.value.logits;
  result.argmax = out.value.argmax;
  // A float model's dequantized output is its float logits, bit for bit.
  const auto raw = s.output();
  EXPECT_TRUE(raw.ok()) << raw.error;
  if (raw.ok() && raw.value.logits_f32 != nullptr) {
    EXPECT_EQ(0, std::memcmp(raw.value.logits_f32, result.logits_f32.data(),
                             result.logits_f32.size() * sizeof(float)));
  }
  return result;
}

}  // namespace test
}  // namespace qgnn
