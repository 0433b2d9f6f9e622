// Hostile inputs the other runtime tests do not cover (issue 7, item 5): arena guard bytes around exact-size
// and one-byte-short arenas, rejected graphs that must leave the arena untouched, FlatBuffers offsets that
// dangle or point back at themselves, vector lengths that overflow 32-bit arithmetic, int4 tensors with odd
// element counts, and the defined behaviour of extreme (finite) float features.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "qgnn/schema/qgnn_generated.h"
#include "test_util.h"

namespace qgnn {
namespace test {
namespace {

constexpr size_t kGuard = 64;
constexpr uint8_t kGuardByte = 0xA5;
constexpr uint8_t kArenaFill = 0x5A;

// An arena of `bytes` at 16-byte alignment + `offset`, with kGuard guard bytes on both sides.
class GuardedArena {
 public:
  GuardedArena(size_t bytes, size_t offset) : bytes_(bytes), storage_(kGuard + offset + bytes + kGuard) {
    std::memset(storage_.data(), kGuardByte, storage_.size());
    std::memset(arena(), kArenaFill, bytes_);
  }
  uint8_t* arena() { return storage_.data() + kGuard + (storage_.size() - 2 * kGuard - bytes_); }
  size_t bytes() const { return bytes_; }
  bool GuardsIntact() const {
    const size_t after = storage_.size() - kGuard;
    for (size_t i = 0; i < kGuard; ++i) {
      if (storage_.data()[i] != kGuardByte || storage_.data()[after + i] != kGuardByte) return false;
    }
    return true;
  }
  bool ArenaUntouched() {
    for (size_t i = 0; i < bytes_; ++i) {
      if (arena()[i] != kArenaFill) return false;
    }
    return true;
  }
  std::vector<uint8_t> Snapshot() { return std::vector<uint8_t>(arena(), arena() + bytes_); }

