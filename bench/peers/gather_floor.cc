// The gather floor of the peer benchmark: the loads an aggregation of packed rows must do, in the same CSR
// order, with a software prefetch `distance` edges ahead (qgnn's prefetching twins use 64, aggregate-body.h)
// and one vector load and OR per row (as the twins: eight 8-byte loads per missing line would hold eight
// load-queue entries per miss and keep fewer lines in flight), and nothing else. On a graph whose rows miss
// the caches its time is what this machine's memory system takes to deliver one row per edge to a single
// thread (misses in flight, not bandwidth, bound it): qgnn's time over the fastest floor's says how much of
// an aggregation is the kernel's own work (docs/performance.md, "Aggregation against peers").
#include <algorithm>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "peer_engines.h"

namespace qgnn {
namespace bench {
namespace {

class GatherFloor final : public PeerEngine {
 public:
  GatherFloor(const CsrData& g, const uint8_t* x, size_t row_bytes, int32_t distance, std::string key,
              std::string label)
      : graph_(g),
        x_(x),
        words_((row_bytes + 7) / 8),
        row_bytes_(row_bytes),
        distance_(distance),
        key_(std::move(key)),
        label_(std::move(label)),
        y_(words_ * static_cast<size_t>(g.num_nodes)) {
    if (row_bytes % 8 != 0) throw std::runtime_error("gather floor: row bytes must be a multiple of 8");
  }
  std::string key() const override { return key_; }
  std::string label() const override { return label_; }
  void run() override {
#if defined(__x86_64__) && defined(__GNUC__)
    // One vector load per row, as qgnn's twins: eight 8-byte loads per missing line would hold eight
    // load-queue entries per miss and keep fewer lines in flight than the kernel does.
    if ((words_ == 4 || words_ == 8) && __builtin_cpu_supports("avx512f")) {
      return words_ == 4 ? run_rows_avx512<4>() : run_rows_avx512<8>();
    }
#endif
    switch (words_) {  // a fixed row size keeps the row in registers (no memcpy calls)
      case 4:
        return run_rows<4>();
      case 8:
        return run_rows<8>();
      case 16:
        return run_rows<16>();
      default:
        return run_rows<0>();
    }
  }
  double bytes() const override {
    const double n = graph_.num_nodes, e = graph_.num_edges(), row = static_cast<double>(row_bytes_);
    return 4.0 * (n + 1) + 4.0 * e + e * row + n * row + n * row;
  }
  /// The ORed bytes of rows [begin, end), row_bytes per row (exact as doubles; words would not be).
  void read_rows(int32_t begin, int32_t end, double* out) const override {
    const auto* bytes = reinterpret_cast<const uint8_t*>(y_.data());
    for (size_t i = row_bytes_ * static_cast<size_t>(begin); i < row_bytes_ * static_cast<size_t>(end); ++i) {
      *out++ = bytes[i];
    }
  }

  static constexpr size_t kMaxWords = 64;  // rows of up to 512 bytes

 private:
#if defined(__x86_64__) && defined(__GNUC__)
  /// Rows of 32 (kWords 4) or 64 bytes (8), one 256- or 512-bit load each (a 32-byte row as a masked load).
  template <size_t kWords>
  __attribute__((target("avx512f"))) static __m512i load_row(const uint8_t* p) {
    if constexpr (kWords == 8) {
      return _mm512_loadu_si512(p);
    } else {
      return _mm512_maskz_loadu_epi64(0x0F, p);
    }
  }
  template <size_t kWords>
  __attribute__((target("avx512f"))) void run_rows_avx512() {
    constexpr size_t kStride = 8 * kWords;
    const int32_t* idx = graph_.col_idx.data();
    const int32_t edges = graph_.num_edges();
    for (int32_t i = 0; i < graph_.num_nodes; ++i) {
      __m512i acc = load_row<kWords>(x_ + kStride * static_cast<size_t>(i));
      const int32_t end = graph_.row_ptr[i + 1];
      for (int32_t e = graph_.row_ptr[i]; e < end; ++e) {
        __builtin_prefetch(x_ + kStride * static_cast<size_t>(idx[std::min(e + distance_, edges - 1)]));
        acc = _mm512_or_si512(acc, load_row<kWords>(x_ + kStride * static_cast<size_t>(idx[e])));
      }
      std::memcpy(&y_[kWords * static_cast<size_t>(i)], &acc, kStride);
    }
  }
#endif
  /// kWords: the row's 8-byte words when fixed, 0 for words_.
  template <size_t kWords>
  void run_rows() {
    const size_t words = kWords != 0 ? kWords : words_, stride = 8 * words;
    const int32_t* idx = graph_.col_idx.data();
    const int32_t edges = graph_.num_edges();
    for (int32_t i = 0; i < graph_.num_nodes; ++i) {
      uint64_t acc[kWords != 0 ? kWords : kMaxWords];
      std::memcpy(acc, x_ + stride * static_cast<size_t>(i), stride);
      const int32_t end = graph_.row_ptr[i + 1];
      for (int32_t e = graph_.row_ptr[i]; e < end; ++e) {
        __builtin_prefetch(x_ + stride * static_cast<size_t>(idx[std::min(e + distance_, edges - 1)]));
        const uint8_t* row = x_ + stride * static_cast<size_t>(idx[e]);
        for (size_t w = 0; w < words; ++w) {
          uint64_t v;
          std::memcpy(&v, row + 8 * w, 8);
          acc[w] |= v;
        }
      }
      std::memcpy(&y_[words * static_cast<size_t>(i)], acc, stride);
    }
  }

  const CsrData& graph_;
  const uint8_t* x_;
  size_t words_, row_bytes_;
  int32_t distance_;
  std::string key_, label_;
  std::vector<uint64_t> y_;
};

}  // namespace

std::unique_ptr<PeerEngine> make_gather_floor(const CsrData& graph, const uint8_t* x, int bits, int32_t cols,
                                              int32_t distance) {
  const size_t row_bytes = (static_cast<size_t>(cols) * static_cast<size_t>(bits) + 7) / 8;
  if (row_bytes == 0 || row_bytes > 8 * GatherFloor::kMaxWords || row_bytes % 8 != 0) {
    throw std::runtime_error("gather floor: rows of " + std::to_string(row_bytes) +
                             " bytes (need a multiple of 8, at most 512)");
  }
  if (distance < 1) throw std::runtime_error("gather floor: the prefetch distance must be at least 1 edge");
  const std::string bits_text = std::to_string(bits), d = std::to_string(distance);
  return std::make_unique<GatherFloor>(graph, x, row_bytes, distance, "floor_int" + bits_text + "_d" + d,
                                       "loads only, INT" + bits_text + " rows, prefetch " + d);
}

}  // namespace bench
}  // namespace qgnn
