#include "test_models.h"

#include <cmath>

#include "qgnn/converter/layer_kind.h"
#include "qgnn/converter/quantizer.h"

namespace qgnn {
namespace converter {
namespace testing {

DenseDesc random_float_dense(int32_t out, int32_t in, std::mt19937& rng, bool with_bias) {
  const float bound = 1.0f / std::sqrt(static_cast<float>(in));
  std::uniform_real_distribution<float> weight(-bound, bound);
  DenseDesc d;
  d.out_features = out;
  d.in_features = in;
  d.weight.resize(static_cast<size_t>(out) * in);
  for (float& w : d.weight) w = weight(rng);
  if (with_bias) {
    d.bias.resize(static_cast<size_t>(out));
    for (float& b : d.bias) b = weight(rng);
  }
  return d;
}

LayerDesc gcn_layer(int32_t in, int32_t out, bool relu, std::mt19937& rng) {
  LayerDesc l;
  l.kind = LayerKind::kGcnConv;
  l.name = "gcn";
  l.relu = relu;
  l.dense = random_float_dense(out, in, rng);
  return l;
}

LayerDesc gat_layer(int32_t in, int32_t heads, int32_t head_dim, bool concat, bool relu, std::mt19937& rng) {
  LayerDesc l;
  l.kind = LayerKind::kGatConv;
  l.name = "gat";
  l.relu = relu;
  l.heads = heads;
  l.head_dim = head_dim;
  l.concat = concat;
  l.dense = random_float_dense(heads * head_dim, in, rng, /*with_bias=*/false);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  const float a = 2.0f / std::sqrt(static_cast<float>(head_dim));
  for (int32_t c = 0; c < heads * head_dim; ++c) {
    l.att_src.push_back(a * unit(rng));
    l.att_dst.push_back(a * unit(rng));
  }
  for (int32_t c = 0; c < (concat ? heads * head_dim : head_dim); ++c)
    l.output_bias.push_back(0.1f * unit(rng));
  return l;
}

LayerDesc sage_layer(int32_t in, int32_t out, Reduce reduce, bool root, bool relu, std::mt19937& rng) {
  LayerDesc l;
  l.kind = LayerKind::kSageConv;
  l.name = "sage";
  l.relu = relu;
  l.reduce = reduce;
  l.dense = random_float_dense(out, in, rng);
  l.has_root = root;
  if (root) l.root = random_float_dense(out, in, rng, /*with_bias=*/false);
  return l;
}

LayerDesc gin_layer(int32_t in, int32_t hidden, int32_t out, float eps, bool relu, std::mt19937& rng) {
  LayerDesc l;
  l.kind = LayerKind::kGinConv;
  l.name = "gin";
  l.relu = relu;
  l.eps = eps;
  l.mlp.push_back(random_float_dense(hidden, in, rng));
  l.mlp.back().relu = true;
  l.mlp.push_back(random_float_dense(out, hidden, rng));
  return l;
}

LayerDesc linear_layer(int32_t in, int32_t out, bool relu, std::mt19937& rng) {
  LayerDesc l;
  l.kind = LayerKind::kLinear;
  l.name = "linear";
  l.relu = relu;
  l.dense = random_float_dense(out, in, rng);
  return l;
}

LayerDesc pool_layer(Reduce reduce) {
  LayerDesc l;
  l.kind = LayerKind::kGlobalPool;
  l.name = "pool";
  l.reduce = reduce;
  return l;
}

ModelDesc all_kinds_float_model(std::mt19937& rng) {
  ModelDesc m;
  m.name = "all-kinds";
  m.description = "every layer kind";
  m.task = Task::kGraphClassification;
  m.input_dim = 5;
  m.class_names = {"a", "b", "c"};
  m.layers.push_back(gcn_layer(5, 7, true, rng));
  m.layers.push_back(sage_layer(7, 9, Reduce::kMean, true, true, rng));
  m.layers.push_back(sage_layer(9, 3, Reduce::kMax, false, false, rng));
  m.layers.push_back(gin_layer(3, 11, 5, 0.25f, true, rng));
  m.layers.push_back(pool_layer(Reduce::kMean));
  m.layers.push_back(linear_layer(5, 3, false, rng));
  m.limits = LimitsDesc{1000, 5000, 50, 16};
  return m;
}

ModelDesc skip_connection_float_model(std::mt19937& rng) {
  ModelDesc m;
  m.name = "skip-connections";
  m.description = "layers reading earlier outputs and the model input";
  m.task = Task::kGraphClassification;
  m.input_dim = 5;
  m.class_names = {"a", "b", "c"};
  m.layers.push_back(gcn_layer(5, 8, true, rng));
  m.layers.push_back(sage_layer(5, 6, Reduce::kMax, true, true, rng));
  m.layers.back().inputs = {kModelInput};
  m.layers.push_back(gin_layer(8, 9, 7, 0.5f, true, rng));
  m.layers.back().inputs = {0};
  m.layers.push_back(pool_layer(Reduce::kMean));
  m.layers.back().inputs = {2};
  m.layers.push_back(linear_layer(7, 3, false, rng));
  m.limits = LimitsDesc{1000, 5000, 50, 16};
  return m;
}

namespace {

void quantize_dense_randomly(DenseDesc* d, int bits, std::mt19937& rng) {
  const int32_t limit = (1 << (bits - 1)) - 1;
  std::uniform_int_distribution<int32_t> value(-limit, limit);
  std::uniform_real_distribution<float> scale(0.001f, 0.1f);
  std::uniform_int_distribution<int32_t> bias(-(1 << 30) + 1, (1 << 30) - 1);
  std::uniform_int_distribution<int32_t> multiplier(1 << 30, 0x7FFFFFFF);
  std::uniform_int_distribution<int32_t> shift(kRequantShiftMin, kDenseRequantShiftMax);
  d->weight_bits = bits;
  d->weight_q.resize(d->weight.size());
  for (int8_t& q : d->weight_q) q = static_cast<int8_t>(value(rng));
  d->weight_scales.resize(static_cast<size_t>(d->out_features));
  for (float& s : d->weight_scales) s = scale(rng);
  d->bias_q.resize(d->bias.size());
  for (int32_t& b : d->bias_q) b = bias(rng);
  d->requant.multiplier.resize(static_cast<size_t>(d->out_features));
  d->requant.shift.resize(static_cast<size_t>(d->out_features));
  for (int32_t& m : d->requant.multiplier) m = multiplier(rng);
  for (int32_t& s : d->requant.shift) s = shift(rng);
  d->weight.clear();
  d->bias.clear();
}

QuantParams random_quant(int bits, std::mt19937& rng) {
  std::uniform_real_distribution<float> scale(0.001f, 0.5f);
  std::uniform_int_distribution<int32_t> zero_point(-(1 << (bits - 1)), (1 << (bits - 1)) - 1);
  return QuantParams{bits, scale(rng), zero_point(rng)};
}

Requant random_requant(std::mt19937& rng) {
  std::uniform_int_distribution<int32_t> multiplier(1 << 30, 0x7FFFFFFF);
  std::uniform_int_distribution<int32_t> shift(kRequantShiftMin, kAggregationRequantShiftMax);
  return Requant{{multiplier(rng)}, {shift(rng)}};
}

}  // namespace

ModelDesc random_quantized_copy(const ModelDesc& float_model, int weight_bits, std::mt19937& rng) {
  ModelDesc m = float_model;
  m.quantized = true;
  m.input_quant = random_quant(8, rng);
  for (size_t i = 0; i < m.layers.size(); ++i) {
    LayerDesc& l = m.layers[i];
    l.output = random_quant(weight_bits, rng);
    // What a layer holds comes from its kind's traits (draws in the order dense ops, hidden, aggregation).
    const LayerKindTraits& kind = layer_traits(l.kind);
    for (const DenseOp& op : kind.dense_ops(l)) quantize_dense_randomly(&dense_of(l, op), weight_bits, rng);
    if (kind.hidden) l.hidden.assign(hidden_count(l), random_quant(weight_bits, rng));
    if (kind.reduction == Reduction::kNeighborsAndSelf)
      l.self_weight_q16 = static_cast<int32_t>(std::lround((1.0 + l.eps) * 65536.0));
    if (kind.aggregation) {
      l.aggregation = random_quant(weight_bits, rng);
      l.aggregation_requant = random_requant(rng);
    }
    if (kind.reduction == Reduction::kGraphNodes) l.pool_requant = random_requant(rng);
  }
  return m;
}

RandomGraphs random_graphs(int32_t graphs, int32_t min_nodes, int32_t max_nodes, int32_t max_degree,
                           int32_t feature_dim, std::mt19937& rng) {
  RandomGraphs g;
  std::uniform_int_distribution<int32_t> node_count(min_nodes, max_nodes);
  std::normal_distribution<float> feature(0.0f, 1.0f);
  for (int32_t k = 0; k < graphs; ++k) {
    const int32_t first = g.num_nodes;
    const int32_t n = node_count(rng);
    std::uniform_int_distribution<int32_t> degree(0, max_degree);
    std::uniform_int_distribution<int32_t> source(first, first + n - 1);
    for (int32_t i = 0; i < n; ++i) {
      const int32_t d = n > 1 ? degree(rng) : 0;
      for (int32_t e = 0; e < d; ++e) g.col_idx.push_back(source(rng));
      g.row_ptr.push_back(static_cast<int32_t>(g.col_idx.size()));
    }
    g.num_nodes += n;
    g.graph_ptr.push_back(g.num_nodes);
  }
  g.features.resize(static_cast<size_t>(g.num_nodes) * feature_dim);
  for (float& f : g.features) f = feature(rng);
  return g;
}

GraphBatch to_batch(const RandomGraphs& g, int32_t feature_dim) {
  GraphBatch b;
  b.num_nodes = static_cast<uint32_t>(g.num_nodes);
  b.num_edges = static_cast<uint32_t>(g.col_idx.size());
  b.num_graphs = static_cast<uint32_t>(g.graph_ptr.size() - 1);
  b.feature_dim = feature_dim;
  b.row_ptr = g.row_ptr;
  b.col_idx = g.col_idx;
  b.graph_ptr = g.graph_ptr;
  b.features = g.features;
  return b;
}

Result<std::vector<ModelDesc>> every_kind_models(std::mt19937& rng) {
  ModelDesc aggregate_first = all_kinds_float_model(rng);
  aggregate_first.layers[2].name = "sage_max";  // unique names: tests find a layer's tensors by its name
  ModelDesc transform_first = aggregate_first;
  transform_first.name = "all-kinds-transform-first";
  transform_first.layers[0].order = LayerOrder::kTransformFirst;  // GCNConv
  transform_first.layers[1].order = LayerOrder::kTransformFirst;  // SAGEConv, MEAN
  ModelDesc gat;
  gat.name = "gat";
  gat.task = Task::kNodeClassification;
  gat.input_dim = 5;
  gat.class_names = {"a", "b", "c"};
  gat.layers.push_back(gat_layer(5, 2, 3, /*concat=*/true, /*relu=*/true, rng));
  gat.layers.push_back(gat_layer(6, 2, 3, /*concat=*/false, /*relu=*/false, rng));
  gat.layers.back().name = "gat_out";
  const std::vector<GraphBatch> graphs = {to_batch(random_graphs(8, 3, 9, 3, 5, rng), 5)};
  const std::vector<GraphBatch> nodes = {to_batch(random_graphs(1, 40, 40, 4, 5, rng), 5)};

  Result<std::vector<ModelDesc>> models;
  for (const ModelDesc* float_model : {&aggregate_first, &transform_first, &gat}) {
    models.value.push_back(*float_model);
    for (const int bits : {8, 4}) {
      QuantizerConfig config;
      config.default_bits = ComponentBits{bits, bits, bits};
      const std::vector<GraphBatch>& calibration = float_model == &gat ? nodes : graphs;
      Result<ModelDesc> quantized = quantize_model(*float_model, calibration, config);
      if (!quantized.ok()) {
        return Result<std::vector<ModelDesc>>::failure(float_model->name + " at " + std::to_string(bits) +
                                                       " bits: " + quantized.error);
      }
      models.value.push_back(std::move(quantized.value));
    }
  }
  return models;
}

}  // namespace testing
}  // namespace converter
}  // namespace qgnn
