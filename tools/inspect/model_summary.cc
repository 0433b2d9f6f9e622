#include "inspect/model_summary.h"

#include <flatbuffers/flatbuffers.h>

#include <cmath>

#include "qgnn/schema/qgnn_generated.h"
#include "qgnn/schema/tensor_type.h"

namespace qgnn {
namespace tools {
namespace {

std::string enum_text(const char* name) { return name != nullptr && name[0] != '\0' ? name : "UNKNOWN"; }

// Reads layers out of a model the runtime has verified, re-checking every index it follows so that a
// summary never reads outside the buffer even if it is handed something the runtime would not accept.
class Summarizer {
 public:
  Summarizer(const fb::Model& model, std::string* error) : model_(model), error_(error) {}

  bool dense(const fb::Dense* d, DenseSummary* out) {
    if (d == nullptr) return fail("missing Dense");
    const fb::Tensor* weight = tensor(d->weight());
    if (weight == nullptr) return fail("Dense weight index " + std::to_string(d->weight()) + " out of range");
    if (weight->shape() == nullptr || weight->shape()->size() != 2) return fail("weight tensor is not 2-D");
    out->out_features = weight->shape()->Get(0);
    out->in_features = weight->shape()->Get(1);
    out->weight_type = enum_text(fb::EnumNameTensorType(weight->type()));
    out->weight_bits = fb::tensor_type_bits(weight->type());
    out->activation = enum_text(fb::EnumNameActivation(d->activation()));
    out->parameter_bytes = buffer_bytes(weight);
    if (d->bias() >= 0) {
      const fb::Tensor* bias = tensor(d->bias());
      if (bias == nullptr) return fail("Dense bias index " + std::to_string(d->bias()) + " out of range");
      out->bias_type = enum_text(fb::EnumNameTensorType(bias->type()));
      out->parameter_bytes += buffer_bytes(bias);
    }
    return true;
  }

