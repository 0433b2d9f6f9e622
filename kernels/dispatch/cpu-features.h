// Internal: what the CPU running this process can execute, asked of the cpuinfo library (never hand-written
// cpuid). Without cpuinfo in the build (bare-metal targets, a host without libcpuinfo-dev) every answer is
// false, so only the reference kernels are ever selected.
#ifndef QGNN_KERNELS_DISPATCH_CPU_FEATURES_H_
#define QGNN_KERNELS_DISPATCH_CPU_FEATURES_H_

#include "qgnn/kernels/kernel_table.h"

namespace qgnn {
namespace kernels {
namespace dispatch {

/// True when this CPU implements every instruction the twins of `isa` use (kReference: always).
bool cpu_supports(Isa isa);

}  // namespace dispatch
}  // namespace kernels
}  // namespace qgnn

#endif  // QGNN_KERNELS_DISPATCH_CPU_FEATURES_H_
