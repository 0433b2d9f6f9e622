// Test helpers: add unfolded BatchNorm and stored ranges to a float ModelDesc (shared by the round-trip,
// batch_norm and stored_ranges tests).
#ifndef QGNN_TESTS_CONVERTER_MODEL_METADATA_H_
#define QGNN_TESTS_CONVERTER_MODEL_METADATA_H_

#include <random>

#include "qgnn/converter/model_builder.h"

namespace qgnn {
namespace converter {
namespace testing {

/// A BatchNorm for `channels` outputs with statistics far from the identity (so folding visibly matters).
inline BatchNormDesc random_batch_norm(int32_t channels, std::mt19937& rng) {
  std::uniform_real_distribution<float> mean(-1.0f, 1.0f), var(0.05f, 4.0f), gamma(-2.0f, 2.0f);
  BatchNormDesc bn;
  bn.eps = 1e-3f;
  for (int32_t c = 0; c < channels; ++c) {
    bn.mean.push_back(mean(rng));
    bn.var.push_back(var(rng));
    bn.gamma.push_back(gamma(rng));
    bn.beta.push_back(mean(rng));
  }
  bn.var[0] = 0.0f;  // a constant channel: eps alone keeps the division finite
  return bn;
}

/// BatchNorm on every Dense that may carry one (a SAGE root never does).
inline void add_batch_norms(ModelDesc* model, std::mt19937& rng) {
  for (LayerDesc& layer : model->layers) {
    if (layer.kind == LayerKind::kGlobalPool) continue;
    if (layer.kind == LayerKind::kGinConv) {
      for (DenseDesc& d : layer.mlp) d.batch_norm = random_batch_norm(d.out_features, rng);
    } else {
      layer.dense.batch_norm = random_batch_norm(layer.dense.out_features, rng);
    }
  }
}

/// A distinct stored range for every activation of the model (input, aggregation, hidden, output).
inline void add_stored_ranges(ModelDesc* model) {
  float v = 0.25f;
  auto next = [&v]() {
    v += 0.5f;
    return StoredRange{-v, 2.0f * v};
  };
  model->input_range = next();
  model->ranges_source = "test ranges, 8-bit";
  for (LayerDesc& layer : model->layers) {
    const bool message_passing = layer.kind == LayerKind::kGcnConv || layer.kind == LayerKind::kSageConv ||
                                 layer.kind == LayerKind::kGinConv;
    if (message_passing) layer.aggregation_range = next();
    layer.hidden_ranges.clear();
    for (size_t k = 0; k + 1 < layer.mlp.size(); ++k) layer.hidden_ranges.push_back(next());
    layer.output_range = next();
  }
}

}  // namespace testing
}  // namespace converter
}  // namespace qgnn

#endif  // QGNN_TESTS_CONVERTER_MODEL_METADATA_H_