  bool layer(const fb::Layer& l, uint32_t in_features, LayerSummary* out) {
    out->name = l.name() != nullptr ? l.name()->str() : "";
    out->activation = enum_text(fb::EnumNameActivation(l.activation()));
    out->in_features = in_features;
    out->out_features = in_features;
    std::vector<const fb::Dense*> dense_ops;
    bool message_passing = true;
    switch (l.options_type()) {
      case fb::LayerOptions::LinearOptions:
        out->kind = "Linear";
        message_passing = false;
        dense_ops.push_back(l.options_as_LinearOptions()->dense());
        break;
      case fb::LayerOptions::GCNConvOptions: {
        const auto* o = l.options_as_GCNConvOptions();
        out->kind = "GCNConv";
        dense_ops.push_back(o->dense());
        if (o->order() == fb::LayerOrder::TRANSFORM_FIRST) {
          out->first = "transform";
          if (model_.quantized())
            out->message_bits = o->message() != nullptr ? o->message()->bits() : 0;
          else
            out->message_bits = 32;
        }
        break;
      }
      case fb::LayerOptions::SAGEConvOptions: {
        const auto* o = l.options_as_SAGEConvOptions();
        out->kind = "SAGEConv";
        out->reduce = enum_text(fb::EnumNameReduce(o->reduce()));
        dense_ops.push_back(o->neighbor());
        if (o->root() != nullptr) dense_ops.push_back(o->root());
        if (o->order() == fb::LayerOrder::TRANSFORM_FIRST) {
          out->first = "transform";
          if (model_.quantized())
            out->message_bits = o->message() != nullptr ? o->message()->bits() : 0;
          else
            out->message_bits = 32;
        }
        break;
      }
      case fb::LayerOptions::GINConvOptions: {
        const auto* o = l.options_as_GINConvOptions();
        out->kind = "GINConv";
        out->eps = o->eps();
        if (o->mlp() == nullptr || o->mlp()->size() == 0) return fail("GINConv without MLP");
        for (const fb::Dense* d : *o->mlp()) dense_ops.push_back(d);
        if (model_.quantized() && o->hidden() != nullptr) {
          for (const fb::QuantParams* q : *o->hidden())
            out->hidden_bits.push_back(q != nullptr ? q->bits() : 0);
        }
        break;
      }
      case fb::LayerOptions::GATConvOptions: {
        const auto* o = l.options_as_GATConvOptions();
        out->kind = "GATConv";
        out->first = "transform";
        dense_ops.push_back(o->dense());
        if (!attention(*o, out)) return false;
        break;
      }
      case fb::LayerOptions::GlobalPoolOptions:
        out->kind = "GlobalPool";
        message_passing = false;
        out->reduce = enum_text(fb::EnumNameReduce(l.options_as_GlobalPoolOptions()->reduce()));
        break;
      default:
        return fail("unknown layer kind " + std::to_string(static_cast<int>(l.options_type())));
    }
    for (const fb::Dense* d : dense_ops) {
      DenseSummary ds;
      if (!dense(d, &ds)) return false;
      out->parameter_bytes += ds.parameter_bytes;
      out->dense.push_back(ds);
    }
    if (!out->dense.empty()) {
      out->in_features = out->dense.front().in_features;
      // SAGEConv's root Dense has the same shape as the neighbour Dense; GIN's MLP ends in its last Dense.
      out->out_features =
          out->kind == "SAGEConv" ? out->dense.front().out_features : out->dense.back().out_features;
      // A GATConv's Dense writes every head; the mean of heads narrows the output to one head's width.
      if (out->kind == "GATConv" && !out->attention.concat) out->out_features = out->attention.head_dim;
    }
    if (message_passing && out->first.empty()) out->first = "aggregate";
    // A transform-first GCNConv's one intermediate activation is its messages; a transform-first SAGEConv
    // has both (the aggregation is the mean of its messages).
    // A GATConv's intermediates are its messages and logits (no Layer.aggregation).
    const bool transform_first = out->first == "transform" && (out->kind == "GCNConv" || out->kind == "GATConv");
    if (model_.quantized()) {
      out->output_bits = l.output() != nullptr ? l.output()->bits() : 0;
      if (message_passing && !transform_first)
        out->aggregation_bits = l.aggregation() != nullptr ? l.aggregation()->bits() : 0;
    } else {
      out->output_bits = 32;
      if (message_passing && !transform_first) out->aggregation_bits = 32;
      if (out->kind == "GINConv") out->hidden_bits.assign(out->dense.size() - 1, 32);
    }
    return true;
  }

 private:
  // GATConv: the attention vectors and bias (their bytes count as parameters, as qgnn_model_info's total
  // does; the exp table, like the requant arrays, does not), the logits' quantization, the messages' bits.
  bool attention(const fb::GATConvOptions& o, LayerSummary* out) {
    AttentionSummary& a = out->attention;
    a.heads = o.heads();
    a.head_dim = o.head_dim();
    a.concat = o.concat();
    for (int32_t index : {o.att_src(), o.att_dst()}) {
      const fb::Tensor* t = tensor(index);
      if (t == nullptr) return fail("GATConv attention tensor index " + std::to_string(index) + " out of range");
      a.att_type = enum_text(fb::EnumNameTensorType(t->type()));
      if (t->scales() != nullptr && t->scales()->size() > 0) a.att_scale = t->scales()->Get(0);
      out->parameter_bytes += buffer_bytes(t);
    }
    if (o.bias() >= 0) {  // optional
      const fb::Tensor* t = tensor(o.bias());
      if (t == nullptr) return fail("GATConv bias index " + std::to_string(o.bias()) + " out of range");
      out->parameter_bytes += buffer_bytes(t);
    }
    if (!model_.quantized()) {
      out->message_bits = a.logit_bits = a.alpha_bits = 32;
      return true;
    }
    out->message_bits = o.message() != nullptr ? o.message()->bits() : 0;
    if (o.logit() != nullptr) {
      a.logit_bits = o.logit()->bits();
      a.logit_scale = o.logit()->scale();
      a.logit_zero_point = o.logit()->zero_point();
    }
    a.alpha_bits = 8;
    if (const auto* table = o.exp_table()) {
      a.exp_table_entries = table->size();
      for (uint32_t k = table->size(); k-- > 1;) {
        if (table->Get(0) > 0 && table->Get(k) >= 256) {
          a.exp_table_step = std::log(static_cast<double>(table->Get(0)) / table->Get(k)) / k;
          break;
        }
      }
    }
    return true;
  }

