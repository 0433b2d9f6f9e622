// Float Dense of sparse rows (reference.h sparse_dense_f32): the definition, and the packing its SIMD twins
// read (f32-sparse-dense-pack.h), compiled without ISA flags.
#include <cstring>

#include "f32-sparse-dense-pack.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace kernels {

void sparse_dense_f32(SparseRows in, int32_t in_cols, const float* weights, const void* packed,
                      const float* bias, bool relu, float* out, int32_t out_cols, int32_t row_begin,
                      int32_t row_end) {
  (void)packed;
  for (int32_t row = row_begin; row < row_end; ++row) {
    float* y = out + static_cast<size_t>(row) * static_cast<size_t>(out_cols);
    for (int32_t c = 0; c < out_cols; ++c) {
      const float* w = weights + static_cast<size_t>(c) * static_cast<size_t>(in_cols);
      float acc = bias != nullptr ? bias[c] : 0.0f;
      for (int32_t e = in.row_ptr[row]; e < in.row_ptr[row + 1]; ++e) acc += in.values[e] * w[in.col_idx[e]];
      y[c] = relu && acc < 0.0f ? 0.0f : acc;  // a NaN stays a NaN, as dense_f32
    }
  }
}

size_t sparse_dense_f32_packed_bytes(int32_t in_cols, int32_t out_cols) {
  if (in_cols <= 0 || out_cols <= 0) return 0;
  const size_t padded = static_cast<size_t>((out_cols + f32_sparse::kF32SparsePad - 1) /
                                            f32_sparse::kF32SparsePad * f32_sparse::kF32SparsePad);
  return f32_sparse::kHeaderBytes + static_cast<size_t>(in_cols) * padded * sizeof(float);
}

void sparse_dense_f32_pack(const float* weights, int32_t in_cols, int32_t out_cols, void* packed) {
  const size_t bytes = sparse_dense_f32_packed_bytes(in_cols, out_cols);
  if (bytes == 0) return;
  f32_sparse::Header header{};
  header.magic = f32_sparse::kMagic;
  header.in_cols = in_cols;
  header.out_cols = out_cols;
  header.padded_cols =
      (out_cols + f32_sparse::kF32SparsePad - 1) / f32_sparse::kF32SparsePad * f32_sparse::kF32SparsePad;
  header.weights = weights;
  uint8_t* base = static_cast<uint8_t*>(packed);
  std::memset(base, 0, bytes);  // pad channels are zero weights
  std::memcpy(base, &header, sizeof header);
  float* wt = reinterpret_cast<float*>(base + f32_sparse::kHeaderBytes);
  for (int32_t c = 0; c < out_cols; ++c) {
    for (int32_t k = 0; k < in_cols; ++k) {
      wt[static_cast<size_t>(k) * static_cast<size_t>(header.padded_cols) + static_cast<size_t>(c)] =
          weights[static_cast<size_t>(c) * static_cast<size_t>(in_cols) + static_cast<size_t>(k)];
    }
  }
}

}  // namespace kernels
}  // namespace qgnn
