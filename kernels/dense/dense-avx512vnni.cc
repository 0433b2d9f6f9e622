// AVX-512 VNNI twin of dense(): channels in lanes over packed weights (dense-body.h), dense_tiled() on this
// ISA's dot-product accumulators for operands too wide for the packed block. Compiled with the AVX-512 VNNI
// flags only.
#include "dense-body.h"
#include "simd-avx512.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {

void dense_avx512vnni(QActivationConst in, int32_t in_cols, QWeights weights, const int32_t* bias,
                      ChannelRescale rq, const DenseExtraInput* extra, bool relu, QActivation out,
                      int32_t out_cols, int32_t row_begin, int32_t row_end) {
  dense_twin<Avx512>(GemmKernels{gemm_acc_w8_avx512vnni, gemm_acc_w4_avx512vnni}, in, in_cols, weights, bias,
                     rq, extra, relu, out, out_cols, row_begin, row_end);
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
