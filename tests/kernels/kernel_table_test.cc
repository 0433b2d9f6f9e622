// kernel_table.h: ISA names and parsing (the QGNN_ISA values), selection with and without an override, and
// the tables' contents.
#include "qgnn/kernels/kernel_table.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace qgnn {
namespace kernels {
namespace {

const Isa kAllIsas[] = {Isa::kReference, Isa::kAvx2, Isa::kAvx512, Isa::kNeon, Isa::kNeonDot};

TEST(KernelTable, NamesRoundTrip) {
  for (Isa isa : kAllIsas) {
    const IsaChoice parsed = parse_isa(isa_name(isa));
    ASSERT_TRUE(parsed.ok) << isa_name(isa);
    EXPECT_EQ(parsed.isa, isa);
    EXPECT_EQ(parsed.error, nullptr);
  }
  EXPECT_STREQ(isa_name(Isa::kAvx512), "avx512");
  EXPECT_STREQ(isa_name(Isa::kNeonDot), "neondot");
}

TEST(KernelTable, RejectsBadNamesWithAMessage) {
  for (const char* bad : {"", "AVX2", "avx", "avx512vnni", "reference ", "sse", "x"}) {
    const IsaChoice parsed = parse_isa(bad);
    EXPECT_FALSE(parsed.ok) << "'" << bad << "'";
    ASSERT_NE(parsed.error, nullptr);
    EXPECT_NE(std::strstr(parsed.error, "reference, avx2, avx512, neon or neondot"), nullptr) << parsed.error;
  }
  EXPECT_FALSE(parse_isa(nullptr).ok);
}

TEST(KernelTable, ReferenceIsAlwaysAvailableAndIsTheReferenceKernels) {
  ASSERT_TRUE(isa_available(Isa::kReference));
  const KernelTable* table = kernels_for(Isa::kReference);
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->isa, Isa::kReference);
  EXPECT_STREQ(table->name, "reference");
  EXPECT_EQ(table->aggregate, &aggregate);
  EXPECT_EQ(table->dense, &dense);
  EXPECT_EQ(table->global_pool, &global_pool);
  EXPECT_EQ(table->knn_graph, &knn_graph);
}

TEST(KernelTable, EveryTableHasEveryEntry) {
  // ISA tables start as a copy of the reference table: an entry an ISA has no twin for is the reference's.
  for (Isa isa : kAllIsas) {
    const KernelTable* table = kernels_for(isa);
    if (table == nullptr) continue;
    EXPECT_EQ(table->isa, isa);
    EXPECT_STREQ(table->name, isa_name(isa));
    EXPECT_NE(table->aggregate, nullptr);
    EXPECT_NE(table->dense, nullptr);
    EXPECT_NE(table->global_pool, nullptr);
    EXPECT_NE(table->quantize_rows, nullptr);
    EXPECT_NE(table->dense_packed_bytes, nullptr);
    EXPECT_NE(table->dense_pack, nullptr);
    EXPECT_NE(table->knn_graph, nullptr);
    // An ISA with twins has its own kNN twin (a table left on the reference would compare it with itself).
    if (isa != Isa::kReference) {
      EXPECT_NE(table->knn_graph, &knn_graph) << isa_name(isa);
    }
  }
}

TEST(KernelTable, PackedDenseSizes) {
  // The reference runs from the plain weights; dense_packed_bytes_max bounds every available table.
  EXPECT_EQ(kernels_for(Isa::kReference)->dense_packed_bytes(64, 64, 8), 0u);
  for (int bits : {8, 4}) {
    for (int32_t in_cols : {0, 1, 7, 64, 1433}) {
      for (int32_t out_cols : {1, 16, 17, 64, 70}) {
        const size_t most = dense_packed_bytes_max(in_cols, out_cols, bits);
        for (Isa isa : kAllIsas) {
          if (const KernelTable* table = kernels_for(isa)) {
            EXPECT_LE(table->dense_packed_bytes(in_cols, out_cols, bits), most) << isa_name(isa);
          }
        }
      }
    }
    EXPECT_EQ(dense_packed_bytes_max(64, 0, bits), 0u);
  }
  EXPECT_EQ(dense_packed_bytes_max(64, 64, 2), 0u);
}

TEST(KernelTable, TablesMatchAvailability) {
  for (Isa isa : kAllIsas) {
    const KernelTable* table = kernels_for(isa);
    EXPECT_EQ(table != nullptr, isa_available(isa)) << isa_name(isa);
    if (table == nullptr) continue;
    EXPECT_EQ(table->isa, isa);
    EXPECT_STREQ(table->name, isa_name(isa));
    EXPECT_NE(table->aggregate, nullptr);
    EXPECT_NE(table->dense, nullptr);
    EXPECT_NE(table->global_pool, nullptr);
  }
}

TEST(KernelTable, DetectPicksTheFastestAvailable) {
  const Isa detected = detect_isa();
  ASSERT_TRUE(isa_available(detected));
  if (isa_available(Isa::kAvx512)) {
    EXPECT_EQ(detected, Isa::kAvx512);
  } else if (isa_available(Isa::kAvx2)) {
    EXPECT_EQ(detected, Isa::kAvx2);
  }
  if (isa_available(Isa::kNeonDot)) {
    EXPECT_EQ(detected, Isa::kNeonDot);
  } else if (isa_available(Isa::kNeon)) {
    EXPECT_EQ(detected, Isa::kNeon);
  }
#if !defined(__x86_64__) && !defined(__aarch64__)
  EXPECT_EQ(detected, Isa::kReference);
#endif
}

TEST(KernelTable, TwinsOfTheOtherArchitectureAreNeverAvailable) {
#if defined(__aarch64__)
  EXPECT_FALSE(isa_available(Isa::kAvx2));
  EXPECT_FALSE(isa_available(Isa::kAvx512));
#else
  EXPECT_FALSE(isa_available(Isa::kNeon));
  EXPECT_FALSE(isa_available(Isa::kNeonDot));
#endif
}

// QGNN_ISA exactly as the runtime reads it. Skipped unless QGNN_ISA is set: scripts/ci_aarch64.sh runs this
// binary under emulated CPUs with QGNN_ISA and QGNN_TEST_EXPECT_ISA=available (the twins must be selected,
// so a broken CPU detection cannot pass by skipping every twin test) or =refused (a CPU without the
// extension must reject the name with the CPU message, never fall back silently).
TEST(KernelTable, EnvironmentOverrideIsHonouredOrRefused) {
  const char* name = std::getenv("QGNN_ISA");
  if (name == nullptr || name[0] == '\0') GTEST_SKIP() << "QGNN_ISA is not set";
  const char* expect = std::getenv("QGNN_TEST_EXPECT_ISA");
  const std::string expectation = expect != nullptr ? expect : "available";
  ASSERT_TRUE(expectation == "available" || expectation == "refused")
      << "QGNN_TEST_EXPECT_ISA=" << expectation;
  const IsaChoice choice = select_isa(name);
  if (expectation == "refused") {
    EXPECT_FALSE(choice.ok) << "QGNN_ISA=" << name << " was accepted";
    ASSERT_NE(choice.error, nullptr);
    EXPECT_STREQ(choice.error, "not available: this CPU does not support it") << "QGNN_ISA=" << name;
    return;
  }
  ASSERT_TRUE(choice.ok) << "QGNN_ISA=" << name << ": " << choice.error;
  EXPECT_STREQ(isa_name(choice.isa), name);
  const KernelTable* table = kernels_for(choice.isa);
  ASSERT_NE(table, nullptr);
  EXPECT_STREQ(table->name, name);
}

TEST(KernelTable, SelectHonoursOrReportsAnOverride) {
  for (const char* none : {static_cast<const char*>(nullptr), ""}) {
    const IsaChoice choice = select_isa(none);
    ASSERT_TRUE(choice.ok);
    EXPECT_EQ(choice.isa, detect_isa());
  }
  const IsaChoice reference = select_isa("reference");
  ASSERT_TRUE(reference.ok);
  EXPECT_EQ(reference.isa, Isa::kReference);
  for (Isa isa : kAllIsas) {
    const IsaChoice choice = select_isa(isa_name(isa));
    EXPECT_EQ(choice.ok, isa_available(isa)) << isa_name(isa);
    if (!choice.ok) {
      EXPECT_NE(choice.error, nullptr);
    }
  }
  const IsaChoice bogus = select_isa("avx1024");
  EXPECT_FALSE(bogus.ok);
  EXPECT_NE(bogus.error, nullptr);
}

}  // namespace
}  // namespace kernels
}  // namespace qgnn
