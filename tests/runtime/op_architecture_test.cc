// The op architecture seen from the C / C++ API: op resolvers (a model runs only with the kinds its
// application lists), versioned interpreter options, the graph stage (what depends only on the graph is
// computed once at setup and shared) and weights packed once at interpreter creation.
#include <gtest/gtest.h>

#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include "interpreter.h"
#include "qgnn/kernels/kernel_table.h"
#include "qgnn/qgnn.hpp"
#include "test_util.h"

namespace qgnn {
namespace test {
namespace {

// A quantized graph model with every kind: GCNConv, SAGEConv, GINConv, GlobalPool, Linear.
ModelMaker EveryKind() {
  ModelMaker m(true, Task::kGraphClassification, 4, 11);
  m.Gcn(6, true)
      .Sage(6, Reduce::kMean, true, true)
      .Gin({6, 5}, 0.25f, true)
      .Pool(Reduce::kSum)
      .Linear(3, false);
  return m;
}

qgnn_status CreateWith(const std::vector<const qgnn_op*>& ops, const std::vector<uint8_t>& bytes,
                       std::string* message) {
  AlignedBuffer buffer(bytes);
  const qgnn_op_resolver resolver{ops.data(), ops.size()};
  qgnn_model* model = nullptr;
  qgnn_error error{};
  const qgnn_status st = qgnn_model_create_with_ops(buffer.data(), buffer.size(), &resolver, &model, &error);
  *message = error.message;
  qgnn_model_delete(model);
  return st;
}

TEST(OpResolver, EveryOpHasItsSchemaName) {
  EXPECT_STREQ(qgnn_op_name(qgnn_op_linear()), "Linear");
  EXPECT_STREQ(qgnn_op_name(qgnn_op_gcn_conv()), "GCNConv");
  EXPECT_STREQ(qgnn_op_name(qgnn_op_sage_conv()), "SAGEConv");
  EXPECT_STREQ(qgnn_op_name(qgnn_op_gin_conv()), "GINConv");
  EXPECT_STREQ(qgnn_op_name(qgnn_op_global_pool()), "GlobalPool");
  EXPECT_STREQ(qgnn_op_name(nullptr), "");
}

TEST(OpResolver, AModelNeedsEveryKindItUses) {
  const std::vector<uint8_t> bytes = EveryKind().Bytes();
  const std::vector<const qgnn_op*> all = {qgnn_op_linear(), qgnn_op_gcn_conv(), qgnn_op_sage_conv(),
                                           qgnn_op_gin_conv(), qgnn_op_global_pool()};
  std::string message;
  EXPECT_EQ(CreateWith(all, bytes, &message), QGNN_OK) << message;
  // Leaving out any one kind refuses the model, naming the missing kind and its layer.
  const char* names[] = {"Linear", "GCNConv", "SAGEConv", "GINConv", "GlobalPool"};
  const char* layers[] = {"layer 4", "layer 0", "layer 1", "layer 2", "layer 3"};
  for (size_t left_out = 0; left_out < all.size(); ++left_out) {
    std::vector<const qgnn_op*> ops;
    for (size_t i = 0; i < all.size(); ++i) {
      if (i != left_out) ops.push_back(all[i]);
    }
    EXPECT_EQ(CreateWith(ops, bytes, &message), QGNN_UNSUPPORTED_LAYER) << names[left_out];
    EXPECT_NE(message.find(std::string(names[left_out]) + " is not in the op resolver"), std::string::npos)
        << message;
    EXPECT_EQ(message.rfind(layers[left_out], 0), 0u) << message;
  }
  EXPECT_EQ(CreateWith({}, bytes, &message), QGNN_UNSUPPORTED_LAYER);
}

TEST(OpResolver, NullResolverIsAnInvalidArgument) {
  const std::vector<uint8_t> bytes = EveryKind().Bytes();
  AlignedBuffer buffer(bytes);
  qgnn_model* model = nullptr;
  qgnn_error error{};
  EXPECT_EQ(qgnn_model_create_with_ops(buffer.data(), buffer.size(), nullptr, &model, &error),
            QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(model, nullptr);
  const qgnn_op_resolver no_array{nullptr, 3};
  EXPECT_EQ(qgnn_model_create_with_ops(buffer.data(), buffer.size(), &no_array, &model, &error),
            QGNN_INVALID_ARGUMENT);
}

// The resolver decides what runs, never how: the same model gives the same bytes with every op listed
// (qgnn_model_create) and with exactly its own ops, in any order.
TEST(OpResolver, OutputsDoNotDependOnTheResolver) {
  ModelMaker m(true, Task::kGraphClassification, 4, 12);
  m.Gin({8, 8}, 0.5f, true).Pool(Reduce::kMean).Linear(2, false);
  const std::vector<uint8_t> bytes = m.Bytes();
  std::mt19937 rng(5);
  const Graph graph = RandomGraph(rng, {7, 5}, 3, 4);
  const RunResult expected = RunModel(bytes, graph);
  ASSERT_EQ(expected.status, QGNN_OK) << expected.message;

  OpResolver<3> ops;
  ops.AddLinear().AddGlobalPool().AddGinConv().AddGinConv();  // a repeat is ignored
  EXPECT_TRUE(ops.ok());
  EXPECT_EQ(ops.size(), 3u);
  AlignedBuffer buffer(bytes);
  Result<Model> model = Model::Create(buffer.data(), buffer.size(), ops);
  ASSERT_TRUE(model.ok()) << model.error().message();
  const qgnn_plan_limits limits{12, 64, 2};
  Result<size_t> arena_bytes = model.value().ArenaSize(limits);
  ASSERT_TRUE(arena_bytes.ok());
  std::vector<uint8_t> arena(arena_bytes.value());
  Result<Interpreter> interpreter = Interpreter::Create(model.value(), limits, arena.data(), arena.size(),
                                                        InterpreterOptions().Threads(2).Isa("reference"));
  ASSERT_TRUE(interpreter.ok()) << interpreter.error().message();
  const qgnn_graph view = graph.view(false);
  ASSERT_TRUE(interpreter.value().Setup(view).ok());
  ASSERT_TRUE(interpreter.value().Invoke().ok());
  Result<qgnn_output> out = interpreter.value().Output();
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(
      std::vector<int8_t>(out.value().logits_q, out.value().logits_q + out.value().rows * out.value().cols),
      expected.logits_q);

  OpResolver<1> tiny;
  tiny.AddLinear().AddGinConv();
  EXPECT_FALSE(tiny.ok());
  EXPECT_EQ(tiny.size(), 1u);
  EXPECT_FALSE(Model::Create(buffer.data(), buffer.size(), tiny).ok());
}

// Interpreter options carry their size: 0 (uninitialised) is refused; a smaller size (an older caller) uses
// the defaults for the fields it does not cover, so whatever lies past it is never read.
TEST(InterpreterOptions, SizeGovernsWhatIsRead) {
  ModelMaker m(true, Task::kNodeClassification, 4, 6);
  m.Gcn(5, true).Linear(3, false);
  const std::vector<uint8_t> bytes = m.Bytes();
  AlignedBuffer buffer(bytes);
  qgnn_model* model = nullptr;
  ASSERT_EQ(qgnn_model_create(buffer.data(), buffer.size(), &model, nullptr), QGNN_OK);
  const qgnn_plan_limits limits{12, 64, 1};
  size_t arena_bytes = 0;
  ASSERT_EQ(qgnn_arena_size(model, &limits, &arena_bytes, nullptr), QGNN_OK);
  std::vector<uint8_t> arena(arena_bytes);
  qgnn_interpreter* interpreter = nullptr;
  qgnn_error error{};

  qgnn_interpreter_options zero{};
  EXPECT_EQ(qgnn_interpreter_create(model, &limits, arena.data(), arena.size(), &zero, &interpreter, &error),
            QGNN_INVALID_ARGUMENT);
  EXPECT_NE(std::string(error.message).find("qgnn_interpreter_options_init"), std::string::npos)
      << error.message;
  EXPECT_EQ(interpreter, nullptr);

  qgnn_interpreter_options defaults;
  qgnn_interpreter_options_init(&defaults);
  EXPECT_EQ(defaults.size, sizeof(qgnn_interpreter_options));
  EXPECT_EQ(defaults.num_threads, 1u);
  EXPECT_EQ(defaults.isa, nullptr);
  EXPECT_EQ(defaults.fp32, nullptr);
  EXPECT_EQ(defaults.spin_workers, 0);

  // An older caller that knew only {size, num_threads}: the bogus ISA name past its size is never read.
  qgnn_interpreter_options old = defaults;
  old.size = offsetof(qgnn_interpreter_options, isa);
  old.num_threads = 2;
  old.isa = "no-such-isa";
  ASSERT_EQ(qgnn_interpreter_create(model, &limits, arena.data(), arena.size(), &old, &interpreter, &error),
            QGNN_OK)
      << error.message;
  qgnn_interpreter_delete(interpreter);
  // The same name inside the size is read, and refused.
  old.size = sizeof(qgnn_interpreter_options);
  EXPECT_EQ(qgnn_interpreter_create(model, &limits, arena.data(), arena.size(), &old, &interpreter, &error),
            QGNN_INVALID_ARGUMENT);
  // A newer caller's larger struct is fine: the fields this runtime knows are read.
  struct Newer {
    qgnn_interpreter_options known;
    uint64_t future_field;
  } newer{defaults, 42};
  newer.known.size = sizeof(Newer);
  EXPECT_EQ(
      qgnn_interpreter_create(model, &limits, arena.data(), arena.size(), &newer.known, &interpreter, &error),
      QGNN_OK)
      << error.message;
  qgnn_interpreter_delete(interpreter);
  qgnn_model_delete(model);
}

// The graph stage runs at setup: invoking twice after one setup, or after re-binding the same graph, gives
// the same bytes, and binding another graph recomputes it (two GCN layers share the normalisation).
TEST(GraphStage, ComputedAtSetupAndSharedByLayers) {
  ModelMaker m(true, Task::kNodeClassification, 4, 7);
  m.Gcn(6, true).Gcn(5, true).Linear(3, false);
  const std::vector<uint8_t> bytes = m.Bytes();
  AlignedBuffer buffer(bytes);
  qgnn_model* model = nullptr;
  ASSERT_EQ(qgnn_model_create(buffer.data(), buffer.size(), &model, nullptr), QGNN_OK);
  std::mt19937 rng(3);
  const Graph a = RandomGraph(rng, {20}, 4, 4), b = RandomGraph(rng, {15}, 6, 4);
  const qgnn_plan_limits limits{20, 200, 1};
  size_t arena_bytes = 0;
  ASSERT_EQ(qgnn_arena_size(model, &limits, &arena_bytes, nullptr), QGNN_OK);
  std::vector<uint8_t> arena(arena_bytes);
  qgnn_interpreter* interpreter = nullptr;
  ASSERT_EQ(
      qgnn_interpreter_create(model, &limits, arena.data(), arena.size(), nullptr, &interpreter, nullptr),
      QGNN_OK);
  auto logits = [&] {
    qgnn_output out{};
    EXPECT_EQ(qgnn_interpreter_output(interpreter, &out), QGNN_OK);
    return std::vector<int32_t>(out.logits_q, out.logits_q + out.rows * out.cols);
  };
  const qgnn_graph ga = a.view(false), gb = b.view(false);
  ASSERT_EQ(qgnn_interpreter_setup(interpreter, &ga, nullptr), QGNN_OK);
  ASSERT_EQ(qgnn_interpreter_invoke(interpreter, nullptr), QGNN_OK);
  EXPECT_EQ(logits(), OracleQuantized(m.desc(), a));
  ASSERT_EQ(qgnn_interpreter_invoke(interpreter, nullptr), QGNN_OK);
  EXPECT_EQ(logits(), OracleQuantized(m.desc(), a));
  ASSERT_EQ(qgnn_interpreter_setup(interpreter, &gb, nullptr), QGNN_OK);
  ASSERT_EQ(qgnn_interpreter_invoke(interpreter, nullptr), QGNN_OK);
  EXPECT_EQ(logits(), OracleQuantized(m.desc(), b));
  qgnn_interpreter_delete(interpreter);
  qgnn_model_delete(model);
}

// Weights are packed once, at interpreter creation, into the arena's persistent part (first in the arena,
// counted by qgnn_arena_size, room for any ISA): invoke never rewrites it, and every ISA gives the same
// bytes.
TEST(PackedWeights, PackedOnceIntoThePersistentArena) {
  ModelMaker m(true, Task::kGraphClassification, 7, 21);
  m.Gin({32, 32}, 0.0f, true)
      .Sage(16, Reduce::kMax, true, true)
      .Pool(Reduce::kMean)
      .Linear(2, false, Bits{4});
  const std::vector<uint8_t> bytes = m.Bytes();
  AlignedBuffer buffer(bytes);
  qgnn_model* model = nullptr;
  ASSERT_EQ(qgnn_model_create(buffer.data(), buffer.size(), &model, nullptr), QGNN_OK);
  size_t expected_packed = 0;
  for (uint32_t i = 0; i < model->num_denses; ++i) {
    const runtime::DenseParams& d = *model->denses[i];
    EXPECT_EQ(model->packed_offsets[i], expected_packed);
    expected_packed +=
        (kernels::dense_packed_bytes_max(d.in_features, d.out_features, d.weights.bits) + 15) & ~size_t{15};
  }
  EXPECT_EQ(model->packed_bytes, expected_packed);
  std::mt19937 rng(9);
  const Graph graph = RandomGraph(rng, {9, 14, 6}, 3, 7);
  const qgnn_plan_limits limits{graph.num_nodes, graph.num_edges(), 3};
  size_t arena_bytes = 0;
  ASSERT_EQ(qgnn_arena_size(model, &limits, &arena_bytes, nullptr), QGNN_OK);
  const RunResult reference = RunModel(bytes, graph);
  ASSERT_EQ(reference.status, QGNN_OK) << reference.message;
  size_t activations_only = 0;
  for (const char* isa : {"reference", "avx2", "avx512", "neon", "neondot"}) {
    qgnn_interpreter_options options;
    qgnn_interpreter_options_init(&options);
    options.isa = isa;
    // The exact arena of this ISA: the packed-weights layout when its kernels pack, else the activations
    // only.
    size_t needed = 0;
    if (qgnn_arena_size_for_options(model, &limits, &options, &needed, nullptr) != QGNN_OK) {
      continue;  // an ISA this build or CPU lacks (kernel_table tests cover which must exist)
    }
    if (std::string(isa) == "reference") activations_only = needed;
    EXPECT_LE(needed, arena_bytes) << isa;
    std::vector<uint8_t> arena(needed);
    qgnn_interpreter* interpreter = nullptr;
    ASSERT_EQ(
        qgnn_interpreter_create(model, &limits, arena.data(), arena.size(), &options, &interpreter, nullptr),
        QGNN_OK)
        << isa;
    // One byte less is refused: the size is exact.
    qgnn_interpreter* short_by_one = nullptr;
    EXPECT_EQ(
        qgnn_interpreter_create(model, &limits, arena.data(), needed - 1, &options, &short_by_one, nullptr),
        QGNN_ARENA_TOO_SMALL)
        << isa;
    bool any_packed = false;
    for (uint32_t i = 0; i < model->num_denses; ++i)
      any_packed = any_packed || interpreter->packed[i] != nullptr;
    EXPECT_EQ(needed, activations_only + (any_packed ? model->packed_bytes : 0)) << isa;
    const uint8_t* base = interpreter->arena;
    const size_t persistent_bytes = any_packed ? model->packed_bytes : 0;
    const std::vector<uint8_t> persistent(base, base + persistent_bytes);
    const qgnn_graph view = graph.view(false);
    for (int run = 0; run < 2; ++run) {
      ASSERT_EQ(qgnn_interpreter_setup(interpreter, &view, nullptr), QGNN_OK);
      ASSERT_EQ(qgnn_interpreter_invoke(interpreter, nullptr), QGNN_OK);
      EXPECT_EQ(std::vector<uint8_t>(base, base + persistent_bytes), persistent) << isa;
      qgnn_output out{};
      ASSERT_EQ(qgnn_interpreter_output(interpreter, &out), QGNN_OK);
      EXPECT_EQ(std::vector<int8_t>(out.logits_q, out.logits_q + out.rows * out.cols), reference.logits_q)
          << isa;
    }
    // The ISAs that pack point every Dense into the persistent part; the others read the plain weights.
    for (uint32_t i = 0; i < model->num_denses; ++i) {
      const runtime::DenseParams& d = *model->denses[i];
      const bool packs =
          interpreter->kernels->dense_packed_bytes(d.in_features, d.out_features, d.weights.bits) > 0;
      EXPECT_EQ(interpreter->packed[i] != nullptr, packs) << isa << " dense " << i;
      if (packs) {
        EXPECT_EQ(interpreter->packed[i], base + model->packed_offsets[i]) << isa;
      }
    }
    qgnn_interpreter_delete(interpreter);
  }
  qgnn_model_delete(model);
}

}  // namespace
}  // namespace test
}  // namespace qgnn
