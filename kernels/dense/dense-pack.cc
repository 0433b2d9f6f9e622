// The layout of packed dense operands and the check a twin runs before trusting one, compiled WITHOUT ISA
// flags: dense_packed_bytes_max() computes every compiled ISA's size on any CPU (dispatch/twins.h).
#include <cstddef>
#include <cstdint>

#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {
namespace {

size_t round_up(size_t value, size_t align) { return (value + align - 1) / align * align; }

}  // namespace

DensePackLayout dense_pack_layout(DensePackShape shape, int32_t in_cols, int32_t out_cols, int weight_bits) {
  DensePackLayout layout{};
  if (in_cols < 0 || out_cols <= 0 || (weight_bits != 8 && weight_bits != 4)) return layout;
  // Two vectors of channels halve the activation broadcasts per multiply, where the ISA has the registers
  // and the layer has the channels.
  layout.vecs = out_cols > shape.lanes ? shape.max_vecs : 1;
  layout.channels = layout.vecs * shape.lanes;
  layout.blocks = (out_cols + layout.channels - 1) / layout.channels;
  layout.groups = (in_cols + shape.group - 1) / shape.group;
  const size_t channels = static_cast<size_t>(layout.channels);
  layout.consts_bytes = round_up(channels * kDensePackConstBytesPerChannel, kDensePackAlign);
  layout.weight_bytes = round_up(
      static_cast<size_t>(layout.groups) * channels * static_cast<size_t>(shape.group * shape.weight_bytes),
      kDensePackAlign);
  layout.block_bytes = layout.consts_bytes + layout.weight_bytes;
  layout.total_bytes = kDensePackHeaderBytes + static_cast<size_t>(layout.blocks) * layout.block_bytes;
  return layout;
}

const DensePackHeader* dense_pack_match(QWeights weights, Isa isa, int32_t in_cols, int32_t out_cols,
                                        const int32_t* bias, ChannelRescale rq) {
  if (weights.packed == nullptr) return nullptr;
  const auto* header = static_cast<const DensePackHeader*>(weights.packed);
  const bool same = header->magic == kDensePackMagic && header->isa == static_cast<int32_t>(isa) &&
                    header->in_cols == in_cols && header->out_cols == out_cols &&
                    header->weight_bits == weights.bits && header->weights == weights.data &&
                    header->bias == bias && header->multiplier == rq.multiplier && header->shift == rq.shift;
  return same ? header : nullptr;
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
