// AVX2 twin of dense(): channels in lanes over packed weights (dense-body.h), dense_tiled() on this ISA's
// dot-product accumulators for operands too wide for the packed block. Compiled with the AVX2 flags only.
#include "dense-body.h"
#include "simd-avx2.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {

void dense_avx2(QActivationConst in, int32_t in_cols, QWeights weights, const int32_t* bias,
                ChannelRescale rq, const DenseExtraInput* extra, bool relu, QActivation out, int32_t out_cols,
                int32_t row_begin, int32_t row_end) {
  dense_twin<Avx2>(GemmKernels{gemm_acc_w8_avx2, gemm_acc_w4_avx2}, in, in_cols, weights, bias, rq, extra,
                   relu, out, out_cols, row_begin, row_end);
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
