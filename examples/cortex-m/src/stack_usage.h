// Stack depth measurement on the device (startup.cc paints the stack at reset).
#ifndef QGNN_EXAMPLES_CORTEX_M_STACK_USAGE_H_
#define QGNN_EXAMPLES_CORTEX_M_STACK_USAGE_H_

#include <cstddef>

/// Deepest stack use since reset, in bytes (at least the reset handler's own margin).
size_t stack_high_water();

#endif  // QGNN_EXAMPLES_CORTEX_M_STACK_USAGE_H_
