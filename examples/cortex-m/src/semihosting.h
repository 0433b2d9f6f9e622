// ARM semihosting calls the firmware needs (qemu-system-arm -semihosting-config enable=on,target=native).
#ifndef QGNN_EXAMPLES_CORTEX_M_SEMIHOSTING_H_
#define QGNN_EXAMPLES_CORTEX_M_SEMIHOSTING_H_

/// Ends the emulation; `code` becomes qemu's exit status (SYS_EXIT_EXTENDED).
[[noreturn]] void semihost_exit(int code);

#endif  // QGNN_EXAMPLES_CORTEX_M_SEMIHOSTING_H_
