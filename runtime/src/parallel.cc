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

#if QGNN_USE_PTHREADPOOL
namespace {

struct RangeTask {
  ThreadPool::RangeFn fn;
  void* context;
};

void RunTile(void* argument, size_t start, size_t tile) {
  const RangeTask* task = static_cast<const RangeTask*>(argument);
  task->fn(task->context, static_cast<int32_t>(start), static_cast<int32_t>(start + tile));
}

// Rows per tile: a few tiles per thread for balance, but not so few rows that scheduling dominates.
constexpr size_t kMinRowsPerTile = 16;
constexpr size_t kTilesPerThread = 4;

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

#else  // single-threaded build

bool ThreadPool::Init(uint32_t /*threads*/) {
  threads_ = 1;
  return true;
}

void ThreadPool::Destroy() { threads_ = 1; }

void ThreadPool::ParallelFor(int32_t count, RangeFn fn, void* context) const {
  if (count > 0) fn(context, 0, count);
}

#endif

}  // namespace runtime
}  // namespace qgnn
