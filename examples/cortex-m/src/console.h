// Line output for the example: semihosting on the device, stdout on the host twin. No printf, so the
// firmware links neither newlib's stdio nor malloc.
#ifndef QGNN_EXAMPLES_CORTEX_M_CONSOLE_H_
#define QGNN_EXAMPLES_CORTEX_M_CONSOLE_H_

#include <cstdint>

/// Writes a NUL-terminated string (platform-specific: console_semihost.cc / host/console_stdio.cc).
void console_write(const char* text);

/// Small formatting helpers on top of console_write.
void console_int(int64_t value);
void console_uint(uint64_t value);

#endif  // QGNN_EXAMPLES_CORTEX_M_CONSOLE_H_
