// ThreadPool (see parallel.h).
#include "parallel.h"

#include <cstddef>

#if defined(QGNN_HAVE_PTHREADPOOL) && !defined(QGNN_EMBEDDED)
#define QGNN_USE_PTHREADPOOL 1
#include <pthreadpool.h>
#else
#define QGNN_USE_PTHREADPOOL 0
#endif

namespace qgnn {
namespace runtime {

void PartitionRowsByEdges(const int32_t* row_ptr, int32_t rows, int32_t max_chunks, RowPartition* partition) {
  partition->bounds[0] = 0;
  if (rows <= 0) {
    partition->chunks = 0;
    return;
  }
  if (max_chunks < 1) max_chunks = 1;
  if (max_chunks > kMaxPartitionChunks) max_chunks = kMaxPartitionChunks;
  // work(r) = edges + rows before row r: strictly increasing, work(0) = 0, work(rows) = total.
  const auto work = [row_ptr](int32_t r) { return static_cast<int64_t>(row_ptr[r]) + r; };
  const int64_t total = work(rows);
  int64_t chunks = total / kMinChunkWork;
  if (chunks < 1) chunks = 1;
  if (chunks > max_chunks) chunks = max_chunks;
  int32_t count = 0;
  int32_t previous = 0;
  for (int64_t k = 1; k < chunks && previous < rows; ++k) {
    // Share what is left equally among the chunks still to cut: a hub that overshoots one share then does
    // not leave a run of one-row chunks behind it.
    const int64_t left = chunks - k + 1;
    const int64_t target = work(previous) + (total - work(previous) + left - 1) / left;
    // Smallest row r > previous with work(r) >= target (exists: work(rows) = total >= target).
    int32_t lo = previous + 1, hi = rows;
    while (lo < hi) {
      const int32_t mid = lo + (hi - lo) / 2;
      if (work(mid) >= target) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    // Cut before that row instead when that lands nearer the target: a hub then starts a chunk of its own
    // rather than closing one over all the rows before it.
    if (lo - 1 > previous && target - work(lo - 1) < work(lo) - target) --lo;
    if (lo >= rows) break;
    partition->bounds[++count] = lo;
    previous = lo;
  }
  partition->bounds[++count] = rows;
  partition->chunks = count;
}

#if QGNN_USE_PTHREADPOOL
namespace {

// Rows per tile: a few tiles per thread for balance, but not so few rows that scheduling dominates.
constexpr size_t kMinRowsPerTile = 16;
constexpr size_t kTilesPerThread = 4;

struct RangeTask {
  ThreadPool::RangeFn fn;
  void* context;
};

void RunTile(void* argument, size_t start, size_t tile) {
  const RangeTask* task = static_cast<const RangeTask*>(argument);
  task->fn(task->context, static_cast<int32_t>(start), static_cast<int32_t>(start + tile));
}

struct ChunkTask {
  ThreadPool::RangeFn fn;
  void* context;
  const int32_t* bounds;
};

void RunChunk(void* argument, size_t chunk) {
  const ChunkTask* task = static_cast<const ChunkTask*>(argument);
  task->fn(task->context, task->bounds[chunk], task->bounds[chunk + 1]);
}

}  // namespace

bool ThreadPool::Init(uint32_t threads) {
  Destroy();
  if (threads <= 1) return true;
  pthreadpool_t pool = pthreadpool_create(threads);
  if (pool == nullptr) return false;
  pool_ = pool;
  threads_ = static_cast<uint32_t>(pthreadpool_get_threads_count(pool));
  return true;
}

void ThreadPool::Destroy() {
  if (pool_ != nullptr) pthreadpool_destroy(static_cast<pthreadpool_t>(pool_));
  pool_ = nullptr;
  threads_ = 1;
}

void ThreadPool::ParallelFor(int32_t count, RangeFn fn, void* context) const {
  if (count <= 0) return;
  const size_t rows = static_cast<size_t>(count);
  if (pool_ == nullptr || rows <= kMinRowsPerTile) {
    fn(context, 0, count);
    return;
  }
  size_t tile = (rows + threads_ * kTilesPerThread - 1) / (threads_ * kTilesPerThread);
  if (tile < kMinRowsPerTile) tile = kMinRowsPerTile;
  RangeTask task{fn, context};
  pthreadpool_parallelize_1d_tile_1d(static_cast<pthreadpool_t>(pool_), RunTile, &task, rows, tile, 0);
}

void ThreadPool::ParallelForPartition(const RowPartition& partition, RangeFn fn, void* context) const {
  if (partition.chunks <= 0) return;
  if (pool_ == nullptr || partition.chunks == 1) {
    fn(context, partition.bounds[0], partition.bounds[partition.chunks]);
    return;
  }
  ChunkTask task{fn, context, partition.bounds};
  pthreadpool_parallelize_1d(static_cast<pthreadpool_t>(pool_), RunChunk, &task,
                             static_cast<size_t>(partition.chunks), 0);
}

void ThreadPool::ReleaseWorkers() const {
  if (pool_ == nullptr) return;
  // One no-op item per thread with PTHREADPOOL_FLAG_YIELD_WORKERS: after it the workers wait on a futex.
  pthreadpool_parallelize_1d(
      static_cast<pthreadpool_t>(pool_), [](void*, size_t) {}, nullptr, threads_,
      PTHREADPOOL_FLAG_YIELD_WORKERS);
}

int32_t ThreadPool::PartitionChunks() const {
  if (pool_ == nullptr) return 1;
  const uint32_t chunks = threads_ * static_cast<uint32_t>(kTilesPerThread);
  return chunks > static_cast<uint32_t>(kMaxPartitionChunks) ? kMaxPartitionChunks
                                                             : static_cast<int32_t>(chunks);
}

#else  // single-threaded build

bool ThreadPool::Init(uint32_t /*threads*/) {
  threads_ = 1;
  return true;
}

void ThreadPool::Destroy() { threads_ = 1; }

void ThreadPool::ParallelFor(int32_t count, RangeFn fn, void* context) const {
  if (count > 0) fn(context, 0, count);
}

void ThreadPool::ParallelForPartition(const RowPartition& partition, RangeFn fn, void* context) const {
  if (partition.chunks > 0) fn(context, partition.bounds[0], partition.bounds[partition.chunks]);
}

void ThreadPool::ReleaseWorkers() const {}

int32_t ThreadPool::PartitionChunks() const { return 1; }

#endif

}  // namespace runtime
}  // namespace qgnn
