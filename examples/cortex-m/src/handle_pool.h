// Fixed pool behind operator new on the device (handle_pool.cc).
#ifndef QGNN_EXAMPLES_CORTEX_M_HANDLE_POOL_H_
#define QGNN_EXAMPLES_CORTEX_M_HANDLE_POOL_H_

#include <cstddef>

#ifndef QGNN_FW_HANDLE_POOL_BYTES
#define QGNN_FW_HANDLE_POOL_BYTES 4096
#endif

/// Most pool bytes in use at any time so far.
size_t handle_pool_high_water();

#endif  // QGNN_EXAMPLES_CORTEX_M_HANDLE_POOL_H_
