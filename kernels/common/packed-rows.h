// Internal to the reference kernels: typed views over packed int8 / int4 matrices, so each kernel has ONE
// body for every bit width. Bits are a template parameter (not a runtime branch per element) so the
// compiler sees plain byte loads for int8 and nibble extraction for int4.
#ifndef QGNN_KERNELS_REFERENCE_PACKED_ROWS_H_
#define QGNN_KERNELS_REFERENCE_PACKED_ROWS_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "qgnn/kernels/numerics.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace detail {

/// Element access of a packed array of `kBits`-bit signed integers; `index` counts elements.
template <int kBits>
struct PackedElement;

template <>
struct PackedElement<8> {
  static int32_t load(const uint8_t* base, size_t index) { return static_cast<int8_t>(base[index]); }
  static void store(uint8_t* base, size_t index, int32_t value) {
    base[index] = static_cast<uint8_t>(static_cast<int8_t>(value));
  }
};

template <>
struct PackedElement<4> {
  static int32_t load(const uint8_t* base, size_t index) { return load_int4(base, index); }
  static void store(uint8_t* base, size_t index, int32_t value) { store_int4(base, index, value); }
};

/// Read-only view of a row-major activation matrix; every row starts on a byte boundary.
template <int kBits>
class ActivationReader {
 public:
  ActivationReader(const void* data, int32_t cols)
      : base_(static_cast<const uint8_t*>(data)), row_stride_(row_bytes(static_cast<size_t>(cols), kBits)) {}

  int32_t at(int32_t row, int32_t col) const {
    return PackedElement<kBits>::load(base_ + static_cast<size_t>(row) * row_stride_,
                                      static_cast<size_t>(col));
  }

 private:
  const uint8_t* base_;
  size_t row_stride_;
};

/// Writable view of a row-major activation matrix. A kernel calls begin_row() before storing the row's
/// elements: it zeroes the whole row, so the pad nibble of an odd-length int4 row is always 0 and no
/// stale byte of the caller's buffer survives.
template <int kBits>
class ActivationWriter {
 public:
  ActivationWriter(void* data, int32_t cols)
      : base_(static_cast<uint8_t*>(data)), row_stride_(row_bytes(static_cast<size_t>(cols), kBits)) {}

  void begin_row(int32_t row) {
    if (row_stride_ != 0) std::memset(row_start(row), 0, row_stride_);  // memset(nullptr, 0, 0) is UB
  }

  /// `value` must already be in [qmin(kBits), qmax(kBits)].
  void store(int32_t row, int32_t col, int32_t value) {
    PackedElement<kBits>::store(row_start(row), static_cast<size_t>(col), value);
  }

 private:
  uint8_t* row_start(int32_t row) { return base_ + static_cast<size_t>(row) * row_stride_; }

  uint8_t* base_;
  size_t row_stride_;
};

/// Read-only view of a [out][in] weight matrix. Unlike activations, int4 weights are packed contiguously
/// over the whole matrix, so a row may start mid-byte.
template <int kBits>
class WeightReader {
 public:
  WeightReader(const void* data, int32_t in_cols)
      : base_(static_cast<const uint8_t*>(data)), in_cols_(in_cols) {}

  int32_t at(int32_t out_channel, int32_t in_index) const {
    const size_t index = static_cast<size_t>(out_channel) * static_cast<size_t>(in_cols_) + in_index;
    return PackedElement<kBits>::load(base_, index);
  }

 private:
  const uint8_t* base_;
  int32_t in_cols_;
};

template <int kBits>
using BitsTag = std::integral_constant<int, kBits>;

/// Calls fn(BitsTag<4>{}) or fn(BitsTag<8>{}); the runtime validates `bits` before any kernel runs.
template <typename Fn>
inline void dispatch_bits(int bits, Fn&& fn) {
  if (bits == 4) {
    fn(BitsTag<4>{});
  } else {
    fn(BitsTag<8>{});
  }
}

/// Number of in-edges of `node` (explicit self-loops and repeated edges count like any other edge).
inline int32_t in_degree(const CsrGraph& graph, int32_t node) {
  return graph.row_ptr[node + 1] - graph.row_ptr[node];
}

}  // namespace detail
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_REFERENCE_PACKED_ROWS_H_
