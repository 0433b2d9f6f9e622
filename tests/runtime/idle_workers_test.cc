// After invoke the interpreter's pool workers sleep (qgnn_interpreter_options.spin_workers = 0, the default):
// an idle interpreter must not burn CPU, or it steals the cores other interpreters' pools and the
// application need (measured: three interleaved interpreters with 2 threads each scaled 1.0x instead of
// 1.6-1.7x while pthreadpool's workers spun between invokes).
#include <gtest/gtest.h>

#include <time.h>

#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "test_util.h"

namespace qgnn {
namespace test {
namespace {

double ProcessCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

struct IdleRun {
  std::vector<int8_t> logits;
  double idle_cpu_seconds = 0;  ///< CPU the process used while the caller slept after the last invoke
};

/// Three invokes of a 2-thread interpreter, then `idle` of sleep on the calling thread.
IdleRun RunThenIdle(int spin_workers, std::chrono::milliseconds idle) {
  std::mt19937 rng(5);
  const Graph graph = RandomGraph(rng, {400, 300}, 6, 8);
  ModelMaker m(/*quantized=*/true, Task::kGraphClassification, 8, 3);
  m.Gcn(16, true).Gin({16, 12}, 0.1f, true).Pool(Reduce::kSum).Linear(4, false);
  const std::vector<uint8_t> bytes = m.Bytes();
  IdleRun run;
  qgnn_model* model = nullptr;
  qgnn_error error{};
  EXPECT_EQ(qgnn_model_create(bytes.data(), bytes.size(), &model, &error), QGNN_OK) << error.message;
  const qgnn_plan_limits limits{graph.num_nodes, graph.num_edges(), graph.num_graphs};
  size_t arena_bytes = 0;
  EXPECT_EQ(qgnn_arena_size(model, &limits, &arena_bytes, &error), QGNN_OK) << error.message;
  std::vector<uint8_t> arena(arena_bytes);
  qgnn_interpreter_options options = QGNN_INTERPRETER_OPTIONS_INIT;
  options.num_threads = 2;
  options.spin_workers = spin_workers;
  qgnn_interpreter* interpreter = nullptr;
  EXPECT_EQ(
      qgnn_interpreter_create(model, &limits, arena.data(), arena.size(), &options, &interpreter, &error),
      QGNN_OK)
      << error.message;
  const qgnn_graph view = graph.view(false);
  EXPECT_EQ(qgnn_interpreter_setup(interpreter, &view, &error), QGNN_OK) << error.message;
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(qgnn_interpreter_invoke(interpreter, &error), QGNN_OK) << error.message;
  const double before = ProcessCpuSeconds();
  std::this_thread::sleep_for(idle);
  run.idle_cpu_seconds = ProcessCpuSeconds() - before;
  qgnn_output out{};
  EXPECT_EQ(qgnn_interpreter_output(interpreter, &out), QGNN_OK);
  run.logits.assign(out.logits_q, out.logits_q + static_cast<size_t>(out.rows) * out.cols);
  qgnn_interpreter_delete(interpreter);
  qgnn_model_delete(model);
  return run;
}

TEST(IdleWorkers, SleepAfterInvokeByDefault) {
  // A spinning pthreadpool worker keeps a core busy for milliseconds after each command; released workers
  // use next to nothing while the caller sleeps.
  const IdleRun run = RunThenIdle(/*spin_workers=*/0, std::chrono::milliseconds(100));
  RecordProperty("cpu_us_while_idle", static_cast<int>(run.idle_cpu_seconds * 1e6));
  EXPECT_LT(run.idle_cpu_seconds, 0.010)
      << "workers used " << run.idle_cpu_seconds * 1e3 << " ms of CPU in 100 ms of idle time";
}

TEST(IdleWorkers, SpinningWorkersGiveTheSameOutputs) {
  const IdleRun sleeping = RunThenIdle(/*spin_workers=*/0, std::chrono::milliseconds(1));
  const IdleRun spinning = RunThenIdle(/*spin_workers=*/1, std::chrono::milliseconds(50));
  RecordProperty("cpu_us_while_idle_spinning", static_cast<int>(spinning.idle_cpu_seconds * 1e6));
  ASSERT_FALSE(sleeping.logits.empty());
  EXPECT_EQ(sleeping.logits, spinning.logits);
}

}  // namespace
}  // namespace test
}  // namespace qgnn
