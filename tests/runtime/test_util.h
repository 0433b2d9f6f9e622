// Helpers for the runtime tests: aligned model buffers, random graphs, builder-style model descriptions
// (float and quantized, written with qgnn::converter), and independent oracles that evaluate a ModelDesc
// directly from the documented numerics (quantized) or in double precision (float).
#ifndef QGNN_TESTS_RUNTIME_TEST_UTIL_H_
#define QGNN_TESTS_RUNTIME_TEST_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "qgnn/converter/model_builder.h"
#include "qgnn/qgnn.h"

namespace qgnn {
namespace test {

using converter::LayerKind;
using converter::ModelDesc;
using converter::Reduce;
using converter::Task;

/// Owned bytes at a 16-byte aligned address plus `offset`, allocated with exactly the requested size so
/// that AddressSanitizer flags any read past the end.
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t size, size_t offset = 0);
  AlignedBuffer(const uint8_t* bytes, size_t size, size_t offset = 0);
  explicit AlignedBuffer(const std::vector<uint8_t>& bytes, size_t offset = 0)
      : AlignedBuffer(bytes.data(), bytes.size(), offset) {}
  AlignedBuffer(AlignedBuffer&&) = default;
  AlignedBuffer& operator=(AlignedBuffer&&) = default;

  uint8_t* data() { return storage_.get() + offset_; }
  const uint8_t* data() const { return storage_.get() + offset_; }
  size_t size() const { return size_; }

 private:
  struct Deleter {
    void operator()(uint8_t* p) const { ::operator delete[](p, std::align_val_t(16)); }
  };
  std::unique_ptr<uint8_t[], Deleter> storage_;
  size_t size_ = 0;
  size_t offset_ = 0;
};

/// A batch of graphs as one block-diagonal CSR, with features.
struct Graph {
  uint32_t num_nodes = 0;
  uint32_t num_graphs = 1;
  int32_t feature_dim = 0;
  std::vector<int32_t> row_ptr{0};
  std::vector<int32_t> col_idx;
  std::vector<int32_t> graph_ptr{0, 0};
  std::vector<float> features_f32;
  std::vector<int8_t> features_i8;

  uint32_t num_edges() const { return static_cast<uint32_t>(col_idx.size()); }
  /// The C view; `int8` picks which feature array is passed.
  qgnn_graph view(bool int8) const;
  /// Graph `g` of the batch on its own (nodes relabelled from 0).
  Graph Subgraph(uint32_t g) const;
};

/// Random batch: graph k has nodes_per_graph[k] nodes, each node up to max_degree in-neighbours from its own
/// graph (duplicates and self-loops allowed, some nodes isolated). Float features in [-2, 2]; int8 features
/// in [qmin(int8_bits), qmax(int8_bits)].
Graph RandomGraph(std::mt19937& rng, const std::vector<uint32_t>& nodes_per_graph, int32_t max_degree,
                  int32_t feature_dim, int int8_bits = 8);

/// Bit widths of one quantized layer.
struct Bits {
  int out = 8;     ///< Layer.output
  int weight = 8;  ///< every Dense weight
  int agg = 8;     ///< Layer.aggregation
  int hidden = 8;  ///< GIN hidden outputs
};

/// Builds a ModelDesc layer by layer with random parameters. Quantized models get self-consistent scales,
/// biases and fixed-point multipliers (converter::quantize_multiplier), clamped into the representable range.
class ModelMaker {
 public:
  ModelMaker(bool quantized, Task task, int32_t input_dim, uint32_t seed = 1);

  /// Input quantization (quantized models); `int8_input` makes the model take int8 features.
  ModelMaker& Input(int bits, int32_t zero_point = 0, bool int8_input = false);
  ModelMaker& Linear(int32_t out, bool relu, Bits bits = {}, bool bias = true);
  /// GCNConv; `transform_first`: the Dense maps onto the messages (bits.agg) and the bias, at the message
  /// scale, is added after their aggregation.
  ModelMaker& Gcn(int32_t out, bool relu, Bits bits = {}, bool transform_first = false);
  /// SAGEConv; `transform_first` (MEAN): the neighbour Dense maps onto the messages (bits.agg, as the
  /// aggregation), its bias at the aggregation scale, and output_requant rescales the aggregation.
  ModelMaker& Sage(int32_t out, Reduce reduce, bool root, bool relu, Bits bits = {},
                   bool transform_first = false);
  ModelMaker& Gin(const std::vector<int32_t>& mlp_out, float eps, bool relu, Bits bits = {});
  ModelMaker& Pool(Reduce reduce, Bits bits = {});
  /// GATConv with `heads` heads of `head_dim` features, concatenated or averaged; the messages get bits.agg.
  /// A quantized mean of several heads lowers the model's max_degree to what its int32 sum allows.
  ModelMaker& Gat(int32_t heads, int32_t head_dim, bool concat, bool relu, Bits bits = {}, bool bias = true);
  ModelMaker& ClassNames(const std::vector<std::string>& names);

  ModelDesc& desc() { return desc_; }
  /// serialize_model (checked); fails the calling test when the writer refuses.
  std::vector<uint8_t> Bytes() const;
  /// serialize_model_unchecked.
  std::vector<uint8_t> UncheckedBytes() const;

 private:
  converter::DenseDesc MakeDense(int32_t in, int32_t out, bool bias, int weight_bits, float s_in, int in_bits,
                                 float s_out);
  converter::QuantParams NextQuant(int bits, float range);
  /// One fixed-point entry for `real`, clamped into [2^(30 - max_shift), 1e8]: max_shift is
  /// kDenseRequantShiftMax for a Dense, kAggregationRequantShiftMax for aggregation and pooling.
  converter::Requant OneRescale(double real, int32_t max_shift);
  void Push(converter::LayerDesc layer);

  std::mt19937 rng_;
  ModelDesc desc_;
  int32_t dim_;
  float scale_ = 1.0f;  // scale of the current activation
  int bits_ = 8;        // bits of the current activation
  float range_ = 3.0f;  // real magnitude the current activation spans
};

/// Integer oracle: the int logits (rows x classes, row-major) of a quantized ModelDesc on `graph`, computed
/// from the formulas of reference.h / docs with numerics.h helpers, without the runtime or the kernels.
std::vector<int32_t> OracleQuantized(const ModelDesc& model, const Graph& graph);

/// Double-precision oracle of a float ModelDesc.
std::vector<double> OracleFloat(const ModelDesc& model, const Graph& graph);

/// Loads `bytes`, plans for `graph` (or the given limits), runs one invoke with `threads` threads.
struct RunResult {
  qgnn_status status = QGNN_OK;
  std::string message;
  uint32_t rows = 0, cols = 0;
  std::vector<int8_t> logits_q;
  std::vector<float> logits_f32;  ///< float models: the logits; quantized: dequantized
  std::vector<int32_t> argmax;
  float scale = 0;
  int32_t zero_point = 0;
};
/// `fp32` is qgnn_interpreter_options.fp32 (null: the default backend).
RunResult RunModel(const std::vector<uint8_t>& bytes, const Graph& graph, uint32_t threads = 1,
                   const char* fp32 = nullptr);

/// qgnn_model_create on a 16-byte aligned copy of `bytes` (status only).
qgnn_status LoadStatus(const std::vector<uint8_t>& bytes, std::string* message = nullptr);

}  // namespace test
}  // namespace qgnn

#endif  // QGNN_TESTS_RUNTIME_TEST_UTIL_H_
