// The ONE body of the sparse_dense_f32() twins, over kLanes floats per vector (GCC / Clang vector
// extensions, so each ISA file's flags pick the instructions: 8 lanes AVX2, 16 AVX-512, 4 NEON). Include
// from a file compiled with the ISA's flags.
//
// A non-zero (k, v) adds v * W^T[k][block] to the row's accumulators: one broadcast and a multiply-add per
// vector of channels, loads contiguous in the packed W^T (f32-sparse-dense-pack.h), no horizontal sums.
// Channels run in blocks of up to kF32SparseVecs vectors (accumulators in registers), rows inner. Each lane
// adds the products in the reference's order from the bias; only the fused multiply-add (where the compiler
// contracts it) rounds differently, within the bound tests/kernels/float_sparse_dense_test.cc asserts.
#ifndef QGNN_KERNELS_DENSE_F32_SPARSE_DENSE_BODY_H_
#define QGNN_KERNELS_DENSE_F32_SPARSE_DENSE_BODY_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "f32-sparse-dense-pack.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {
namespace {

constexpr int kF32SparseVecs = 4;

template <int kLanes>
class F32SparseDenseRun {
 public:
  typedef float Vec __attribute__((vector_size(kLanes * sizeof(float))));
  static_assert(f32_sparse::kF32SparsePad % kLanes == 0, "the packing pads channels to whole vectors");

  F32SparseDenseRun(SparseRows in, const float* wt, int32_t padded, const float* bias, bool relu, float* out,
                    int32_t out_cols)
      : in_(in), wt_(wt), padded_(padded), bias_(bias), relu_(relu), out_(out), out_cols_(out_cols) {}

  void run(int32_t row_begin, int32_t row_end) {
    constexpr int32_t kBlock = kF32SparseVecs * kLanes;
    for (int32_t c0 = 0; c0 < out_cols_; c0 += kBlock) {
      const int32_t channels = out_cols_ - c0 < kBlock ? out_cols_ - c0 : kBlock;
      switch ((channels + kLanes - 1) / kLanes) {
        case 1:
          block<1>(c0, channels, row_begin, row_end);
          break;
        case 2:
          block<2>(c0, channels, row_begin, row_end);
          break;
        case 3:
          block<3>(c0, channels, row_begin, row_end);
          break;
        default:
          block<4>(c0, channels, row_begin, row_end);
          break;
      }
    }
  }

 private:
  static Vec Load(const float* p) {
    Vec v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }

  template <int kVecs>
  void block(int32_t c0, int32_t channels, int32_t row_begin, int32_t row_end) {
    // The block's bias, zero in pad channels, as whole vectors.
    float bias[kVecs * kLanes] = {};
    for (int32_t c = 0; c < channels; ++c) bias[c] = bias_ != nullptr ? bias_[c0 + c] : 0.0f;
    Vec b[kVecs];
    for (int v = 0; v < kVecs; ++v) b[v] = Load(bias + v * kLanes);
    const float* w = wt_ + c0;
    const Vec zero = {};
    for (int32_t row = row_begin; row < row_end; ++row) {
      Vec acc[kVecs];
      for (int v = 0; v < kVecs; ++v) acc[v] = b[v];
      for (int32_t e = in_.row_ptr[row], end = in_.row_ptr[row + 1]; e < end; ++e) {
        const float* wk = w + static_cast<size_t>(in_.col_idx[e]) * static_cast<size_t>(padded_);
        const Vec x = zero + in_.values[e];  // broadcast
        for (int v = 0; v < kVecs; ++v) acc[v] += x * Load(wk + v * kLanes);
      }
      float y[kVecs * kLanes];
      for (int v = 0; v < kVecs; ++v) {
        // acc < 0 ? 0 : acc keeps a NaN, as the reference.
        const Vec r = relu_ ? (acc[v] < zero ? zero : acc[v]) : acc[v];
        std::memcpy(y + v * kLanes, &r, sizeof r);
      }
      std::memcpy(out_ + static_cast<size_t>(row) * static_cast<size_t>(out_cols_) + c0, y,
                  static_cast<size_t>(channels) * sizeof(float));
    }
  }

  SparseRows in_;
  const float* wt_;
  int32_t padded_;
  const float* bias_;
  bool relu_;
  float* out_;
  int32_t out_cols_;
};

/// sparse_dense_f32() of one ISA: the twin over the packed W^T where it matches these weights, else the
/// reference.
template <int kLanes>
void sparse_dense_f32_twin(SparseRows in, int32_t in_cols, const float* weights, const void* packed,
                           const float* bias, bool relu, float* out, int32_t out_cols, int32_t row_begin,
                           int32_t row_end) {
  if (row_begin >= row_end || out_cols <= 0) return;
  const f32_sparse::Header* header = f32_sparse::Match(packed, weights, in_cols, out_cols);
  if (header == nullptr) {
    sparse_dense_f32(in, in_cols, weights, packed, bias, relu, out, out_cols, row_begin, row_end);
    return;
  }
  F32SparseDenseRun<kLanes>(in, f32_sparse::Transposed(packed), header->padded_cols, bias, relu, out,
                            out_cols)
      .run(row_begin, row_end);
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_DENSE_F32_SPARSE_DENSE_BODY_H_