 private:
  size_t bytes_;
  AlignedBuffer storage_;
};

std::vector<uint8_t> GinModel(bool quantized) {
  ModelMaker m(quantized, Task::kGraphClassification, 7, 17);
  m.Gin({16, 16}, 0.0f, true).Gin({16, 16}, 0.0f, true).Pool(Reduce::kSum).Linear(2, false);
  return m.Bytes();
}

// ---- Arena guard bytes --------------------------------------------------------------------------------

TEST(ArenaGuards, ExactSizeArenaIsNeverWrittenPast) {
  std::mt19937 rng(7);
  for (bool quantized : {true, false}) {
    AlignedBuffer model_bytes(GinModel(quantized));
    qgnn_model* model = nullptr;
    ASSERT_EQ(qgnn_model_create(model_bytes.data(), model_bytes.size(), &model, nullptr), QGNN_OK);
    // The largest batch the plan allows: every node and edge the arena was sized for is used.
    const Graph g = RandomGraph(rng, {20, 12}, 4, 7);
    const qgnn_plan_limits limits{g.num_nodes, g.num_edges(), 2};
    size_t needed = 0;
    ASSERT_EQ(qgnn_arena_size(model, &limits, &needed, nullptr), QGNN_OK);
    for (size_t offset = 0; offset < 16; offset += 3) {
      GuardedArena arena(needed, offset);
      qgnn_interpreter* interpreter = nullptr;
      ASSERT_EQ(
          qgnn_interpreter_create(model, &limits, arena.arena(), needed, nullptr, &interpreter, nullptr),
          QGNN_OK);
      const qgnn_graph view = g.view(false);
      ASSERT_EQ(qgnn_interpreter_setup(interpreter, &view, nullptr), QGNN_OK);
      ASSERT_EQ(qgnn_interpreter_invoke(interpreter, nullptr), QGNN_OK);
      EXPECT_TRUE(arena.GuardsIntact()) << "quantized " << quantized << " offset " << offset;
      EXPECT_FALSE(arena.ArenaUntouched());  // the run did use the arena
      qgnn_interpreter_delete(interpreter);
    }
    qgnn_model_delete(model);
  }
}

TEST(ArenaGuards, TooSmallArenaIsRejectedAndNotWritten) {
  AlignedBuffer model_bytes(GinModel(true));
  qgnn_model* model = nullptr;
  ASSERT_EQ(qgnn_model_create(model_bytes.data(), model_bytes.size(), &model, nullptr), QGNN_OK);
  const qgnn_plan_limits limits{32, 128, 2};
  size_t needed = 0;
  ASSERT_EQ(qgnn_arena_size(model, &limits, &needed, nullptr), QGNN_OK);
  for (size_t short_by : {size_t{1}, size_t{16}, needed / 2, needed}) {
    GuardedArena arena(needed - short_by, 0);
    qgnn_interpreter* interpreter = nullptr;
    qgnn_error error{};
    const qgnn_status st =
        qgnn_interpreter_create(model, &limits, arena.arena(), arena.bytes(), nullptr, &interpreter, &error);
    EXPECT_EQ(st, QGNN_ARENA_TOO_SMALL) << short_by;
    EXPECT_NE(std::string(error.message).find(std::to_string(needed)), std::string::npos) << error.message;
    EXPECT_EQ(interpreter, nullptr);
    EXPECT_TRUE(arena.GuardsIntact());
    EXPECT_TRUE(arena.ArenaUntouched());
  }
  qgnn_model_delete(model);
}

// A rejected graph must not half-update anything: the arena keeps the previous run's bytes, and the
// interpreter reports NOT_READY instead of handing out stale logits.
TEST(ArenaGuards, RejectedGraphLeavesArenaUnchanged) {
  std::mt19937 rng(3);
  AlignedBuffer model_bytes(GinModel(true));
  qgnn_model* model = nullptr;
  ASSERT_EQ(qgnn_model_create(model_bytes.data(), model_bytes.size(), &model, nullptr), QGNN_OK);
  Graph g = RandomGraph(rng, {10, 6}, 3, 7);
  const qgnn_plan_limits limits{16, 64, 2};
  size_t needed = 0;
  ASSERT_EQ(qgnn_arena_size(model, &limits, &needed, nullptr), QGNN_OK);
  GuardedArena arena(needed, 5);
  qgnn_interpreter* interpreter = nullptr;
  ASSERT_EQ(qgnn_interpreter_create(model, &limits, arena.arena(), needed, nullptr, &interpreter, nullptr),
            QGNN_OK);
  qgnn_graph view = g.view(false);
  ASSERT_EQ(qgnn_interpreter_setup(interpreter, &view, nullptr), QGNN_OK);
  ASSERT_EQ(qgnn_interpreter_invoke(interpreter, nullptr), QGNN_OK);
  const std::vector<uint8_t> after_run = arena.Snapshot();

  std::vector<int32_t> bad_col = g.col_idx;
  bad_col.back() = static_cast<int32_t>(g.num_nodes);  // out of range
  std::vector<int32_t> bad_row = g.row_ptr;
  bad_row[3] = bad_row[2] - 1;  // row_ptr decreases
  std::vector<float> nan_features = g.features_f32;
  nan_features[nan_features.size() / 2] = std::nanf("");
  struct Case {
    const char* name;
    qgnn_graph graph;
    qgnn_status status;
  };
  qgnn_graph col = view, row = view, nan = view, big = view;
  col.col_idx = bad_col.data();
  row.row_ptr = bad_row.data();
  nan.features_f32 = nan_features.data();
  big.num_nodes = limits.max_nodes + 1;
  const Case cases[] = {{"col_idx", col, QGNN_INVALID_GRAPH},
                        {"row_ptr", row, QGNN_INVALID_GRAPH},
                        {"nan", nan, QGNN_NON_FINITE_INPUT},
                        {"too_large", big, QGNN_GRAPH_TOO_LARGE}};
  for (const Case& c : cases) {
    qgnn_error error{};
    EXPECT_EQ(qgnn_interpreter_setup(interpreter, &c.graph, &error), c.status)
        << c.name << ": " << error.message;
    EXPECT_EQ(arena.Snapshot(), after_run) << c.name;
    EXPECT_TRUE(arena.GuardsIntact()) << c.name;
    qgnn_output out{};
    EXPECT_EQ(qgnn_interpreter_output(interpreter, &out), QGNN_NOT_READY) << c.name;
    EXPECT_EQ(qgnn_interpreter_invoke(interpreter, nullptr), QGNN_NOT_READY) << c.name;
  }
  qgnn_interpreter_delete(interpreter);
  qgnn_model_delete(model);
}

// ---- FlatBuffers references that dangle, loop back or overflow
// ---------------------------------------------

std::vector<uint8_t> ValidModelBytes() { return GinModel(true); }

TEST(HostileFlatBuffer, RootOffsetPastTheEnd) {
  std::vector<uint8_t> bytes = ValidModelBytes();
  const uint32_t past = static_cast<uint32_t>(bytes.size()) + 64;
  std::memcpy(bytes.data(), &past, 4);
  std::string message;
  EXPECT_EQ(LoadStatus(bytes, &message), QGNN_MALFORMED_FLATBUFFER) << message;
}

TEST(HostileFlatBuffer, RootOffsetPointsAtItself) {
  // uoffsets only point forward, so a cycle needs an offset of 0: the root table would overlap the root
  // offset and its vtable offset would be the identifier. The verifier must refuse, not loop.
  std::vector<uint8_t> bytes = ValidModelBytes();
  const uint32_t zero = 0;
  std::memcpy(bytes.data(), &zero, 4);
  std::string message;
  EXPECT_EQ(LoadStatus(bytes, &message), QGNN_MALFORMED_FLATBUFFER) << message;
}

TEST(HostileFlatBuffer, VtableOffsetLoopsOntoTheTable) {
  // A table's soffset to its vtable set to 0 makes the table its own vtable (a self-reference). Every read
  // stays inside the buffer, so the FlatBuffers verifier may accept the structure; the semantic checks must
  // then reject the nonsense fields (here the version reads as 0) with a named status.
  std::vector<uint8_t> bytes = ValidModelBytes();
  uint32_t root = 0;
  std::memcpy(&root, bytes.data(), 4);
  const int32_t zero = 0;
  std::memcpy(bytes.data() + root, &zero, 4);
  std::string message;
  const qgnn_status st = LoadStatus(bytes, &message);
  EXPECT_TRUE(st == QGNN_MALFORMED_FLATBUFFER || st == QGNN_UNSUPPORTED_VERSION) << st << ": " << message;
  EXPECT_FALSE(message.empty());
}

// The length word of a vector set so that length * element size overflows 32 bits.
TEST(HostileFlatBuffer, VectorLengthsThatOverflow32Bits) {
  const std::vector<uint8_t> original = ValidModelBytes();
  for (uint32_t length : {0x40000001u, 0x80000000u, 0xFFFFFFFFu}) {
    for (int which = 0; which < 3; ++which) {
      std::vector<uint8_t> bytes = original;
      fb::Model* m = fb::GetMutableModel(bytes.data());
      const uint8_t* vector_data = nullptr;
      if (which == 0) vector_data = m->buffers()->Get(0)->data()->Data();  // [ubyte]
      if (which == 1)
        vector_data = reinterpret_cast<const uint8_t*>(m->tensors()->Get(0)->shape()->Data());  // [uint]
      if (which == 2) vector_data = reinterpret_cast<const uint8_t*>(m->layers()->Data());  // [Layer] offsets
      ASSERT_NE(vector_data, nullptr);
      const size_t length_at = static_cast<size_t>(vector_data - bytes.data()) - 4;
      std::memcpy(bytes.data() + length_at, &length, 4);
      std::string message;
      EXPECT_EQ(LoadStatus(bytes, &message), QGNN_MALFORMED_FLATBUFFER)
          << "vector " << which << " length " << length << ": " << message;
    }
  }
}

// ---- int4 tensors with odd element counts
// ----------------------------------------------------------------------

TEST(Int4OddCounts, OddElementCountsRunExactly) {
  std::mt19937 rng(11);
  // 3 x 5 = 15 and 5 x 3 = 15 int4 weights: the last byte of each tensor holds a single nibble.
  ModelMaker m(true, Task::kGraphClassification, 3, 23);
  m.Gcn(5, true, Bits{8, 4}).Pool(Reduce::kSum).Linear(3, false, Bits{8, 4});
  const Graph g = RandomGraph(rng, {7, 4, 9}, 3, 3);
  const RunResult r = RunModel(m.Bytes(), g);
  ASSERT_EQ(r.status, QGNN_OK) << r.message;
  const std::vector<int32_t> oracle = OracleQuantized(m.desc(), g);
  ASSERT_EQ(oracle.size(), r.logits_q.size());
  for (size_t i = 0; i < oracle.size(); ++i) EXPECT_EQ(r.logits_q[i], oracle[i]) << i;
}

TEST(Int4OddCounts, BufferOneByteShortOrLongIsRejected) {
  for (int delta : {-2, 2}) {
    ModelMaker m(true, Task::kGraphClassification, 3, 23);
    m.Gcn(5, true, Bits{8, 4}).Pool(Reduce::kSum).Linear(3, false, Bits{8, 4});
    // 15 nibbles pack into 8 bytes; 13 or 17 values pack into 7 or 9.
    auto& w = m.desc().layers[0].dense.weight_q;
    ASSERT_EQ(w.size(), 15u);
    w.resize(static_cast<size_t>(15 + delta), 1);
    std::string message;
    EXPECT_EQ(LoadStatus(m.UncheckedBytes(), &message), QGNN_BUFFER_SIZE_MISMATCH) << message;
    EXPECT_NE(message.find("expected 8"), std::string::npos) << message;
  }
}

// ---- Extreme float features: the defined behaviour
// --------------------------------------------------------------- NaN and +-Inf are rejected
// (QGNN_NON_FINITE_INPUT, graph_validation_test.cc). Finite values of any size are accepted and saturate to
// the input's integer range, exactly like the largest in-range value; -0.0 is 0.0 and subnormals quantize to
// the zero point.

TEST(ExtremeFeatures, HugeFiniteValuesSaturate) {
  std::mt19937 rng(5);
  ModelMaker m(true, Task::kGraphClassification, 7, 29);
  m.Gin({8}, 0.0f, true).Pool(Reduce::kSum).Linear(2, false);
  const std::vector<uint8_t> bytes = m.Bytes();
  const float in_scale = m.desc().input_quant.scale;
  const int32_t zp = m.desc().input_quant.zero_point;
  Graph g = RandomGraph(rng, {9}, 3, 7);
  Graph huge = g, edge = g;
  for (size_t i = 0; i < g.features_f32.size(); ++i) {
    const bool positive = (i % 3) != 0;
    huge.features_f32[i] = positive ? (i % 2 ? FLT_MAX : 1e30f) : (i % 2 ? -FLT_MAX : -1e30f);
    // The value that lands exactly on qmax / qmin.
    edge.features_f32[i] =
        positive ? in_scale * static_cast<float>(127 - zp) : in_scale * static_cast<float>(-128 - zp);
  }
  const RunResult a = RunModel(bytes, huge), b = RunModel(bytes, edge);
  ASSERT_EQ(a.status, QGNN_OK) << a.message;
  ASSERT_EQ(b.status, QGNN_OK) << b.message;
  EXPECT_EQ(a.logits_q, b.logits_q);
}

TEST(ExtremeFeatures, NegativeZeroAndSubnormalsAreZero) {
  std::mt19937 rng(9);
  ModelMaker m(true, Task::kGraphClassification, 7, 31);
  m.Gcn(6, true).Pool(Reduce::kMean).Linear(2, false);
  const std::vector<uint8_t> bytes = m.Bytes();
  Graph zero = RandomGraph(rng, {8}, 3, 7);
  Graph odd = zero;
  for (size_t i = 0; i < zero.features_f32.size(); ++i) {
    zero.features_f32[i] = 0.0f;
    odd.features_f32[i] = (i % 2) ? -0.0f : ((i % 3) ? std::numeric_limits<float>::denorm_min() : -1e-40f);
  }
  const RunResult a = RunModel(bytes, zero), b = RunModel(bytes, odd);
  ASSERT_EQ(a.status, QGNN_OK) << a.message;
  ASSERT_EQ(b.status, QGNN_OK) << b.message;
  EXPECT_EQ(a.logits_q, b.logits_q);
}

// ---- Fuzz regressions (fuzz/regressions/)
// ------------------------------------------------------------------------- fuzz_graph_invoke, first smoke
// run: a graph with 0 nodes but 27 edges and 66 graphs, no feature array. The crash was in the harness
// (memcpy from an empty vector); the runtime must still reject the graph by name.
TEST(FuzzRegression, ZeroNodesWithEdgesAndNoFeatures) {
  const std::vector<uint8_t> bytes = GinModel(true);
  AlignedBuffer buffer(bytes);
  qgnn_model* model = nullptr;
  ASSERT_EQ(qgnn_model_create(buffer.data(), buffer.size(), &model, nullptr), QGNN_OK);
  const qgnn_plan_limits limits{64, 256, 4};
  size_t needed = 0;
  ASSERT_EQ(qgnn_arena_size(model, &limits, &needed, nullptr), QGNN_OK);
  GuardedArena arena(needed, 0);
  qgnn_interpreter* interpreter = nullptr;
  ASSERT_EQ(qgnn_interpreter_create(model, &limits, arena.arena(), needed, nullptr, &interpreter, nullptr),
            QGNN_OK);
  // Create wrote the persistent part (packed weights) and nothing else may change from here.
  const std::vector<uint8_t> after_create = arena.Snapshot();
  const int32_t row_ptr[1] = {0};
  std::vector<int32_t> col_idx(27, 0);
  qgnn_graph graph{0, 27, 66, row_ptr, col_idx.data(), nullptr, nullptr, nullptr};
  qgnn_error error{};
  EXPECT_EQ(qgnn_interpreter_setup(interpreter, &graph, &error), QGNN_GRAPH_TOO_LARGE) << error.message;
  graph.num_graphs = 1;
  EXPECT_EQ(qgnn_interpreter_setup(interpreter, &graph, &error), QGNN_INVALID_GRAPH) << error.message;
  EXPECT_NE(std::string(error.message).find("num_edges"), std::string::npos) << error.message;
  EXPECT_TRUE(arena.GuardsIntact());
  EXPECT_EQ(arena.Snapshot(), after_create);
  qgnn_interpreter_delete(interpreter);
  qgnn_model_delete(model);
}

}  // namespace
}  // namespace test
}  // namespace qgnn
