// AVX2 twin of dense() and its packing: channels in lanes over the packed operand (dense-body.h), and
// dense_tiled() on this ISA's dot-product accumulators for calls without one. Compiled with the AVX2 flags
// only.
#include "dense-body.h"
#include "simd-avx2.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {

// dense_pack_layout() (compiled without ISA flags) must describe these traits' packing.
static_assert(kDensePackAvx2.lanes == Avx2::kLanes && kDensePackAvx2.group == Avx2::kGroup &&
                  kDensePackAvx2.weight_bytes == static_cast<int32_t>(sizeof(Avx2::PackedW)),
              "kDensePackAvx2 disagrees with the AVX2 traits");

void dense_avx2(QActivationConst in, int32_t in_cols, QWeights weights, const int32_t* bias,
                ChannelRescale rq, const DenseExtraInput* extra, bool relu, QActivation out, int32_t out_cols,
                int32_t row_begin, int32_t row_end) {
  dense_twin<Avx2>(Isa::kAvx2, kDensePackAvx2, GemmKernels{gemm_acc_w8_avx2, gemm_acc_w4_avx2}, in, in_cols,
                   weights, bias, rq, extra, relu, out, out_cols, row_begin, row_end);
}

void dense_pack_avx2(QWeights weights, int32_t in_cols, int32_t out_cols, const int32_t* bias,
                     ChannelRescale rq, void* packed) {
  dense_pack_twin<Avx2>(Isa::kAvx2, kDensePackAvx2, weights, in_cols, out_cols, bias, rq, packed);
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
