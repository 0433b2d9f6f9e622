// AVX2 twin of sparse_dense(): sparse-dense-body.h over the packed int16 pairs, one vpmaddwd per non-zero
// (pair) and 8 channels. Compiled with the AVX2 flags only.
#include "f32-sparse-dense-body.h"
#include "simd-avx2.h"
#include "sparse-dense-body.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {

// sparse_dense_packed_bytes_for() (compiled without ISA flags) must describe these traits' packing.
static_assert(kSparseDenseAvx2.lanes == Avx2::kLanes && kSparseDenseAvx2.group == Avx2::kSparseGroup,
              "kSparseDenseAvx2 disagrees with the AVX2 traits");

void sparse_dense_avx2(SparseRows in, int32_t in_cols, InputQuantization q, QWeights weights,
                       const int32_t* bias, ChannelRescale rq, bool relu, QActivation out, int32_t out_cols,
                       int32_t row_begin, int32_t row_end) {
  sparse_dense_twin<Avx2>(Isa::kAvx2, in, in_cols, q, weights, bias, rq, relu, out, out_cols, row_begin,
                          row_end);
}

void sparse_dense_f32_avx2(SparseRows in, int32_t in_cols, const float* weights, const void* packed,
                           const float* bias, bool relu, float* out, int32_t out_cols, int32_t row_begin,
                           int32_t row_end) {
  sparse_dense_f32_twin<8>(in, in_cols, weights, packed, bias, relu, out, out_cols, row_begin, row_end);
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
