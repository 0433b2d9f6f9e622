// Invoke performs no heap allocation. This binary replaces the global operator new/delete family and (outside
// sanitizer builds) the malloc family with counting hooks, arms them around setup / invoke / output, and
// expects zero allocations, with one and with two threads.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <new>
#include <vector>

#include "qgnn/session.hpp"
#include "test_util.h"

namespace {

std::atomic<bool> g_armed{false};
std::atomic<long> g_allocations{0};

void Note() {
  if (g_armed.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
}

#if defined(QGNN_TEST_NO_MALLOC_HOOK)
constexpr bool kMallocHooked = false;
#else
constexpr bool kMallocHooked = true;
#endif

void* Allocate(size_t size) {
  if (!kMallocHooked) Note();  // otherwise malloc counts it
  return std::malloc(size == 0 ? 1 : size);
}

void* AllocateAligned(size_t size, std::align_val_t alignment) {
  if (!kMallocHooked) Note();
  const size_t a = static_cast<size_t>(alignment);
  return std::aligned_alloc(a, (size + a - 1) / a * a);
}

}  // namespace

// ---- operator new / delete
// ---------------------------------------------------------------------------------

void* operator new(size_t size) {
  void* p = Allocate(size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new[](size_t size) {
  void* p = Allocate(size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new(size_t size, const std::nothrow_t&) noexcept { return Allocate(size); }
void* operator new[](size_t size, const std::nothrow_t&) noexcept { return Allocate(size); }
void* operator new(size_t size, std::align_val_t a) {
  void* p = AllocateAligned(size, a);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new[](size_t size, std::align_val_t a) {
  void* p = AllocateAligned(size, a);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new(size_t size, std::align_val_t a, const std::nothrow_t&) noexcept {
  return AllocateAligned(size, a);
}
void* operator new[](size_t size, std::align_val_t a, const std::nothrow_t&) noexcept {
  return AllocateAligned(size, a);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { std::free(p); }

// ---- malloc family (glibc: forward to the __libc_* implementations)
// -----------------------------------------

#if !defined(QGNN_TEST_NO_MALLOC_HOOK)
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);

void* malloc(size_t size) {
  Note();
  return __libc_malloc(size);
}
void* calloc(size_t count, size_t size) {
  Note();
  return __libc_calloc(count, size);
}
void* realloc(void* p, size_t size) {
  Note();
  return __libc_realloc(p, size);
}
void free(void* p) { __libc_free(p); }
void* memalign(size_t alignment, size_t size) {
  Note();
  return __libc_memalign(alignment, size);
}
void* aligned_alloc(size_t alignment, size_t size) {
  Note();
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, size_t alignment, size_t size) {
  Note();
  void* p = __libc_memalign(alignment, size);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
}  // extern "C"
#endif

namespace qgnn {
namespace test {
namespace {

class Armed {
 public:
  Armed() {
    g_allocations.store(0);
    g_armed.store(true);
  }
  ~Armed() { g_armed.store(false); }
};

TEST(HeapHooks, CountAllocations) {
  long counted = 0;
  {
    Armed armed;
    // Direct calls (not new-expressions) so the compiler may not elide the allocation.
    void* volatile p = ::operator new(32);
    ::operator delete(p);
    void* volatile q = ::operator new[](16, std::nothrow);
    ::operator delete[](q);
    counted = g_allocations.load();
  }
  EXPECT_EQ(counted, 2);
  if (kMallocHooked) {
    {
      Armed armed;
      // Through volatile function pointers, so the compiler cannot elide the allocations.
      void* (*volatile allocate)(size_t) = &std::malloc;
      void* (*volatile allocate_n)(size_t, size_t) = &std::calloc;
      std::free(allocate(16));
      std::free(allocate_n(2, 8));
      counted = g_allocations.load();
    }
    EXPECT_EQ(counted, 2);
  }
}

struct Counts {
  long setup = -1, invoke = -1, outputs = -1, arena_size = -1;
};

// `fp32` is qgnn_interpreter_options.fp32 (null: the default backend).
Counts CountDuringRun(const std::vector<uint8_t>& bytes, const Graph& graph, uint32_t threads,
                      const char* fp32 = nullptr) {
  Counts counts;
  // Loading and planning may allocate; the armed sections call the C API directly, so only the runtime's
  // own allocations are counted.
  auto loaded = session::Session::load(bytes);
  EXPECT_TRUE(loaded.ok()) << loaded.error;
  session::Session& host = loaded.value;
  const qgnn_model* model = host.model().get();
  const qgnn_model_info& info = host.info();
  const qgnn_plan_limits limits{graph.num_nodes, graph.num_edges(), graph.num_graphs};
  size_t arena_bytes = 0;
  qgnn_status st_size;
  {
    Armed armed;
    st_size = qgnn_arena_size(model, &limits, &arena_bytes, nullptr);
    counts.arena_size = g_allocations.load();
  }
  EXPECT_EQ(st_size, QGNN_OK);
  session::Options options;
  options.threads = threads;
  options.fp32 = fp32 != nullptr ? fp32 : "";
  const auto planned = host.plan(limits, options);
  EXPECT_TRUE(planned.ok()) << planned.error;
  EXPECT_EQ(host.arena_bytes(), arena_bytes);
  qgnn_interpreter* interpreter = host.interpreter();
  const qgnn_graph view = graph.view(info.input_is_int8 != 0);
  std::vector<float> logits(static_cast<size_t>(graph.num_nodes + graph.num_graphs) * info.num_classes);
  std::vector<int32_t> classes(graph.num_nodes + graph.num_graphs);
  qgnn_error error{};
  qgnn_status st_setup, st_invoke[3], st_out[3];
  {
    Armed armed;
    st_setup = qgnn_interpreter_setup(interpreter, &view, &error);
    counts.setup = g_allocations.load();
  }
  {
    Armed armed;
    for (qgnn_status& s : st_invoke) s = qgnn_interpreter_invoke(interpreter, &error);
    counts.invoke = g_allocations.load();
  }
  {
    Armed armed;
    qgnn_output out{};
    st_out[0] = qgnn_interpreter_output(interpreter, &out);
    st_out[1] = qgnn_interpreter_output_float(interpreter, logits.data(), logits.size());
    st_out[2] = qgnn_interpreter_argmax(interpreter, classes.data(), classes.size());
    counts.outputs = g_allocations.load();
  }
  EXPECT_EQ(st_setup, QGNN_OK) << error.message;
  for (qgnn_status s : st_invoke) EXPECT_EQ(s, QGNN_OK);
  for (qgnn_status s : st_out) EXPECT_EQ(s, QGNN_OK);
  return counts;
}

void ExpectNoAllocations(const ModelMaker& maker, const Graph& graph, const char* fp32 = nullptr) {
  const std::vector<uint8_t> bytes = maker.Bytes();
  for (uint32_t threads : {1u, 2u}) {
    SCOPED_TRACE(threads);
    const Counts c = CountDuringRun(bytes, graph, threads, fp32);
    EXPECT_EQ(c.arena_size, 0);
    EXPECT_EQ(c.setup, 0);
    EXPECT_EQ(c.invoke, 0);
    EXPECT_EQ(c.outputs, 0);
  }
}

TEST(NoHeapDuringInvoke, QuantizedEveryLayerKind) {
  ModelMaker m(true, Task::kGraphClassification, 6, 1);
  m.Gcn(12, true)
      .Sage(12, Reduce::kMean, true, true, Bits{4, 4, 8})
      .Gin({12, 10}, 0.1f, true, Bits{8, 8, 8, 4})
      .Sage(10, Reduce::kMax, false, true)
      .Pool(Reduce::kMean)
      .Linear(8, true)
      .Linear(4, false, Bits{4});
  std::mt19937 rng(1);
  ExpectNoAllocations(m, RandomGraph(rng, {90, 70, 0, 60}, 5, 6));
}

TEST(NoHeapDuringInvoke, Int8InputNodeModel) {
  ModelMaker m(true, Task::kNodeClassification, 6, 2);
  m.Input(8, 0, true);
  m.Gcn(8, true).Linear(3, false);
  std::mt19937 rng(2);
  ExpectNoAllocations(m, RandomGraph(rng, {200}, 5, 6));
}

TEST(NoHeapDuringInvoke, FloatEveryLayerKind) {
  ModelMaker m(false, Task::kGraphClassification, 6, 3);
  m.Gcn(12, true)
      .Sage(12, Reduce::kMean, true, true)
      .Gin({12, 10}, 0.1f, true)
      .Pool(Reduce::kSum)
      .Linear(4, false);
  std::mt19937 rng(3);
  ExpectNoAllocations(m, RandomGraph(rng, {90, 70, 60}, 5, 6), "reference");
}

// The XNNPACK FP32 backend: operators are created (weights packed) at qgnn_interpreter_create; setup and
// xnn_setup_fully_connected_nc_f32 + xnn_run_operator during invoke allocate nothing. Both SAGE root paths
// (root product on XNNPACK into the dead aggregation, and the plain loop when out > in) and a BatchNorm-free
// GIN hidden ReLU are exercised.
TEST(NoHeapDuringInvoke, FloatEveryLayerKindOnXnnpack) {
  ModelMaker m(false, Task::kGraphClassification, 6, 3);
  m.Gcn(12, true)
      .Sage(12, Reduce::kMean, true, true)
      .Sage(16, Reduce::kMax, true, true)
      .Gin({12, 10}, 0.1f, true)
      .Pool(Reduce::kSum)
      .Linear(8, true)
      .Linear(4, false);
  const std::vector<uint8_t> bytes = m.Bytes();
  {
    AlignedBuffer buffer(bytes);
    qgnn_model* model = nullptr;
    ASSERT_EQ(qgnn_model_create(buffer.data(), buffer.size(), &model, nullptr), QGNN_OK);
    const qgnn_plan_limits limits{8, 8, 1};
    size_t arena_bytes = 0;
    ASSERT_EQ(qgnn_arena_size(model, &limits, &arena_bytes, nullptr), QGNN_OK);
    std::vector<uint8_t> arena(arena_bytes);
    const qgnn_interpreter_options options{sizeof(qgnn_interpreter_options), 1, nullptr, "xnnpack", 0};
    qgnn_interpreter* interpreter = nullptr;
    const qgnn_status st =
        qgnn_interpreter_create(model, &limits, arena.data(), arena.size(), &options, &interpreter, nullptr);
    qgnn_interpreter_delete(interpreter);
    qgnn_model_delete(model);
    if (st == QGNN_INVALID_ARGUMENT) GTEST_SKIP() << "XNNPACK is not available in this build or on this CPU";
    ASSERT_EQ(st, QGNN_OK);
  }
  std::mt19937 rng(3);
  ExpectNoAllocations(m, RandomGraph(rng, {90, 70, 60}, 5, 6), "xnnpack");
}

}  // namespace
}  // namespace test
}  // namespace qgnn
