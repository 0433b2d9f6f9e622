// NEON twin of sparse_dense(): sparse-dense-body.h over the packed int16 W^T, one smlal per non-zero and 4
// channels. Compiled with -march=armv8-a only, so it runs on every arm64 core; the kNeonDot table uses the
// same code (sdot multiplies groups of 4 int8, which a single non-zero does not fill), checking that its
// operand was packed by that table.
#include "f32-sparse-dense-body.h"
#include "simd-neon.h"
#include "sparse-dense-body.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {

// sparse_dense_packed_bytes_for() (compiled without ISA flags) must describe these traits' packing.
static_assert(kSparseDenseNeon.lanes == Neon::kLanes && kSparseDenseNeon.group == Neon::kSparseGroup,
              "kSparseDenseNeon disagrees with the NEON traits");

void sparse_dense_neon(SparseRows in, int32_t in_cols, InputQuantization q, QWeights weights,
                       const int32_t* bias, ChannelRescale rq, bool relu, QActivation out, int32_t out_cols,
                       int32_t row_begin, int32_t row_end) {
  sparse_dense_twin<Neon>(Isa::kNeon, in, in_cols, q, weights, bias, rq, relu, out, out_cols, row_begin,
                          row_end);
}

void sparse_dense_neondot(SparseRows in, int32_t in_cols, InputQuantization q, QWeights weights,
                          const int32_t* bias, ChannelRescale rq, bool relu, QActivation out,
                          int32_t out_cols, int32_t row_begin, int32_t row_end) {
  sparse_dense_twin<Neon>(Isa::kNeonDot, in, in_cols, q, weights, bias, rq, relu, out, out_cols, row_begin,
                          row_end);
}

void sparse_dense_f32_neon(SparseRows in, int32_t in_cols, const float* weights, const void* packed,
                           const float* bias, bool relu, float* out, int32_t out_cols, int32_t row_begin,
                           int32_t row_end) {
  sparse_dense_f32_twin<4>(in, in_cols, weights, packed, bias, relu, out, out_cols, row_begin, row_end);
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
