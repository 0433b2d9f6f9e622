// Shared helpers of the reference-kernel tests: a seeded RNG, graph builders, packed int8/int4 containers
// with their OWN packing code (independent of numerics.h, so a packing bug cannot hide in both), and a
// helper that splits a row range into random chunks.
#ifndef QGNN_TESTS_KERNELS_KERNEL_TEST_UTIL_H_
#define QGNN_TESTS_KERNELS_KERNEL_TEST_UTIL_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace testutil {

/// Feature counts that are not multiples of any SIMD width (plus a few that are).
inline const std::vector<int32_t>& awkward_widths() {
  static const std::vector<int32_t> widths = {1, 2, 3, 7, 8, 15, 16, 17, 63, 64, 65, 129};
  return widths;
}

/// Deterministic random source; every test names its seed so a failure reproduces.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}

  /// Uniform in [lo, hi], both inclusive.
  int64_t uniform_int(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(engine_);
  }
  double uniform_real(double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(engine_);
  }
  bool chance(double probability) { return uniform_real(0.0, 1.0) < probability; }
  template <typename T>
  const T& pick(const std::vector<T>& options) {
    return options[static_cast<size_t>(uniform_int(0, static_cast<int64_t>(options.size()) - 1))];
  }
  std::mt19937_64& engine() { return engine_; }

 private:
  std::mt19937_64 engine_;
};

inline int32_t qmin_of(int bits) { return bits == 4 ? -8 : -128; }
inline int32_t qmax_of(int bits) { return bits == 4 ? 7 : 127; }

// ---------------------------------------------------------------------------------------------------
// Graphs
// ---------------------------------------------------------------------------------------------------

/// Owning CSR graph: row i lists the sources of the edges j -> i.
struct Csr {
  std::vector<int32_t> row_ptr{0};
  std::vector<int32_t> col_idx;

  int32_t num_nodes() const { return static_cast<int32_t>(row_ptr.size()) - 1; }
  int32_t degree(int32_t node) const { return row_ptr[node + 1] - row_ptr[node]; }
  CsrGraph view() const { return CsrGraph{row_ptr.data(), col_idx.data(), num_nodes()}; }

  /// Builds from per-destination source lists.
  static Csr from_in_neighbours(const std::vector<std::vector<int32_t>>& sources) {
    Csr csr;
    for (const auto& list : sources) {
      csr.col_idx.insert(csr.col_idx.end(), list.begin(), list.end());
      csr.row_ptr.push_back(static_cast<int32_t>(csr.col_idx.size()));
    }
    return csr;
  }
};

/// Random graph builder: RandomGraph().nodes(100).avg_degree(4).seed(7).isolated_fraction(0.2).build().
/// In-degrees are uniform in [0, 2 * avg_degree]; sources are uniform over all nodes.
class RandomGraph {
 public:
  RandomGraph& nodes(int32_t count) {
    nodes_ = count;
    return *this;
  }
  RandomGraph& avg_degree(double degree) {
    avg_degree_ = degree;
    return *this;
  }
  RandomGraph& seed(uint64_t value) {
    seed_ = value;
    return *this;
  }
  /// Fraction of nodes forced to in-degree 0.
  RandomGraph& isolated_fraction(double fraction) {
    isolated_fraction_ = fraction;
    return *this;
  }
  /// Whether explicit self-loops (i -> i) may appear; duplicate edges always may.
  RandomGraph& allow_self_loops(bool allow) {
    allow_self_loops_ = allow;
    return *this;
  }

  Csr build() const {
    Rng rng(seed_);
    std::vector<std::vector<int32_t>> sources(static_cast<size_t>(nodes_));
    const int64_t max_degree = static_cast<int64_t>(2.0 * avg_degree_ + 0.5);
    for (int32_t node = 0; node < nodes_; ++node) {
      if (rng.chance(isolated_fraction_)) continue;
      const int64_t degree = rng.uniform_int(0, max_degree);
      for (int64_t e = 0; e < degree; ++e) {
        int32_t source = static_cast<int32_t>(rng.uniform_int(0, nodes_ - 1));
        if (source == node && !allow_self_loops_) continue;
        sources[static_cast<size_t>(node)].push_back(source);
      }
    }
    return Csr::from_in_neighbours(sources);
  }

