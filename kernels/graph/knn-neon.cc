// NEON twin of knn_graph(), built from knn-body.h. Compiled with the NEON flags only
// (kernels/CMakeLists.txt).
#include "knn-body.h"
#include "simd-neon.h"
#include "twins.h"

namespace qgnn {
namespace kernels {
namespace twins {

KnnStatus knn_graph_neon(const KnnGraphParams& params, QActivationConst in, int32_t cols, int32_t row_begin,
                         int32_t row_end, int32_t* row_ptr, int32_t* col_idx, void* scratch,
                         size_t scratch_bytes) {
  return knn_graph_twin<Neon>(params, in, cols, row_begin, row_end, row_ptr, col_idx, scratch, scratch_bytes);
}

}  // namespace twins
}  // namespace kernels
}  // namespace qgnn
