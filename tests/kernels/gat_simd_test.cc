// The GAT twins (KernelTable::gat_attention_terms / gat_aggregate of each ISA) against the reference, byte
// for byte, on the adversarial shapes of gat_test.cc: empty graph, isolated nodes, a hub of in-degree 10^5,
// all-equal and saturated logits (int8 and 4-bit), malformed tables, H x F not a multiple of any vector
// width, H = 1 and 8, concat and mean, bias and ReLU, int8 / int4 messages and outputs, random row splits.
// The reference itself is checked against the oracle by gat_test.cc.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "gat_test_util.h"
#include "simd_test_util.h"

namespace qgnn {
namespace kernels {
namespace {

using gattest::GatCase;
using gattest::LogitMode;
using gattest::Shape;
using simdtest::TwinTest;
using testutil::Csr;
using testutil::QMatrix;
using testutil::Rng;

class GatTwin : public TwinTest {
 protected:
  /// The twin over all rows and over a random split, each into a differently poisoned buffer, against the
  /// reference; then the twin's attention terms against the reference's.
  void check(const GatCase& c, uint64_t seed, const std::string& label) {
    SCOPED_TRACE(label);
    // The table must hold the twins, or this compares the reference with itself.
    ASSERT_NE(table()->gat_aggregate, &gat_aggregate);
    ASSERT_NE(table()->gat_attention_terms, &gat_attention_terms);
    const int32_t n = c.graph.num_nodes();
    QMatrix expected = c.make_output(0xEE);
    gat_aggregate(c.graph.view(), c.params, c.input(), expected.view(), 0, n);
    QMatrix whole = c.make_output(0x11);
    table()->gat_aggregate(c.graph.view(), c.params, c.input(), whole.view(), 0, n);
    ASSERT_TRUE(simdtest::same_rows(expected, whole, n));
    QMatrix split = c.make_output(0x77);
    Rng rng(seed);
    for (const auto& chunk : testutil::random_split(0, n, rng)) {
      table()->gat_aggregate(c.graph.view(), c.params, c.input(), split.view(), chunk.first, chunk.second);
    }
    ASSERT_TRUE(simdtest::same_rows(expected, split, n));

    const size_t slots = static_cast<size_t>(n) * static_cast<size_t>(c.shape.heads) + 1;
    std::vector<int32_t> src(slots, 3), dst(slots, 3);
    for (const auto& chunk : testutil::random_split(0, n, rng)) {
      table()->gat_attention_terms(c.input(), c.shape.heads, c.shape.head_dim, c.att_src.data(), c.att_dst.data(),
                                   src.data(), dst.data(), chunk.first, chunk.second);
    }
    src.back() = dst.back() = 0;  // the reference's extra slot
    ASSERT_EQ(src, c.src_terms);
    ASSERT_EQ(dst, c.dst_terms);
  }
};

TEST_P(GatTwin, AdversarialGraphsEveryShapeAndWidth) {
  gattest::for_each_adversarial_case(
      500, /*twin_widths=*/true,
      [&](const GatCase& c, uint64_t seed, const std::string& label) { check(c, seed, label); });
}

TEST_P(GatTwin, LogitExtremesAndMalformedTables) {
  uint64_t seed = 900;
  for (int logit_bits : {8, 4}) {
    for (LogitMode mode : {LogitMode::kAllEqual, LogitMode::kSaturated}) {
      for (Shape s : gattest::shapes(/*twin_widths=*/true)) {
        s.logits = mode;
        s.logit_bits = logit_bits;
        GatCase c;
        ++seed;
        c.build(s, testutil::RandomGraph().nodes(40).avg_degree(6).isolated_fraction(0.2).seed(seed).build(),
                seed);
        if (mode == LogitMode::kSaturated) c.params.logit_zero_point = 0;
        check(c, seed,
              std::string(mode == LogitMode::kAllEqual ? "all equal" : "saturated") + ", logits " +
                  std::to_string(logit_bits));
      }
    }
  }
  gattest::for_each_malformed_table_case(
      3, [&](const GatCase& c, uint64_t trial, const std::string& label) { check(c, trial, label); });
}

TEST_P(GatTwin, Int4MessagesOnOddColumnsAndColumnBlocks) {
  // int4 message rows hold H F nibbles: with F odd, a chunk of heads that starts on an odd head starts
  // mid-byte (7 x 101 runs in chunks of 5 heads, the second at column 505; F > 512 one head at a time) and the
  // twin unpacks it to an int8 tile; a chunk on an even column loads nibbles, an odd tail reading the next
  // head's nibble into a lane no output reads. F > 512 runs in column blocks. Messages span all of [-8, 7].
  uint64_t seed = 300;
  for (auto hf : std::vector<std::pair<int32_t, int32_t>>{{5, 7}, {3, 1}, {2, 600}, {3, 513}, {9, 31}, {7, 101}}) {
    for (bool concat : {true, false}) {
      for (int out_bits : {8, 4}) {
        Shape s;
        s.heads = hf.first;
        s.head_dim = hf.second;
        s.concat = concat;
        s.in_bits = 4;
        s.out_bits = out_bits;
        s.bias = (seed % 2) == 0;
        s.logit_bits = (seed % 3) == 0 ? 4 : 8;
        GatCase c;
        ++seed;
        c.build(s, testutil::RandomGraph().nodes(23).avg_degree(5).isolated_fraction(0.2).seed(seed).build(),
                seed);
        check(c, seed, gattest::label("int4 odd columns", s));
      }
    }
  }
  // A row longer than the logit cache (the recomputing path) with int4 messages.
  GatCase hub = gattest::hub_case(/*concat=*/false, /*relu=*/true, 33);
  hub.shape.in_bits = 4;
  hub.build(hub.shape, hub.graph, 33);
  check(hub, 6, "hub int4 mean");
}

TEST_P(GatTwin, ExtremeRescales) {
  // Shifts at both ends of [1, 62] and multipliers 0 and 2^31 - 1, in the logits and the output.
  Shape s;
  s.bias = true;
  s.heads = 3;
  s.head_dim = 11;
  for (int variant = 0; variant < 4; ++variant) {
    GatCase c;
    c.build(s, testutil::RandomGraph().nodes(25).avg_degree(4).seed(variant).build(), variant);
    for (size_t k = 0; k + 1 < c.out_shift.size(); ++k) {
      c.out_shift[k] = variant % 2 == 0 ? 62 - static_cast<int32_t>(k % 3) : 1 + static_cast<int32_t>(k % 3);
      c.out_multiplier[k] = k % 4 == 0 ? 0 : INT32_MAX;
    }
    c.params.logit_pos = Rescale{variant < 2 ? INT32_MAX : 0, variant % 2 == 0 ? 62 : 1};
    c.params.logit_neg = Rescale{INT32_MAX, variant % 2 == 0 ? 1 : 62};
    c.refresh();
    check(c, variant, "extreme rescale " + std::to_string(variant));
  }
}

TEST_P(GatTwin, HubOfDegree100000) {
  for (bool concat : {true, false}) {
    check(gattest::hub_case(concat, /*relu=*/concat, concat ? 31 : 32), 5,
          concat ? "hub concat" : "hub mean");
  }
}

TEST_P(GatTwin, RowsAroundTheLogitCacheSize) {
  // The twins keep the logits of a row of fewer than 128 in-edges on the stack and recompute longer rows
  // (gat-body.h, kCachedSources): in-degrees 0, 1 and 120..136, with duplicate sources, cover both paths
  // and the switch between them in one call.
  testutil::Csr csr;
  const int32_t nodes = 300;
  Rng rng(41);
  for (int32_t degree : {0, 1, 120, 125, 126, 127, 128, 129, 130, 136, 3}) {
    for (int32_t e = 0; e < degree; ++e) csr.col_idx.push_back(static_cast<int32_t>(rng.uniform_int(0, nodes - 1)));
    csr.row_ptr.push_back(static_cast<int32_t>(csr.col_idx.size()));
  }
  while (csr.row_ptr.size() < static_cast<size_t>(nodes) + 1) csr.row_ptr.push_back(csr.row_ptr.back());
  uint64_t seed = 77;
  for (Shape s : gattest::shapes(/*twin_widths=*/true)) {
    s.bias = (seed % 2) == 0;
    GatCase c;
    c.build(s, csr, ++seed);
    check(c, seed, "cache boundary H" + std::to_string(s.heads) + " F" + std::to_string(s.head_dim) +
                       (s.concat ? " concat" : " mean"));
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, GatTwin, ::testing::ValuesIn(simdtest::twin_isas()), simdtest::isa_label);

}  // namespace
}  // namespace kernels
}  // namespace qgnn
