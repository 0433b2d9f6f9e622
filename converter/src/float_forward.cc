// Float forward pass over a ModelDesc: the ground truth the quantizer calibrates against and tests compare
// the integer path with. Aggregation and pooling use the FP32 reference kernels (sparse, CSR); the dense
// updates are Eigen matrix products.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "qgnn/converter/batch_norm.h"
#include "qgnn/converter/layer_kind.h"
#include "qgnn/converter/quantizer.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace converter {
namespace {

namespace k = ::qgnn::kernels;

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixMap = Eigen::Map<RowMajor>;
using ConstMatrixMap = Eigen::Map<const RowMajor>;
using ConstRowMap = Eigen::Map<const Eigen::RowVectorXf>;

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
  // An activation the layers can read: rows are the batch's nodes, or its graphs after pooling.
  struct Output {
    std::vector<float> values;
    int32_t rows = 0;
    int32_t cols = 0;
  };

 public:
  FloatForward(const GraphBatch& batch, const ActivationCallback& callback)
      : batch_(batch),
        graph_{batch.row_ptr.data(), batch.col_idx.data(), static_cast<int32_t>(batch.num_nodes)},
        callback_(callback) {}

  std::vector<float> run(const ModelDesc& model) {
    // outputs[j + 1] is output j (outputs[0] the model input), kept until its last reader has run.
    std::vector<Output> outputs(model.layers.size() + 1);
    std::vector<size_t> last_reader(outputs.size(), 0);
    for (size_t i = 0; i < model.layers.size(); ++i)
      last_reader[static_cast<size_t>(input_of(model, i) + 1)] = i;
    outputs[0] = Output{batch_.features, static_cast<int32_t>(batch_.num_nodes), model.input_dim};
    rows_ = outputs[0].rows;
    report(-1, ActivationPoint::kInput, 0, outputs[0].values);
    for (size_t i = 0; i < model.layers.size(); ++i) {
      const size_t source = static_cast<size_t>(input_of(model, i) + 1);
      Output& in = outputs[source];
      rows_ = in.rows;
      cols_ = in.cols;
      std::vector<float> y = run_layer(static_cast<int>(i), model.layers[i], in.values);
      outputs[i + 1] = Output{std::move(y), rows_, cols_};
      report(static_cast<int>(i), ActivationPoint::kOutput, 0, outputs[i + 1].values);
      if (last_reader[source] == i) std::vector<float>().swap(in.values);
    }
    return std::move(outputs.back().values);
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

  // Transform-first (the op writes_message): the messages m = x W^T, reported as the layer's intermediate
  // activation, their GCN aggregation, then the bias and the activation.
  std::vector<float> transform_first(int layer, const LayerDesc& l, const DenseDesc& d,
                                     const std::vector<float>& x) {
    DenseDesc unbiased = d;
    unbiased.bias.clear();
    std::vector<float> messages = dense(unbiased, x, nullptr, nullptr, false);
    cols_ = d.out_features;
    report(layer, ActivationPoint::kAggregation, 0, messages);
    std::vector<float> out(messages.size());
    k::aggregate_f32(graph_, k::AggregateMode::kGcn, messages.data(), cols_, 0.0f, out.data(), 0, rows_);
    MatrixMap y(out.data(), rows_, cols_);
    if (!d.bias.empty()) y.rowwise() += ConstRowMap(d.bias.data(), cols_);
    if (l.relu) y = (y.array() < 0.0f).select(0.0f, y);
    return out;
  }

  // Transform-first SAGEConv: the messages m = x W_n^T (reported as kMessage), their mean (the
  // aggregation), then the bias, the root term x W_r^T + b_r and the activation.
  std::vector<float> transform_first_sage(int layer, const LayerDesc& l, const std::vector<float>& x) {
    DenseDesc unbiased = l.dense;
    unbiased.bias.clear();
    const std::vector<float> messages = dense(unbiased, x, nullptr, nullptr, false);
    cols_ = l.dense.out_features;
    report(layer, ActivationPoint::kMessage, 0, messages);
    std::vector<float> mean(messages.size());
    k::aggregate_f32(graph_, k::AggregateMode::kMean, messages.data(), cols_, 0.0f, mean.data(), 0, rows_);
    report(layer, ActivationPoint::kAggregation, 0, mean);
    std::vector<float> out = mean;
    MatrixMap y(out.data(), rows_, cols_);
    if (!l.dense.bias.empty()) y.rowwise() += ConstRowMap(l.dense.bias.data(), cols_);
    if (l.has_root) {
      const DenseDesc& r = l.root;
      y.noalias() += ConstMatrixMap(x.data(), rows_, r.in_features) *
                     ConstMatrixMap(r.weight.data(), r.out_features, r.in_features).transpose();
      if (!r.bias.empty()) y.rowwise() += ConstRowMap(r.bias.data(), r.out_features);
    }
    if (l.relu) y = (y.array() < 0.0f).select(0.0f, y);
    return out;
  }

  // GATConv (docs/quantization.md, "GATConv"): the messages m = x W^T (reported as kMessage), per head the
  // LeakyReLU(0.2) logits of each destination row's edges and self-loop (reported together as kAttention),
  // their softmax, the weighted message sums concatenated or averaged over heads, the bias and the
  // activation.
  std::vector<float> attention(int layer, const LayerDesc& l, const std::vector<float>& x) {
    const std::vector<float> m = dense(l.dense, x, nullptr, nullptr, false);
    const int32_t H = l.heads, F = l.head_dim, cols = H * F;
    cols_ = cols;
    report(layer, ActivationPoint::kMessage, 0, m);
    const int32_t n = rows_;
    std::vector<float> src(static_cast<size_t>(n) * H), dst(src.size());
    for (int32_t j = 0; j < n; ++j) {
      for (int32_t h = 0; h < H; ++h) {
        float s = 0.0f, d = 0.0f;
        for (int32_t f = 0; f < F; ++f) {
          s += l.att_src[h * F + f] * m[static_cast<size_t>(j) * cols + h * F + f];
          d += l.att_dst[h * F + f] * m[static_cast<size_t>(j) * cols + h * F + f];
        }
        src[static_cast<size_t>(j) * H + h] = s;
        dst[static_cast<size_t>(j) * H + h] = d;
      }
    }
    const int32_t out_cols = l.concat ? cols : F;
    std::vector<float> out(static_cast<size_t>(n) * out_cols, 0.0f);
    std::vector<float> logits;       // every logit, for calibration
    std::vector<int32_t> row_sizes;  // their softmax rows (the report's alpha SQNR)
    std::vector<float> e;
    for (int32_t i = 0; i < n; ++i) {
      const int32_t begin = batch_.row_ptr[i], end = batch_.row_ptr[i + 1];
      const auto source = [&](int32_t k) { return k == 0 ? i : batch_.col_idx[begin + k - 1]; };
      for (int32_t h = 0; h < H; ++h) {
        e.clear();
        for (int32_t k = 0; k <= end - begin; ++k) {
          const float v = src[static_cast<size_t>(source(k)) * H + h] + dst[static_cast<size_t>(i) * H + h];
          e.push_back(v < 0.0f ? 0.2f * v : v);
        }
        logits.insert(logits.end(), e.begin(), e.end());
        row_sizes.push_back(static_cast<int32_t>(e.size()));
        float emax = e[0];
        for (float v : e) emax = std::max(emax, v);
        float sum = 0.0f;
        for (float v : e) sum += std::exp(v - emax);
        float* y = out.data() + static_cast<size_t>(i) * out_cols + (l.concat ? h * F : 0);
        for (size_t k = 0; k < e.size(); ++k) {
          const float alpha = std::exp(e[k] - emax) / sum;
          const float* mj = m.data() + static_cast<size_t>(source(static_cast<int32_t>(k))) * cols + h * F;
          for (int32_t f = 0; f < F; ++f) y[f] += alpha * mj[f];
        }
      }
    }
    if (callback_) {
      ActivationEvent event;
      event.layer = layer;
      event.point = ActivationPoint::kAttention;
      event.values = logits.data();
      event.rows = logits.size();
      event.cols = 1;
      event.row_sizes = row_sizes.data();
      event.row_count = row_sizes.size();
      callback_(event);
    }
    cols_ = out_cols;
    MatrixMap y(out.data(), rows_, cols_);
    if (!l.concat) y /= static_cast<float>(H);
    if (!l.output_bias.empty()) y.rowwise() += ConstRowMap(l.output_bias.data(), cols_);
    if (l.relu) y = (y.array() < 0.0f).select(0.0f, y);
    return out;
  }

  // y = x W^T + b (+ x_root W_root^T + b_root) as Eigen products over the row-major buffers. Summation
  // order differs from the runtime's FP32 kernels by float rounding only (tests compare with tolerances).
  std::vector<float> dense(const DenseDesc& d, const std::vector<float>& x, const DenseDesc* root,
                           const std::vector<float>* root_x, bool relu) {
    std::vector<float> out(static_cast<size_t>(rows_) * static_cast<size_t>(d.out_features));
    MatrixMap y(out.data(), rows_, d.out_features);
    y.noalias() = ConstMatrixMap(x.data(), rows_, d.in_features) *
                  ConstMatrixMap(d.weight.data(), d.out_features, d.in_features).transpose();
    if (!d.bias.empty()) y.rowwise() += ConstRowMap(d.bias.data(), d.out_features);
    if (root != nullptr) {
      y.noalias() += ConstMatrixMap(root_x->data(), rows_, root->in_features) *
                     ConstMatrixMap(root->weight.data(), root->out_features, root->in_features).transpose();
      if (!root->bias.empty()) y.rowwise() += ConstRowMap(root->bias.data(), root->out_features);
    }
    // select, not cwiseMax: a NaN must survive the ReLU so calibration can report it.
    if (relu) y = (y.array() < 0.0f).select(0.0f, y);
    return out;
  }

  // The kind's reduction (message passing or pooling), then its Dense ops.
  std::vector<float> run_layer(int index, const LayerDesc& layer, const std::vector<float>& x) {
    const LayerKindTraits& kind = layer_traits(layer.kind);
    const std::vector<DenseOp> ops = kind.dense_ops(layer);
    if (kind.reduction == Reduction::kAttention) return attention(index, layer, x);
    if (!ops.empty() && ops.front().writes_message) {
      return layer.kind == LayerKind::kSageConv ? transform_first_sage(index, layer, x)
                                                : transform_first(index, layer, layer.dense, x);
    }
    std::vector<float> aggregation;
    switch (kind.reduction) {
      case Reduction::kNone:
      case Reduction::kAttention:  // returned above
        break;
      case Reduction::kGcnNormalized:
        aggregation = aggregate(index, k::AggregateMode::kGcn, 0.0f, x);
        break;
      case Reduction::kNeighbors:
        aggregation = aggregate(index, mode_of(layer.reduce), 0.0f, x);
        break;
      case Reduction::kNeighborsAndSelf:
        aggregation = aggregate(index, k::AggregateMode::kSum, 1.0f + layer.eps, x);
        break;
      case Reduction::kGraphNodes: {
        const int32_t graphs = static_cast<int32_t>(batch_.num_graphs);
        std::vector<float> out(static_cast<size_t>(graphs) * static_cast<size_t>(cols_));
        k::global_pool_f32(batch_.graph_ptr.data(), mode_of(layer.reduce), x.data(), cols_, out.data(), 0,
                           graphs);
        rows_ = graphs;
        return out;
      }
    }
    std::vector<float> out;
    for (size_t i = 0; i < ops.size(); ++i) {
      const DenseOp& op = ops[i];
      const DenseDesc& d = dense_of(layer, op);
      const auto input = [&](const DenseOp& o) -> const std::vector<float>& {
        return o.input == DenseInput::kLayerInput    ? x
               : o.input == DenseInput::kAggregation ? aggregation
                                                     : out;
      };
      // A Dense joining this one's accumulator (SAGEConv's root) is summed in the same product.
      const DenseOp* joined = i + 1 < ops.size() && ops[i + 1].joins_previous ? &ops[i + 1] : nullptr;
      const bool relu = op.output_hidden >= 0 ? d.relu : layer.relu;
      out = dense(d, input(op), joined ? &dense_of(layer, *joined) : nullptr,
                  joined ? &input(*joined) : nullptr, relu);
      cols_ = d.out_features;
      if (op.output_hidden >= 0) report(index, ActivationPoint::kHidden, op.output_hidden, out);
      if (joined) ++i;
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
  // The float forward here has no BatchNorm step: calibrating an unfolded model would observe wrong values.
  if (has_batch_norm(model))
    return R::failure("the model has an unfolded BatchNorm: fold_batch_norm it first");
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
