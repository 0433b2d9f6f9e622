// The packed operand of sparse_dense_f32 (reference.h): a header naming the weights it was made from, then
// W^T as floats, [in_cols][padded channels], channels rounded up to kF32SparsePad (every ISA's widest
// vector: one layout for all, so the runtime packs once whatever the table), pad channels zero.
#ifndef QGNN_KERNELS_DENSE_F32_SPARSE_DENSE_PACK_H_
#define QGNN_KERNELS_DENSE_F32_SPARSE_DENSE_PACK_H_

#include <cstddef>
#include <cstdint>

namespace qgnn {
namespace kernels {
namespace f32_sparse {

constexpr int32_t kF32SparsePad = 16;
constexpr size_t kHeaderBytes = 64;
constexpr uint32_t kMagic = 0x46534751u;  // "QGSF"

struct Header {
  uint32_t magic;
  int32_t in_cols;
  int32_t out_cols;
  int32_t padded_cols;
  const float* weights;
};
static_assert(sizeof(Header) <= kHeaderBytes, "the header must fit its slot");

/// The header of `packed` when it was packed from exactly these weights and shape, else nullptr.
inline const Header* Match(const void* packed, const float* weights, int32_t in_cols, int32_t out_cols) {
  if (packed == nullptr) return nullptr;
  const Header* h = static_cast<const Header*>(packed);
  return h->magic == kMagic && h->in_cols == in_cols && h->out_cols == out_cols && h->weights == weights
             ? h
             : nullptr;
}

/// W^T of a matched operand.
inline const float* Transposed(const void* packed) {
  return reinterpret_cast<const float*>(static_cast<const uint8_t*>(packed) + kHeaderBytes);
}

}  // namespace f32_sparse
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_DENSE_F32_SPARSE_DENSE_PACK_H_
