// Aggregation rows cut by edge count (PartitionRowsByEdges): the chunks tile the rows, balance edges + rows
// on a power-law graph with one huge hub far better than equal row counts do, and outputs are identical for
// 1, 2, 3 and 7 threads on such a graph (quantized, and float on both FP32 backends).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "parallel.h"
#include "test_util.h"

namespace qgnn {
namespace test {
namespace {

using runtime::kMaxPartitionChunks;
using runtime::kMinChunkWork;
using runtime::PartitionRowsByEdges;
using runtime::RowPartition;

// One graph, node 0 a hub fed by every other node, the rest with power-law in-degrees (preferential
// attachment: sources drawn from earlier edges' endpoints), features in [-2, 2] / int8.
Graph PowerLawGraph(uint32_t seed, uint32_t nodes, int32_t dim) {
  std::mt19937 rng(seed);
  std::vector<std::vector<int32_t>> in(nodes);
  std::vector<int32_t> endpoints = {0};
  for (uint32_t v = 1; v < nodes; ++v) {
    in[0].push_back(static_cast<int32_t>(v));  // the hub
    const int edges = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edges; ++e) {
      const int32_t target = endpoints[rng() % endpoints.size()];
      in[static_cast<size_t>(target)].push_back(static_cast<int32_t>(v));
      in[v].push_back(target);
      endpoints.push_back(target);
      endpoints.push_back(static_cast<int32_t>(v));
    }
  }
  Graph g;
  g.num_nodes = nodes;
  g.num_graphs = 1;
  g.feature_dim = dim;
  g.graph_ptr = {0, static_cast<int32_t>(nodes)};
  for (uint32_t v = 0; v < nodes; ++v) {
    g.col_idx.insert(g.col_idx.end(), in[v].begin(), in[v].end());
    g.row_ptr.push_back(static_cast<int32_t>(g.col_idx.size()));
  }
  std::uniform_real_distribution<float> feature(-2.0f, 2.0f);
  std::uniform_int_distribution<int> q(-128, 127);
  for (size_t i = 0; i < static_cast<size_t>(nodes) * dim; ++i) {
    g.features_f32.push_back(feature(rng));
    g.features_i8.push_back(static_cast<int8_t>(q(rng)));
  }
  return g;
}

int64_t Work(const std::vector<int32_t>& row_ptr, int32_t begin, int32_t end) {
  return static_cast<int64_t>(row_ptr[end]) - row_ptr[begin] + (end - begin);
}

// The chunks are non-empty, contiguous and cover [0, rows); returns the heaviest chunk's work.
int64_t CheckTiling(const std::vector<int32_t>& row_ptr, const RowPartition& p) {
  const int32_t rows = static_cast<int32_t>(row_ptr.size()) - 1;
  EXPECT_GE(p.chunks, 1);
  EXPECT_EQ(p.bounds[0], 0);
  EXPECT_EQ(p.bounds[p.chunks], rows);
  int64_t heaviest = 0;
  for (int32_t i = 0; i < p.chunks; ++i) {
    EXPECT_LT(p.bounds[i], p.bounds[i + 1]) << "chunk " << i << " is empty";
    heaviest = std::max(heaviest, Work(row_ptr, p.bounds[i], p.bounds[i + 1]));
  }
  return heaviest;
}

TEST(EdgePartition, BalancesEdgesOnAPowerLawGraphWithAHub) {
  const Graph g = PowerLawGraph(7, 20000, 1);
  const int32_t rows = static_cast<int32_t>(g.num_nodes);
  const int64_t total = Work(g.row_ptr, 0, rows);
  const int64_t hub = Work(g.row_ptr, 0, 1);
  int64_t heaviest_tail_row = 0;
  for (int32_t r = 1; r < rows; ++r)
    heaviest_tail_row = std::max(heaviest_tail_row, Work(g.row_ptr, r, r + 1));
  ASSERT_GT(hub, total / 8) << "the hub should hold a large share of the work";
  ASSERT_LT(heaviest_tail_row * 100, total) << "only the hub should be heavy";
  for (int32_t chunks : {2, 4, 8, 12, 28, 64}) {
    SCOPED_TRACE(chunks);
    RowPartition p;
    PartitionRowsByEdges(g.row_ptr.data(), rows, chunks, &p);
    EXPECT_EQ(p.chunks, chunks);
    const int64_t heaviest = CheckTiling(g.row_ptr, p);
    // A cut falls between rows, so a chunk exceeds its equal share by at most about one row: the hub when it
    // is larger than a share, otherwise an ordinary row.
    const int64_t share = (total + chunks - 1) / chunks;
    EXPECT_LE(heaviest, std::max(hub, share + heaviest_tail_row));
    if (hub >= share) {
      // The hub is a chunk of its own, and the others split the rest equally (within a row).
      EXPECT_EQ(p.bounds[1], 1);
      EXPECT_EQ(heaviest, hub);
      const int64_t rest_share = (total - hub + chunks - 2) / (chunks - 1);
      for (int32_t i = 1; i < p.chunks; ++i) {
        EXPECT_LE(Work(g.row_ptr, p.bounds[i], p.bounds[i + 1]), rest_share + heaviest_tail_row)
            << "chunk " << i;
      }
    }
    // Equal row counts put the hub and a full share of the other rows into the first chunk.
    const int32_t per = (rows + chunks - 1) / chunks;
    int64_t heaviest_by_rows = 0;
    for (int32_t b = 0; b < rows; b += per) {
      heaviest_by_rows = std::max(heaviest_by_rows, Work(g.row_ptr, b, std::min(rows, b + per)));
    }
    EXPECT_GT(heaviest_by_rows, heaviest);
  }
}

TEST(EdgePartition, UniformGraphGetsEqualWork) {
  std::vector<int32_t> row_ptr(1001);
  for (int32_t r = 0; r <= 1000; ++r) row_ptr[r] = 3 * r;  // every row: 3 edges + itself = work 4
  RowPartition p;
  PartitionRowsByEdges(row_ptr.data(), 1000, 8, &p);
  ASSERT_EQ(p.chunks, 8);
  CheckTiling(row_ptr, p);
  for (int32_t i = 0; i < p.chunks; ++i) EXPECT_EQ(p.bounds[i + 1] - p.bounds[i], 125) << "chunk " << i;
}

TEST(EdgePartition, EdgeCases) {
  RowPartition p;
  const std::vector<int32_t> none = {0};
  PartitionRowsByEdges(none.data(), 0, 8, &p);
  EXPECT_EQ(p.chunks, 0);
  // One row: one chunk, whatever is asked for.
  const std::vector<int32_t> one = {0, 1000};
  PartitionRowsByEdges(one.data(), 1, 8, &p);
  EXPECT_EQ(p.chunks, 1);
  CheckTiling(one, p);
  // Too little work to share: one chunk.
  std::vector<int32_t> small(11, 0);
  PartitionRowsByEdges(small.data(), 10, 8, &p);
  EXPECT_EQ(p.chunks, 1);
  // Rows without edges still count (each writes its output row); out-of-range chunk counts are clamped.
  std::vector<int32_t> empty_rows(100001, 0);
  PartitionRowsByEdges(empty_rows.data(), 100000, 0, &p);
  EXPECT_EQ(p.chunks, 1);
  PartitionRowsByEdges(empty_rows.data(), 100000, 100000, &p);
  EXPECT_EQ(p.chunks, kMaxPartitionChunks);
  CheckTiling(empty_rows, p);
  // All edges in the last row: the hub gets a chunk of its own instead of closing one over the rows before.
  std::vector<int32_t> last_heavy(1001, 0);
  last_heavy[1000] = 50000;
  PartitionRowsByEdges(last_heavy.data(), 1000, 4, &p);
  CheckTiling(last_heavy, p);
  EXPECT_EQ(p.bounds[p.chunks - 1], 999);
  // ... and likewise in the middle.
  std::vector<int32_t> middle_heavy(1001, 0);
  for (int32_t r = 501; r <= 1000; ++r) middle_heavy[r] = 50000;
  PartitionRowsByEdges(middle_heavy.data(), 1000, 8, &p);
  const int64_t heaviest = CheckTiling(middle_heavy, p);
  EXPECT_EQ(heaviest, 50001);
  static_assert(kMinChunkWork > 0, "chunks need a minimum size");
}

TEST(EdgePartition, IdenticalOutputsForEveryThreadCountOnAHubGraph) {
  const Graph graph = PowerLawGraph(11, 3000, 8);
  for (bool quantized : {true, false}) {
    ModelMaker m(quantized, Task::kNodeClassification, 8, 31);
    m.Gcn(16, true)
        .Sage(16, Reduce::kMean, true, true)
        .Sage(12, Reduce::kMax, true, true)
        .Gin({16, 12}, 0.1f, true)
        .Linear(4, false);
    const std::vector<uint8_t> bytes = m.Bytes();
    for (const char* fp32 : {"reference", static_cast<const char*>(nullptr)}) {
      if (quantized && fp32 == nullptr) continue;
      SCOPED_TRACE(std::string(quantized ? "quantized" : "float") + " fp32 " + (fp32 ? fp32 : "default"));
      const RunResult one = RunModel(bytes, graph, 1, fp32);
      ASSERT_EQ(one.status, QGNN_OK) << one.message;
      for (uint32_t threads : {2u, 3u, 7u}) {
        const RunResult many = RunModel(bytes, graph, threads, fp32);
        ASSERT_EQ(many.status, QGNN_OK) << many.message;
        EXPECT_EQ(one.logits_q, many.logits_q) << threads << " threads";
        EXPECT_EQ(one.logits_f32, many.logits_f32) << threads << " threads";
        EXPECT_EQ(one.argmax, many.argmax) << threads << " threads";
      }
      if (quantized) {
        const std::vector<int32_t> expected = OracleQuantized(m.desc(), graph);
        EXPECT_EQ(std::vector<int32_t>(one.logits_q.begin(), one.logits_q.end()), expected);
      }
    }
  }
}

}  // namespace
}  // namespace test
}  // namespace qgnn