 private:
  int32_t nodes_ = 16;
  double avg_degree_ = 3.0;
  uint64_t seed_ = 1;
  double isolated_fraction_ = 0.0;
  bool allow_self_loops_ = false;
};

/// Node 0 receives an edge from each of `leaves` leaves; the leaves have in-degree 0.
inline Csr star_into_center(int32_t leaves) {
  Csr csr;
  csr.col_idx.resize(static_cast<size_t>(leaves));
  for (int32_t leaf = 0; leaf < leaves; ++leaf) csr.col_idx[static_cast<size_t>(leaf)] = leaf + 1;
  csr.row_ptr.assign(static_cast<size_t>(leaves) + 2, leaves);
  csr.row_ptr[0] = 0;
  return csr;
}

/// Every leaf receives one edge from node 0 (high out-degree: the center's factor appears everywhere).
inline Csr star_from_center(int32_t leaves) {
  std::vector<std::vector<int32_t>> sources(static_cast<size_t>(leaves) + 1);
  for (int32_t leaf = 1; leaf <= leaves; ++leaf) sources[static_cast<size_t>(leaf)] = {0};
  return Csr::from_in_neighbours(sources);
}

/// A named graph for table-driven tests.
struct GraphCase {
  std::string name;
  Csr graph;
};

/// The adversarial graph set every aggregation test runs on.
inline std::vector<GraphCase> adversarial_graphs() {
  std::vector<GraphCase> cases;
  cases.push_back({"empty", Csr{}});
  cases.push_back({"single_isolated", Csr::from_in_neighbours({{}})});
  cases.push_back({"single_self_loop", Csr::from_in_neighbours({{0, 0}})});
  cases.push_back({"chain", Csr::from_in_neighbours({{}, {0}, {1}, {2}, {3}})});
  cases.push_back({"random", RandomGraph().nodes(41).avg_degree(3).seed(11).build()});
  cases.push_back(
      {"random_isolated", RandomGraph().nodes(57).avg_degree(5).isolated_fraction(0.3).seed(12).build()});
  cases.push_back({"random_self_loops_dense",
                   RandomGraph().nodes(23).avg_degree(20).allow_self_loops(true).seed(13).build()});
  cases.push_back({"star_into_center_3000", star_into_center(3000)});
  cases.push_back({"star_from_center_700", star_from_center(700)});
  return cases;
}

// ---------------------------------------------------------------------------------------------------
// Packed quantized containers (independent packing code)
// ---------------------------------------------------------------------------------------------------

/// A row-major quantized activation matrix; int4 rows are packed low nibble first, each row starting on a
/// byte boundary.
class QMatrix {
 public:
  QMatrix(int32_t rows, int32_t cols, int bits, int32_t zero_point)
      : rows_(rows),
        cols_(cols),
        bits_(bits),
        zero_point_(zero_point),
        stride_(bits == 4 ? (static_cast<size_t>(cols) + 1) / 2 : static_cast<size_t>(cols)),
        bytes_(stride_ * static_cast<size_t>(rows) + 1, 0) {}  // +1: never hand out a null data()

  int32_t rows() const { return rows_; }
  int32_t cols() const { return cols_; }
  int bits() const { return bits_; }
  int32_t zero_point() const { return zero_point_; }
  size_t row_stride() const { return stride_; }

  int32_t get(int32_t row, int32_t col) const {
    const uint8_t* row_bytes = &bytes_[static_cast<size_t>(row) * stride_];
    if (bits_ == 8) return static_cast<int8_t>(row_bytes[col]);
    const unsigned byte = row_bytes[col / 2];
    const unsigned nibble = (col % 2 == 0) ? (byte & 0xFu) : (byte >> 4);
    return nibble < 8 ? static_cast<int32_t>(nibble) : static_cast<int32_t>(nibble) - 16;
  }

