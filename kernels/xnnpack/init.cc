// xnnpack::available(): XNNPACK is initialised once per process, on first use (create time).
#include "qgnn/xnnpack/xnnpack.h"

#if defined(QGNN_HAVE_XNNPACK)
#include <xnnpack.h>
#endif

namespace qgnn {
namespace xnnpack {

bool available() {
#if defined(QGNN_HAVE_XNNPACK)
  // xnn_initialize is idempotent and thread-safe; a magic static keeps the answer (and its cost) to one call.
  // It fails on CPUs below XNNPACK's baseline (x86 without SSE2), where every Create then fails too.
  static const bool ok = xnn_initialize(nullptr) == xnn_status_success;
  return ok;
#else
  return false;
#endif
}

}  // namespace xnnpack
}  // namespace qgnn