  const fb::Tensor* tensor(int32_t index) const {
    if (index < 0 || model_.tensors() == nullptr ||
        static_cast<uint32_t>(index) >= model_.tensors()->size()) {
      return nullptr;
    }
    return model_.tensors()->Get(static_cast<uint32_t>(index));
  }

  size_t buffer_bytes(const fb::Tensor* t) const {
    if (model_.buffers() == nullptr || t->buffer() >= model_.buffers()->size()) return 0;
    const fb::Buffer* b = model_.buffers()->Get(t->buffer());
    return b != nullptr && b->data() != nullptr ? b->data()->size() : 0;
  }

  bool fail(const std::string& message) {
    *error_ = message;
    return false;
  }

  const fb::Model& model_;
  std::string* error_;
};

}  // namespace

bool summarize_model(const void* data, size_t size, const qgnn_model* model, ModelSummary* out,
                     std::string* error) {
  if (qgnn_model_get_info(model, &out->info) != QGNN_OK) {
    *error = "qgnn_model_get_info failed";
    return false;
  }
  // The runtime has verified the buffer; verify again so this code stands on its own.
  flatbuffers::Verifier verifier(static_cast<const uint8_t*>(data), size);
  if (!fb::VerifyModelBuffer(verifier)) {
    *error = "the FlatBuffers verifier rejects the model";
    return false;
  }
  const fb::Model& m = *fb::GetModel(data);
  out->version = m.version();
  out->description = m.description() != nullptr ? m.description()->str() : "";
  out->producer = m.producer() != nullptr ? m.producer()->str() : "";
  for (uint32_t c = 0; c < out->info.num_classes; ++c) {
    const char* name = qgnn_model_class_name(model, c);
    out->class_names.push_back(name != nullptr ? name : "");
  }
  if (m.input() == nullptr || m.layers() == nullptr) {
    *error = "model without input spec or layers";
    return false;
  }
  out->input_type = enum_text(fb::EnumNameTensorType(m.input()->type()));
  out->input_bits = m.quantized() ? (m.input()->quant() != nullptr ? m.input()->quant()->bits() : 0) : 32;
  if (const float* scales = qgnn_model_input_column_scales(model))
    out->input_column_scales.assign(scales, scales + out->info.input_dim);

  Summarizer summarizer(m, error);
  // A layer's input is the output it lists first in Layer.inputs (the runtime verified the indices), by
  // default the previous layer's.
  const uint32_t input_features = m.input()->feature_dim();
  for (uint32_t i = 0; i < m.layers()->size(); ++i) {
    const fb::Layer* l = m.layers()->Get(i);
    LayerSummary ls;
    int32_t producer = static_cast<int32_t>(i) - 1;
    if (l != nullptr && l->inputs() != nullptr && l->inputs()->size() > 0) producer = l->inputs()->Get(0);
    const uint32_t features = producer < 0 ? input_features : out->layers[producer].out_features;
    if (l == nullptr || !summarizer.layer(*l, features, &ls)) {
      *error = "layer " + std::to_string(i) + ": " + (l == nullptr ? std::string("missing") : *error);
      return false;
    }
    if (l->inputs() != nullptr) ls.inputs.assign(l->inputs()->begin(), l->inputs()->end());
    out->layers.push_back(std::move(ls));
  }
  return true;
}

}  // namespace tools
}  // namespace qgnn
