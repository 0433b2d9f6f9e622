// Deterministic inputs for the kernel benchmarks: packed activations and weights in the layouts of
// qgnn/kernels/reference.h, float twins, rescales, and the shared Cora-sized graph.
#ifndef QGNN_BENCH_KERNELS_KERNEL_DATA_H_
#define QGNN_BENCH_KERNELS_KERNEL_DATA_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "qgnn/kernels/numerics.h"
#include "qgnn/kernels/reference.h"
#include "random_graphs.h"

namespace qgnn {
namespace bench {

/// Cora: 2708 nodes, 5278 undirected edges = 10556 CSR edges.
constexpr int32_t kCoraNodes = 2708;
constexpr int32_t kCoraUndirectedEdges = 5278;

/// The random Cora-sized graph every kernel benchmark uses (built once).
inline const CsrData& cora_sized_graph() {
  static const CsrData graph = random_undirected_graph(kCoraNodes, kCoraUndirectedEdges, /*seed=*/2708);
  return graph;
}

inline kernels::CsrGraph view(const CsrData& g) {
  return kernels::CsrGraph{g.row_ptr.data(), g.col_idx.data(), g.num_nodes};
}

/// Row-major activation matrix of `bits` (8 or 4) bits, uniform over the whole range, each row starting on
/// a byte boundary (int4 rows packed low nibble first).
inline std::vector<uint8_t> random_activation(int32_t rows, int32_t cols, int bits, Rng& rng) {
  const size_t stride = kernels::row_bytes(static_cast<size_t>(cols), bits);
  std::vector<uint8_t> data(stride * static_cast<size_t>(rows), 0);
  for (int32_t r = 0; r < rows; ++r) {
    uint8_t* row = data.data() + stride * static_cast<size_t>(r);
    for (int32_t c = 0; c < cols; ++c) {
      const int32_t v = rng.between(kernels::qmin(bits), kernels::qmax(bits));
      if (bits == 4) {
        kernels::store_int4(row, static_cast<size_t>(c), v);
      } else {
        row[c] = static_cast<uint8_t>(static_cast<int8_t>(v));
      }
    }
  }
  return data;
}

/// Symmetric [out][in] weights in [-qmax, qmax]; int4 packed contiguously over the whole matrix.
inline std::vector<uint8_t> random_weights(int32_t out, int32_t in, int bits, Rng& rng) {
  const size_t count = static_cast<size_t>(out) * static_cast<size_t>(in);
  std::vector<uint8_t> data(kernels::row_bytes(count, bits), 0);
  for (size_t i = 0; i < count; ++i) {
    const int32_t v = rng.between(-kernels::qmax(bits), kernels::qmax(bits));
    if (bits == 4) {
      kernels::store_int4(data.data(), i, v);
    } else {
      data[i] = static_cast<uint8_t>(static_cast<int8_t>(v));
    }
  }
  return data;
}

/// Floats uniform in [lo, hi).
inline std::vector<float> random_floats(size_t count, float lo, float hi, Rng& rng) {
  std::vector<float> v(count);
  for (float& x : v) x = rng.uniform(lo, hi);
  return v;
}

inline std::vector<int32_t> random_ints(size_t count, int32_t lo, int32_t hi, Rng& rng) {
  std::vector<int32_t> v(count);
  for (int32_t& x : v) x = rng.between(lo, hi);
  return v;
}

/// Fixed-point (multiplier in [2^30, 2^31), shift) for a positive real: real ~ multiplier * 2^-shift.
inline kernels::Rescale rescale_for(double real) {
  int exponent = 0;
  const double mantissa = std::frexp(real, &exponent);  // real = mantissa * 2^exponent, mantissa in [0.5, 1)
  int64_t multiplier = static_cast<int64_t>(std::llround(mantissa * 2147483648.0));  // * 2^31
  int shift = 31 - exponent;
  if (multiplier == (int64_t{1} << 31)) {
    multiplier >>= 1;
    --shift;
  }
  return kernels::Rescale{static_cast<int32_t>(multiplier), shift};
}

/// Per-channel rescale arrays, all channels equal.
struct ChannelRescaleData {
  std::vector<int32_t> multiplier;
  std::vector<int32_t> shift;

  ChannelRescaleData(int32_t channels, double real) {
    const kernels::Rescale r = rescale_for(real);
    multiplier.assign(static_cast<size_t>(channels), r.multiplier);
    shift.assign(static_cast<size_t>(channels), r.shift);
  }
  kernels::ChannelRescale view() const { return kernels::ChannelRescale{multiplier.data(), shift.data()}; }
};

}  // namespace bench
}  // namespace qgnn

#endif  // QGNN_BENCH_KERNELS_KERNEL_DATA_H_
