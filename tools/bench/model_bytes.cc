#include "bench/model_bytes.h"

#include <flatbuffers/flatbuffers.h>

#include "qgnn/schema/qgnn_generated.h"

namespace qgnn {
namespace tools {
namespace {

constexpr size_t kQuantParamsBytes = 1 + 4 + 4;  // bits, scale, zero point
constexpr size_t kRequantEntryBytes = 4 + 4;     // multiplier, shift

class Counter {
 public:
  Counter(const fb::Model& model, ModelBytes* out) : model_(model), out_(out) {}

  void quant(const fb::QuantParams* q) {
    if (q != nullptr) out_->quant_params += kQuantParamsBytes;
  }

  void requant(const fb::Requant* r) {
    if (r == nullptr) return;
    const size_t m = r->multiplier() != nullptr ? r->multiplier()->size() : 0;
    const size_t s = r->shift() != nullptr ? r->shift()->size() : 0;
    out_->quant_params += (m + s) * (kRequantEntryBytes / 2);
  }

  void tensor(int32_t index) {
    if (index < 0 || model_.tensors() == nullptr || static_cast<uint32_t>(index) >= model_.tensors()->size())
      return;
    const fb::Tensor* t = model_.tensors()->Get(static_cast<uint32_t>(index));
    if (t == nullptr) return;
    if (t->scales() != nullptr) out_->quant_params += t->scales()->size() * sizeof(float);
    if (model_.buffers() == nullptr || t->buffer() >= model_.buffers()->size()) return;
    const fb::Buffer* b = model_.buffers()->Get(t->buffer());
    if (b != nullptr && b->data() != nullptr) out_->weights += b->data()->size();
  }

  void dense(const fb::Dense* d) {
    if (d == nullptr) return;
    tensor(d->weight());
    tensor(d->bias());
    requant(d->requant());
    if (const fb::BatchNorm* bn = d->batch_norm()) {
      for (const auto* v : {bn->mean(), bn->var(), bn->gamma(), bn->beta()})
        if (v != nullptr) out_->weights += v->size() * sizeof(float);
    }
  }

  void layer(const fb::Layer& l) {
    quant(l.output());
    quant(l.aggregation());
    switch (l.options_type()) {
      case fb::LayerOptions::LinearOptions:
        dense(l.options_as_LinearOptions()->dense());
        out_->layer_kinds.push_back("Linear");
        break;
      case fb::LayerOptions::GCNConvOptions:
        dense(l.options_as_GCNConvOptions()->dense());
        requant(l.options_as_GCNConvOptions()->aggregation_requant());
        out_->layer_kinds.push_back("GCNConv");
        break;
      case fb::LayerOptions::SAGEConvOptions: {
        const auto* o = l.options_as_SAGEConvOptions();
        dense(o->neighbor());
        dense(o->root());
        requant(o->aggregation_requant());
        out_->layer_kinds.push_back("SAGEConv");
        break;
      }
      case fb::LayerOptions::GINConvOptions: {
        const auto* o = l.options_as_GINConvOptions();
        if (o->mlp() != nullptr)
          for (const fb::Dense* d : *o->mlp()) dense(d);
        if (o->hidden() != nullptr)
          for (const fb::QuantParams* q : *o->hidden()) quant(q);
        requant(o->aggregation_requant());
        out_->layer_kinds.push_back("GINConv");
        break;
      }
      case fb::LayerOptions::GATConvOptions: {
        const auto* o = l.options_as_GATConvOptions();
        dense(o->dense());
        tensor(o->att_src());
        tensor(o->att_dst());
        tensor(o->bias());
        quant(o->message());
        quant(o->logit());
        requant(o->logit_requant());
        requant(o->logit_negative_requant());
        requant(o->output_requant());
        // The softmax's exp table is derived from the logits' scale: quantization data, not weights.
        if (o->exp_table() != nullptr) out_->quant_params += o->exp_table()->size() * sizeof(uint16_t);
        out_->layer_kinds.push_back("GATConv");
        break;
      }
      case fb::LayerOptions::GlobalPoolOptions:
        requant(l.options_as_GlobalPoolOptions()->requant());
        out_->layer_kinds.push_back("GlobalPool");
        break;
      default:
        out_->layer_kinds.push_back("unknown");
        break;
    }
  }

 private:
  const fb::Model& model_;
  ModelBytes* out_;
};

}  // namespace

bool analyze_model_bytes(const void* data, size_t size, ModelBytes* out, std::string* error) {
  flatbuffers::Verifier verifier(static_cast<const uint8_t*>(data), size);
  if (!fb::VerifyModelBuffer(verifier)) {
    *error = "the FlatBuffers verifier rejects the model";
    return false;
  }
  const fb::Model& m = *fb::GetModel(data);
  *out = ModelBytes{};
  out->total = size;
  Counter counter(m, out);
  if (m.input() != nullptr) counter.quant(m.input()->quant());
  if (m.layers() != nullptr) {
    for (uint32_t i = 0; i < m.layers()->size(); ++i) {
      const fb::Layer* l = m.layers()->Get(i);
      if (l == nullptr) {
        *error = "layer " + std::to_string(i) + " is missing";
        return false;
      }
      counter.layer(*l);
      const bool named = l->name() != nullptr && l->name()->size() > 0;
      out->layer_names.push_back(named ? l->name()->str() : "layer" + std::to_string(i));
    }
  }
  // Float models carry no quantization fields; a malformed count can never make structure negative.
  const size_t accounted = out->weights + out->quant_params;
  out->structure = accounted <= size ? size - accounted : 0;
  return true;
}

}  // namespace tools
}  // namespace qgnn
