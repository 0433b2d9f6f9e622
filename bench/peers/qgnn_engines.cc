// qgnn's side of the peer benchmark: the kernel table's FP32 and quantized sum aggregations.
#include <stdexcept>
#include <vector>

#include "peer_engines.h"
#include "qgnn/kernels/numerics.h"

namespace qgnn {
namespace bench {
namespace {

constexpr int32_t kSelfWeightQ16 = 65536;  // self term x_i with weight 1, as GIN with eps = 0

kernels::CsrGraph view_of(const CsrData& g) { return {g.row_ptr.data(), g.col_idx.data(), g.num_nodes}; }

// The byte model of peer_engines.h with qgnn's int32 indices.
double qgnn_bytes(const CsrData& g, double in_row, double out_row) {
  const double n = g.num_nodes, e = g.num_edges();
  return 4.0 * (n + 1) + 4.0 * e + e * in_row + n * in_row + n * out_row;
}

class QgnnF32 final : public PeerEngine {
 public:
  QgnnF32(const kernels::KernelTable* table, const CsrData& g, const float* x, int32_t cols)
      : table_(table), graph_(g), x_(x), cols_(cols), y_(static_cast<size_t>(g.num_nodes) * cols) {
    if (table_->aggregate_f32 == nullptr) {
      throw std::runtime_error("this build has no float kernels (QGNN_FLOAT_MODELS=OFF)");
    }
  }
  std::string key() const override { return "qgnn_fp32"; }
  std::string label() const override { return std::string("qgnn FP32 (") + table_->name + ")"; }
  void run() override {
    table_->aggregate_f32(view_of(graph_), kernels::AggregateMode::kSum, x_, cols_, 1.0f, y_.data(), 0,
                          graph_.num_nodes);
  }
  double bytes() const override { return qgnn_bytes(graph_, 4.0 * cols_, 4.0 * cols_); }
  void read_rows(int32_t begin, int32_t end, double* out) const override {
    for (size_t i = static_cast<size_t>(begin) * cols_; i < static_cast<size_t>(end) * cols_; ++i) {
      *out++ = y_[i];
    }
  }

 private:
  const kernels::KernelTable* table_;
  const CsrData& graph_;
  const float* x_;
  int32_t cols_;
  std::vector<float> y_;
};

class QgnnQuantized final : public PeerEngine {
 public:
  QgnnQuantized(const kernels::KernelTable* table, const CsrData& g, const uint8_t* x, int bits,
                int32_t zero_point, kernels::Rescale rq, int32_t cols)
      : table_(table),
        graph_(g),
        x_(x),
        bits_(bits),
        zero_point_(zero_point),
        rq_(rq),
        cols_(cols),
        stride_(kernels::row_bytes(static_cast<size_t>(cols), bits)),
        y_(stride_ * static_cast<size_t>(g.num_nodes)) {
    if (bits != 8 && bits != 4) throw std::runtime_error("qgnn quantized aggregation: bits must be 8 or 4");
  }
  std::string key() const override { return "qgnn_int" + std::to_string(bits_); }
  std::string label() const override {
    return "qgnn INT" + std::to_string(bits_) + " (" + table_->name + ")";
  }
  void run() override {
    const kernels::AggregateParams params{kernels::AggregateMode::kSum, rq_, kSelfWeightQ16, nullptr};
    table_->aggregate(view_of(graph_), params, {x_, bits_, zero_point_}, cols_, {y_.data(), bits_, 0}, 0,
                      graph_.num_nodes);
  }
  double bytes() const override {
    return qgnn_bytes(graph_, static_cast<double>(stride_), static_cast<double>(stride_));
  }
  void read_rows(int32_t begin, int32_t end, double* out) const override {
    for (int32_t r = begin; r < end; ++r) {
      const uint8_t* row = y_.data() + stride_ * static_cast<size_t>(r);
      for (int32_t c = 0; c < cols_; ++c) {
        *out++ = bits_ == 4 ? kernels::load_int4(row, static_cast<size_t>(c)) : static_cast<int8_t>(row[c]);
      }
    }
  }

 private:
  const kernels::KernelTable* table_;
  const CsrData& graph_;
  const uint8_t* x_;
  int bits_;
  int32_t zero_point_;
  kernels::Rescale rq_;
  int32_t cols_;
  size_t stride_;
  std::vector<uint8_t> y_;
};

}  // namespace

std::unique_ptr<PeerEngine> make_qgnn_f32(const kernels::KernelTable* table, const CsrData& graph,
                                          const float* x, int32_t cols) {
  return std::make_unique<QgnnF32>(table, graph, x, cols);
}

std::unique_ptr<PeerEngine> make_qgnn_quantized(const kernels::KernelTable* table, const CsrData& graph,
                                                const uint8_t* x, int bits, int32_t zero_point,
                                                kernels::Rescale rq, int32_t cols) {
  return std::make_unique<QgnnQuantized>(table, graph, x, bits, zero_point, rq, cols);
}

}  // namespace bench
}  // namespace qgnn
