// See graph_input.h.
#include "graph_input.h"

#include <cstring>

namespace qgnn {
namespace fuzz {
namespace {

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  // Copies up to `n` bytes into `out` and zero-fills the rest.
  void bytes(void* out, size_t n) {
    const size_t take = n < size_ - pos_ ? n : size_ - pos_;
    if (take > 0) std::memcpy(out, data_ + pos_, take);
    if (take < n) std::memset(static_cast<uint8_t*>(out) + take, 0, n - take);
    pos_ += take;
  }
  uint32_t u8() {
    uint8_t v;
    bytes(&v, 1);
    return v;
  }
  uint32_t u16() { return u8() | (u8() << 8); }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

uint32_t cap(uint32_t value, uint32_t limit) { return value < limit ? value : limit; }

}  // namespace

GraphInput decode_graph(const uint8_t* data, size_t size, uint32_t input_dim) {
  Reader r(data, size);
  GraphInput g;
  g.model = static_cast<uint8_t>(r.u8());
  g.flags = static_cast<uint8_t>(r.u8());
  // Counts beyond a few times the plan (64 nodes, 256 edges, 4 graphs) only test the same size check, but
  // their zero-filled arrays would make each run megabytes of memset: cap them.
  g.num_nodes = cap(r.u16(), 1024);
  g.num_edges = cap(r.u16(), 4096);
  g.num_graphs = cap(r.u16(), 1024);
  if (g.sparse()) g.nnz = cap(r.u16(), 4096);
  g.row_ptr.resize(g.num_nodes + 1);
  r.bytes(g.row_ptr.data(), g.row_ptr.size() * sizeof(int32_t));
  g.col_idx.resize(g.num_edges);
  r.bytes(g.col_idx.data(), g.col_idx.size() * sizeof(int32_t));
  if (g.flags & 1) {
    g.graph_ptr.resize(g.num_graphs + 1);
    r.bytes(g.graph_ptr.data(), g.graph_ptr.size() * sizeof(int32_t));
  }
  if (g.sparse()) {
    g.feature_row_ptr.resize(g.num_nodes + 1);
    r.bytes(g.feature_row_ptr.data(), g.feature_row_ptr.size() * sizeof(int32_t));
    g.feature_col_idx.resize(g.nnz);
    r.bytes(g.feature_col_idx.data(), g.feature_col_idx.size() * sizeof(int32_t));
    g.feature_values.resize(g.nnz);
    r.bytes(g.feature_values.data(), g.feature_values.size() * sizeof(float));
  }
  const size_t count = static_cast<size_t>(g.num_nodes) * input_dim;
  g.features_f32.resize(count);
  r.bytes(g.features_f32.data(), count * sizeof(float));
  // The same bytes as int8 (first `count` of them), for int8-input models.
  g.features_i8.resize(count);
  if (count > 0) std::memcpy(g.features_i8.data(), g.features_f32.data(), count);
  return g;
}

qgnn_sparse_features GraphInput::sparse_view() const {
  auto ptr = [](const auto& v) { return v.empty() ? nullptr : v.data(); };
  return qgnn_sparse_features{nnz, ptr(feature_row_ptr), ptr(feature_col_idx), ptr(feature_values)};
}

qgnn_graph GraphInput::view(bool int8) const {
  const bool as_int8 = (flags & 2) ? !int8 : int8;
  if (sparse()) {
    return qgnn_graph{num_nodes,
                      num_edges,
                      num_graphs,
                      row_ptr.data(),
                      col_idx.empty() ? nullptr : col_idx.data(),
                      graph_ptr.empty() ? nullptr : graph_ptr.data(),
                      nullptr,
                      nullptr};
  }
  auto ptr = [](const auto& v) { return v.empty() ? nullptr : v.data(); };
  return qgnn_graph{num_nodes,
                    num_edges,
                    num_graphs,
                    row_ptr.data(),
                    ptr(col_idx),
                    ptr(graph_ptr),
                    as_int8 ? nullptr : ptr(features_f32),
                    as_int8 ? ptr(features_i8) : nullptr};
}

}  // namespace fuzz
}  // namespace qgnn
