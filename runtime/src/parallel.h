// Row-range parallelism for invoke. Host builds use pthreadpool (created once, at interpreter create);
// QGNN_EMBEDDED builds compile the pool out and run every range on the calling thread. Kernels produce
// the same bytes for any split of their row range, so results never depend on the thread count.
#ifndef QGNN_RUNTIME_PARALLEL_H_
#define QGNN_RUNTIME_PARALLEL_H_

#include <cstdint>

// pthreadpool's handle type (pthreadpool_t is `struct pthreadpool*`), without its header.
struct pthreadpool;

namespace qgnn {
namespace runtime {

#if defined(QGNN_EMBEDDED)
/// Bare-metal builds have no pool: one chunk, so the handle does not carry a kilobyte of bounds.
constexpr int32_t kMaxPartitionChunks = 1;
#else
/// Most chunks a row partition has: kTilesPerThread (4) per thread of the largest pool (64 threads).
constexpr int32_t kMaxPartitionChunks = 256;
#endif

/// Row ranges of an aggregation, cut by work rather than by row count: chunk i is rows
/// [bounds[i], bounds[i + 1]). Fixed storage (no heap), filled at setup by PartitionRowsByEdges.
struct RowPartition {
  int32_t chunks = 0;
  int32_t bounds[kMaxPartitionChunks + 1] = {0};
};

/// Cuts rows [0, rows) of a CSR (row_ptr has rows + 1 valid, non-decreasing entries starting at 0) into at
/// most `max_chunks` (1..kMaxPartitionChunks) contiguous chunks of about equal work, work(row) = in-degree +
/// 1 (the edges it gathers plus the row it writes), so one hub with most of the edges of a power-law graph
/// gets a chunk of its own instead of stalling the thread whose equal share of rows contains it. A chunk
/// never has less than kMinChunkWork work unless it is the only one. Empty chunks are never produced.
/// O(chunks log rows).
void PartitionRowsByEdges(const int32_t* row_ptr, int32_t rows, int32_t max_chunks, RowPartition* partition);

/// Smallest work (edges + rows) of a chunk worth handing to another thread.
constexpr int64_t kMinChunkWork = 64;

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
  /// Calls fn(context, bounds[i], bounds[i + 1]) for every chunk of `partition`. Allocation-free.
  void ParallelForPartition(const RowPartition& partition, RangeFn fn, void* context) const;

  /// Chunks a partition for this pool should have: a few per thread so a heavy chunk does not leave the
  /// others idle (1 without a pool).
  int32_t PartitionChunks() const;

  /// Sends the workers to sleep in the kernel now instead of letting them spin-wait for the next command.
  /// Called at the end of invoke (unless qgnn_interpreter_options.spin_workers): a spinning pool steals the
  /// cores another interpreter's pool (or the application) needs, and on a device it burns power between
  /// inferences. Costs one empty command here and a futex wake-up at the next invoke.
  void ReleaseWorkers() const;

  /// The pthreadpool itself (null without a pool: callers such as XNNPACK then run on the calling thread).
  /// Every parallel part of invoke, ours and XNNPACK's operators, runs on this one pool.
  pthreadpool* handle() const { return static_cast<pthreadpool*>(pool_); }

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

/// ParallelForPartition with a callable `body(begin, end)`.
template <typename F>
void ParallelFor(const ThreadPool& pool, const RowPartition& partition, const F& body) {
  pool.ParallelForPartition(
      partition,
      [](void* context, int32_t begin, int32_t end) { (*static_cast<const F*>(context))(begin, end); },
      const_cast<F*>(&body));
}

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_PARALLEL_H_
