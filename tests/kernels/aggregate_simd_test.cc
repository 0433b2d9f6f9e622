// The SIMD aggregate() twins against the reference, byte for byte: every mode x input bits x output bits on
// the adversarial graphs, feature widths that are not multiples of any vector width (int4 odd lengths
// included), extreme zero points, multipliers, shifts and GIN self weights, a 100k-degree hub, and random
// row splits (thread counts); and the transform-first layer's per-column bias and fused ReLU
// (AggregateParams::bias / relu) on kSum and kGcn, whose int4 tiles add the bias in pair order.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "aggregate-prefetch.h"
#include "kernel_test_util.h"
#include "simd_test_util.h"

namespace qgnn {
namespace kernels {
namespace {

using simdtest::TwinAggregate;
using testutil::Csr;
using testutil::Rng;

const std::vector<int32_t>& twin_widths() {
  // 2, 4, 8 and one past: the half-vector int8 shapes' edges (kLanes / 2 on NEON, AVX2, AVX-512); 7: Cora's
  // classes.
  static const std::vector<int32_t> widths = {1,  2,  3,  4,  5,  7,  8,  9,   15, 16,
                                              17, 31, 32, 33, 63, 64, 65, 127, 129};
  return widths;
}

const AggregateMode kModes[] = {AggregateMode::kSum, AggregateMode::kMean, AggregateMode::kMax,
                                AggregateMode::kGcn};

class AggregateSimdTest : public simdtest::TwinTest {};

/// For its lifetime every aggregation runs the prefetching loops (aggregate-prefetch.h), which otherwise only
/// inputs larger than the caches do: so they are checked on graphs small enough for many cases.
class PrefetchAlways {
 public:
  PrefetchAlways() : previous_(twins::set_aggregate_prefetch_bytes(0)) {}
  ~PrefetchAlways() { twins::set_aggregate_prefetch_bytes(previous_); }
  PrefetchAlways(const PrefetchAlways&) = delete;
  PrefetchAlways& operator=(const PrefetchAlways&) = delete;

