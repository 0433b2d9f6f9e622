// ISA names, parsing and selection, and the reference kernel table. The x86 tables live in
// dispatch/tables-x86.cc when the build compiled them (QGNN_X86_TWINS), the arm64 ones in
// dispatch/tables-arm.cc (QGNN_ARM_TWINS); both start from reference_table_as().
#include "qgnn/kernels/kernel_table.h"

#include <cstring>

#include "cpu-features.h"
#if defined(QGNN_X86_TWINS) || defined(QGNN_ARM_TWINS)
#include "twins.h"
#define QGNN_SIMD_TWINS 1
#endif

namespace qgnn {
namespace kernels {
namespace {

// The reference runs dense() from the plain weights: nothing to pack.
size_t dense_packed_bytes_none(int32_t, int32_t, int) { return 0; }
void dense_pack_none(QWeights, int32_t, int32_t, const int32_t*, ChannelRescale, void*) {}
void sparse_dense_pack_none(QWeights, int32_t, int32_t, void*) {}

const KernelTable kReferenceTable = {Isa::kReference,
                                     "reference",
#if defined(QGNN_NO_AGGREGATE_TABLE)
                                     nullptr,
#else
                                     &aggregate,
#endif
                                     &dense,
                                     &global_pool,
                                     &quantize_rows,
                                     &dense_packed_bytes_none,
                                     &dense_pack_none,
#if defined(QGNN_NO_SPARSE_FEATURES)
                                     nullptr,
#else
                                     &sparse_dense,
#endif
                                     &dense_packed_bytes_none,
                                     &sparse_dense_pack_none,
#if defined(QGNN_NO_SPARSE_FEATURES)
                                     nullptr,
                                     nullptr,
#else
                                     &sparse_dense_f32,
                                     &gather_nonzeros_f32,
#endif
#if defined(QGNN_NO_FLOAT_MODELS)
                                     nullptr,
#else
                                     &aggregate_f32,
#endif
#if defined(QGNN_NO_GAT_TABLE)
                                     nullptr,
                                     nullptr,
#else
                                     &gat_attention_terms,
                                     &gat_aggregate,
#endif
#if defined(QGNN_NO_KNN_TABLE)
                                     nullptr};
#else
                                     &knn_graph};
#endif

struct IsaName {
  Isa isa;
  const char* name;
};
constexpr IsaName kIsaNames[] = {{Isa::kReference, "reference"},
                                 {Isa::kAvx2, "avx2"},
                                 {Isa::kAvx512, "avx512"},
                                 {Isa::kNeon, "neon"},
                                 {Isa::kNeonDot, "neondot"}};

/// The twins compiled into this build for `isa` (CPU not checked).
const KernelTable* compiled_table(Isa isa) {
  if (isa == Isa::kReference) return &kReferenceTable;
#if defined(QGNN_SIMD_TWINS)
  return twins::compiled_simd_table(isa);
#else
  return nullptr;
#endif
}

}  // namespace

#if defined(QGNN_SIMD_TWINS)
KernelTable twins::reference_table_as(Isa isa, const char* name) {
  KernelTable table = kReferenceTable;
  table.isa = isa;
  table.name = name;
  return table;
}
#endif

const char* isa_name(Isa isa) {
  for (const IsaName& entry : kIsaNames) {
    if (entry.isa == isa) return entry.name;
  }
  return "unknown";
}

IsaChoice parse_isa(const char* text) {
  if (text == nullptr || text[0] == '\0') {
    return IsaChoice{false, Isa::kReference,
                     "empty ISA name (expected reference, avx2, avx512, neon or neondot)"};
  }
  for (const IsaName& entry : kIsaNames) {
    if (std::strcmp(entry.name, text) == 0) return IsaChoice{true, entry.isa, nullptr};
  }
  return IsaChoice{false, Isa::kReference,
                   "unknown ISA name (expected reference, avx2, avx512, neon or neondot)"};
}

bool isa_available(Isa isa) { return compiled_table(isa) != nullptr && dispatch::cpu_supports(isa); }

const KernelTable* kernels_for(Isa isa) { return isa_available(isa) ? compiled_table(isa) : nullptr; }

Isa detect_isa() {
  constexpr Isa kFastestFirst[] = {Isa::kAvx512, Isa::kAvx2, Isa::kNeonDot, Isa::kNeon};
  for (Isa isa : kFastestFirst) {
    if (isa_available(isa)) return isa;
  }
  return Isa::kReference;
}

size_t dense_packed_bytes_max(int32_t in_cols, int32_t out_cols, int weight_bits) {
  size_t most = 0;
  for (const IsaName& entry : kIsaNames) {
    // Compiled tables, CPU not checked: dense_packed_bytes is flag-free code that runs anywhere.
    if (const KernelTable* table = compiled_table(entry.isa)) {
      const size_t bytes = table->dense_packed_bytes(in_cols, out_cols, weight_bits);
      if (bytes > most) most = bytes;
    }
  }
  return most;
}

size_t sparse_dense_packed_bytes_max(int32_t in_cols, int32_t out_cols, int weight_bits) {
  size_t most = 0;
  for (const IsaName& entry : kIsaNames) {
    if (const KernelTable* table = compiled_table(entry.isa)) {
      const size_t bytes = table->sparse_dense_packed_bytes(in_cols, out_cols, weight_bits);
      if (bytes > most) most = bytes;
    }
  }
  return most;
}

IsaChoice select_isa(const char* override_name) {
  if (override_name == nullptr || override_name[0] == '\0') return IsaChoice{true, detect_isa(), nullptr};
  const IsaChoice parsed = parse_isa(override_name);
  if (!parsed.ok) return parsed;
  if (compiled_table(parsed.isa) == nullptr) {
    return IsaChoice{false, parsed.isa, "not available: this build has no kernels for it"};
  }
  if (!dispatch::cpu_supports(parsed.isa)) {
    return IsaChoice{false, parsed.isa, "not available: this CPU does not support it"};
  }
  return parsed;
}

}  // namespace kernels
}  // namespace qgnn
