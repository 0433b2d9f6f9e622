// The density probe of dense float input (runtime/src/ops/input_probe.h): a tile of mostly-zero rows runs
// sparse_dense over its gathered non-zeros, any other tile the dense GEMM, and the integer outputs are the
// same bytes whichever path each tile takes (QGNN_INPUT_PROBE forces one), and the same as the features
// passed sparse (qgnn_interpreter_setup_sparse).
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "ops/input_probe.h"
#include "qgnn/kernels/kernel_table.h"
#include "qgnn/qgnn.h"
#include "test_util.h"

namespace qgnn {
namespace test {
namespace {

using runtime::GatheredTile;
using runtime::GatherSparseTile;
using runtime::InputProbe;

// QGNN_INPUT_PROBE for the interpreters created in this scope (read at qgnn_interpreter_create).
class ProbeEnv {
 public:
  explicit ProbeEnv(const char* value) { setenv("QGNN_INPUT_PROBE", value, 1); }
  ~ProbeEnv() { unsetenv("QGNN_INPUT_PROBE"); }
};

struct ProbeRun {
  qgnn_status status = QGNN_OK;
  std::string message;
  std::vector<int8_t> logits;
};

// Runs `bytes` on `graph` (dense features, or `sparse` when given) with `threads` threads.
ProbeRun RunModel(const std::vector<uint8_t>& bytes, const Graph& graph, const qgnn_sparse_features* sparse,
                  uint32_t threads) {
  ProbeRun r;
  AlignedBuffer buffer(bytes);
  qgnn_error error{};
  qgnn_model* model = nullptr;
  r.status = qgnn_model_create(buffer.data(), buffer.size(), &model, &error);
  if (r.status != QGNN_OK) return {r.status, error.message, {}};
  const qgnn_plan_limits limits{graph.num_nodes > 0 ? graph.num_nodes : 1, graph.num_edges() + 1, 1};
  size_t arena_bytes = 0;
  EXPECT_EQ(qgnn_arena_size(model, &limits, &arena_bytes, nullptr), QGNN_OK);
  std::vector<uint8_t> arena(arena_bytes);
  qgnn_interpreter_options options;
  qgnn_interpreter_options_init(&options);
  options.num_threads = threads;
  qgnn_interpreter* interpreter = nullptr;
  r.status =
      qgnn_interpreter_create(model, &limits, arena.data(), arena.size(), &options, &interpreter, &error);
  if (r.status == QGNN_OK) {
    qgnn_graph view = graph.view(false);
    if (sparse != nullptr) {
      view.features_f32 = nullptr;
      r.status = qgnn_interpreter_setup_sparse(interpreter, &view, sparse, &error);
    } else {
      r.status = qgnn_interpreter_setup(interpreter, &view, &error);
    }
    if (r.status == QGNN_OK) r.status = qgnn_interpreter_invoke(interpreter, &error);
    qgnn_output out{};
    if (r.status == QGNN_OK && qgnn_interpreter_output(interpreter, &out) == QGNN_OK) {
      r.logits.assign(out.logits_q, out.logits_q + out.rows * out.cols);
    }
  }
  if (r.status != QGNN_OK) r.message = error.message;
  qgnn_interpreter_delete(interpreter);
  qgnn_model_delete(model);
  return r;
}

// Row patterns of the features: each row is all zeros, all non-zero, or non-zero with `density`; tiles of
// all three kinds and mixed tiles occur.
std::vector<float> Features(std::mt19937& rng, uint32_t nodes, int32_t dim, double density) {
  std::vector<float> x(static_cast<size_t>(nodes) * dim, 0.0f);
  std::uniform_int_distribution<int> kind(0, 5);
  std::bernoulli_distribution keep(density);
  std::uniform_real_distribution<float> value(-3.0f, 3.0f);
  for (uint32_t i = 0; i < nodes; ++i) {
    const int k = kind(rng);  // 0: all zeros, 1: all non-zero, else sparse; -0.0 now and then
    for (int32_t c = 0; c < dim; ++c) {
      float& v = x[static_cast<size_t>(i) * dim + c];
      if (k == 1 || (k > 1 && keep(rng))) v = value(rng);
      if (k > 1 && c % 17 == 3) v = -0.0f;
    }
  }
  return x;
}

struct SparseCopy {
  std::vector<int32_t> row_ptr{0};
  std::vector<int32_t> col_idx;
  std::vector<float> values;
  qgnn_sparse_features view() const {
    return {static_cast<uint32_t>(values.size()), row_ptr.data(), col_idx.data(), values.data()};
  }
};

SparseCopy ToSparse(const std::vector<float>& x, uint32_t nodes, int32_t dim) {
  SparseCopy s;
  for (uint32_t i = 0; i < nodes; ++i) {
    for (int32_t c = 0; c < dim; ++c) {
      const float v = x[static_cast<size_t>(i) * dim + c];
      if (v != 0.0f) {
        s.col_idx.push_back(c);
        s.values.push_back(v);
      }
    }
    s.row_ptr.push_back(static_cast<int32_t>(s.values.size()));
  }
  return s;
}

// Same bytes through the dense GEMM (QGNN_INPUT_PROBE=dense), the gathered sparse kernel (=sparse), the
// density decision (=auto) and sparse features; widths around the SIMD lane counts and Cora's 1433, int8 and
// int4 input, per-column scales, 1 and 3 threads; empty graph, one row, many rows.
TEST(InputProbe, SameBytesOnEveryPath) {
  struct Shape {
    const char* name;
    std::function<void(ModelMaker&)> layers;
    int input_bits;
    bool column_scales;
    size_t classes;
  };
  const std::vector<Shape> shapes = {
      {"gcn_tf", [](ModelMaker& m) { m.Gcn(16, true, {}, true).Gcn(5, false, {}, true); }, 8, false, 5},
      {"gcn_tf_int4",
       [](ModelMaker& m) {
         m.Gcn(9, true, Bits{4, 4, 4}, true).Linear(4, false);
       },
       4, false, 4},
      {"linear_columns", [](ModelMaker& m) { m.Linear(12, true).Gcn(6, true, {}, true).Linear(3, false); }, 8,
       true, 3},
  };
  int checked_nonempty = 0;
  for (const Shape& s : shapes) {
    for (int32_t dim : {1, 15, 16, 17, 1433}) {
      for (uint32_t nodes : {0u, 1u, 37u}) {
        for (double density : {0.01, 0.3}) {
          SCOPED_TRACE(std::string(s.name) + " dim " + std::to_string(dim) + " nodes " +
                       std::to_string(nodes) + " density " + std::to_string(density));
          ModelMaker m(true, Task::kNodeClassification, dim, 61);
          m.Input(s.input_bits, s.input_bits == 8 ? 3 : -1);
          s.layers(m);
          std::mt19937 rng(static_cast<uint32_t>(dim * 131 + nodes));
          if (s.column_scales) {
            std::uniform_real_distribution<float> scale(0.005f, 0.2f);
            m.desc().input_column_scales.resize(dim);
            for (float& c : m.desc().input_column_scales) c = scale(rng);
          }
          const std::vector<uint8_t> bytes = m.Bytes();
          Graph graph = RandomGraph(rng, {nodes}, 5, dim);
          graph.features_f32 = Features(rng, nodes, dim, density);
          const SparseCopy sparse = ToSparse(graph.features_f32, nodes, dim);
          const qgnn_sparse_features sparse_view = sparse.view();
          for (uint32_t threads : {1u, 3u}) {
            ProbeRun dense, gathered, automatic;
            {
              ProbeEnv env("dense");
              dense = RunModel(bytes, graph, nullptr, threads);
            }
            {
              ProbeEnv env("sparse");
              gathered = RunModel(bytes, graph, nullptr, threads);
            }
            automatic = RunModel(bytes, graph, nullptr, threads);
            const ProbeRun from_sparse = RunModel(bytes, graph, &sparse_view, threads);
            ASSERT_EQ(dense.status, QGNN_OK) << dense.message;
            ASSERT_EQ(gathered.status, QGNN_OK) << gathered.message;
            ASSERT_EQ(automatic.status, QGNN_OK) << automatic.message;
            ASSERT_EQ(from_sparse.status, QGNN_OK) << from_sparse.message;
            EXPECT_EQ(dense.logits.size(), static_cast<size_t>(nodes) * s.classes);
            EXPECT_EQ(gathered.logits, dense.logits);
            EXPECT_EQ(automatic.logits, dense.logits);
            EXPECT_EQ(from_sparse.logits, dense.logits);
            if (nodes > 0) ++checked_nonempty;
          }
        }
      }
    }
  }
  EXPECT_EQ(checked_nonempty, 3 * 5 * 2 * 2 * 2);
}

// Quantized models probe tiles of up to kProbeRowsMax rows (ProbeTileRows: 31 at 1433 columns) and run
// rejected tiles and the back-off after them in kStreamRows chunks: runs of sparse rows, a dense run
// between them, isolated dense rows, so tiles are gathered, rejected, skipped and probed again, and every
// path gives the same bytes.
TEST(InputProbe, SameBytesAcrossTilesOfEveryKind) {
  for (int32_t dim : {40, 1433}) {
    for (int pattern = 0; pattern < 2; ++pattern) {
      SCOPED_TRACE("dim " + std::to_string(dim) + " pattern " + std::to_string(pattern));
      constexpr uint32_t kNodes = 300;
      ModelMaker m(true, Task::kNodeClassification, dim, 61);
      m.Input(8, 3);
      m.Gcn(16, true, {}, true).Gcn(5, false, {}, true);
      const std::vector<uint8_t> bytes = m.Bytes();
      std::mt19937 rng(static_cast<uint32_t>(dim + pattern));
      Graph graph = RandomGraph(rng, {kNodes}, 5, dim);
      std::bernoulli_distribution keep(0.01);
      std::uniform_real_distribution<float> value(-3.0f, 3.0f);
      graph.features_f32.assign(static_cast<size_t>(kNodes) * dim, 0.0f);
      for (uint32_t i = 0; i < kNodes; ++i) {
        // 0: rows 70-109 dense, the rest sparse; 1: every 45th row dense, the rest sparse.
        const bool dense = pattern == 0 ? (i >= 70 && i < 110) : i % 45 == 44;
        for (int32_t c = 0; c < dim; ++c) {
          if (dense || keep(rng)) graph.features_f32[static_cast<size_t>(i) * dim + c] = value(rng);
        }
      }
      const SparseCopy sparse = ToSparse(graph.features_f32, kNodes, dim);
      const qgnn_sparse_features sparse_view = sparse.view();
      for (uint32_t threads : {1u, 3u}) {
        ProbeRun dense, gathered;
        {
          ProbeEnv env("dense");
          dense = RunModel(bytes, graph, nullptr, threads);
        }
        {
          ProbeEnv env("sparse");
          gathered = RunModel(bytes, graph, nullptr, threads);
        }
        const ProbeRun automatic = RunModel(bytes, graph, nullptr, threads);
        const ProbeRun from_sparse = RunModel(bytes, graph, &sparse_view, threads);
        ASSERT_EQ(dense.status, QGNN_OK) << dense.message;
        ASSERT_EQ(dense.logits.size(), static_cast<size_t>(kNodes) * 5);
        EXPECT_EQ(gathered.logits, dense.logits);
        EXPECT_EQ(automatic.logits, dense.logits);
        EXPECT_EQ(from_sparse.logits, dense.logits);
      }
    }
  }
}

TEST(InputProbe, UnknownModeIsRefused) {
  ModelMaker m(true, Task::kNodeClassification, 8, 1);
  m.Gcn(4, true, {}, true).Linear(2, false);
  std::mt19937 rng(1);
  const Graph graph = RandomGraph(rng, {4}, 2, 8);
  ProbeEnv env("sometimes");
  const ProbeRun r = RunModel(m.Bytes(), graph, nullptr, 1);
  EXPECT_EQ(r.status, QGNN_INVALID_ARGUMENT);
  EXPECT_NE(r.message.find("QGNN_INPUT_PROBE=sometimes"), std::string::npos) << r.message;
}

const kernels::KernelTable& Table() { return *kernels::kernels_for(kernels::detect_isa()); }

// The gather itself (on this CPU's best table; the twins are compared with the reference kernel in
// tests/kernels/gather_simd_test.cc): the CSR of exactly the non-zeros (not -0.0) in order, or false once a
// tile exceeds its limit or the scratch.
TEST(InputProbe, GatherSparseTile) {
  constexpr int32_t kCols = 300, kRows = 4;
  std::vector<float> x(kRows * kCols, 0.0f);
  x[5] = 1.5f;
  x[kCols + 0] = -2.0f;
  x[kCols + 299] = 3.0f;
  x[2 * kCols + 7] = -0.0f;
  x[3 * kCols + 100] = 0.25f;
  std::vector<uint32_t> scratch(4096);
  GatheredTile tile{};
  ASSERT_TRUE(
      GatherSparseTile(Table(), x.data(), kCols, kRows, 4, scratch.data(), scratch.size() * 4, &tile));
  EXPECT_EQ(tile.rows, kRows);
  EXPECT_EQ(std::vector<int32_t>(tile.sparse.row_ptr, tile.sparse.row_ptr + kRows + 1),
            (std::vector<int32_t>{0, 1, 3, 3, 4}));
  EXPECT_EQ(std::vector<int32_t>(tile.sparse.col_idx, tile.sparse.col_idx + 4),
            (std::vector<int32_t>{5, 0, 299, 100}));
  EXPECT_EQ(std::vector<float>(tile.sparse.values, tile.sparse.values + 4),
            (std::vector<float>{1.5f, -2.0f, 3.0f, 0.25f}));
  EXPECT_FALSE(
      GatherSparseTile(Table(), x.data(), kCols, kRows, 3, scratch.data(), scratch.size() * 4, &tile));
  EXPECT_FALSE(
      GatherSparseTile(Table(), x.data(), kCols, kRows, 0, scratch.data(), scratch.size() * 4, &tile));
  // A dense tile gives up; so does a scratch too small for one block of headroom.
  std::vector<float> full(kRows * kCols, 1.0f);
  EXPECT_FALSE(
      GatherSparseTile(Table(), full.data(), kCols, kRows, 100, scratch.data(), scratch.size() * 4, &tile));
  EXPECT_FALSE(GatherSparseTile(Table(), x.data(), kCols, kRows, 4, scratch.data(), 64, &tile));
  EXPECT_EQ(runtime::ProbeLimit(InputProbe::kDense, 8, 1433), 0);
  EXPECT_EQ(runtime::ProbeLimit(InputProbe::kSparse, 8, 1433), 8 * 1433);
  EXPECT_EQ(runtime::ProbeLimit(InputProbe::kAuto, 8, 1433), 8 * 1433 / runtime::kProbeDensityDivisor);
}

// Probe tiles are as many rows as the slot holds the CSR of at the auto threshold: Cora's int8 slot (8
// quantized rows of 1433 bytes) holds 31 rows' CSR, and a tile that size at the limit gathers into it.
TEST(InputProbe, ProbeTileRowsFitTheSlot) {
  const size_t cora_int8 = runtime::StreamSlotBytes(8, 1433, 1433, true);
  const size_t cora_int4 = runtime::StreamSlotBytes(8, 1433, 717, true);
  EXPECT_EQ(runtime::ProbeTileRows(1433, cora_int8, 8), 31);
  EXPECT_EQ(runtime::ProbeTileRows(1433, cora_int4, 8), 15);
  // A slot that is only the CSR of its 8 rows keeps 8-row tiles; a large one is capped.
  EXPECT_EQ(runtime::ProbeTileRows(100000, runtime::StreamSlotBytes(8, 100000, 0, true), 8), 8);
  EXPECT_EQ(runtime::ProbeTileRows(16, size_t{1} << 20, 8), runtime::kProbeRowsMax);
  // 31 rows holding exactly the limit's non-zeros gather into Cora's int8 slot.
  constexpr int32_t kRows = 31, kCols = 1433;
  const int64_t limit = runtime::ProbeLimit(InputProbe::kAuto, kRows, kCols);
  std::vector<float> x(static_cast<size_t>(kRows) * kCols, 0.0f);
  for (int64_t k = 0; k < limit; ++k) x[static_cast<size_t>(k * 31)] = 1.0f;
  std::vector<uint64_t> scratch(cora_int8 / 8);
  GatheredTile tile{};
  ASSERT_TRUE(GatherSparseTile(Table(), x.data(), kCols, kRows, limit, scratch.data(), cora_int8, &tile));
  EXPECT_EQ(tile.sparse.row_ptr[kRows], limit);
}

}  // namespace
}  // namespace test
}  // namespace qgnn
