// qgnn::session (include/qgnn/session.hpp): loading into aligned memory, planning, binding, invoking and
// reading outputs, and that every misuse or bad input is an error value, never a crash.
#include "qgnn/session.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "test_util.h"

namespace qgnn {
namespace test {
namespace {

using session::Session;

ModelMaker QuantizedGraphModel() {
  ModelMaker m(true, Task::kGraphClassification, 6, 11);
  m.Input(8).Gcn(8, true).Sage(7, Reduce::kMean, true, true).Gin({9, 6}, 0.25f, true);
  m.Pool(Reduce::kMean).Linear(4, false);
  return m;
}

Graph TwoGraphs(uint32_t seed) {
  std::mt19937 rng(seed);
  return RandomGraph(rng, {9, 5}, 4, 6);
}

std::string TempPath(const char* name) {
  const char* dir = getenv("TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/qgnn-session-test-" + std::to_string(getpid()) + "-" +
         name;
}

TEST(SessionTest, LoadsIntoAlignedMemory) {
  const std::vector<uint8_t> bytes = QuantizedGraphModel().Bytes();
  auto loaded = Session::load(bytes);
  ASSERT_TRUE(loaded.ok()) << loaded.error;
  const Session& s = loaded.value;
  EXPECT_TRUE(s.loaded());
  EXPECT_EQ(s.model_bytes(), bytes.size());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(s.model_data()) % 16, 0u);
  EXPECT_EQ(std::vector<uint8_t>(s.model_data(), s.model_data() + s.model_bytes()), bytes);
  EXPECT_EQ(s.info().num_classes, 4u);
  EXPECT_EQ(s.info().input_dim, 6u);
  EXPECT_EQ(s.info().quantized, 1);
  EXPECT_EQ(s.interpreter(), nullptr);
  EXPECT_STREQ(s.isa(), "");
}

// The outputs are those of the integer oracle, and the three views of them agree.
TEST(SessionTest, RunsAndReadsOutputs) {
  ModelMaker maker = QuantizedGraphModel();
  const Graph graph = TwoGraphs(3);
  auto loaded = Session::load(maker.Bytes());
  ASSERT_TRUE(loaded.ok()) << loaded.error;
  Session& s = loaded.value;
  const qgnn_graph view = graph.view(false);
  const qgnn_plan_limits limits = session::limits_of(view);
  ASSERT_TRUE(s.plan(limits).ok());
  const auto expected_arena = s.arena_size(limits);
  ASSERT_TRUE(expected_arena.ok());
  EXPECT_EQ(s.arena_bytes(), expected_arena.value);
  EXPECT_NE(s.interpreter(), nullptr);
  EXPECT_STRNE(s.isa(), "");
  const auto ran = s.run(view);
  ASSERT_TRUE(ran.ok()) << ran.error;
  const auto out = s.outputs();
  ASSERT_TRUE(out.ok()) << out.error;
  EXPECT_EQ(out.value.rows, 2u);
  EXPECT_EQ(out.value.cols, 4u);
  const std::vector<int32_t> oracle = OracleQuantized(maker.desc(), graph);
  ASSERT_EQ(out.value.logits_q.size(), oracle.size());
  for (size_t i = 0; i < oracle.size(); ++i) {
    EXPECT_EQ(out.value.logits_q[i], oracle[i]) << i;
    EXPECT_FLOAT_EQ(out.value.logits[i],
                    out.value.scale * static_cast<float>(out.value.logits_q[i] - out.value.zero_point));
  }
  std::vector<int32_t> argmax(2, -1);
  ASSERT_TRUE(s.argmax(argmax.data(), argmax.size()).ok());
  EXPECT_EQ(argmax, out.value.argmax);
  // A moved session keeps running: its model bytes and arena moved with it.
  Session moved = std::move(s);
  ASSERT_TRUE(moved.run(view).ok());
  const auto again = moved.outputs();
  ASSERT_TRUE(again.ok()) << again.error;
  EXPECT_EQ(again.value.logits_q, out.value.logits_q);
}

TEST(SessionTest, OptionsReachTheInterpreter) {
  auto loaded = Session::load(QuantizedGraphModel().Bytes());
  ASSERT_TRUE(loaded.ok());
  session::Options options;
  options.isa = "reference";
  options.threads = 2;
  ASSERT_TRUE(loaded.value.plan({20, 80, 2}, options).ok());
  EXPECT_STREQ(loaded.value.isa(), "reference");
  options.isa = "no-such-isa";
  const auto bad = loaded.value.plan({20, 80, 2}, options);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status, QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(bad.error.rfind("qgnn_interpreter_create: QGNN_INVALID_ARGUMENT", 0), 0u) << bad.error;
  EXPECT_EQ(loaded.value.interpreter(), nullptr);
  EXPECT_EQ(loaded.value.arena_bytes(), 0u);
  EXPECT_FALSE(loaded.value.invoke().ok());
}

TEST(SessionTest, BadModelBytesAreAnError) {
  const std::vector<uint8_t> junk(100, 0x5a);
  const auto r = Session::load(junk);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status, QGNN_OK);
  EXPECT_FALSE(r.message.empty());
  EXPECT_EQ(r.error.rfind("qgnn_model_create: ", 0), 0u) << r.error;
  EXPECT_FALSE(Session::load(nullptr, 0).ok());
  EXPECT_FALSE(Session::load(nullptr, 16).ok());
  // Every truncation fails cleanly (and under AddressSanitizer reads nothing past the copy).
  const std::vector<uint8_t> bytes = QuantizedGraphModel().Bytes();
  for (size_t n = 0; n < bytes.size(); n += 97) EXPECT_FALSE(Session::load(bytes.data(), n).ok()) << n;
}

TEST(SessionTest, LoadFile) {
  const std::vector<uint8_t> bytes = QuantizedGraphModel().Bytes();
  const std::string path = TempPath("model.qgnn");
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  std::fclose(f);
  auto loaded = Session::load_file(path);
  std::remove(path.c_str());
  ASSERT_TRUE(loaded.ok()) << loaded.error;
  EXPECT_EQ(loaded.value.model_bytes(), bytes.size());

  const auto missing = Session::load_file(path);
  EXPECT_FALSE(missing.ok());
  EXPECT_EQ(missing.status, QGNN_OK);  // not the runtime's failure
  EXPECT_EQ(missing.error.rfind("cannot open " + path + ": ", 0), 0u) << missing.error;
  const auto directory = Session::load_file("/");
  EXPECT_FALSE(directory.ok());
  EXPECT_EQ(directory.error, "/ is not a regular file");
}

TEST(SessionTest, MisuseIsAnError) {
  Session empty;
  EXPECT_FALSE(empty.loaded());
  EXPECT_FALSE(empty.arena_size({1, 1, 1}).ok());
  EXPECT_FALSE(empty.plan({1, 1, 1}).ok());
  EXPECT_FALSE(empty.invoke().ok());
  EXPECT_FALSE(empty.outputs().ok());

  auto loaded = Session::load(QuantizedGraphModel().Bytes());
  ASSERT_TRUE(loaded.ok());
  Session& s = loaded.value;
  const Graph graph = TwoGraphs(5);
  const qgnn_graph view = graph.view(false);
  const auto unplanned = s.bind(view);
  EXPECT_FALSE(unplanned.ok());
  EXPECT_NE(unplanned.error.find("no plan"), std::string::npos) << unplanned.error;
  // Output before any invoke: the runtime's NOT_READY.
  ASSERT_TRUE(s.plan(session::limits_of(view)).ok());
  const auto early = s.outputs();
  EXPECT_FALSE(early.ok());
  EXPECT_EQ(early.status, QGNN_NOT_READY);
  // A graph larger than the plan.
  ASSERT_TRUE(s.plan({3, 3, 1}).ok());
  const auto big = s.run(view);
  EXPECT_FALSE(big.ok());
  EXPECT_EQ(big.status, QGNN_GRAPH_TOO_LARGE);
  EXPECT_EQ(big.error.rfind("qgnn_interpreter_setup: QGNN_GRAPH_TOO_LARGE", 0), 0u) << big.error;
}

TEST(SessionTest, Limits) {
  qgnn_graph g{};
  const qgnn_plan_limits empty = session::limits_of(g);
  EXPECT_EQ(empty.max_nodes, 1u);
  EXPECT_EQ(empty.max_edges, 1u);
  EXPECT_EQ(empty.max_graphs, 1u);
  g.num_nodes = 7;
  g.num_edges = 3;
  g.num_graphs = 2;
  const qgnn_plan_limits l = session::limits_of(g);
  EXPECT_EQ(l.max_nodes, 7u);
  EXPECT_EQ(l.max_edges, 3u);
  EXPECT_EQ(l.max_graphs, 2u);
  const qgnn_plan_limits c = session::cover(l, {5, 9, 1});
  EXPECT_EQ(c.max_nodes, 7u);
  EXPECT_EQ(c.max_edges, 9u);
  EXPECT_EQ(c.max_graphs, 2u);
}

}  // namespace
}  // namespace test
}  // namespace qgnn
