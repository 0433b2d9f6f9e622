// CPU feature queries through cpuinfo (QGNN_HAVE_CPUINFO, set by kernels/CMakeLists.txt when pkg-config finds
// libcpuinfo).
#include "cpu_features.h"

#if defined(QGNN_HAVE_CPUINFO)
#include <cpuinfo.h>
#endif

namespace qgnn {
namespace kernels {
namespace dispatch {

bool cpu_supports(Isa isa) {
  if (isa == Isa::kReference) return true;
#if defined(QGNN_HAVE_CPUINFO)
  // cpuinfo_initialize() runs its detection once (pthread_once) and is safe to call from any thread.
  if (!cpuinfo_initialize()) return false;
  switch (isa) {
    case Isa::kAvx2:
      // The AVX2 files are compiled with -mavx2 -mfma, so the compiler may emit FMA3 as well.
      return cpuinfo_has_x86_avx2() && cpuinfo_has_x86_fma3();
    case Isa::kAvx512:
      return cpuinfo_has_x86_avx2() && cpuinfo_has_x86_fma3() && cpuinfo_has_x86_avx512f() &&
             cpuinfo_has_x86_avx512bw() && cpuinfo_has_x86_avx512vl() && cpuinfo_has_x86_avx512dq() &&
             cpuinfo_has_x86_avx512vnni();
    case Isa::kNeon:
      return cpuinfo_has_arm_neon();
    case Isa::kNeonDot:
      return cpuinfo_has_arm_neon_dot();
    case Isa::kReference:
      return true;
  }
#endif
  return false;
}

}  // namespace dispatch
}  // namespace kernels
}  // namespace qgnn
