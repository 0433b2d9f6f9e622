// The kernel tables a kernel benchmark runs over: the reference, then every SIMD twin this build and CPU
// have. Reference benchmarks keep their historical names; a twin's get "/isa:<name>" after the precision,
// e.g. BM_Aggregate/sum/int8/isa:avx512/F:64.
#ifndef QGNN_BENCH_KERNELS_ISA_TABLES_H_
#define QGNN_BENCH_KERNELS_ISA_TABLES_H_

#include <string>
#include <vector>

#include "qgnn/kernels/kernel_table.h"

namespace qgnn {
namespace bench {

inline std::vector<const kernels::KernelTable*> isa_tables() {
  std::vector<const kernels::KernelTable*> tables;
  for (kernels::Isa isa : {kernels::Isa::kReference, kernels::Isa::kAvx2, kernels::Isa::kAvx512,
                           kernels::Isa::kNeon, kernels::Isa::kNeonDot}) {
    if (const kernels::KernelTable* table = kernels::kernels_for(isa)) tables.push_back(table);
  }
  return tables;
}

inline std::string isa_suffix(const kernels::KernelTable* table) {
  return table->isa == kernels::Isa::kReference ? std::string() : std::string("/isa:") + table->name;
}

}  // namespace bench
}  // namespace qgnn

#endif  // QGNN_BENCH_KERNELS_ISA_TABLES_H_