  void set(int32_t row, int32_t col, int32_t value) {
    uint8_t* row_bytes = &bytes_[static_cast<size_t>(row) * stride_];
    if (bits_ == 8) {
      row_bytes[col] = static_cast<uint8_t>(value & 0xFF);
      return;
    }
    uint8_t& byte = row_bytes[col / 2];
    const unsigned nibble = static_cast<unsigned>(value) & 0xFu;
    byte = (col % 2 == 0) ? static_cast<uint8_t>((byte & 0xF0u) | nibble)
                          : static_cast<uint8_t>((byte & 0x0Fu) | (nibble << 4));
  }

  void fill_random(Rng& rng) { fill_random(rng, qmin_of(bits_), qmax_of(bits_)); }
  void fill_random(Rng& rng, int32_t lo, int32_t hi) {
    for (int32_t r = 0; r < rows_; ++r) {
      for (int32_t c = 0; c < cols_; ++c) set(r, c, static_cast<int32_t>(rng.uniform_int(lo, hi)));
    }
  }
  void fill(int32_t value) {
    for (int32_t r = 0; r < rows_; ++r) {
      for (int32_t c = 0; c < cols_; ++c) set(r, c, value);
    }
  }
  /// Overwrites every byte (pad nibbles included) so tests see what a kernel actually wrote.
  void poison(uint8_t byte) { std::fill(bytes_.begin(), bytes_.end(), byte); }

  /// True when every odd-length int4 row has a zero high nibble in its last byte.
  bool pad_nibbles_are_zero() const {
    if (bits_ != 4 || cols_ % 2 == 0) return true;
    for (int32_t r = 0; r < rows_; ++r) {
      if ((bytes_[static_cast<size_t>(r) * stride_ + stride_ - 1] & 0xF0u) != 0) return false;
    }
    return true;
  }

  const std::vector<uint8_t>& bytes() const { return bytes_; }
  /// The bytes of rows [begin, end).
  std::vector<uint8_t> row_range_bytes(int32_t begin, int32_t end) const {
    return std::vector<uint8_t>(
        bytes_.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(begin) * stride_),
        bytes_.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(end) * stride_));
  }

  QActivation view() { return QActivation{bytes_.data(), bits_, zero_point_}; }
  QActivationConst cview() const { return QActivationConst{bytes_.data(), bits_, zero_point_}; }

 private:
  int32_t rows_, cols_;
  int bits_;
  int32_t zero_point_;
  size_t stride_;
  std::vector<uint8_t> bytes_;
};

/// A [out][in] symmetric weight matrix; int4 elements packed contiguously over the whole matrix.
class QWeightMatrix {
 public:
  QWeightMatrix(int32_t out_cols, int32_t in_cols, int bits)
      : out_cols_(out_cols),
        in_cols_(in_cols),
        bits_(bits),
        bytes_((static_cast<size_t>(out_cols) * static_cast<size_t>(in_cols) * static_cast<size_t>(bits) +
                7) / 8 +
                   1,
               0) {}

  int32_t get(int32_t out, int32_t in) const {
    const size_t index = static_cast<size_t>(out) * static_cast<size_t>(in_cols_) + static_cast<size_t>(in);
    if (bits_ == 8) return static_cast<int8_t>(bytes_[index]);
    const unsigned byte = bytes_[index / 2];
    const unsigned nibble = (index % 2 == 0) ? (byte & 0xFu) : (byte >> 4);
    return nibble < 8 ? static_cast<int32_t>(nibble) : static_cast<int32_t>(nibble) - 16;
  }
  void set(int32_t out, int32_t in, int32_t value) {
    const size_t index = static_cast<size_t>(out) * static_cast<size_t>(in_cols_) + static_cast<size_t>(in);
    if (bits_ == 8) {
      bytes_[index] = static_cast<uint8_t>(value & 0xFF);
      return;
    }
    uint8_t& byte = bytes_[index / 2];
    const unsigned nibble = static_cast<unsigned>(value) & 0xFu;
    byte = (index % 2 == 0) ? static_cast<uint8_t>((byte & 0xF0u) | nibble)
                            : static_cast<uint8_t>((byte & 0x0Fu) | (nibble << 4));
  }
  /// Symmetric range: [-127, 127] or [-7, 7].
  void fill_random(Rng& rng) {
    const int32_t limit = bits_ == 4 ? 7 : 127;
    for (int32_t o = 0; o < out_cols_; ++o) {
      for (int32_t i = 0; i < in_cols_; ++i) set(o, i, static_cast<int32_t>(rng.uniform_int(-limit, limit)));
    }
  }
  QWeights view() const { return QWeights{bytes_.data(), bits_}; }
  int bits() const { return bits_; }

