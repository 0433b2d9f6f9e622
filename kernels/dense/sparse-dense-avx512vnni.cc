// AVX-512 VNNI twin of sparse_dense(): sparse-dense-body.h over the packed int16 pairs, one vpdpwssd per
// non-zero (pair) and 16 channels. Compiled with the AVX-512 VNNI flags only.
#include "f32-sparse-dense-body.h"
#include "simd-avx512.h"
#include "sparse-dense-body.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {

// sparse_dense_packed_bytes_for() (compiled without ISA flags) must describe these traits' packing.
static_assert(kSparseDenseAvx512.lanes == Avx512::kLanes && kSparseDenseAvx512.group == Avx512::kSparseGroup,
              "kSparseDenseAvx512 disagrees with the AVX-512 traits");

void sparse_dense_avx512vnni(SparseRows in, int32_t in_cols, InputQuantization q, QWeights weights,
                             const int32_t* bias, ChannelRescale rq, bool relu, QActivation out,
                             int32_t out_cols, int32_t row_begin, int32_t row_end) {
  sparse_dense_twin<Avx512>(Isa::kAvx512, in, in_cols, q, weights, bias, rq, relu, out, out_cols, row_begin,
                            row_end);
}

void sparse_dense_f32_avx512(SparseRows in, int32_t in_cols, const float* weights, const void* packed,
                             const float* bias, bool relu, float* out, int32_t out_cols, int32_t row_begin,
                             int32_t row_end) {
  sparse_dense_f32_twin<16>(in, in_cols, weights, packed, bias, relu, out, out_cols, row_begin, row_end);
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