 private:
  size_t previous_;
};

/// The largest bias magnitude the format allows (|bias| < 2^30, docs/quantization.md).
constexpr int32_t kBiasMax = (1 << 30) - 1;

enum class BiasKind {
  kScaled,  ///< random per column, about the output range after the rescale: moves outputs, rarely saturates
  kFullRange,    ///< random per column over the whole of (-2^30, 2^30)
  kMaxPositive,  ///< every column 2^30 - 1
  kMaxNegative,  ///< every column -(2^30 - 1)
  kAlternating,  ///< +-(2^30 - 1) by column parity: a bias added to the wrong pair-order lane shows
};
const BiasKind kBiasKinds[] = {BiasKind::kScaled, BiasKind::kFullRange, BiasKind::kMaxPositive,
                               BiasKind::kMaxNegative, BiasKind::kAlternating};

std::vector<int32_t> make_bias(BiasKind kind, int32_t cols, Rescale rq, Rng& rng) {
  // rescale(acc) ~ acc * 2^(31 - shift) / [1, 2): a bias of 256 * 2^(shift - 31) spans the int8 range.
  const int64_t scaled = std::max<int64_t>(
      4,
      std::min<int64_t>(kBiasMax, rq.shift >= 31 ? int64_t{256} << (rq.shift - 31) : 256 >> (31 - rq.shift)));
  std::vector<int32_t> bias(static_cast<size_t>(cols));
  for (int32_t c = 0; c < cols; ++c) {
    int64_t value = 0;
    switch (kind) {
      case BiasKind::kScaled:
        value = rng.uniform_int(-scaled, scaled);
        break;
      case BiasKind::kFullRange:
        value = rng.uniform_int(-kBiasMax, kBiasMax);
        break;
      case BiasKind::kMaxPositive:
        value = kBiasMax;
        break;
      case BiasKind::kMaxNegative:
        value = -kBiasMax;
        break;
      case BiasKind::kAlternating:
        value = c % 2 == 0 ? kBiasMax : -kBiasMax;
        break;
    }
    bias[static_cast<size_t>(c)] = static_cast<int32_t>(value);
  }
  return bias;
}

/// Output zero points that make the ReLU clamp nothing (qmin), everything (qmax), half (0) or some.
std::vector<int32_t> relu_zero_points(int out_bits, Rng& rng) {
  return {testutil::qmin_of(out_bits), testutil::qmax_of(out_bits), 0,
          static_cast<int32_t>(rng.uniform_int(testutil::qmin_of(out_bits), testutil::qmax_of(out_bits)))};
}

TEST_P(AggregateSimdTest, AdversarialGraphsAllModesAndWidths) {
  Rng rng(500 + static_cast<int>(GetParam()));
  uint64_t seed = 1;
  for (const auto& graph_case : testutil::adversarial_graphs()) {
    const bool big = graph_case.graph.num_nodes() > 500;
    const std::vector<int32_t> widths = big ? std::vector<int32_t>{1, 17, 64, 65} : twin_widths();
    for (AggregateMode mode : kModes) {
      for (int in_bits : {8, 4}) {
        for (int out_bits : {8, 4}) {
          for (int32_t cols : widths) {
            const int32_t zx = static_cast<int32_t>(rng.pick(std::vector<int64_t>{
                testutil::qmin_of(in_bits), testutil::qmax_of(in_bits), 0,
                rng.uniform_int(testutil::qmin_of(in_bits), testutil::qmax_of(in_bits))}));
            const int32_t zo = static_cast<int32_t>(
                rng.uniform_int(testutil::qmin_of(out_bits), testutil::qmax_of(out_bits)));
            const int32_t self_weight =
                mode == AggregateMode::kSum
                    ? static_cast<int32_t>(rng.pick(std::vector<int64_t>{0, 65536, 32768, 1, (1 << 23) - 1,
                                                                         rng.uniform_int(0, (1 << 23) - 1)}))
                    : 0;
            ASSERT_TRUE(TwinAggregate(table())
                            .graph(graph_case.graph)
                            .cols(cols)
                            .bits(in_bits, out_bits)
                            .zero_points(zx, zo)
                            .mode(mode)
                            .rescale(testutil::random_rescale(rng, big ? 12 : 8, 2))
                            .self_weight(self_weight)
                            .seed(seed++)
                            .check())
                << graph_case.name;
          }
        }
      }
    }
  }
}

TEST_P(AggregateSimdTest, ExtremeRescalesAndConstantInputs) {
  // The largest |x - zx| (255 / 15) in both signs, with the smallest and largest multipliers and shifts the
  // format allows (shift 1 saturates everything, shift 40 keeps fractions: every rounding path is taken).
  const Csr graph = testutil::RandomGraph()
                        .nodes(70)
                        .avg_degree(9)
                        .isolated_fraction(0.2)
                        .allow_self_loops(true)
                        .seed(7)
                        .build();
  uint64_t seed = 100;
  for (AggregateMode mode : kModes) {
    for (int in_bits : {8, 4}) {
      for (int out_bits : {8, 4}) {
        for (bool positive : {true, false}) {
          const int32_t value = positive ? testutil::qmax_of(in_bits) : testutil::qmin_of(in_bits);
          const int32_t zx = positive ? testutil::qmin_of(in_bits) : testutil::qmax_of(in_bits);
          for (int32_t multiplier : {1 << 30, INT32_MAX, 1518500250}) {
            for (int32_t shift : {1, 30, 31, 33, 37, 40}) {
              for (int32_t zo : {testutil::qmin_of(out_bits), 0, testutil::qmax_of(out_bits)}) {
                ASSERT_TRUE(TwinAggregate(table())
                                .graph(graph)
                                .cols(33)
                                .bits(in_bits, out_bits)
                                .zero_points(zx, zo)
                                .mode(mode)
                                .rescale(Rescale{multiplier, shift})
                                .self_weight(mode == AggregateMode::kSum ? (1 << 23) - 1 : 0)
                                .constant_input(value)
                                .seed(seed++)
                                .check());
              }
            }
          }
        }
      }
    }
  }
}

// int4 tiles of at most one vector of elements (Avx512: <= 16) are requantized as one joined vector
// (join_half_pairs): every short width, odd ones with pad nibbles, and the short last tile of wider rows
// (65..80, 129, 130), in every mode and output width, with saturating constant inputs, isolated nodes and
// a 5000-degree hub.
TEST_P(AggregateSimdTest, ShortInt4TilesRequantizedJoined) {
  const Csr graph = testutil::RandomGraph()
                        .nodes(60)
                        .avg_degree(3)
                        .isolated_fraction(0.2)
                        .allow_self_loops(true)
                        .seed(17)
                        .build();
  const Csr hub = testutil::star_into_center(5000);
  std::vector<int32_t> widths;
  // 1..33: int4 rows of at most 2 * kLanes elements take the two-vector pair path (aggregate-body.h,
  // reduce_tiles<2>), up to 16 (AVX2) or 32 (AVX-512) elements, and 17 / 33 the four-vector one.
  for (int32_t cols = 1; cols <= 33; ++cols) widths.push_back(cols);
  for (int32_t cols = 65; cols <= 80; ++cols) widths.push_back(cols);
  widths.push_back(129);
  widths.push_back(130);
  Rng rng(900 + static_cast<int>(GetParam()));
  uint64_t seed = 300;
  for (AggregateMode mode : kModes) {
    for (int out_bits : {8, 4}) {
      for (int32_t cols : widths) {
        for (int variant = 0; variant < 4; ++variant) {
          const bool saturate = variant == 1 || variant == 2;
          const int32_t self_weight =
              mode == AggregateMode::kSum ? (variant == 3 ? 32768 : 65536) : 0;  // GIN eps = 0 and not
          TwinAggregate twin(table());
          twin.graph(variant == 3 && cols % 8 == 1 ? hub : graph)
              .cols(cols)
              .bits(4, out_bits)
              .zero_points(saturate ? (variant == 1 ? -8 : 7) : static_cast<int32_t>(rng.uniform_int(-8, 7)),
                           static_cast<int32_t>(
                               rng.uniform_int(testutil::qmin_of(out_bits), testutil::qmax_of(out_bits))))
              .mode(mode)
              .rescale(saturate ? Rescale{INT32_MAX, 20} : testutil::random_rescale(rng, 8, 2))
              .self_weight(self_weight)
              .seed(seed++);
          if (saturate) twin.constant_input(variant == 1 ? 7 : -8);
          ASSERT_TRUE(twin.check()) << "cols " << cols << " out bits " << out_bits << " variant " << variant;
        }
      }
    }
  }
}

TEST_P(AggregateSimdTest, HubOfDegree100k) {
  // One node with 100,000 in-neighbours: the GCN int32 blocks flush many times, the mean divides by a
  // non-power of two, and the sums reach 255 * 100k.
  const Csr graph = testutil::star_into_center(100000);
  uint64_t seed = 200;
  for (AggregateMode mode : kModes) {
    for (int in_bits : {8, 4}) {
      for (int32_t cols : {3, 17, 64}) {
        for (bool constant : {false, true}) {
          TwinAggregate twin(table());
          twin.graph(graph)
              .cols(cols)
              .bits(in_bits, 8)
              .zero_points(testutil::qmin_of(in_bits), 3)
              .mode(mode)
              .rescale(Rescale{1518500250, 40})
              .self_weight(mode == AggregateMode::kSum ? 98304 : 0)
              .seed(seed++);
          if (constant) twin.constant_input(testutil::qmax_of(in_bits));
          ASSERT_TRUE(twin.check());
        }
      }
    }
  }
}

// GIN with eps = 0 (self weight 1.0 in Q16): the twins sum the self row as one more neighbour. Every
// width class (narrow, one tile, several), saturating constant inputs, isolated nodes (the self row
// alone) and a 100k hub (the self row on top of a full 16-bit nibble block).
TEST_P(AggregateSimdTest, SelfWeightOneSummedWithTheNeighbours) {
  Rng rng(900 + static_cast<int>(GetParam()));
  uint64_t seed = 900;
  std::vector<std::pair<std::string, Csr>> graphs;
  for (const auto& graph_case : testutil::adversarial_graphs()) {
    if (graph_case.graph.num_nodes() <= 500) graphs.emplace_back(graph_case.name, graph_case.graph);
  }
  graphs.emplace_back("hub", testutil::star_into_center(100000));
  for (const auto& [name, graph] : graphs) {
    const bool hub = name == "hub";
    for (int in_bits : {8, 4}) {
      for (int out_bits : {8, 4}) {
        for (int32_t cols : hub ? std::vector<int32_t>{7, 64} : std::vector<int32_t>{1, 7, 32, 33, 64, 130}) {
          for (bool constant : {false, true}) {
            const int32_t qmax = testutil::qmax_of(in_bits), qmin = testutil::qmin_of(in_bits);
            TwinAggregate twin(table());
            twin.graph(graph)
                .cols(cols)
                .bits(in_bits, out_bits)
                .zero_points(constant ? qmin : static_cast<int32_t>(rng.uniform_int(qmin, qmax)),
                             static_cast<int32_t>(
                                 rng.uniform_int(testutil::qmin_of(out_bits), testutil::qmax_of(out_bits))))
                .mode(AggregateMode::kSum)
                .rescale(testutil::random_rescale(rng, hub ? 12 : 8, 2))
                .self_weight(1 << 16)
                .seed(seed++);
            if (constant) twin.constant_input(qmax);
            ASSERT_TRUE(twin.check()) << name << " cols " << cols;
          }
        }
      }
    }
  }
}

// Wide int8 rows are summed / maxed as biased bytes (x + 128) in 16-bit lanes, flushed every 256 rows
// with the self row on top of the first block (257 * 255 = 65535: one more row would wrap), and the
// biased sums' offset is folded into the requantization's round term when the rescale has a 32-bit form
// (high_rescale: shifts 31..54 here, 55 has none). Degrees around the block edges, constant inputs at
// both ends (every lane 255 or 0 biased), zero points at both ends, saturating and tiny rescales, widths
// just past each ISA's pair-order threshold (2 * kLanes: 8, 16, 32) and with remainder tiles.
TEST_P(AggregateSimdTest, WideInt8RowsAtThe16BitBlockEdges) {
  std::vector<std::vector<int32_t>> sources;
  for (int32_t degree : {0, 1, 255, 256, 257, 511, 512, 513}) {
    const int32_t node = static_cast<int32_t>(sources.size());
    std::vector<int32_t> in;
    for (int32_t k = 0; k < degree; ++k) in.push_back((node + 1 + k) % 600);
    sources.push_back(in);
  }
  sources.resize(600);
  const Csr graph = Csr::from_in_neighbours(sources);
  uint64_t seed = 1500;
  for (AggregateMode mode : {AggregateMode::kSum, AggregateMode::kMean, AggregateMode::kMax}) {
    for (int32_t cols : {9, 17, 33, 64, 65, 100}) {
      for (int32_t constant : {0, 127, -128}) {
        for (Rescale rq : {Rescale{1 << 30, 31}, Rescale{INT32_MAX, 31}, Rescale{1518500250, 35},
                           Rescale{INT32_MAX, 54}, Rescale{1 << 30, 55}, Rescale{1 << 30, 20}}) {
          for (int32_t zx : {-128, 127}) {
            for (int32_t zo : {-128, 127}) {
              for (int32_t self_weight : {0, 1 << 16, 98304}) {
                if (mode != AggregateMode::kSum && self_weight != 0) continue;
                // A mean adds ceil(log2(degree)) to the shift: layers' shifts stop at 40 (quantization.md).
                if (mode == AggregateMode::kMean && rq.shift > 40) continue;
                TwinAggregate twin(table());
                twin.graph(graph)
                    .cols(cols)
                    .bits(8, 8)
                    .zero_points(zx, zo)
                    .mode(mode)
                    .rescale(rq)
                    .self_weight(self_weight)
                    .seed(seed++);
                if (constant != 0) twin.constant_input(constant);
                ASSERT_TRUE(twin.check())
                    << "cols " << cols << " constant " << constant << " rq " << rq.multiplier << "/"
                    << rq.shift << " zx " << zx << " zo " << zo << " self " << self_weight;
              }
            }
          }
        }
      }
    }
  }
}

// The graph of the wide sums' loop tests: 700 nodes, the first 17 of degrees 0 to 9, 256 and 257 (with the
// self row the loop's 16-bit limit, kMaxRows) and 258 / 600 (hubs the generic loop takes, in the same
// calls), the rest of random degrees 0 to 9.
Csr wide_loop_graph(Rng& rng) {
  std::vector<std::vector<int32_t>> sources;
  const auto add_node = [&](int64_t degree) {
    std::vector<int32_t> in;
    for (int64_t k = 0; k < degree; ++k) in.push_back(static_cast<int32_t>(rng.uniform_int(0, 699)));
    sources.push_back(in);
  };
  for (int32_t degree : {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 256, 257, 258, 600, 3, 0, 2}) add_node(degree);
  while (sources.size() < 700) add_node(rng.uniform_int(0, 9));
  return Csr::from_in_neighbours(sources);
}

// The wide int8 sum's own row loop (aggregate-wide.h: int8 -> int8 kSum, self weight 0 or 1.0, no bias,
// rescales with the 32-bit form): every width from just past the pair-order threshold (2 * kLanes) to 200,
// so every tail of a last tile of 64 (AVX-512) and 32 (AVX2) columns and one to three whole tiles; degrees
// 0 to 9 (even and odd: two neighbours per step and the one left over), 256 and 257 (with the self row the
// loop's 16-bit limit, kMaxRows) and 258 / 600 (hubs the generic loop takes, in the same calls); zero
// points at both ends with a fused ReLU's floor, inputs constant at -128 / 127 and rescales that saturate
// either way or are tiny.
TEST_P(AggregateSimdTest, WideInt8SumLoopEveryWidthAndDegree) {
  Rng rng(1700 + static_cast<int>(GetParam()));
  const Csr graph = wide_loop_graph(rng);
  uint64_t seed = 1700;
  // ~0.044 (a sum of a few rows spans the output range), ~1 (saturates either way), 2^-15, ~2^-23.
  const Rescale rescales[] = {Rescale{1518500250, 35}, Rescale{INT32_MAX, 31}, Rescale{1 << 30, 45},
                              Rescale{INT32_MAX, 54}};
  // Zero points at an end a quarter of the time each; otherwise random.
  const auto zero_point = [&rng]() {
    const int64_t pick = rng.uniform_int(0, 3);
    return pick == 0 ? -128 : pick == 1 ? 127 : static_cast<int32_t>(rng.uniform_int(-128, 127));
  };
  for (int32_t cols = 17; cols <= 200; ++cols) {
    for (int32_t self_weight : {0, 1 << 16}) {
      for (const Rescale& rq : rescales) {
        TwinAggregate twin(table());
        twin.graph(graph)
            .cols(cols)
            .bits(8, 8)
            .zero_points(zero_point(), zero_point())
            .mode(AggregateMode::kSum)
            .rescale(rq)
            .self_weight(self_weight)
            .relu(rng.chance(0.5))
            .seed(seed);
        if (seed % 7 == 0) twin.constant_input(seed % 2 == 0 ? 127 : -128);
        ++seed;
        ASSERT_TRUE(twin.check()) << "cols " << cols << " self " << self_weight;
      }
    }
  }
}

// The wide int4 sum's own row loop (aggregate-wide4.h: packed int4 -> int4 or int8 kSum, self weight 0 or
// 1.0, no bias, the 32-bit requantization form) against the reference on the graph of
// WideInt8SumLoopEveryWidthAndDegree: every width 17..200, odd ones too (a last tile ending mid-byte, whose
// int4 output's pad nibble must stay 0), so every tail of a last tile of 64 (AVX-512) and 32 (AVX2) columns
// and one to three whole tiles; degrees 0 to 9, 256 and 257 (with the self row the loop's 16-bit limit,
// kMaxRows) and 258 / 600 (hubs the generic loop takes, in the same calls); zero points at both ends with a
// fused ReLU's floor, inputs constant at -8 / 7 and rescales that saturate either way or are tiny.
TEST_P(AggregateSimdTest, WideInt4SumLoopEveryWidthAndDegree) {
  Rng rng(1900 + static_cast<int>(GetParam()));
  const Csr graph = wide_loop_graph(rng);
  uint64_t seed = 1900;
  // ~0.7 (a sum of a few int4 rows spans the int4 output range), ~0.5 (saturates int8 output either way
  // at the high degrees), 2^-15 and ~2^-23 have the 32-bit form the loop needs; ~1 has not (the generic
  // loop takes those calls: the same bytes either way).
  const Rescale rescales[] = {Rescale{1518500250, 31}, Rescale{INT32_MAX, 32}, Rescale{INT32_MAX, 31},
                              Rescale{1 << 30, 45}, Rescale{INT32_MAX, 54}};
  for (int32_t cols = 17; cols <= 200; ++cols) {
    for (int out_bits : {4, 8}) {
      // Zero points at an end a quarter of the time each; otherwise random.
      const auto zero_point = [&rng](int bits) {
        const int64_t pick = rng.uniform_int(0, 3);
        return pick == 0 ? testutil::qmin_of(bits)
               : pick == 1
                   ? testutil::qmax_of(bits)
                   : static_cast<int32_t>(rng.uniform_int(testutil::qmin_of(bits), testutil::qmax_of(bits)));
      };
      for (int32_t self_weight : {0, 1 << 16}) {
        for (const Rescale& rq : rescales) {
          TwinAggregate twin(table());
          twin.graph(graph)
              .cols(cols)
              .bits(4, out_bits)
              .zero_points(zero_point(4), zero_point(out_bits))
              .mode(AggregateMode::kSum)
              .rescale(rq)
              .self_weight(self_weight)
              .relu(rng.chance(0.5))
              .seed(seed);
          if (seed % 7 == 0) twin.constant_input(seed % 2 == 0 ? 7 : -8);
          ++seed;
          ASSERT_TRUE(twin.check()) << "cols " << cols << " out bits " << out_bits << " self " << self_weight;
        }
      }
    }
  }
}

// Whole pair-order tiles with int8 output are clamped by saturating packs and stored at once
// (V::store_s8_pair_tile): every tail length of a last tile of more than kLanes elements on each ISA (33..64
// and 65..128 columns cover AVX-512's, AVX2's and NEON's), values far outside int16 before the clamp
// (rescales of 2^10 and 2^-1 on saturated inputs) in both requantization forms (2^-1 has the 32-bit form,
// 2^10 not), a fused ReLU's floors (zero points -128, -1, 0, 100), with and without a bias, from int8 and
// int4 rows.
TEST_P(AggregateSimdTest, WholePairTilesPackedAndClamped) {
  const Csr graph = testutil::RandomGraph()
                        .nodes(40)
                        .avg_degree(6)
                        .isolated_fraction(0.1)
                        .allow_self_loops(true)
                        .seed(77)
                        .build();
  Rng rng(1700 + static_cast<int>(GetParam()));
  uint64_t seed = 1700;
  for (int32_t cols = 33; cols <= 130; ++cols) {
    for (int in_bits : {8, 4}) {
      for (AggregateMode mode : {AggregateMode::kSum, AggregateMode::kMax, AggregateMode::kMean}) {
        const Rescale rq = (cols % 2 == 0) ? Rescale{1 << 30, 20} : Rescale{1 << 30, 31};
        const int32_t zo = std::vector<int32_t>{-128, -1, 0, 100}[static_cast<size_t>(cols % 4)];
        const bool relu = cols % 3 != 0;
        const int32_t constant = std::vector<int32_t>{0, 0, 127, -128}[static_cast<size_t>(cols % 4)];
        TwinAggregate twin(table());
        twin.graph(graph)
            .cols(cols)
            .bits(in_bits, 8)
            .zero_points(
                static_cast<int32_t>(rng.uniform_int(testutil::qmin_of(in_bits), testutil::qmax_of(in_bits))),
                zo)
            .mode(mode)
            .rescale(rq)
            .self_weight(mode == AggregateMode::kSum ? 65536 : 0)
            .relu(relu)
            .seed(seed++);
        if (constant != 0) twin.constant_input(in_bits == 8 ? constant : constant / 16);
        if (mode == AggregateMode::kSum && cols % 5 == 0)
          twin.bias(make_bias(kBiasKinds[(cols / 5) % 5], cols, rq, rng));
        ASSERT_TRUE(twin.check()) << "cols " << cols << " in_bits " << in_bits << " mode "
                                  << static_cast<int>(mode) << " zo " << zo << " relu " << relu;
      }
    }
  }
}

TEST_P(AggregateSimdTest, CoraWidthOnRandomGraph) {
  // 1433 features (Cora's first layer): many full tiles and a ragged, odd tail.
  const Csr graph = testutil::RandomGraph().nodes(60).avg_degree(4).isolated_fraction(0.1).seed(9).build();
  Rng rng(300);
  uint64_t seed = 300;
  for (AggregateMode mode : kModes) {
    for (int in_bits : {8, 4}) {
      for (int out_bits : {8, 4}) {
        ASSERT_TRUE(TwinAggregate(table())
                        .graph(graph)
                        .cols(1433)
                        .bits(in_bits, out_bits)
                        .zero_points(static_cast<int32_t>(rng.uniform_int(testutil::qmin_of(in_bits),
                                                                          testutil::qmax_of(in_bits))),
                                     static_cast<int32_t>(rng.uniform_int(testutil::qmin_of(out_bits),
                                                                          testutil::qmax_of(out_bits))))
                        .mode(mode)
                        .rescale(testutil::random_rescale(rng, 8, 2))
                        .self_weight(mode == AggregateMode::kSum ? 70001 : 0)
                        .seed(seed++)
                        .check());
      }
    }
  }
}

TEST_P(AggregateSimdTest, ZeroColumnsAndEmptyRanges) {
  const Csr graph = testutil::RandomGraph().nodes(10).avg_degree(3).seed(3).build();
  for (AggregateMode mode : kModes) {
    ASSERT_TRUE(TwinAggregate(table()).graph(graph).cols(0).mode(mode).check());
    ASSERT_TRUE(TwinAggregate(table()).graph(Csr{}).cols(5).bits(4, 4).mode(mode).check());
  }
}

// The prefetching loops (forced here; by default only inputs larger than the caches run them) read the row
// SpmmTwin::kAhead (64) edges ahead in the CSR, past the row's end into the next rows' neighbours, up to the
// last edge of the call's rows: rows of degree 0, 1 and around 64 (a prefetch that starts, ends or crosses
// exactly at a row end), a 100k hub whose later tiles prefetch within the row, widths whose rows are longer
// than the prefetched head (int8 300, int4 600: tiles past its 256 bytes), with and without the bias (the
// kBias loops), and random row splits (check()), so a call that reads an index past its rows' edges is
// caught by ASan (col_idx is sized exactly) and any change to the sums by the byte comparison.
TEST_P(AggregateSimdTest, PrefetchAcrossRowEndsAndSplits) {
  const PrefetchAlways prefetch;
  Rng rng(1500 + static_cast<int>(GetParam()));
  const std::vector<int32_t> degrees = {0, 1, 63, 64, 65, 0, 0, 130, 2, 0, 1, 200, 0, 64, 3, 127, 128, 129};
  const int32_t nodes = 3 * static_cast<int32_t>(degrees.size());
  std::vector<std::vector<int32_t>> sources;
  for (int32_t node = 0; node < nodes; ++node) {
    std::vector<int32_t> list(static_cast<size_t>(degrees[static_cast<size_t>(node) % degrees.size()]));
    for (int32_t& source : list) source = static_cast<int32_t>(rng.uniform_int(0, nodes - 1));
    sources.push_back(std::move(list));
  }
  std::vector<std::pair<Csr, std::vector<int32_t>>> cases;
  cases.emplace_back(Csr::from_in_neighbours(sources),
                     std::vector<int32_t>{1, 7, 15, 16, 17, 33, 64, 65, 257, 300, 513, 600});
  // The hub last, so its prefetch runs to the very end of col_idx.
  std::vector<std::vector<int32_t>> hub(3);
  hub.push_back(std::vector<int32_t>(100000));
  for (int32_t& source : hub.back()) source = static_cast<int32_t>(rng.uniform_int(0, 3));
  cases.emplace_back(Csr::from_in_neighbours(hub), std::vector<int32_t>{7, 65, 600});
  uint64_t seed = 1;
  for (const auto& [graph, widths] : cases) {
    for (AggregateMode mode : kModes) {
      for (int in_bits : {8, 4}) {
        for (int out_bits : {8, 4}) {
          for (int32_t cols : widths) {
            const int32_t zx =
                static_cast<int32_t>(rng.uniform_int(testutil::qmin_of(in_bits), testutil::qmax_of(in_bits)));
            const int32_t zo = static_cast<int32_t>(
                rng.uniform_int(testutil::qmin_of(out_bits), testutil::qmax_of(out_bits)));
            const Rescale rq = testutil::random_rescale(rng, graph.num_nodes() > 10 ? 8 : 14, 2);
            TwinAggregate twin(table());
            twin.graph(graph)
                .cols(cols)
                .bits(in_bits, out_bits)
                .zero_points(zx, zo)
                .mode(mode)
                .rescale(rq)
                .self_weight(mode == AggregateMode::kSum ? 65536 : 0)
                .seed(seed++);
            const bool biased = (mode == AggregateMode::kSum || mode == AggregateMode::kGcn) && seed % 2 == 0;
            if (biased) twin.bias(make_bias(BiasKind::kScaled, cols, rq, rng));
            ASSERT_TRUE(twin.check())
                << "nodes " << graph.num_nodes() << " cols " << cols << " bias " << biased;
          }
        }
      }
    }
  }
}

// Inputs of at least twins::kAggregatePrefetchBytes run the prefetching loops by default: 300k nodes at 64
// int8 / 65 int4 columns (19 / 9.9 MB), degrees mostly 0-3 with some around the prefetch distance (63-65,
// 127-129), every mode and width pair, random row splits; col_idx is sized exactly (ASan), and the last rows
// have neighbours, so the prefetch runs to the end of the edges.
TEST_P(AggregateSimdTest, PrefetchAcrossRowsOnLargeInputs) {
  Rng rng(1600 + static_cast<int>(GetParam()));
  const int32_t nodes = 300000;
  std::vector<std::vector<int32_t>> sources(static_cast<size_t>(nodes));
  for (int32_t node = 0; node < nodes; ++node) {
    const bool long_row = rng.chance(0.02) || node >= nodes - 3;
    const int64_t degree = long_row ? rng.pick(std::vector<int64_t>{63, 64, 65, 127, 128, 129})
                                    : rng.pick(std::vector<int64_t>{0, 0, 1, 2, 3});
    for (int64_t k = 0; k < degree; ++k) {
      sources[static_cast<size_t>(node)].push_back(static_cast<int32_t>(rng.uniform_int(0, nodes - 1)));
    }
  }
  const Csr graph = Csr::from_in_neighbours(sources);
  ASSERT_TRUE(twins::aggregate_prefetches(size_t{300000} * 33)) << "the input runs the prefetching loops";
  uint64_t seed = 1;
  for (AggregateMode mode : kModes) {
    for (int in_bits : {8, 4}) {
      for (int out_bits : {8, 4}) {
        const int32_t cols = in_bits == 8 ? 64 : 65;
        ASSERT_TRUE(TwinAggregate(table())
                        .graph(graph)
                        .cols(cols)
                        .bits(in_bits, out_bits)
                        .zero_points(static_cast<int32_t>(rng.uniform_int(testutil::qmin_of(in_bits),
                                                                          testutil::qmax_of(in_bits))),
                                     static_cast<int32_t>(rng.uniform_int(testutil::qmin_of(out_bits),
                                                                          testutil::qmax_of(out_bits))))
                        .mode(mode)
                        .rescale(testutil::random_rescale(rng, 8, 2))
                        .self_weight(mode == AggregateMode::kSum ? 65536 : 0)
                        .seed(seed++)
                        .check())
            << "cols " << cols;
      }
    }
  }
}

// The choice of loops: inputs from the threshold up prefetch, smaller ones not (Cora and PubMed at 64 int8
// features, 0.17 and 1.3 MB, fit the L2 and must not pay for it); PrefetchAlways lowers it and restores it.
TEST(AggregatePrefetchTest, ThresholdChoosesTheLoops) {
  EXPECT_FALSE(twins::aggregate_prefetches(size_t{19717} * 64));
  EXPECT_FALSE(twins::aggregate_prefetches(twins::kAggregatePrefetchBytes - 1));
  EXPECT_TRUE(twins::aggregate_prefetches(twins::kAggregatePrefetchBytes));
  {
    const PrefetchAlways prefetch;
    EXPECT_TRUE(twins::aggregate_prefetches(0));
  }
  EXPECT_FALSE(twins::aggregate_prefetches(twins::kAggregatePrefetchBytes - 1));
}

TEST_P(AggregateSimdTest, RandomGraphsManySplits) {
  Rng rng(700);
  for (int trial = 0; trial < 60; ++trial) {
    const Csr graph = testutil::RandomGraph()
                          .nodes(static_cast<int32_t>(rng.uniform_int(1, 120)))
                          .avg_degree(rng.uniform_real(0, 12))
                          .isolated_fraction(rng.uniform_real(0, 0.5))
                          .allow_self_loops(rng.chance(0.5))
                          .seed(static_cast<uint64_t>(trial) + 1000)
                          .build();
    const int in_bits = rng.chance(0.5) ? 8 : 4, out_bits = rng.chance(0.5) ? 8 : 4;
    const AggregateMode mode = kModes[rng.uniform_int(0, 3)];
    ASSERT_TRUE(
        TwinAggregate(table())
            .graph(graph)
            .cols(static_cast<int32_t>(rng.uniform_int(1, 200)))
            .bits(in_bits, out_bits)
            .zero_points(
                static_cast<int32_t>(rng.uniform_int(testutil::qmin_of(in_bits), testutil::qmax_of(in_bits))),
                static_cast<int32_t>(
                    rng.uniform_int(testutil::qmin_of(out_bits), testutil::qmax_of(out_bits))))
            .mode(mode)
            .rescale(testutil::random_rescale(rng, 10, 3))
            .self_weight(mode == AggregateMode::kSum ? static_cast<int32_t>(rng.uniform_int(0, (1 << 23) - 1))
                                                     : 0)
            .seed(static_cast<uint64_t>(trial))
            .check());
  }
}

// Bias (kSum incl. GIN's self term, kGcn) and ReLU (every mode) on the adversarial graphs (empty, degree 0,
// self-loops, 3000-degree hub), every width class of both tile orders, both input and output widths,
// zero points at qmin / qmax / 0, and every bias kind; kMean / kMax take the ReLU without a bias.
TEST_P(AggregateSimdTest, BiasAndReluAllModesAndWidths) {
  Rng rng(1100 + static_cast<int>(GetParam()));
  uint64_t seed = 1100;
  for (const auto& graph_case : testutil::adversarial_graphs()) {
    const bool big = graph_case.graph.num_nodes() > 500;
    const std::vector<int32_t> widths =
        big ? std::vector<int32_t>{1, 17, 64, 65} : std::vector<int32_t>{1, 7, 15, 16, 17, 31, 33, 64, 65};
    for (AggregateMode mode : kModes) {
      const bool biased = mode == AggregateMode::kSum || mode == AggregateMode::kGcn;
      for (int in_bits : {8, 4}) {
        for (int out_bits : {8, 4}) {
          for (int32_t cols : widths) {
            const int32_t zx = static_cast<int32_t>(rng.pick(std::vector<int64_t>{
                testutil::qmin_of(in_bits), testutil::qmax_of(in_bits),
                rng.uniform_int(testutil::qmin_of(in_bits), testutil::qmax_of(in_bits))}));
            const uint64_t case_seed = seed++;
            const Rescale rq = testutil::random_rescale(rng, big ? 12 : 8, 2);
            const BiasKind kind = kBiasKinds[case_seed % 5];
            const int32_t zo = relu_zero_points(out_bits, rng)[case_seed % 4];
            TwinAggregate twin(table());
            twin.graph(graph_case.graph)
                .cols(cols)
                .bits(in_bits, out_bits)
                .zero_points(zx, zo)
                .mode(mode)
                .rescale(rq)
                .self_weight(mode == AggregateMode::kSum ? static_cast<int32_t>(rng.pick(std::vector<int64_t>{
                                                               0, 65536, 32768, (1 << 23) - 1}))
                                                         : 0)
                .relu(case_seed % 3 != 0)
                .seed(case_seed);
            if (biased) twin.bias(make_bias(kind, cols, rq, rng));
            ASSERT_TRUE(twin.check()) << graph_case.name;
          }
        }
      }
    }
  }
}

// Every bias kind x ReLU x output zero point on one graph with isolated nodes and self-loops, for the
// widths of int4 odd lengths and both sides of each tile boundary: every lane of both orders sees a bias.
TEST_P(AggregateSimdTest, EveryBiasKindReluAndZeroPoint) {
  const Csr graph = testutil::RandomGraph()
                        .nodes(50)
                        .avg_degree(4)
                        .isolated_fraction(0.2)
                        .allow_self_loops(true)
                        .seed(23)
                        .build();
  Rng rng(1200 + static_cast<int>(GetParam()));
  uint64_t seed = 1200;
  for (AggregateMode mode : {AggregateMode::kSum, AggregateMode::kGcn}) {
    for (int in_bits : {8, 4}) {
      for (int out_bits : {8, 4}) {
        for (int32_t cols : {1, 7, 16, 31, 33, 65}) {
          for (BiasKind kind : kBiasKinds) {
            for (int32_t zo : relu_zero_points(out_bits, rng)) {
              for (bool relu : {false, true}) {
                const Rescale rq = testutil::random_rescale(rng, 8, 2);
                ASSERT_TRUE(TwinAggregate(table())
                                .graph(graph)
                                .cols(cols)
                                .bits(in_bits, out_bits)
                                .zero_points(static_cast<int32_t>(rng.uniform_int(
                                                 testutil::qmin_of(in_bits), testutil::qmax_of(in_bits))),
                                             zo)
                                .mode(mode)
                                .rescale(rq)
                                .self_weight(mode == AggregateMode::kSum ? 65536 : 0)
                                .bias(make_bias(kind, cols, rq, rng))
                                .relu(relu)
                                .seed(seed++)
                                .check());
              }
            }
          }
        }
      }
    }
  }
}

// The largest accumulators a test can reach plus the largest bias, in both signs: a 100k-degree hub of
// saturated inputs (|acc| = 255 * 100k for the sum, GCN's t near its bound) against +-(2^30 - 1), and a
// scaled random bias on random inputs. Few cases: each one runs 100,001 rows (slow under qemu-aarch64).
TEST_P(AggregateSimdTest, BiasOnHubOfDegree100k) {
  const Csr graph = testutil::star_into_center(100000);
  uint64_t seed = 1300;
  Rng rng(1300);
  for (AggregateMode mode : {AggregateMode::kSum, AggregateMode::kGcn}) {
    for (int in_bits : {8, 4}) {
      // Each mode sees both extreme signs, one per input width.
      const bool positive_bias = (in_bits == 8) == (mode == AggregateMode::kSum);
      const BiasKind extreme = positive_bias ? BiasKind::kMaxPositive : BiasKind::kMaxNegative;
      for (BiasKind kind : {BiasKind::kScaled, extreme}) {
        const bool scaled = kind == BiasKind::kScaled;
        // int4 output on an odd width for the random case, int8 over more than one tile for the extreme one.
        const int32_t cols = scaled ? 17 : (mode == AggregateMode::kSum ? 64 : 3);
        const int out_bits = scaled ? 4 : 8;
        const Rescale rq{1518500250, 40};
        TwinAggregate twin(table());
        twin.graph(graph)
            .cols(cols)
            .bits(in_bits, out_bits)
            // The sum against the bias: inputs at qmax over zx = qmin for a negative bias, and vice versa.
            .zero_points(positive_bias ? testutil::qmax_of(in_bits) : testutil::qmin_of(in_bits), 1)
            .mode(mode)
            .rescale(rq)
            .self_weight(mode == AggregateMode::kSum ? 98304 : 0)
            .bias(make_bias(kind, cols, rq, rng))
            .relu(true)
            .seed(seed++);
        if (!scaled)
          twin.constant_input(positive_bias ? testutil::qmin_of(in_bits) : testutil::qmax_of(in_bits));
        ASSERT_TRUE(twin.check()) << "mode " << static_cast<int>(mode) << " in bits " << in_bits;
      }
    }
  }
}

// Cora's first-layer width (1433: many full tiles and a ragged odd tail) with a bias and the ReLU.
TEST_P(AggregateSimdTest, BiasAndReluCoraWidth) {
  const Csr graph = testutil::RandomGraph().nodes(40).avg_degree(4).isolated_fraction(0.1).seed(19).build();
  Rng rng(1400);
  uint64_t seed = 1400;
  for (AggregateMode mode : {AggregateMode::kSum, AggregateMode::kGcn}) {
    for (int in_bits : {8, 4}) {
      for (int out_bits : {8, 4}) {
        const Rescale rq = testutil::random_rescale(rng, 8, 2);
        ASSERT_TRUE(TwinAggregate(table())
                        .graph(graph)
                        .cols(1433)
                        .bits(in_bits, out_bits)
                        .zero_points(static_cast<int32_t>(rng.uniform_int(testutil::qmin_of(in_bits),
                                                                          testutil::qmax_of(in_bits))),
                                     static_cast<int32_t>(rng.uniform_int(testutil::qmin_of(out_bits),
                                                                          testutil::qmax_of(out_bits))))
                        .mode(mode)
                        .rescale(rq)
                        .self_weight(mode == AggregateMode::kSum ? 70001 : 0)
                        .bias(make_bias(BiasKind::kScaled, 1433, rq, rng))
                        .relu(true)
                        .seed(seed++)
                        .check());
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, AggregateSimdTest, ::testing::ValuesIn(simdtest::twin_isas()),
                         simdtest::isa_label);

}  // namespace
}  // namespace kernels
}  // namespace qgnn
