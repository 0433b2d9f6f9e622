// fold_batch_norm: BatchNorm after a Dense -> scaled weight rows and a shifted bias (batch_norm.h).
#include "qgnn/converter/batch_norm.h"

#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

#include "qgnn/converter/layer_kind.h"

namespace qgnn {
namespace converter {
namespace {

// s_c = gamma_c / sqrt(var_c + eps), in double so the folded floats are correctly rounded.
std::vector<double> channel_scales(const BatchNormDesc& bn) {
  std::vector<double> scale(bn.gamma.size());
  for (size_t c = 0; c < scale.size(); ++c) {
    scale[c] = static_cast<double>(bn.gamma[c]) /
               std::sqrt(static_cast<double>(bn.var[c]) + static_cast<double>(bn.eps));
  }
  return scale;
}

// W_c *= s_c, and b_c *= s_c when `scale_bias` (a root Dense; the neighbour bias gets the full shift).
void scale_rows(const std::vector<double>& scale, bool scale_bias, DenseDesc* d) {
  const size_t in = static_cast<size_t>(d->in_features);
  for (size_t c = 0; c < scale.size(); ++c) {
    for (size_t k = 0; k < in; ++k) {
      float& w = d->weight[c * in + k];
      w = static_cast<float>(static_cast<double>(w) * scale[c]);
    }
    if (scale_bias && !d->bias.empty()) {
      d->bias[c] = static_cast<float>(static_cast<double>(d->bias[c]) * scale[c]);
    }
  }
}

// Folds `d`'s BatchNorm into `d` and into the Dense joining its accumulator (`root`, else nullptr).
void fold_dense(DenseDesc* d, DenseDesc* root) {
  const BatchNormDesc bn = *d->batch_norm;
  d->batch_norm.reset();
  const std::vector<double> scale = channel_scales(bn);
  // b' = (b - mean) s + beta; a Dense without bias gets one.
  std::vector<float> bias(scale.size());
  for (size_t c = 0; c < scale.size(); ++c) {
    const double b = d->bias.empty() ? 0.0 : static_cast<double>(d->bias[c]);
    bias[c] = static_cast<float>((b - static_cast<double>(bn.mean[c])) * scale[c] +
                                 static_cast<double>(bn.beta[c]));
  }
  scale_rows(scale, false, d);
  d->bias = std::move(bias);
  if (root != nullptr) scale_rows(scale, true, root);
}

}  // namespace

bool has_batch_norm(const ModelDesc& model) {
  for (const LayerDesc& layer : model.layers) {
    if (layer.dense.batch_norm || layer.root.batch_norm) return true;
    for (const DenseDesc& d : layer.mlp) {
      if (d.batch_norm) return true;
    }
  }
  return false;
}

Result<ModelDesc> fold_batch_norm(const ModelDesc& model) {
  using R = Result<ModelDesc>;
  if (model.quantized && has_batch_norm(model)) {
    return R::failure("a quantized model cannot carry BatchNorm (its Dense ops are folded)");
  }
  // check_model validates the BatchNorm vectors (lengths, var >= 0, eps > 0, finite) and where they sit.
  const Result<bool> checked = check_model(model);
  if (!checked.ok()) return R::failure(checked.error);
  R r;
  r.value = model;
  for (LayerDesc& layer : r.value.layers) {
    const std::vector<DenseOp> ops = layer_traits(layer.kind).dense_ops(layer);
    for (size_t i = 0; i < ops.size(); ++i) {
      DenseDesc& d = dense_of(layer, ops[i]);
      if (!d.batch_norm) continue;
      // A Dense joining this one's accumulator (SAGEConv's root) is normalised with it.
      const bool joined = i + 1 < ops.size() && ops[i + 1].joins_previous;
      fold_dense(&d, joined ? &dense_of(layer, ops[i + 1]) : nullptr);
    }
  }
  return r;
}

}  // namespace converter
}  // namespace qgnn