 private:
  int32_t out_cols_, in_cols_;
  int bits_;
  std::vector<uint8_t> bytes_;
};

/// Per-channel rescale arrays with their owning storage.
struct ChannelRescaleStore {
  std::vector<int32_t> multiplier, shift;
  ChannelRescale view() const { return ChannelRescale{multiplier.data(), shift.data()}; }
};

/// A realistic rescale: multiplier in [2^30, 2^31 - 1] and shift in [1, 40] (the ranges the model format
/// allows for aggregation and pooling; a Dense may shift up to 62), giving a real factor between about
/// 2^(-1 - max_down) and 2^(1 + max_up).
inline Rescale random_rescale(Rng& rng, int max_down = 8, int max_up = 2) {
  const int32_t multiplier = static_cast<int32_t>(rng.uniform_int(int64_t{1} << 30, (int64_t{1} << 31) - 1));
  const int32_t shift = static_cast<int32_t>(std::min<int64_t>(40, 31 + rng.uniform_int(-max_up, max_down)));
  return Rescale{multiplier, shift};
}

inline ChannelRescaleStore random_channel_rescale(Rng& rng, int32_t channels, int max_down = 9,
                                                  int max_up = 2) {
  ChannelRescaleStore store;
  for (int32_t c = 0; c < channels; ++c) {
    const Rescale r = random_rescale(rng, max_down, max_up);
    store.multiplier.push_back(r.multiplier);
    store.shift.push_back(r.shift);
  }
  return store;
}

/// Column sums of `count` int8 values (zero point 0) on, and one off, the halves k * count + count / 2 for
/// k spread over the whole range: where a mean's rounding is most fragile.
inline std::vector<int64_t> sums_around_mean_halves(int32_t count) {
  std::vector<int64_t> sums;
  for (int64_t k = -120; k <= 120; k += 7) {
    for (int64_t delta : {-1, 0, 1}) {
      const int64_t sum = k * count + count / 2 + delta;
      sums.push_back(std::max<int64_t>(-128 * count, std::min<int64_t>(127 * count, sum)));
    }
  }
  return sums;
}

/// Writes rows [first_row, first_row + count) of int8 `x` (zero point 0) so that column c sums to
/// sums[c]: every value is floor(sum / count), the first (sum mod count) rows get one more.
inline void set_column_sums(QMatrix& x, int32_t first_row, int32_t count, const std::vector<int64_t>& sums) {
  for (int32_t c = 0; c < static_cast<int32_t>(sums.size()); ++c) {
    const int64_t sum = sums[static_cast<size_t>(c)];
    const int64_t base = sum >= 0 ? sum / count : -((-sum + count - 1) / count);  // floor
    const int64_t remainder = sum - base * count;                                 // in [0, count)
    for (int32_t i = 0; i < count; ++i)
      x.set(first_row + i, c, static_cast<int32_t>(base + (i < remainder ? 1 : 0)));
  }
}

// ---------------------------------------------------------------------------------------------------
// Row-range splitting
// ---------------------------------------------------------------------------------------------------

/// Cuts [begin, end) into random contiguous chunks (some empty) and returns them in random order, as a
/// thread pool might run them.
inline std::vector<std::pair<int32_t, int32_t>> random_split(int32_t begin, int32_t end, Rng& rng) {
  std::vector<std::pair<int32_t, int32_t>> chunks;
  int32_t start = begin;
  while (start < end) {
    const int32_t size = static_cast<int32_t>(rng.uniform_int(0, std::max<int32_t>(1, (end - begin) / 3)));
    const int32_t stop = std::min(end, start + size);
    chunks.emplace_back(start, stop);
    start = stop;
  }
  chunks.emplace_back(end, end);  // an empty range must be a no-op
  std::shuffle(chunks.begin(), chunks.end(), rng.engine());
  return chunks;
}

}  // namespace testutil
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_TESTS_KERNELS_KERNEL_TEST_UTIL_H_
