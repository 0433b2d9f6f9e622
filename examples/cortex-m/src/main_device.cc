// Firmware entry: a static arena with guard bytes on both sides, the shared run, and a guard check so an
// arena overrun fails the run even where no MPU would catch it.
#include <cstdint>

#include "console.h"
#include "handle_pool.h"
#include "run_graphs.h"
#include "stack_usage.h"

#ifndef QGNN_FW_ARENA_BYTES
#define QGNN_FW_ARENA_BYTES 16384
#endif

namespace {

constexpr size_t kGuard = 64;
constexpr uint8_t kGuardByte = 0xA5;

struct GuardedArena {
  uint8_t before[kGuard];
  uint8_t arena[QGNN_FW_ARENA_BYTES];
  uint8_t after[kGuard];
};
alignas(16) GuardedArena g_arena;

bool guards_intact() {
  for (size_t i = 0; i < kGuard; ++i) {
    if (g_arena.before[i] != kGuardByte || g_arena.after[i] != kGuardByte) return false;
  }
  return true;
}

}  // namespace

int main() {
  for (size_t i = 0; i < kGuard; ++i) g_arena.before[i] = g_arena.after[i] = kGuardByte;
  int rc = run_embedded_graphs(g_arena.arena, sizeof(g_arena.arena), nullptr, 1);
  console_write("device handle_pool_bytes ");
  console_uint(handle_pool_high_water());
  console_write(" arena_static_bytes ");
  console_uint(sizeof(g_arena.arena));
  console_write(" stack_bytes ");
  console_uint(stack_high_water());
  console_write("\n");
  if (!guards_intact()) {
    console_write("error: arena guard bytes overwritten\n");
    rc = 98;
  }
  console_write(rc == 0 ? "exit 0\n" : "exit failure\n");
  return rc;
}
