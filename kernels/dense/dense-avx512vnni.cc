// AVX-512 VNNI twin of dense() and its packing: channels in lanes over the packed operand (dense-body.h), and
// dense_tiled() on this ISA's dot-product accumulators for calls without one. Compiled with the AVX-512 VNNI
// flags only.
#include "dense-body.h"
#include "simd-avx512.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {

// dense_pack_layout() (compiled without ISA flags) must describe these traits' packing.
static_assert(kDensePackAvx512.lanes == Avx512::kLanes && kDensePackAvx512.group == Avx512::kGroup &&
                  kDensePackAvx512.weight_bytes == static_cast<int32_t>(sizeof(Avx512::PackedW)),
              "kDensePackAvx512 disagrees with the AVX-512 VNNI traits");

void dense_avx512vnni(QActivationConst in, int32_t in_cols, QWeights weights, const int32_t* bias,
                      ChannelRescale rq, const DenseExtraInput* extra, bool relu, QActivation out,
                      int32_t out_cols, int32_t row_begin, int32_t row_end) {
  dense_twin<Avx512>(Isa::kAvx512, kDensePackAvx512,
                     GemmKernels{gemm_acc_w8_avx512vnni, gemm_acc_w4_avx512vnni}, in, in_cols, weights, bias,
                     rq, extra, relu, out, out_cols, row_begin, row_end);
}

void dense_pack_avx512vnni(QWeights weights, int32_t in_cols, int32_t out_cols, const int32_t* bias,
                           ChannelRescale rq, void* packed) {
  dense_pack_twin<Avx512>(Isa::kAvx512, kDensePackAvx512, weights, in_cols, out_cols, bias, rq, packed);
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
