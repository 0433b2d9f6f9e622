// The runtime allocates its two small handles (model, interpreter) with new (std::nothrow) at create time.
// On the device those come from this fixed pool instead of malloc, so the firmware links no heap at all and
// its RAM is known at link time: arena + this pool + stack.
#include <cstddef>
#include <cstdint>
#include <new>

#include "handle_pool.h"

namespace {

alignas(16) uint8_t g_pool[QGNN_FW_HANDLE_POOL_BYTES];
size_t g_used = 0;
size_t g_high_water = 0;
size_t g_live = 0;

// Bump allocation; the pool is reused once every handle is gone (create/delete come in pairs).
void* pool_alloc(size_t size) {
  const size_t aligned = (size + 15u) & ~static_cast<size_t>(15u);
  if (aligned < size || aligned > sizeof(g_pool) - g_used) return nullptr;
  void* p = g_pool + g_used;
  g_used += aligned;
  ++g_live;
  if (g_used > g_high_water) g_high_water = g_used;
  return p;
}

void pool_free(void* p) {
  if (p == nullptr) return;
  if (--g_live == 0) g_used = 0;
}

}  // namespace

size_t handle_pool_high_water() { return g_high_water; }

void* operator new(size_t size, const std::nothrow_t&) noexcept { return pool_alloc(size); }
void* operator new[](size_t size, const std::nothrow_t&) noexcept { return pool_alloc(size); }
// Plain new would pull libstdc++'s throwing allocator (and malloc); the runtime never uses it, and this
// definition keeps it out of the image if some code did.
void* operator new(size_t size) { return pool_alloc(size); }
void* operator new[](size_t size) { return pool_alloc(size); }
void operator delete(void* p) noexcept { pool_free(p); }
void operator delete[](void* p) noexcept { pool_free(p); }
void operator delete(void* p, size_t) noexcept { pool_free(p); }
void operator delete[](void* p, size_t) noexcept { pool_free(p); }
