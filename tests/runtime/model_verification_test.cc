// A corpus of malformed models, each rejected by qgnn_model_create with its own status (and a message naming
// the layer / tensor), plus truncation at every offset and random bit flips that must never crash.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "qgnn/schema/qgnn_generated.h"
#include "test_util.h"

namespace qgnn {
namespace test {
namespace {

namespace fbs = ::qgnn::fb;
using Bytes = std::vector<uint8_t>;

// ---- Base models
// -----------------------------------------------------------------------------------------------

// Float node classifier: Linear(4 -> 3). Tensors: 0 = layer0.weight [3, 4], 1 = layer0.bias [3].
ModelMaker FloatLinear() {
  ModelMaker m(false, Task::kNodeClassification, 4, 1);
  m.Linear(3, false);
  return m;
}

// Quantized node classifier: GCN(4 -> 5, relu), Linear(5 -> 3). Tensors: 0/1 GCN weight/bias, 2/3 Linear.
ModelMaker QuantGcn() {
  ModelMaker m(true, Task::kNodeClassification, 4, 2);
  m.Gcn(5, true).Linear(3, false);
  return m;
}

// Quantized node classifier: transform-first SAGE(4 -> 3, MEAN, relu), with or without root.
ModelMaker QuantSageTf(bool root) {
  ModelMaker m(true, Task::kNodeClassification, 4, 3);
  m.Sage(3, Reduce::kMean, root, true, {}, true);
  return m;
}

// Quantized node classifier: GAT(4 -> 2 heads x 3, mean, relu), Linear(3 -> 3). Tensors: 0 dense weight,
// 1 att_src, 2 att_dst, 3 bias; 4/5 Linear. The mean of 2 heads sets Limits.max_degree.
ModelMaker QuantGat() {
  ModelMaker m(true, Task::kNodeClassification, 4, 5);
  m.Gat(2, 3, false, true).Linear(3, false);
  return m;
}

// Float node classifier: GAT(4 -> 2 heads x 3, concat, relu), Linear(6 -> 3). Tensors: 0 dense weight,
// 1 att_src, 2 att_dst, 3 bias; 4/5 Linear.
ModelMaker FloatGat() {
  ModelMaker m(false, Task::kNodeClassification, 4, 5);
  m.Gat(2, 3, true, true).Linear(3, false);
  return m;
}

// Quantized graph classifier: SAGE(root) -> GIN(mlp 6, 5) -> pool -> Linear.
ModelMaker QuantGraph() {
  ModelMaker m(true, Task::kGraphClassification, 4, 3);
  m.Sage(6, Reduce::kMean, true, true).Gin({6, 5}, 0.5f, true).Pool(Reduce::kMean).Linear(3, false);
  return m;
}

// Float graph classifier with the same layers as QuantGraph, a BatchNorm on every Dense but the SAGE root
// and a stored range on every activation. Tensors as QuantGraph.
converter::BatchNormDesc SomeBatchNorm(int32_t channels) {
  converter::BatchNormDesc bn;
  for (int32_t c = 0; c < channels; ++c) {
    bn.mean.push_back(0.1f * static_cast<float>(c));
    bn.var.push_back(1.0f + static_cast<float>(c));
    bn.gamma.push_back(c % 2 == 0 ? 1.5f : -0.5f);
    bn.beta.push_back(-0.2f);
  }
  return bn;
}

ModelMaker FloatGraphWithMetadata() {
  ModelMaker m(false, Task::kGraphClassification, 4, 3);
  m.Sage(6, Reduce::kMean, true, true).Gin({6, 5}, 0.5f, true).Pool(Reduce::kMean).Linear(3, false);
  ModelDesc& d = m.desc();
  d.layers[0].dense.batch_norm = SomeBatchNorm(6);
  d.layers[1].mlp[0].batch_norm = SomeBatchNorm(6);
  d.layers[1].mlp[1].batch_norm = SomeBatchNorm(5);
  d.layers[3].dense.batch_norm = SomeBatchNorm(3);
  d.input_range = converter::StoredRange{-1.0f, 1.0f};
  d.ranges_source = "test";
  for (converter::LayerDesc& layer : d.layers) {
    layer.output_range = converter::StoredRange{0.0f, 4.0f};
    if (layer.kind != LayerKind::kGlobalPool && layer.kind != LayerKind::kLinear) {
      layer.aggregation_range = converter::StoredRange{-2.0f, 2.0f};
    }
  }
  d.layers[1].hidden_ranges = {converter::StoredRange{0.0f, 3.0f}};
  return m;
}

template <typename F>
Bytes Edit(ModelMaker m, F edit) {
  edit(m.desc());
  return m.UncheckedBytes();
}

template <typename F>
Bytes Mutate(Bytes bytes, F mutate) {
  mutate(fbs::GetMutableModel(bytes.data()));
  return bytes;
}

fbs::Layer* MutableLayer(fbs::Model* m, uint32_t i) { return m->mutable_layers()->GetMutableObject(i); }
fbs::Tensor* MutableTensor(fbs::Model* m, uint32_t i) { return m->mutable_tensors()->GetMutableObject(i); }
template <typename T>
T* MutableOptions(fbs::Model* m, uint32_t i) {
  return static_cast<T*>(MutableLayer(m, i)->mutable_options());
}

fbs::GATConvOptions* GatOptions(fbs::Model* m) { return MutableOptions<fbs::GATConvOptions>(m, 0); }

// A hand-built model (FlatBufferBuilder), for structures the converter never writes.
struct Raw {
  bool with_input = true;
  fbs::LayerOptions type = fbs::LayerOptions::LinearOptions;
  bool with_options = true;
  bool quantized = false;
  bool with_output_quant = true;
  bool batch_norm_without_var = false;  ///< a BatchNorm on the Dense that lacks its `var` vector
};

Bytes RawModel(const Raw& o) {
  flatbuffers::FlatBufferBuilder b;
  std::vector<uint8_t> bytes;
  if (o.quantized) {
    bytes = {1, 2, 3, 4};
  } else {
    const float w[4] = {0.5f, -0.25f, 1.0f, 2.0f};
    bytes.assign(reinterpret_cast<const uint8_t*>(w), reinterpret_cast<const uint8_t*>(w) + sizeof(w));
  }
  b.ForceVectorAlignment(bytes.size(), 1, 16);
  const auto data = b.CreateVector(bytes);
  const auto buffer = fbs::CreateBuffer(b, data);
  const std::vector<float> scales = {0.1f, 0.2f};
  const auto tensor = fbs::CreateTensor(
      b, b.CreateString("w"), o.quantized ? fbs::TensorType::INT8 : fbs::TensorType::FLOAT32,
      b.CreateVector(std::vector<uint32_t>{2, 2}), 0, o.quantized ? b.CreateVector(scales) : 0);
  const int32_t m = 1 << 30;
  const auto requant = o.quantized ? fbs::CreateRequant(b, b.CreateVector(std::vector<int32_t>{m, m}),
                                                        b.CreateVector(std::vector<int32_t>{8, 8}))
                                   : 0;
  const std::vector<float> ones = {1.0f, 1.0f};
  const auto batch_norm = o.batch_norm_without_var
                              ? fbs::CreateBatchNorm(b, b.CreateVector(ones), 0, b.CreateVector(ones),
                                                     b.CreateVector(ones), 1e-5f)
                              : 0;
  const auto dense = fbs::CreateDense(b, 0, -1, requant, fbs::Activation::NONE, batch_norm);
  const auto options = fbs::CreateLinearOptions(b, dense);
  const auto out_q = fbs::CreateQuantParams(b, 8, 0.1f, 0);
  const auto layer =
      fbs::CreateLayer(b, b.CreateString("raw"), o.type, o.with_options ? options.Union() : 0,
                       fbs::Activation::NONE, o.quantized && o.with_output_quant ? out_q : 0, 0);
  const auto in_q = fbs::CreateQuantParams(b, 8, 0.05f, 0);
  const auto input = fbs::CreateInputSpec(b, 2, fbs::TensorType::FLOAT32, o.quantized ? in_q : 0);
  const auto model = fbs::CreateModel(b, 1, b.CreateString("raw"), 0, 0, fbs::Task::NODE_CLASSIFICATION, 0,
                                      o.quantized, o.with_input ? input : 0,
                                      b.CreateVector(std::vector<flatbuffers::Offset<fbs::Layer>>{layer}),
                                      b.CreateVector(std::vector<flatbuffers::Offset<fbs::Tensor>>{tensor}),
                                      b.CreateVector(std::vector<flatbuffers::Offset<fbs::Buffer>>{buffer}));
  fbs::FinishModelBuffer(b, model);
  return Bytes(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
}

// A hand-built quantized GCNConv(2 -> 2) node classifier with the given order, message quantization
// (message_bits 0: none) and Layer.aggregation, for combinations the converter never writes.
struct RawGcn {
  fbs::LayerOrder order = fbs::LayerOrder::TRANSFORM_FIRST;
  int message_bits = 8;
  bool with_aggregation = false;
  int32_t bias = 5;
};

Bytes RawGcnModel(const RawGcn& o) {
  flatbuffers::FlatBufferBuilder b;
  const std::vector<uint8_t> weight = {1, 2, 3, 4};
  b.ForceVectorAlignment(weight.size(), 1, 16);
  const auto weight_data = b.CreateVector(weight);
  const std::vector<int32_t> bias = {o.bias, -o.bias};
  b.ForceVectorAlignment(bias.size() * sizeof(int32_t), 1, 16);
  const auto bias_data = b.CreateVector(reinterpret_cast<const uint8_t*>(bias.data()), bias.size() * 4);
  const std::vector<flatbuffers::Offset<fbs::Buffer>> buffers = {fbs::CreateBuffer(b, weight_data),
                                                                 fbs::CreateBuffer(b, bias_data)};
  const std::vector<flatbuffers::Offset<fbs::Tensor>> tensors = {
      fbs::CreateTensor(b, b.CreateString("w"), fbs::TensorType::INT8,
                        b.CreateVector(std::vector<uint32_t>{2, 2}), 0,
                        b.CreateVector(std::vector<float>{0.1f, 0.2f})),
      fbs::CreateTensor(b, b.CreateString("b"), fbs::TensorType::INT32,
                        b.CreateVector(std::vector<uint32_t>{2}), 1)};
  const int32_t m = 1 << 30;
  const auto dense_requant = fbs::CreateRequant(b, b.CreateVector(std::vector<int32_t>{m, m}),
                                                b.CreateVector(std::vector<int32_t>{8, 8}));
  const auto dense = fbs::CreateDense(b, 0, 1, dense_requant);
  const auto agg_requant = fbs::CreateRequant(b, b.CreateVector(std::vector<int32_t>{m}),
                                              b.CreateVector(std::vector<int32_t>{31}));
  const auto message = o.message_bits != 0 ? fbs::CreateQuantParams(b, o.message_bits, 0.05f, 0) : 0;
  const auto options = fbs::CreateGCNConvOptions(b, dense, agg_requant, o.order, message);
  const auto out_q = fbs::CreateQuantParams(b, 8, 0.1f, 0);
  const auto agg_q = o.with_aggregation ? fbs::CreateQuantParams(b, 8, 0.1f, 0) : 0;
  const auto layer = fbs::CreateLayer(b, b.CreateString("gcn"), fbs::LayerOptions::GCNConvOptions,
                                      options.Union(), fbs::Activation::RELU, out_q, agg_q);
  const auto input =
      fbs::CreateInputSpec(b, 2, fbs::TensorType::FLOAT32, fbs::CreateQuantParams(b, 8, 0.05f, 0));
  const auto model =
      fbs::CreateModel(b, 5, b.CreateString("raw-gcn"), 0, 0, fbs::Task::NODE_CLASSIFICATION, 0, true, input,
                       b.CreateVector(std::vector<flatbuffers::Offset<fbs::Layer>>{layer}),
                       b.CreateVector(tensors), b.CreateVector(buffers));
  fbs::FinishModelBuffer(b, model);
  return Bytes(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
}

// A hand-built GATConv(2 -> 1 head x 2, concat) node classifier, float or quantized, for the combinations the
// converter never writes: Layer.aggregation on a quantized GAT, quantization fields on a float one.
struct RawGat {
  bool quantized = true;
  bool with_aggregation = false;  ///< quantized: a Layer.aggregation, which a GATConv does not have
  bool with_exp_table = true;     ///< float: an exp table, which only a quantized GATConv has
};

Bytes RawGatModel(const RawGat& o) {
  flatbuffers::FlatBufferBuilder b;
  const float wf[4] = {0.5f, -0.25f, 1.0f, 2.0f}, af[2] = {0.5f, -0.5f};
  const uint8_t* w = reinterpret_cast<const uint8_t*>(wf);
  const uint8_t* a = reinterpret_cast<const uint8_t*>(af);
  const std::vector<uint8_t> weight = o.quantized ? std::vector<uint8_t>{1, 2, 3, 4} : Bytes(w, w + 16);
  const std::vector<uint8_t> att = o.quantized ? std::vector<uint8_t>{5, 250} : Bytes(a, a + 8);
  std::vector<flatbuffers::Offset<fbs::Buffer>> buffers;
  for (const Bytes* data : {&weight, &att}) {
    b.ForceVectorAlignment(data->size(), 1, 16);
    buffers.push_back(fbs::CreateBuffer(b, b.CreateVector(*data)));
  }
  const fbs::TensorType type = o.quantized ? fbs::TensorType::INT8 : fbs::TensorType::FLOAT32;
  auto scales = [&](std::vector<float> v) { return o.quantized ? b.CreateVector(v) : 0; };
  const std::vector<flatbuffers::Offset<fbs::Tensor>> tensors = {
      fbs::CreateTensor(b, b.CreateString("w"), type, b.CreateVector(std::vector<uint32_t>{2, 2}), 0,
                        scales({0.1f, 0.2f})),
      fbs::CreateTensor(b, b.CreateString("a"), type, b.CreateVector(std::vector<uint32_t>{1, 2}), 1,
                        scales({0.05f}))};
  const int32_t m = 1 << 30;
  auto requant = [&](size_t n, int32_t shift) {
    return fbs::CreateRequant(b, b.CreateVector(std::vector<int32_t>(n, m)),
                              b.CreateVector(std::vector<int32_t>(n, shift)));
  };
  const auto dense = fbs::CreateDense(b, 0, -1, o.quantized ? requant(2, 8) : 0);
  std::vector<uint16_t> table(256);
  for (size_t k = 0; k < table.size(); ++k)
    table[k] = static_cast<uint16_t>(std::lround(32768.0 * std::exp(-0.1 * k)));
  const bool quant_fields = o.quantized;
  const auto options = fbs::CreateGATConvOptions(
      b, 1, 2, true, 0.2f, dense, 1, 1, -1, quant_fields ? fbs::CreateQuantParams(b, 8, 0.05f, 0) : 0,
      quant_fields ? fbs::CreateQuantParams(b, 8, 0.1f, 0) : 0, quant_fields ? requant(1, 20) : 0,
      quant_fields ? requant(1, 22) : 0, quant_fields || o.with_exp_table ? b.CreateVector(table) : 0,
      quant_fields ? requant(2, 20) : 0);
  const auto out_q = o.quantized ? fbs::CreateQuantParams(b, 8, 0.1f, 0) : 0;
  const auto agg_q = o.with_aggregation ? fbs::CreateQuantParams(b, 8, 0.1f, 0) : 0;
  const auto layer = fbs::CreateLayer(b, b.CreateString("gat"), fbs::LayerOptions::GATConvOptions,
                                      options.Union(), fbs::Activation::NONE, out_q, agg_q);
  const auto input = fbs::CreateInputSpec(b, 2, fbs::TensorType::FLOAT32,
                                          o.quantized ? fbs::CreateQuantParams(b, 8, 0.05f, 0) : 0);
  const auto model =
      fbs::CreateModel(b, 1, b.CreateString("raw-gat"), 0, 0, fbs::Task::NODE_CLASSIFICATION, 0, o.quantized,
                       input, b.CreateVector(std::vector<flatbuffers::Offset<fbs::Layer>>{layer}),
                       b.CreateVector(tensors), b.CreateVector(buffers));
  fbs::FinishModelBuffer(b, model);
  return Bytes(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
}

// ---- The corpus
// --------------------------------------------------------------------------------------------------

struct Case {
  const char* name;
  std::function<Bytes()> make;
  qgnn_status status;
  const char* needle;  ///< substring of the message ("" = any)
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

constexpr int32_t kM = 1 << 30;  // a valid multiplier

const std::vector<Case>& Corpus() {
  static const std::vector<Case> cases = {
      // Sanity: the base models and the hand-built one load.
      {"ValidFloat", [] { return FloatLinear().Bytes(); }, QGNN_OK, ""},
      {"ValidQuantized", [] { return QuantGcn().Bytes(); }, QGNN_OK, ""},
      {"ValidGraph", [] { return QuantGraph().Bytes(); }, QGNN_OK, ""},
      {"ValidRaw", [] { return RawModel({}); }, QGNN_OK, ""},
      {"ValidRawTransformFirst", [] { return RawGcnModel({}); }, QGNN_OK, ""},
      {"ValidRawAggregateFirst",
       [] {
         RawGcn g;
         g.order = fbs::LayerOrder::AGGREGATE_FIRST;
         g.message_bits = 0;
         g.with_aggregation = true;
         return RawGcnModel(g);
       },
       QGNN_OK, ""},
      // Transform-first GCNConv: the message quantization replaces Layer.aggregation.
      {"TransformFirstWithAggregation",
       [] {
         RawGcn g;
         g.with_aggregation = true;
         return RawGcnModel(g);
       },
       QGNN_BAD_QUANT_PARAMS, "transform-first GCNConv has Layer.aggregation"},
      {"TransformFirstWithoutMessage",
       [] {
         RawGcn g;
         g.message_bits = 0;
         return RawGcnModel(g);
       },
       QGNN_MISSING_FIELD, "message quantization is missing"},
      {"TransformFirstMessageBits",
       [] {
         RawGcn g;
         g.message_bits = 3;
         return RawGcnModel(g);
       },
       QGNN_BAD_BITS, "message has 3 bits"},
      {"TransformFirstBiasTooLarge",
       [] {
         RawGcn g;
         g.bias = 1 << 30;
         return RawGcnModel(g);
       },
       QGNN_BAD_QUANT_PARAMS, "|bias| must be < 2^30"},
      {"AggregateFirstWithMessage",
       [] {
         RawGcn g;
         g.order = fbs::LayerOrder::AGGREGATE_FIRST;
         g.with_aggregation = true;
         return RawGcnModel(g);
       },
       QGNN_BAD_QUANT_PARAMS, "aggregate-first GCNConv has a message quantization"},
      {"UnknownGcnOrder",
       [] {
         RawGcn g;
         g.order = static_cast<fbs::LayerOrder>(7);
         return RawGcnModel(g);
       },
       QGNN_UNSUPPORTED_LAYER, "unknown GCNConv order 7"},
      {"TransformFirstAggregationShift",
       [] {
         ModelMaker m(true, Task::kNodeClassification, 4, 2);
         m.Gcn(3, true, {}, true);
         return Edit(m, [](ModelDesc& d) { d.layers[0].aggregation_requant.shift[0] = 41; });
       },
       QGNN_BAD_QUANT_PARAMS, "aggregation_requant"},
      {"FloatTransformFirstWithBatchNorm",
       [] {
         ModelMaker m(false, Task::kNodeClassification, 4, 2);
         m.Gcn(3, true, {}, true);
         return Edit(m, [](ModelDesc& d) { d.layers[0].dense.batch_norm = SomeBatchNorm(3); });
       },
       QGNN_UNSUPPORTED_LAYER, "transform-first GCNConv with an unfolded BatchNorm"},
      {"FloatTransformFirstMessageRangeNaN",
       [] {
         ModelMaker m(false, Task::kNodeClassification, 4, 2);
         m.Gcn(3, true, {}, true);
         return Edit(m, [](ModelDesc& d) {
           d.layers[0].aggregation_range = converter::StoredRange{0.0f, std::nanf("")};
         });
       },
       QGNN_BAD_QUANT_PARAMS, "message_range"},
      // Transform-first SAGEConv (format version 6): MEAN only, message and output_requant checked.
      {"ValidSageTransformFirst", [] { return QuantSageTf(true).Bytes(); }, QGNN_OK, ""},
      {"ValidSageTransformFirstWithoutRoot", [] { return QuantSageTf(false).Bytes(); }, QGNN_OK, ""},
      {"SageTransformFirstInVersion5",
       [] { return Mutate(QuantSageTf(true).Bytes(), [](fbs::Model* m) { m->mutate_version(5); }); },
       QGNN_UNSUPPORTED_VERSION, "needs version 6"},
      {"SageTransformFirstMax",
       [] { return Edit(QuantSageTf(true), [](ModelDesc& d) { d.layers[0].reduce = Reduce::kMax; }); },
       QGNN_UNSUPPORTED_LAYER, "transform-first SAGEConv with MAX"},
      {"SageTransformFirstMessageBits",
       [] { return Edit(QuantSageTf(true), [](ModelDesc& d) { d.layers[0].message.bits = 3; }); },
       QGNN_BAD_BITS, "message has 3 bits"},
      {"SageTransformFirstOutputRequantShift63",
       [] { return Edit(QuantSageTf(true), [](ModelDesc& d) { d.layers[0].output_requant.shift[0] = 63; }); },
       QGNN_BAD_QUANT_PARAMS, "output_requant: shift[0] = 63"},
      {"SageTransformFirstOutputRequantShift41Loads",
       [] { return Edit(QuantSageTf(true), [](ModelDesc& d) { d.layers[0].output_requant.shift[0] = 41; }); },
       QGNN_OK, ""},
      {"SageTransformFirstOutputRequantTwoEntries",
       [] {
         return Edit(QuantSageTf(true), [](ModelDesc& d) {
           d.layers[0].output_requant.multiplier.push_back(kM);
           d.layers[0].output_requant.shift.push_back(20);
         });
       },
       QGNN_SHAPE_MISMATCH, "output_requant has 2 multipliers, expected 1"},
      {"SageTransformFirstWithoutOutputRequant",
       [] { return Edit(QuantSageTf(true), [](ModelDesc& d) { d.layers[0].output_requant = {}; }); },
       QGNN_MISSING_FIELD, "output_requant has no multipliers"},
      {"SageTransformFirstAggregationShift41",
       [] {
         return Edit(QuantSageTf(true), [](ModelDesc& d) { d.layers[0].aggregation_requant.shift[0] = 41; });
       },
       QGNN_BAD_QUANT_PARAMS, "aggregation_requant"},
      {"FloatSageTransformFirstWithBatchNorm",
       [] {
         ModelMaker m(false, Task::kNodeClassification, 4, 2);
         m.Sage(3, Reduce::kMean, true, true, {}, true);
         return Edit(m, [](ModelDesc& d) { d.layers[0].dense.batch_norm = SomeBatchNorm(3); });
       },
       QGNN_UNSUPPORTED_LAYER, "transform-first SAGEConv with an unfolded BatchNorm"},
      {"FloatSageTransformFirstMessageRangeNaN",
       [] {
         ModelMaker m(false, Task::kNodeClassification, 4, 2);
         m.Sage(3, Reduce::kMean, true, true, {}, true);
         return Edit(m, [](ModelDesc& d) {
           d.layers[0].message_range = converter::StoredRange{0.0f, std::nanf("")};
         });
       },
       QGNN_BAD_QUANT_PARAMS, "message_range"},
      {"ValidRawQuantized",
       [] {
         Raw r;
         r.quantized = true;
         return RawModel(r);
       },
       QGNN_OK, ""},
      {"ModelLimitsAboveCapsAreCapped",
       [] { return Edit(FloatLinear(), [](ModelDesc& d) { d.limits.max_nodes = 0xFFFFFFFFu; }); }, QGNN_OK,
       ""},

      // Version.
      {"Version0", [] { return Edit(FloatLinear(), [](ModelDesc& d) { d.version = 0; }); },
       QGNN_UNSUPPORTED_VERSION, "version 0"},
      {"Version7", [] { return Edit(QuantGcn(), [](ModelDesc& d) { d.version = 7; }); },
       QGNN_UNSUPPORTED_VERSION, "version 7"},

      // Per-column input scales (format version 4).
      {"ValidColumnScales",
       [] {
         return Edit(QuantGcn(), [](ModelDesc& d) { d.input_column_scales = {0.5f, 1.0f, 2.0f, 300.0f}; });
       },
       QGNN_OK, ""},
      {"ColumnScalesWrongLength",
       [] { return Edit(QuantGcn(), [](ModelDesc& d) {
              d.input_column_scales = {0.5f, 1.0f, 2.0f};
            }); },
       QGNN_SHAPE_MISMATCH, "3 column_scales for 4 features"},
      {"ColumnScaleNaN",
       [] {
         return Edit(QuantGcn(), [](ModelDesc& d) {
           d.input_column_scales = {0.5f, std::nanf(""), 2.0f, 1.0f};
         });
       },
       QGNN_BAD_QUANT_PARAMS, "column_scales[1]"},
      {"ColumnScaleZero",
       [] {
         return Edit(QuantGcn(), [](ModelDesc& d) { d.input_column_scales = {0.5f, 1.0f, 0.0f, 1.0f}; });
       },
       QGNN_BAD_QUANT_PARAMS, "column_scales[2]"},
      {"ColumnScaleNegative",
       [] {
         return Edit(QuantGcn(), [](ModelDesc& d) { d.input_column_scales = {-0.5f, 1.0f, 1.0f, 1.0f}; });
       },
       QGNN_BAD_QUANT_PARAMS, "column_scales[0]"},
      {"ColumnScaleInfinite",
       [] {
         return Edit(QuantGcn(), [](ModelDesc& d) {
           d.input_column_scales = {1.0f, 1.0f, 1.0f, std::numeric_limits<float>::infinity()};
         });
       },
       QGNN_BAD_QUANT_PARAMS, "column_scales[3]"},
      {"ColumnScalesOnFloatModel",
       [] {
         return Edit(FloatLinear(), [](ModelDesc& d) { d.input_column_scales = {1.0f, 1.0f, 1.0f, 1.0f}; });
       },
       QGNN_BAD_QUANT_PARAMS, "float model carries no column_scales"},

      // Missing fields.
      {"NoLayers", [] { return Edit(FloatLinear(), [](ModelDesc& d) { d.layers.clear(); }); },
       QGNN_MISSING_FIELD, "no layers"},
      {"NoInputSpec",
       [] {
         Raw r;
         r.with_input = false;
         return RawModel(r);
       },
       QGNN_MISSING_FIELD, "input"},
      {"UnionTypeNone",
       [] {
         Raw r;
         r.type = fbs::LayerOptions::NONE;
         return RawModel(r);
       },
       QGNN_MISSING_FIELD, "layer 0 (raw)"},
      {"UnionValueMissing",
       [] {
         Raw r;
         r.with_options = false;
         return RawModel(r);
       },
       QGNN_MISSING_FIELD, "options"},
      {"LayerOutputQuantMissing",
       [] {
         Raw r;
         r.quantized = true;
         r.with_output_quant = false;
         return RawModel(r);
       },
       QGNN_MISSING_FIELD, "output"},
      {"InputQuantMissing",
       [] { return Mutate(FloatLinear().Bytes(), [](fbs::Model* m) { m->mutate_quantized(true); }); },
       QGNN_MISSING_FIELD, "input"},
      {"WeightIndexMinusOne",
       [] {
         return Mutate(FloatLinear().Bytes(), [](fbs::Model* m) {
           MutableOptions<fbs::LinearOptions>(m, 0)->mutable_dense()->mutate_weight(-1);
         });
       },
       QGNN_MISSING_FIELD, "weight"},
      {"DenseRequantEmpty",
       [] { return Edit(QuantGcn(), [](ModelDesc& d) { d.layers[1].dense.requant = {}; }); },
       QGNN_MISSING_FIELD, "layer 1 (layer1): dense: requant has no multipliers"},
      {"WeightScalesEmpty",
       [] { return Edit(QuantGcn(), [](ModelDesc& d) { d.layers[0].dense.weight_scales.clear(); }); },
       QGNN_MISSING_FIELD, "scales"},
      {"AggregationRequantEmpty",
       [] { return Edit(QuantGcn(), [](ModelDesc& d) { d.layers[0].aggregation_requant = {}; }); },
       QGNN_MISSING_FIELD, "aggregation_requant"},
      {"PoolRequantEmpty",
       [] { return Edit(QuantGraph(), [](ModelDesc& d) { d.layers[2].pool_requant = {}; }); },
       QGNN_MISSING_FIELD, "layer 2"},
      {"GinEmptyMlp",
       [] {
         return Edit(QuantGraph(), [](ModelDesc& d) {
           d.layers[1].mlp.clear();
           d.layers[1].hidden.clear();
         });
       },
       QGNN_MISSING_FIELD, "mlp"},
      {"GinHiddenMissing",
       [] { return Edit(QuantGraph(), [](ModelDesc& d) { d.layers[1].hidden.clear(); }); },
       QGNN_MISSING_FIELD, "hidden"},

      // Indices.
      {"WeightIndexTooLarge",
       [] {
         return Mutate(FloatLinear().Bytes(), [](fbs::Model* m) {
           MutableOptions<fbs::LinearOptions>(m, 0)->mutable_dense()->mutate_weight(99);
         });
       },
       QGNN_INDEX_OUT_OF_RANGE, "99"},
      {"WeightIndexNegative",
       [] {
         return Mutate(FloatLinear().Bytes(), [](fbs::Model* m) {
           MutableOptions<fbs::LinearOptions>(m, 0)->mutable_dense()->mutate_weight(-7);
         });
       },
       QGNN_INDEX_OUT_OF_RANGE, "-7"},
      {"BiasIndexTooLarge",
       [] {
         return Mutate(QuantGcn().Bytes(), [](fbs::Model* m) {
           MutableOptions<fbs::LinearOptions>(m, 1)->mutable_dense()->mutate_bias(1000);
         });
       },
       QGNN_INDEX_OUT_OF_RANGE, "bias"},
      {"BufferIndexTooLarge",
       [] {
         return Mutate(QuantGcn().Bytes(), [](fbs::Model* m) { MutableTensor(m, 2)->mutate_buffer(77); });
       },
       QGNN_INDEX_OUT_OF_RANGE, "tensor 2 (layer1.weight)"},

      // Element types.
      {"QuantizedBiasIsFloat",
       [] {
         return Mutate(QuantGcn().Bytes(),
                       [](fbs::Model* m) { MutableTensor(m, 1)->mutate_type(fbs::TensorType::FLOAT32); });
       },
       QGNN_BAD_TENSOR_TYPE, "bias"},
      {"FloatWeightIsInt32",
       [] {
         return Mutate(FloatLinear().Bytes(),
                       [](fbs::Model* m) { MutableTensor(m, 0)->mutate_type(fbs::TensorType::INT32); });
       },
       QGNN_BAD_TENSOR_TYPE, "weight"},
      {"UnknownTensorType",
       [] {
         return Mutate(FloatLinear().Bytes(), [](fbs::Model* m) {
           MutableTensor(m, 1)->mutate_type(static_cast<fbs::TensorType>(9));
         });
       },
       QGNN_BAD_TENSOR_TYPE, "tensor 1"},
      {"WeightPointsAtBias",
       [] {
         return Mutate(QuantGcn().Bytes(), [](fbs::Model* m) {
           MutableOptions<fbs::LinearOptions>(m, 1)->mutable_dense()->mutate_weight(3);
         });
       },
       QGNN_BAD_TENSOR_TYPE, "layer 1"},
      {"FloatModelInt8Input",
       [] {
         return Mutate(FloatLinear().Bytes(),
                       [](fbs::Model* m) { m->mutable_input()->mutate_type(fbs::TensorType::INT8); });
       },
       QGNN_BAD_TENSOR_TYPE, "input"},
      {"Int4Input",
       [] {
         return Mutate(QuantGcn().Bytes(),
                       [](fbs::Model* m) { m->mutable_input()->mutate_type(fbs::TensorType::INT4); });
       },
       QGNN_BAD_TENSOR_TYPE, "input"},

      // Shapes.
      {"InputDimZero", [] { return Edit(FloatLinear(), [](ModelDesc& d) { d.input_dim = 0; }); },
       QGNN_SHAPE_MISMATCH, "feature_dim"},
      {"DimsDoNotChain",
       [] {
         return Edit(QuantGcn(), [](ModelDesc& d) {
           auto& dense = d.layers[1].dense;  // 5 -> 3 becomes 4 -> 3
           dense.in_features = 4;
           dense.weight_q.resize(12);
         });
       },
       QGNN_SHAPE_MISMATCH, "input features"},
      {"BiasLength",
       [] { return Edit(QuantGcn(), [](ModelDesc& d) { d.layers[0].dense.bias_q.push_back(0); }); },
       QGNN_SHAPE_MISMATCH, "layer0.bias"},
      {"ScalesCount",
       [] { return Edit(QuantGcn(), [](ModelDesc& d) { d.layers[0].dense.weight_scales.pop_back(); }); },
       QGNN_SHAPE_MISMATCH, "scales"},
      {"RequantCount",
       [] {
         return Edit(QuantGcn(), [](ModelDesc& d) {
           d.layers[1].dense.requant.multiplier.push_back(kM);
           d.layers[1].dense.requant.shift.push_back(10);
         });
       },
       QGNN_SHAPE_MISMATCH, "multipliers"},
      {"ShiftCountDiffers",
       [] { return Edit(QuantGcn(), [](ModelDesc& d) { d.layers[1].dense.requant.shift.push_back(10); }); },
       QGNN_SHAPE_MISMATCH, "shifts"},
      {"AggregationRequantTwoEntries",
       [] {
         return Edit(QuantGcn(), [](ModelDesc& d) {
           d.layers[0].aggregation_requant.multiplier.push_back(kM);
           d.layers[0].aggregation_requant.shift.push_back(10);
         });
       },
       QGNN_SHAPE_MISMATCH, "aggregation_requant"},
      {"GinMlpDoesNotChain",
       [] {
         return Edit(QuantGraph(), [](ModelDesc& d) {
           auto& dense = d.layers[1].mlp[1];  // 6 -> 5 becomes 3 -> 5
           dense.in_features = 3;
           dense.weight_q.resize(15);
         });
       },
       QGNN_SHAPE_MISMATCH, "mlp[1]"},
      {"SageRootOutputDiffers",
       [] {
         return Edit(QuantGraph(), [](ModelDesc& d) {
           auto& root = d.layers[0].root;  // 4 -> 6 becomes 4 -> 5
           root.out_features = 5;
           root.weight_q.resize(20);
           root.weight_scales.resize(5);
           root.requant.multiplier.resize(5);
           root.requant.shift.resize(5);
         });
       },
       QGNN_SHAPE_MISMATCH, "root"},
      {"GinHiddenCount",
       [] {
         return Edit(QuantGraph(), [](ModelDesc& d) { d.layers[1].hidden.push_back(d.layers[1].hidden[0]); });
       },
       QGNN_SHAPE_MISMATCH, "hidden"},
      {"ClassNamesCount",
       [] { return Edit(FloatLinear(), [](ModelDesc& d) {
              d.class_names = {"a", "b"};
            }); },
       QGNN_SHAPE_MISMATCH, "class names"},

      // Buffer sizes.
      {"ShapeDisagreesWithBuffer",
       [] {
         return Mutate(QuantGcn().Bytes(),
                       [](fbs::Model* m) { MutableTensor(m, 0)->mutable_shape()->Mutate(1, 5); });
       },
       QGNN_BUFFER_SIZE_MISMATCH, "tensor 0 (layer0.weight)"},
      {"WeightBytesShort",
       [] { return Edit(FloatLinear(), [](ModelDesc& d) { d.layers[0].dense.weight.pop_back(); }); },
       QGNN_BUFFER_SIZE_MISMATCH, "layer0.weight"},
      {"Int4WeightBytes",
       [] {
         return Edit(QuantGcn(), [](ModelDesc& d) {
           d.layers[0].dense.weight_bits = 4;
           for (auto& w : d.layers[0].dense.weight_q) w = static_cast<int8_t>(w % 8);
           d.layers[0].dense.weight_q.resize(22);  // 20 elements need 10 bytes, 22 values pack into 11
         });
       },
       QGNN_BUFFER_SIZE_MISMATCH, "expected 10"},

      // Bits and zero points.
      {"OutputBits3", [] { return Edit(QuantGcn(), [](ModelDesc& d) { d.layers[1].output.bits = 3; }); },
       QGNN_BAD_BITS, "layer 1 (layer1): output has 3 bits"},
      {"OutputBits16", [] { return Edit(QuantGcn(), [](ModelDesc& d) { d.layers[1].output.bits = 16; }); },
       QGNN_BAD_BITS, "16 bits"},
      {"InputBits5", [] { return Edit(QuantGcn(), [](ModelDesc& d) { d.input_quant.bits = 5; }); },
       QGNN_BAD_BITS, "input"},
      {"AggregationBits0",
       [] { return Edit(QuantGcn(), [](ModelDesc& d) { d.layers[0].aggregation.bits = 0; }); }, QGNN_BAD_BITS,
       "aggregation"},
      {"HiddenBits2", [] { return Edit(QuantGraph(), [](ModelDesc& d) { d.layers[1].hidden[0].bits = 2; }); },
       QGNN_BAD_BITS, "hidden[0]"},
      {"ZeroPointAbove8Bit",
       [] { return Edit(QuantGcn(), [](ModelDesc& d) { d.layers[0].output.zero_point = 128; }); },
       QGNN_BAD_BITS, "zero point 128"},
      {"ZeroPointBelow4Bit",
       [] {
         return Edit(QuantGcn(), [](ModelDesc& d) {
           d.layers[0].output.bits = 4;
           d.layers[0].output.zero_point = -9;
         });
       },
       QGNN_BAD_BITS, "zero point -9"},

      // Scales and fixed-point parameters.
      {"ScaleNaN",
       [] { return Edit(QuantGcn(), [](ModelDesc& d) { d.layers[0].output.scale = std::nanf(""); }); },
       QGNN_BAD_QUANT_PARAMS, "scale nan"},
      {"ScaleZero", [] { return Edit(QuantGcn(), [](ModelDesc& d) { d.input_quant.scale = 0.0f; }); },
       QGNN_BAD_QUANT_PARAMS, "input"},
      {"ScaleNegative",
       [] { return Edit(QuantGraph(), [](ModelDesc& d) { d.layers[2].output.scale = -1.0f; }); },
       QGNN_BAD_QUANT_PARAMS, "layer 2"},
      {"AggregationScaleInfinite",
       [] {
         return Edit(QuantGcn(), [](ModelDesc& d) {
           d.layers[0].aggregation.scale = std::numeric_limits<float>::infinity();
         });
       },
       QGNN_BAD_QUANT_PARAMS, "aggregation scale inf"},
      {"WeightScaleNaN",
       [] {
         return Edit(QuantGcn(), [](ModelDesc& d) { d.layers[1].dense.weight_scales[2] = std::nanf(""); });
       },
       QGNN_BAD_QUANT_PARAMS, "scale[2]"},
      {"WeightScaleZero",
       [] { return Edit(QuantGcn(), [](ModelDesc& d) { d.layers[0].dense.weight_scales[0] = 0.0f; }); },
       QGNN_BAD_QUANT_PARAMS, "scale[0]"},
      {"MultiplierTooSmall",
       [] {
         return Edit(QuantGcn(), [](ModelDesc& d) { d.layers[1].dense.requant.multiplier[1] = kM - 1; });
       },
       QGNN_BAD_QUANT_PARAMS, "multiplier[1]"},
      {"MultiplierNegative",
       [] {
         return Edit(QuantGcn(), [](ModelDesc& d) { d.layers[0].aggregation_requant.multiplier[0] = -kM; });
       },
       QGNN_BAD_QUANT_PARAMS, "multiplier[0]"},
      {"Shift0",
       [] { return Edit(QuantGcn(), [](ModelDesc& d) { d.layers[1].dense.requant.shift[0] = 0; }); },
       QGNN_BAD_QUANT_PARAMS, "shift[0] = 0"},
      {"PoolShift41",
       [] { return Edit(QuantGraph(), [](ModelDesc& d) { d.layers[2].pool_requant.shift[0] = 41; }); },
       QGNN_BAD_QUANT_PARAMS, "layer 2 (layer2): requant: shift[0] = 41 outside [1, 40]"},
      {"AggregationShift41",
       [] { return Edit(QuantGcn(), [](ModelDesc& d) { d.layers[0].aggregation_requant.shift[0] = 41; }); },
       QGNN_BAD_QUANT_PARAMS, "layer 0 (layer0): aggregation_requant: shift[0] = 41 outside [1, 40]"},
      {"GinAggregationShift41",
       [] { return Edit(QuantGraph(), [](ModelDesc& d) { d.layers[1].aggregation_requant.shift[0] = 41; }); },
       QGNN_BAD_QUANT_PARAMS, "aggregation_requant: shift[0] = 41 outside [1, 40]"},
      {"AggregationAndPoolShift40Load",
       [] {
         return Edit(QuantGraph(), [](ModelDesc& d) {
           d.layers[0].aggregation_requant.shift[0] = 40;
           d.layers[1].aggregation_requant.shift[0] = 40;
           d.layers[2].pool_requant.shift[0] = 40;
         });
       },
       QGNN_OK, ""},
      // A Dense rescales an int32 accumulator: any shift up to 62 is safe.
      {"DenseShift62Loads",
       [] {
         return Edit(QuantGcn(), [](ModelDesc& d) {
           d.layers[0].dense.requant.shift[0] = 41;
           d.layers[1].dense.requant.shift[2] = 62;
         });
       },
       QGNN_OK, ""},
      {"SageAndGinDenseShift62Load",
       [] {
         return Edit(QuantGraph(), [](ModelDesc& d) {
           d.layers[0].dense.requant.shift[1] = 62;
           d.layers[0].root.requant.shift[0] = 62;
           d.layers[1].mlp[0].requant.shift[3] = 62;
           d.layers[1].mlp[1].requant.shift[4] = 62;
           d.layers[3].dense.requant.shift[0] = 62;
         });
       },
       QGNN_OK, ""},
      {"DenseShift63",
       [] { return Edit(QuantGcn(), [](ModelDesc& d) { d.layers[1].dense.requant.shift[2] = 63; }); },
       QGNN_BAD_QUANT_PARAMS, "layer 1 (layer1): dense: requant: shift[2] = 63 outside [1, 62]"},
      {"SageRootShift63",
       [] { return Edit(QuantGraph(), [](ModelDesc& d) { d.layers[0].root.requant.shift[5] = 63; }); },
       QGNN_BAD_QUANT_PARAMS, "shift[5] = 63 outside [1, 62]"},
      {"GinMlpShift63",
       [] { return Edit(QuantGraph(), [](ModelDesc& d) { d.layers[1].mlp[1].requant.shift[0] = 63; }); },
       QGNN_BAD_QUANT_PARAMS, "mlp[1]: requant: shift[0] = 63 outside [1, 62]"},
      {"BiasTooLarge",
       [] { return Edit(QuantGcn(), [](ModelDesc& d) { d.layers[0].dense.bias_q[1] = 1 << 30; }); },
       QGNN_BAD_QUANT_PARAMS, "2^30"},
      {"BiasTooNegative",
       [] { return Edit(QuantGcn(), [](ModelDesc& d) { d.layers[0].dense.bias_q[1] = -(1 << 30); }); },
       QGNN_BAD_QUANT_PARAMS, "2^30"},
      {"GinSelfWeightNegative",
       [] { return Edit(QuantGraph(), [](ModelDesc& d) { d.layers[1].self_weight_q16 = -1; }); },
       QGNN_BAD_QUANT_PARAMS, "self_weight_q16"},
      {"GinSelfWeightTooLarge",
       [] { return Edit(QuantGraph(), [](ModelDesc& d) { d.layers[1].self_weight_q16 = 1 << 23; }); },
       QGNN_BAD_QUANT_PARAMS, "self_weight_q16"},
      {"FloatGinEpsNaN",
       [] {
         ModelMaker m(false, Task::kNodeClassification, 3, 4);
         m.Gin({4}, 0.0f, false);
         m.desc().layers[0].eps = std::nanf("");
         return m.UncheckedBytes();
       },
       QGNN_BAD_QUANT_PARAMS, "eps"},

      // Limits.
      {"InputDimTooLarge",
       [] {
         ModelMaker m(false, Task::kNodeClassification, 40000, 5);
         m.Linear(1, false);
         return m.UncheckedBytes();
       },
       QGNN_LIMIT_EXCEEDED, "40000"},
      {"OutputFeaturesTooLarge",
       [] {
         ModelMaker m(false, Task::kNodeClassification, 1, 6);
         m.Linear(40000, false, {}, false);
         return m.UncheckedBytes();
       },
       QGNN_LIMIT_EXCEEDED, "40000"},
      {"ShapeProductOverflows",
       [] {
         return Mutate(QuantGcn().Bytes(), [](fbs::Model* m) {
           MutableTensor(m, 0)->mutable_shape()->Mutate(0, 0xFFFFFFFFu);
           MutableTensor(m, 0)->mutable_shape()->Mutate(1, 0xFFFFFFFFu);
         });
       },
       QGNN_LIMIT_EXCEEDED, "overflows"},
      {"TooManyLayers",
       [] {
         ModelMaker m(false, Task::kNodeClassification, 2, 7);
         for (int i = 0; i < 65; ++i) m.Linear(2, true);
         return m.Bytes();
       },
       QGNN_LIMIT_EXCEEDED, "65 layers"},
      {"TooManyActivationTensors",
       [] {
         // 64 layers (the cap) of 2 tensors each, plus the input and the shared GCN normalisation: 130 > 128.
         ModelMaker m(true, Task::kNodeClassification, 2, 8);
         for (int i = 0; i < 64; ++i) m.Gcn(2, true);
         return m.Bytes();
       },
       QGNN_LIMIT_EXCEEDED, "activation tensors"},

      // Unsupported structures.
      {"UnknownUnionType",
       [] {
         Raw r;
         r.type = static_cast<fbs::LayerOptions>(42);
         return RawModel(r);
       },
       QGNN_UNSUPPORTED_LAYER, "unknown layer type 42"},
      {"PoolInNodeModel",
       [] { return Edit(QuantGraph(), [](ModelDesc& d) { d.task = Task::kNodeClassification; }); },
       QGNN_UNSUPPORTED_LAYER, "node-classification"},
      {"GraphModelWithoutPool",
       [] { return Edit(QuantGcn(), [](ModelDesc& d) { d.task = Task::kGraphClassification; }); },
       QGNN_UNSUPPORTED_LAYER, "GlobalPool"},
      {"TwoPools",
       [] {
         return Edit(QuantGraph(), [](ModelDesc& d) { d.layers.insert(d.layers.begin() + 3, d.layers[2]); });
       },
       QGNN_UNSUPPORTED_LAYER, "GlobalPool after GlobalPool"},
      {"MessagePassingAfterPool",
       [] {
         ModelMaker m(false, Task::kGraphClassification, 3, 9);
         m.Pool(Reduce::kSum).Gcn(2, false);
         return m.UncheckedBytes();
       },
       QGNN_UNSUPPORTED_LAYER, "GCNConv after GlobalPool"},
      {"SageSumReduce",
       [] { return Edit(QuantGraph(), [](ModelDesc& d) { d.layers[0].reduce = Reduce::kSum; }); },
       QGNN_UNSUPPORTED_LAYER, "reduce"},
      {"PoolReduceUnknown",
       [] {
         return Mutate(QuantGraph().Bytes(), [](fbs::Model* m) {
           MutableOptions<fbs::GlobalPoolOptions>(m, 2)->mutate_reduce(static_cast<fbs::Reduce>(5));
         });
       },
       QGNN_UNSUPPORTED_LAYER, "reduce 5"},
      {"ActivationUnknown",
       [] {
         return Mutate(QuantGcn().Bytes(), [](fbs::Model* m) {
           MutableLayer(m, 0)->mutate_activation(static_cast<fbs::Activation>(9));
         });
       },
       QGNN_UNSUPPORTED_LAYER, "activation 9"},
      {"GinHiddenActivationUnknown",
       [] {
         return Mutate(QuantGraph().Bytes(), [](fbs::Model* m) {
           MutableOptions<fbs::GINConvOptions>(m, 1)->mutable_mlp()->GetMutableObject(0)->mutate_activation(
               static_cast<fbs::Activation>(3));
         });
       },
       QGNN_UNSUPPORTED_LAYER, "mlp[0]"},
      // Float-only BatchNorm and stored ranges (converter metadata).
      {"ValidFloatWithBatchNormAndRanges", [] { return FloatGraphWithMetadata().Bytes(); }, QGNN_OK, ""},
      {"ValidQuantizedWithRanges",
       [] {
         return Edit(QuantGraph(), [](ModelDesc& d) {
           d.input_range = converter::StoredRange{-1.0f, 1.0f};
           d.layers[1].hidden_ranges = {converter::StoredRange{0.0f, 3.0f}};
         });
       },
       QGNN_OK, ""},
      {"BatchNormInQuantizedModel",
       [] {
         return Edit(QuantGraph(), [](ModelDesc& d) { d.layers[1].mlp[0].batch_norm = SomeBatchNorm(6); });
       },
       QGNN_UNSUPPORTED_LAYER, "mlp[0]: BatchNorm in a quantized model"},
      {"BatchNormOnSageRoot",
       [] {
         return Edit(FloatGraphWithMetadata(),
                     [](ModelDesc& d) { d.layers[0].root.batch_norm = SomeBatchNorm(6); });
       },
       QGNN_UNSUPPORTED_LAYER, "root"},
      {"BatchNormVarMissing",
       [] {
         Raw r;
         r.batch_norm_without_var = true;
         return RawModel(r);
       },
       QGNN_MISSING_FIELD, "dense: batch_norm var is missing"},
      {"BatchNormLengthMismatch",
       [] {
         return Edit(FloatGraphWithMetadata(),
                     [](ModelDesc& d) { d.layers[3].dense.batch_norm->gamma.pop_back(); });
       },
       QGNN_SHAPE_MISMATCH, "batch_norm gamma has 2 values, expected 3"},
      {"BatchNormNegativeVar",
       [] {
         return Edit(FloatGraphWithMetadata(),
                     [](ModelDesc& d) { d.layers[1].mlp[1].batch_norm->var[2] = -0.5f; });
       },
       QGNN_BAD_QUANT_PARAMS, "mlp[1]: batch_norm var[2]"},
      {"BatchNormNonFiniteMean",
       [] {
         return Edit(FloatGraphWithMetadata(), [](ModelDesc& d) {
           d.layers[0].dense.batch_norm->mean[1] = std::numeric_limits<float>::quiet_NaN();
         });
       },
       QGNN_BAD_QUANT_PARAMS, "batch_norm mean[1]"},
      {"BatchNormInfiniteBeta",
       [] {
         return Edit(FloatGraphWithMetadata(), [](ModelDesc& d) {
           d.layers[3].dense.batch_norm->beta[0] = std::numeric_limits<float>::infinity();
         });
       },
       QGNN_BAD_QUANT_PARAMS, "batch_norm beta[0]"},
      {"BatchNormZeroEps",
       [] {
         return Edit(FloatGraphWithMetadata(),
                     [](ModelDesc& d) { d.layers[3].dense.batch_norm->eps = 0.0f; });
       },
       QGNN_BAD_QUANT_PARAMS, "batch_norm eps"},
      {"RangeMinAboveMax",
       [] {
         return Edit(FloatGraphWithMetadata(), [](ModelDesc& d) {
           d.layers[2].output_range = converter::StoredRange{1.0f, -1.0f};
         });
       },
       QGNN_BAD_QUANT_PARAMS, "layer 2 (layer2): output_range [1, -1] must be finite with min <= max"},
      {"AggregationRangeNotFinite",
       [] {
         return Edit(FloatGraphWithMetadata(), [](ModelDesc& d) {
           d.layers[0].aggregation_range->max = std::numeric_limits<float>::infinity();
         });
       },
       QGNN_BAD_QUANT_PARAMS, "aggregation_range"},
      {"InputRangeNaN",
       [] {
         return Edit(FloatGraphWithMetadata(),
                     [](ModelDesc& d) { d.input_range->min = std::numeric_limits<float>::quiet_NaN(); });
       },
       QGNN_BAD_QUANT_PARAMS, "input: range"},
      {"GinHiddenRangesCount",
       [] {
         return Edit(FloatGraphWithMetadata(), [](ModelDesc& d) {
           d.layers[1].hidden_ranges.push_back(converter::StoredRange{0.0f, 1.0f});
         });
       },
       QGNN_SHAPE_MISMATCH, "2 hidden_ranges, expected 1"},
      {"GinHiddenRangeMinAboveMax",
       [] {
         return Edit(FloatGraphWithMetadata(), [](ModelDesc& d) {
           d.layers[1].hidden_ranges[0] = converter::StoredRange{3.0f, 0.0f};
         });
       },
       QGNN_BAD_QUANT_PARAMS, "hidden_ranges[0]"},
      // GATConv: every field Init verifies.
      {"ValidGat", [] { return QuantGat().Bytes(); }, QGNN_OK, ""},
      {"GatZeroHeads",
       [] { return Mutate(QuantGat().Bytes(), [](fbs::Model* m) { GatOptions(m)->mutate_heads(0); }); },
       QGNN_SHAPE_MISMATCH, "0 heads"},
      {"GatHeadsTimesDimIsNotTheDense",
       [] { return Mutate(QuantGat().Bytes(), [](fbs::Model* m) { GatOptions(m)->mutate_head_dim(2); }); },
       QGNN_SHAPE_MISMATCH, "heads x head_dim"},
      {"GatMeanOf65Heads",
       [] { return Mutate(QuantGat().Bytes(), [](fbs::Model* m) { GatOptions(m)->mutate_heads(65); }); },
       QGNN_LIMIT_EXCEEDED, "mean of 65 heads"},
      {"GatMeanWithoutDegreeLimit",
       [] { return Edit(QuantGat(), [](ModelDesc& d) { d.limits.max_degree = 0; }); }, QGNN_LIMIT_EXCEEDED,
       "Limits.max_degree <= 2097151"},
      {"GatNegativeSlope",
       [] {
         return Mutate(QuantGat().Bytes(), [](fbs::Model* m) { GatOptions(m)->mutate_negative_slope(0.1f); });
       },
       QGNN_UNSUPPORTED_LAYER, "negative_slope"},
      {"GatDenseWithBias",
       [] { return Edit(QuantGat(), [](ModelDesc& d) { d.layers[0].dense.bias_q.assign(6, 1); }); },
       QGNN_UNSUPPORTED_LAYER, "dense has a bias"},
      {"GatAttentionMissing",
       [] { return Mutate(QuantGat().Bytes(), [](fbs::Model* m) { GatOptions(m)->mutate_att_src(-1); }); },
       QGNN_MISSING_FIELD, "att_src tensor is missing"},
      {"GatAttentionIndexOutOfRange",
       [] { return Mutate(QuantGat().Bytes(), [](fbs::Model* m) { GatOptions(m)->mutate_att_dst(40); }); },
       QGNN_INDEX_OUT_OF_RANGE, "att_dst"},
      {"GatAttentionShape",
       [] {
         return Mutate(QuantGat().Bytes(), [](fbs::Model* m) {
           MutableTensor(m, 1)->mutable_shape()->Mutate(0, 2);
           MutableTensor(m, 1)->mutable_shape()->Mutate(1, 3);
         });
       },
       QGNN_SHAPE_MISMATCH, "att_src"},
      {"GatAttentionScalesDiffer",
       [] {
         return Mutate(QuantGat().Bytes(),
                       [](fbs::Model* m) { MutableTensor(m, 2)->mutable_scales()->Mutate(0, 9.0f); });
       },
       QGNN_BAD_QUANT_PARAMS, "differ"},
      {"GatBiasTooLarge",
       [] { return Edit(QuantGat(), [](ModelDesc& d) { d.layers[0].output_bias_q[1] = 1 << 30; }); },
       QGNN_BAD_QUANT_PARAMS, "element 1"},
      // Logits have 8 or 4 bits; a 4-bit zero point must lie in [-8, 7].
      {"GatLogit2Bits",
       [] {
         return Edit(QuantGat(), [](ModelDesc& d) {
           d.layers[0].logit = converter::QuantParams{2, 0.1f, 0};
         });
       },
       QGNN_BAD_BITS, "logit has 2 bits"},
      {"GatLogit4BitsZeroPointOutOfRange",
       [] {
         return Edit(QuantGat(), [](ModelDesc& d) {
           d.layers[0].logit = converter::QuantParams{4, 0.1f, 8};
         });
       },
       QGNN_BAD_BITS, "logit zero point 8"},
      {"GatNegativeLogitRequantShift63",
       [] {
         return Edit(QuantGat(), [](ModelDesc& d) { d.layers[0].logit_negative_requant.shift[0] = 63; });
       },
       QGNN_BAD_QUANT_PARAMS, "logit_negative_requant"},
      {"GatOutputRequantCount",
       [] {
         return Edit(QuantGat(), [](ModelDesc& d) {
           d.layers[0].output_requant.multiplier.pop_back();
           d.layers[0].output_requant.shift.pop_back();
         });
       },
       QGNN_SHAPE_MISMATCH, "output_requant"},
      {"GatExpTableLength",
       [] { return Edit(QuantGat(), [](ModelDesc& d) { d.layers[0].exp_table.resize(255); }); },
       QGNN_SHAPE_MISMATCH, "exp_table has 255"},
      {"GatExpTableFirstEntry",
       [] { return Edit(QuantGat(), [](ModelDesc& d) { d.layers[0].exp_table[0] = 0; }); },
       QGNN_BAD_QUANT_PARAMS, "exp_table[0]"},
      {"GatExpTableIncreases",
       [] {
         return Edit(QuantGat(),
                     [](ModelDesc& d) { d.layers[0].exp_table[5] = d.layers[0].exp_table[4] + 1; });
       },
       QGNN_BAD_QUANT_PARAMS, "exp_table[5]"},
      {"GatMessageBits", [] { return Edit(QuantGat(), [](ModelDesc& d) { d.layers[0].message.bits = 3; }); },
       QGNN_BAD_BITS, "message has 3 bits"},
      // The remaining GATConvOptions fields and the GAT-specific tensor and Layer checks, so that each field
      // Init verifies has a case (heads, head_dim, their product, negative_slope, dense, att_src / att_dst,
      // bias, message, logit, the two logit requants, exp_table, output_requant, the two ranges).
      {"ValidFloatGat", [] { return FloatGat().Bytes(); }, QGNN_OK, ""},
      {"ValidRawGat", [] { return RawGatModel({}); }, QGNN_OK, ""},
      {"ValidRawFloatGat",
       [] {
         RawGat o;
         o.quantized = false;
         o.with_exp_table = false;
         return RawGatModel(o);
       },
       QGNN_OK, ""},
      {"GatZeroHeadDim",
       [] { return Mutate(QuantGat().Bytes(), [](fbs::Model* m) { GatOptions(m)->mutate_head_dim(0); }); },
       QGNN_SHAPE_MISMATCH, "2 heads of 0 features"},
      {"GatHeadsTimesDimOverflows32Bits",
       [] {
         return Mutate(QuantGat().Bytes(), [](fbs::Model* m) {
           GatOptions(m)->mutate_heads(65536);
           GatOptions(m)->mutate_head_dim(65536);
         });
       },
       QGNN_LIMIT_EXCEEDED, "65536 x 65536 message features"},
      {"GatHeadsTimesDimAboveFeatureCap",
       [] {
         return Mutate(QuantGat().Bytes(), [](fbs::Model* m) { GatOptions(m)->mutate_head_dim(16385); });
       },
       QGNN_LIMIT_EXCEEDED, "2 x 16385 message features (at most 32768)"},
      {"GatFloatDenseBatchNorm",
       [] { return Edit(FloatGat(), [](ModelDesc& d) { d.layers[0].dense.batch_norm = SomeBatchNorm(6); }); },
       QGNN_UNSUPPORTED_LAYER, "dense has a BatchNorm"},
      {"GatFloatAttentionType",
       [] {
         return Mutate(FloatGat().Bytes(),
                       [](fbs::Model* m) { MutableTensor(m, 1)->mutate_type(fbs::TensorType::INT32); });
       },
       QGNN_BAD_TENSOR_TYPE, "att_src: tensor 1"},
      {"GatAttentionScaleZero",
       [] {
         return Mutate(QuantGat().Bytes(),
                       [](fbs::Model* m) { MutableTensor(m, 1)->mutable_scales()->Mutate(0, 0.0f); });
       },
       QGNN_BAD_QUANT_PARAMS, "att_src: tensor 1"},
      {"GatBiasType",
       [] {
         return Mutate(QuantGat().Bytes(),
                       [](fbs::Model* m) { MutableTensor(m, 3)->mutate_type(fbs::TensorType::FLOAT32); });
       },
       QGNN_BAD_TENSOR_TYPE, "bias: tensor 3"},
      {"GatBiasShape",
       [] { return Edit(QuantGat(), [](ModelDesc& d) { d.layers[0].output_bias_q.push_back(0); }); },
       QGNN_SHAPE_MISMATCH, "bias: tensor 3"},
      {"GatMessageRangeMinAboveMax",
       [] {
         return Edit(QuantGat(), [](ModelDesc& d) {
           d.layers[0].message_range = converter::StoredRange{2.0f, 1.0f};
         });
       },
       QGNN_BAD_QUANT_PARAMS, "message_range"},
      {"GatLogitRangeNaN",
       [] {
         return Edit(QuantGat(), [](ModelDesc& d) {
           d.layers[0].logit_range = converter::StoredRange{std::numeric_limits<float>::quiet_NaN(), 1.0f};
         });
       },
       QGNN_BAD_QUANT_PARAMS, "logit_range"},
      {"GatMessageScaleZero",
       [] { return Edit(QuantGat(), [](ModelDesc& d) { d.layers[0].message.scale = 0.0f; }); },
       QGNN_BAD_QUANT_PARAMS, "message scale"},
      {"GatLogitZeroPointOutOfRange",
       [] { return Edit(QuantGat(), [](ModelDesc& d) { d.layers[0].logit.zero_point = 200; }); },
       QGNN_BAD_BITS, "logit zero point 200"},
      {"GatLogitRequantMultiplier",
       [] { return Edit(QuantGat(), [](ModelDesc& d) { d.layers[0].logit_requant.multiplier[0] = 5; }); },
       QGNN_BAD_QUANT_PARAMS, "logit_requant"},
      {"GatLogitRequantTwoEntries",
       [] {
         return Edit(QuantGat(), [](ModelDesc& d) {
           d.layers[0].logit_requant.multiplier.push_back(kM);
           d.layers[0].logit_requant.shift.push_back(20);
         });
       },
       QGNN_SHAPE_MISMATCH, "logit_requant"},
      {"GatExpTableEmpty",
       [] { return Edit(QuantGat(), [](ModelDesc& d) { d.layers[0].exp_table.clear(); }); },
       QGNN_SHAPE_MISMATCH, "exp_table has 0 entries"},
      {"GatOutputRequantShift63",
       [] { return Edit(QuantGat(), [](ModelDesc& d) { d.layers[0].output_requant.shift[1] = 63; }); },
       QGNN_BAD_QUANT_PARAMS, "output_requant"},
      {"GatWithLayerAggregation",
       [] {
         RawGat o;
         o.with_aggregation = true;
         return RawGatModel(o);
       },
       QGNN_BAD_QUANT_PARAMS, "Layer.aggregation"},
      {"GatFloatWithExpTable",
       [] {
         RawGat o;
         o.quantized = false;
         return RawGatModel(o);
       },
       QGNN_BAD_QUANT_PARAMS, "float GATConv has quantization fields"},
      {"UnknownTask",
       [] {
         return Mutate(QuantGcn().Bytes(), [](fbs::Model* m) { m->mutate_task(static_cast<fbs::Task>(3)); });
       },
       QGNN_UNSUPPORTED_LAYER, "task"},
  };
  return cases;
}

class MalformedModel : public ::testing::TestWithParam<Case> {};

TEST_P(MalformedModel, RejectedWithItsStatus) {
  const Case& c = GetParam();
  const Bytes bytes = c.make();
  ASSERT_FALSE(bytes.empty());
  std::string message;
  const qgnn_status status = LoadStatus(bytes, &message);
  RecordProperty("message", message);
  EXPECT_EQ(status, c.status) << qgnn_status_name(status) << " instead of " << qgnn_status_name(c.status)
                              << ": " << message;
  EXPECT_NE(message.find(c.needle), std::string::npos) << "message: " << message;
}

INSTANTIATE_TEST_SUITE_P(Corpus, MalformedModel, ::testing::ValuesIn(Corpus()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.name);
                         });

// ---- Envelope
// -------------------------------------------------------------------------------------------------

TEST(ModelEnvelope, NullArguments) {
  const Bytes bytes = FloatLinear().Bytes();
  AlignedBuffer buffer(bytes);
  qgnn_model* model = nullptr;
  qgnn_error error{};
  EXPECT_EQ(qgnn_model_create(nullptr, 64, &model, &error), QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(error.status, QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(qgnn_model_create(buffer.data(), buffer.size(), nullptr, &error), QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(qgnn_model_create(buffer.data(), buffer.size(), &model, nullptr), QGNN_OK);  // error is optional
  qgnn_model_delete(model);
  qgnn_model_delete(nullptr);
}

TEST(ModelEnvelope, TooSmall) {
  const Bytes bytes = FloatLinear().Bytes();
  AlignedBuffer buffer(bytes.data(), 7);
  qgnn_model* model = nullptr;
  qgnn_error error{};
  EXPECT_EQ(qgnn_model_create(buffer.data(), buffer.size(), &model, &error), QGNN_BAD_IDENTIFIER);
  EXPECT_NE(std::string(error.message).find("too small"), std::string::npos) << error.message;
}

TEST(ModelEnvelope, MisalignedBuffer) {
  const Bytes bytes = QuantGcn().Bytes();
  for (size_t offset = 1; offset < 16; ++offset) {
    AlignedBuffer buffer(bytes, offset);
    qgnn_model* model = nullptr;
    qgnn_error error{};
    EXPECT_EQ(qgnn_model_create(buffer.data(), buffer.size(), &model, &error), QGNN_BAD_IDENTIFIER) << offset;
    EXPECT_NE(std::string(error.message).find("16-byte aligned"), std::string::npos) << error.message;
    EXPECT_EQ(model, nullptr);
  }
}

TEST(ModelEnvelope, WrongIdentifier) {
  Bytes bytes = QuantGcn().Bytes();
  std::memcpy(bytes.data() + 4, "QGD1", 4);
  std::string message;
  EXPECT_EQ(LoadStatus(bytes, &message), QGNN_BAD_IDENTIFIER);
  EXPECT_NE(message.find("QGNN"), std::string::npos) << message;
}

TEST(ModelEnvelope, GarbageWithIdentifierIsMalformed) {
  std::mt19937 rng(5);
  for (int i = 0; i < 200; ++i) {
    Bytes bytes(64 + i);
    for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    std::memcpy(bytes.data() + 4, "QGNN", 4);
    const qgnn_status status = LoadStatus(bytes);
    EXPECT_TRUE(status == QGNN_MALFORMED_FLATBUFFER || status == QGNN_UNSUPPORTED_VERSION)
        << qgnn_status_name(status);
  }
}

// Every prefix of a model is rejected as a malformed buffer (or its identifier is cut off). The builder may
// leave alignment padding at the end of the buffer that nothing references; cutting only that padding
// leaves a complete model, which loads.
TEST(ModelEnvelope, TruncatedAtEveryOffset) {
  for (const Bytes& bytes : {FloatLinear().Bytes(), QuantGcn().Bytes()}) {
    size_t loaded = 0;
    for (size_t size = 0; size < bytes.size(); ++size) {
      AlignedBuffer buffer(bytes.data(), size);
      qgnn_model* model = nullptr;
      qgnn_error error{};
      const qgnn_status status = qgnn_model_create(buffer.data(), size, &model, &error);
      if (size < 8) {
        EXPECT_EQ(status, QGNN_BAD_IDENTIFIER) << size;
      } else if (status == QGNN_OK) {
        ++loaded;
        EXPECT_GE(size + 16, bytes.size())
            << "a truncated model loaded at " << size << " of " << bytes.size();
      } else {
        EXPECT_EQ(status, QGNN_MALFORMED_FLATBUFFER) << size << ": " << error.message;
      }
      qgnn_model_delete(model);
    }
    EXPECT_LT(loaded, 16u);
  }
}

// Loads a (possibly corrupted) model and, when it loads, runs it: verification must make every model that
// loads safe to execute.
qgnn_status LoadAndRun(const Bytes& bytes, std::mt19937& rng) {
  AlignedBuffer buffer(bytes);
  qgnn_model* model = nullptr;
  const qgnn_status status = qgnn_model_create(buffer.data(), buffer.size(), &model, nullptr);
  if (status != QGNN_OK) return status;
  qgnn_model_info info{};
  EXPECT_EQ(qgnn_model_get_info(model, &info), QGNN_OK);
  const Graph graph = RandomGraph(rng, {3, 4}, 3, static_cast<int32_t>(info.input_dim), 4);
  const qgnn_plan_limits limits{graph.num_nodes, graph.num_edges() + 1, 2};
  size_t arena_bytes = 0;
  if (qgnn_arena_size(model, &limits, &arena_bytes, nullptr) == QGNN_OK) {
    std::vector<uint8_t> arena(arena_bytes);
    qgnn_interpreter* interpreter = nullptr;
    EXPECT_EQ(
        qgnn_interpreter_create(model, &limits, arena.data(), arena.size(), nullptr, &interpreter, nullptr),
        QGNN_OK);
    qgnn_graph view = graph.view(info.input_is_int8 != 0);
    if (info.task == QGNN_TASK_NODE_CLASSIFICATION) view.num_graphs = 1, view.graph_ptr = nullptr;
    if (qgnn_interpreter_setup(interpreter, &view, nullptr) == QGNN_OK) {
      EXPECT_EQ(qgnn_interpreter_invoke(interpreter, nullptr), QGNN_OK);
      std::vector<float> out(static_cast<size_t>(graph.num_nodes) * info.num_classes);
      EXPECT_EQ(qgnn_interpreter_output_float(interpreter, out.data(), out.size()), QGNN_OK);
    }
    qgnn_interpreter_delete(interpreter);
  }
  qgnn_model_delete(model);
  return status;
}

TEST(ModelEnvelope, RandomBitFlipsNeverCrash) {
  std::mt19937 rng(11);
  const std::vector<Bytes> bases = {FloatLinear().Bytes(), QuantGcn().Bytes(), QuantGraph().Bytes()};
  int loaded = 0, rejected = 0;
  for (int i = 0; i < 3000; ++i) {
    Bytes bytes = bases[i % bases.size()];
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    const qgnn_status status = LoadAndRun(bytes, rng);
    EXPECT_TRUE(status >= QGNN_OK && status <= QGNN_OUT_OF_MEMORY);
    (status == QGNN_OK ? loaded : rejected)++;
  }
  // Many flips land in parameter bytes (still valid), many in structure (rejected).
  EXPECT_GT(loaded, 100);
  EXPECT_GT(rejected, 100);
}

}  // namespace
}  // namespace test
}  // namespace qgnn
