// Vector traits for arm64 NEON with the dot-product extension (armv8.2-a+dotprod, `sdot`): the NEON traits
// with the GEMM products taken four at a time by vdotq_s32 instead of smull + sadalp. Include only from
// files compiled with -march=armv8.2-a+dotprod (kernels/CMakeLists.txt).
#ifndef QGNN_KERNELS_SIMD_SIMD_NEONDOT_H_
#define QGNN_KERNELS_SIMD_SIMD_NEONDOT_H_

#if !defined(__ARM_FEATURE_DOTPROD)
#error "simd-neondot.h needs the dot-product extension (-march=armv8.2-a+dotprod)"
#endif

#include <arm_neon.h>

#include <cstdint>

#include "simd-neon.h"

namespace qgnn {
namespace kernels {
namespace {

struct NeonDot : Neon {
  /// Signed x signed bytes, four products per int32 lane: exact, the lanes hold partial sums of the row.
  static Acc dot(Acc acc, X x, W w) { return vdotq_s32(acc, x, w); }
  static Acc wsum(Acc acc, W w) { return vdotq_s32(acc, vdupq_n_s8(1), w); }
};

}  // namespace
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_SIMD_SIMD_NEONDOT_H_
