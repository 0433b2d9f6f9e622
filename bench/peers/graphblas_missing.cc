// The GraphBLAS entry points of a build without GraphBLAS (cmake/QgnnGraphBLAS.cmake): they say why, so a
// caller reports the reason instead of silently leaving the peer out.
#include <stdexcept>

#include "peer_engines.h"

#ifndef QGNN_GRAPHBLAS_WHY_NOT
#error "QGNN_GRAPHBLAS_WHY_NOT must be defined by the build (cmake/QgnnGraphBLAS.cmake)"
#endif

namespace qgnn {
namespace bench {

bool graphblas_available(std::string* why_not) {
  if (why_not != nullptr) *why_not = QGNN_GRAPHBLAS_WHY_NOT;
  return false;
}

std::unique_ptr<PeerEngine> make_graphblas(GraphBlasPath, const CsrData&, const void*, int32_t) {
  throw std::runtime_error(QGNN_GRAPHBLAS_WHY_NOT);
}

}  // namespace bench
}  // namespace qgnn
