// Row-range parallelism for invoke. Host builds use pthreadpool (created once, at interpreter create);
// QGNN_EMBEDDED builds compile the pool out and run every range on the calling thread. Kernels produce
// the same bytes for any split of their row range, so results never depend on the thread count.
#ifndef QGNN_RUNTIME_PARALLEL_H_
#define QGNN_RUNTIME_PARALLEL_H_

#include <cstdint>

namespace qgnn {
namespace runtime {

class ThreadPool {
 public:
  using RangeFn = void (*)(void* context, int32_t begin, int32_t end);

  ThreadPool() = default;
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ~ThreadPool() { Destroy(); }

  /// Creates the workers (create time only; may allocate). `threads` counts the calling thread; <= 1 or a
  /// build without threads means no pool. Returns false when the pool cannot be created.
  bool Init(uint32_t threads);
  void Destroy();
  /// Threads that run a ParallelFor (1 without a pool).
  uint32_t threads() const { return threads_; }

  /// Calls fn(context, begin, end) over disjoint ranges covering [0, count). Allocation-free.
  void ParallelFor(int32_t count, RangeFn fn, void* context) const;

 private:
  void* pool_ = nullptr;
  uint32_t threads_ = 1;
};

/// ParallelFor with a callable `body(begin, end)` (a lambda capturing by reference; nothing is copied).
template <typename F>
void ParallelFor(const ThreadPool& pool, int32_t count, const F& body) {
  if (count <= 0) return;
  pool.ParallelFor(
      count, [](void* context, int32_t begin, int32_t end) { (*static_cast<const F*>(context))(begin, end); },
      const_cast<F*>(&body));
}

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_PARALLEL_H_
