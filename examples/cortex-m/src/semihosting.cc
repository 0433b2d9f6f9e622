// Semihosting on Cortex-M: `bkpt 0xAB` with the operation in r0 and its argument in r1. qemu services it
// on the host; on a real board without a debugger attached the breakpoint would fault, which is why only
// this example (and not the library) uses it.
#include "semihosting.h"

#include <cstdint>

#include "console.h"

namespace {

constexpr uint32_t kSysWrite0 = 0x04;           // write a NUL-terminated string to the debug console
constexpr uint32_t kSysExitExtended = 0x20;     // exit with a reason and a status code
constexpr uint32_t kApplicationExit = 0x20026;  // ADP_Stopped_ApplicationExit

uint32_t semihost_call(uint32_t op, const void* arg) {
  register uint32_t r0 __asm__("r0") = op;
  register const void* r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

}  // namespace

void console_write(const char* text) { semihost_call(kSysWrite0, text); }

void semihost_exit(int code) {
  // The block must stay valid while the host reads it: it lives on this frame, which never returns.
  const uint32_t block[2] = {kApplicationExit, static_cast<uint32_t>(code)};
  semihost_call(kSysExitExtended, block);
  for (;;) {
  }
}
