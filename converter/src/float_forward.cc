// Float forward pass over a ModelDesc with the FP32 reference kernels: the ground truth the quantizer
// calibrates against and tests compare the integer path with.
#include <cstdint>
#include <string>
#include <vector>

#include "qgnn/converter/quantizer.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace converter {
namespace {

namespace k = ::qgnn::kernels;

std::string check_batch(const GraphBatch& b) {
  if (b.row_ptr.size() != static_cast<size_t>(b.num_nodes) + 1) return "batch row_ptr size != num_nodes + 1";
  if (b.col_idx.size() != b.num_edges) return "batch col_idx size != num_edges";
  if (b.num_graphs == 0 || b.graph_ptr.size() != static_cast<size_t>(b.num_graphs) + 1) {
    return "batch graph_ptr size != num_graphs + 1";
  }
  if (b.row_ptr[0] != 0 || static_cast<uint32_t>(b.row_ptr.back()) != b.num_edges)
    return "batch row_ptr bounds";
  if (b.graph_ptr[0] != 0 || static_cast<uint32_t>(b.graph_ptr.back()) != b.num_nodes) {
    return "batch graph_ptr bounds";
  }
  for (size_t i = 1; i < b.row_ptr.size(); ++i) {
    if (b.row_ptr[i] < b.row_ptr[i - 1]) return "batch row_ptr decreases";
  }
  for (size_t g = 1; g < b.graph_ptr.size(); ++g) {
    if (b.graph_ptr[g] < b.graph_ptr[g - 1]) return "batch graph_ptr decreases";
  }
  for (int32_t j : b.col_idx) {
    if (j < 0 || static_cast<uint32_t>(j) >= b.num_nodes) return "batch col_idx out of range";
  }
  if (b.features.size() != static_cast<size_t>(b.num_nodes) * static_cast<size_t>(b.feature_dim)) {
    return "batch features size != num_nodes * feature_dim";
  }
  return "";
}

k::AggregateMode mode_of(Reduce reduce) {
  switch (reduce) {
    case Reduce::kMean:
      return k::AggregateMode::kMean;
    case Reduce::kMax:
      return k::AggregateMode::kMax;
    case Reduce::kSum:
      break;
  }
  return k::AggregateMode::kSum;
}

class FloatForward {
 public:
  FloatForward(const GraphBatch& batch, const ActivationCallback& callback)
      : batch_(batch),
        graph_{batch.row_ptr.data(), batch.col_idx.data(), static_cast<int32_t>(batch.num_nodes)},
        callback_(callback) {}

  std::vector<float> run(const ModelDesc& model) {
    rows_ = static_cast<int32_t>(batch_.num_nodes);
    cols_ = model.input_dim;
    std::vector<float> x = batch_.features;
    report(-1, ActivationPoint::kInput, 0, x);
    for (size_t i = 0; i < model.layers.size(); ++i) {
      x = run_layer(static_cast<int>(i), model.layers[i], x);
      report(static_cast<int>(i), ActivationPoint::kOutput, 0, x);
    }
    return x;
  }

 private:
  void report(int layer, ActivationPoint point, int index, const std::vector<float>& values) {
    if (!callback_) return;
    ActivationEvent e;
    e.layer = layer;
    e.point = point;
    e.index = index;
    e.values = values.data();
    e.rows = static_cast<size_t>(rows_);
    e.cols = values.size() / (rows_ > 0 ? static_cast<size_t>(rows_) : size_t{1});
    callback_(e);
  }

  std::vector<float> aggregate(int layer, k::AggregateMode mode, float self_weight,
                               const std::vector<float>& x) {
    std::vector<float> out(x.size());
    k::aggregate_f32(graph_, mode, x.data(), cols_, self_weight, out.data(), 0, rows_);
    report(layer, ActivationPoint::kAggregation, 0, out);
    return out;
  }

  std::vector<float> dense(const DenseDesc& d, const std::vector<float>& x,
                           const k::DenseExtraInputF32* extra, bool relu) {
    std::vector<float> out(static_cast<size_t>(rows_) * static_cast<size_t>(d.out_features));
    k::dense_f32(x.data(), d.in_features, d.weight.data(), d.bias.empty() ? nullptr : d.bias.data(), extra,
                 relu, out.data(), d.out_features, 0, rows_);
    return out;
  }

  std::vector<float> run_layer(int index, const LayerDesc& layer, const std::vector<float>& x) {
    std::vector<float> out;
    switch (layer.kind) {
      case LayerKind::kLinear:
        out = dense(layer.dense, x, nullptr, layer.relu);
        cols_ = layer.dense.out_features;
        break;
      case LayerKind::kGcnConv:
        out = dense(layer.dense, aggregate(index, k::AggregateMode::kGcn, 0.0f, x), nullptr, layer.relu);
        cols_ = layer.dense.out_features;
        break;
      case LayerKind::kSageConv: {
        const std::vector<float> neighbors = aggregate(index, mode_of(layer.reduce), 0.0f, x);
        const k::DenseExtraInputF32 root{x.data(), layer.root.in_features, layer.root.weight.data(),
                                         layer.root.bias.empty() ? nullptr : layer.root.bias.data()};
        out = dense(layer.dense, neighbors, layer.has_root ? &root : nullptr, layer.relu);
        cols_ = layer.dense.out_features;
        break;
      }
      case LayerKind::kGinConv: {
        out = aggregate(index, k::AggregateMode::kSum, 1.0f + layer.eps, x);
        for (size_t m = 0; m < layer.mlp.size(); ++m) {
          const bool last = m + 1 == layer.mlp.size();
          out = dense(layer.mlp[m], out, nullptr, last ? layer.relu : layer.mlp[m].relu);
          cols_ = layer.mlp[m].out_features;
          if (!last) report(index, ActivationPoint::kHidden, static_cast<int>(m), out);
        }
        break;
      }
      case LayerKind::kGlobalPool: {
        const int32_t graphs = static_cast<int32_t>(batch_.num_graphs);
        out.resize(static_cast<size_t>(graphs) * static_cast<size_t>(cols_));
        k::global_pool_f32(batch_.graph_ptr.data(), mode_of(layer.reduce), x.data(), cols_, out.data(), 0,
                           graphs);
        rows_ = graphs;
        break;
      }
    }
    return out;
  }

  const GraphBatch& batch_;
  k::CsrGraph graph_;
  const ActivationCallback& callback_;
  int32_t rows_ = 0;
  int32_t cols_ = 0;
};

}  // namespace

Result<std::vector<float>> run_float_model(const ModelDesc& model, const GraphBatch& batch,
                                           const ActivationCallback& on_activation) {
  using R = Result<std::vector<float>>;
  if (model.quantized) return R::failure("run_float_model needs a float model");
  const Result<bool> checked = check_model(model);
  if (!checked.ok()) return R::failure("inconsistent float model: " + checked.error);
  if (batch.feature_dim != model.input_dim) {
    return R::failure("the batch has " + std::to_string(batch.feature_dim) +
                      " features per node, the model expects " + std::to_string(model.input_dim));
  }
  const std::string bad_batch = check_batch(batch);
  if (!bad_batch.empty()) return R::failure("malformed graph batch: " + bad_batch);
  R r;
  r.value = FloatForward(batch, on_activation).run(model);
  return r;
}

}  // namespace converter
}  // namespace qgnn
