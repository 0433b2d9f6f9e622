// The packed operand of the sparse_dense() twins (dispatch/twins.h, SparseDenseShape), compiled WITHOUT ISA
// flags: sparse_dense_packed_bytes_max() sizes every compiled ISA's operand on any CPU, and packing is a
// plain transposition that needs no vector instruction.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "qgnn/kernels/numerics.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {
namespace {

bool valid_shape(int32_t in_cols, int32_t out_cols, int weight_bits) {
  return in_cols > 0 && out_cols > 0 && (weight_bits == 8 || weight_bits == 4);
}

int32_t padded_cols(SparseDenseShape shape, int32_t out_cols) {
  return (out_cols + shape.lanes - 1) / shape.lanes * shape.lanes;
}

}  // namespace

size_t sparse_dense_packed_bytes_for(SparseDenseShape shape, int32_t in_cols, int32_t out_cols,
                                     int weight_bits) {
  if (!valid_shape(in_cols, out_cols, weight_bits)) return 0;
  const size_t groups = static_cast<size_t>((in_cols + shape.group - 1) / shape.group);
  return kDensePackHeaderBytes + groups * static_cast<size_t>(padded_cols(shape, out_cols)) *
                                     static_cast<size_t>(shape.group) * sizeof(int16_t);
}

void sparse_dense_pack_for(Isa isa, SparseDenseShape shape, QWeights weights, int32_t in_cols,
                           int32_t out_cols, void* packed) {
  const size_t bytes = sparse_dense_packed_bytes_for(shape, in_cols, out_cols, weights.bits);
  if (bytes == 0) return;
  SparseDensePackHeader header{};
  header.magic = kSparseDensePackMagic;
  header.isa = static_cast<int32_t>(isa);
  header.in_cols = in_cols;
  header.out_cols = out_cols;
  header.weight_bits = weights.bits;
  header.padded_cols = padded_cols(shape, out_cols);
  header.weights = weights.data;
  uint8_t* base = static_cast<uint8_t*>(packed);
  std::memset(base, 0, bytes);  // the pad channels and the pad k of the last group are zero weights
  std::memcpy(base, &header, sizeof header);
  // packed[k / group][c][k % group] = w[c][k]
  int16_t* w = reinterpret_cast<int16_t*>(base + kDensePackHeaderBytes);
  const uint8_t* src = static_cast<const uint8_t*>(weights.data);
  const size_t group_stride = static_cast<size_t>(header.padded_cols) * static_cast<size_t>(shape.group);
  for (int32_t c = 0; c < out_cols; ++c) {
    const size_t row = static_cast<size_t>(c) * static_cast<size_t>(in_cols);
    for (int32_t k = 0; k < in_cols; ++k) {
      const size_t index = row + static_cast<size_t>(k);
      const int32_t value = weights.bits == 4 ? load_int4(src, index) : static_cast<int8_t>(src[index]);
      w[static_cast<size_t>(k / shape.group) * group_stride + static_cast<size_t>(c) * shape.group +
        static_cast<size_t>(k % shape.group)] = static_cast<int16_t>(value);
    }
  }
}

const SparseDensePackHeader* sparse_dense_pack_match(QWeights weights, Isa isa, int32_t in_cols,
                                                     int32_t out_cols) {
  if (weights.packed == nullptr) return nullptr;
  const auto* header = static_cast<const SparseDensePackHeader*>(weights.packed);
  const bool same = header->magic == kSparseDensePackMagic && header->isa == static_cast<int32_t>(isa) &&
                    header->in_cols == in_cols && header->out_cols == out_cols &&
                    header->weight_bits == weights.bits && header->weights == weights.data;
  return same ? header : nullptr;
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
