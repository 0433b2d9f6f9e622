// CPU feature queries through cpuinfo (QGNN_HAVE_CPUINFO, set by kernels/CMakeLists.txt when pkg-config finds
// libcpuinfo). An arm64 Linux build without cpuinfo asks the kernel's hardware capabilities (getauxval)
// instead, so its NEON twins are still selected.
#include "cpu-features.h"

#if defined(QGNN_HAVE_CPUINFO)
#include <cpuinfo.h>
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#define QGNN_HAVE_HWCAP 1
// The bit numbers are the Linux arm64 ABI (asm/hwcap.h); spelled out for C libraries that lack the names.
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1UL << 1)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif
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
      return cpuinfo_has_arm_neon() && cpuinfo_has_arm_neon_dot();
    case Isa::kReference:
      return true;
  }
#elif defined(QGNN_HAVE_HWCAP)
  const unsigned long hwcap = getauxval(AT_HWCAP);
  switch (isa) {
    case Isa::kNeon:
      return (hwcap & HWCAP_ASIMD) != 0;
    case Isa::kNeonDot:
      return (hwcap & HWCAP_ASIMD) != 0 && (hwcap & HWCAP_ASIMDDP) != 0;
    default:
      return false;
  }
#endif
  return false;
}

}  // namespace dispatch
}  // namespace kernels
}  // namespace qgnn
