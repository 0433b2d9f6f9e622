// The example's work, shared by the firmware and its host twin so both print the same lines.
#ifndef QGNN_EXAMPLES_CORTEX_M_RUN_GRAPHS_H_
#define QGNN_EXAMPLES_CORTEX_M_RUN_GRAPHS_H_

#include <cstddef>
#include <cstdint>

/// Loads the embedded model, plans for the largest graph of its data set, runs every embedded graph in the
/// caller's arena and prints one "graph ..." line per graph (int8 logits and argmax), then rejects a few
/// hostile inputs and prints their statuses. `isa` may be NULL (the runtime's default choice); `num_threads`
/// is ignored where the build has no threads (the device).
/// Returns 0 on success, else a non-zero qgnn_status (also printed).
int run_embedded_graphs(void* arena, size_t arena_bytes, const char* isa, uint32_t num_threads);

#endif  // QGNN_EXAMPLES_CORTEX_M_RUN_GRAPHS_H_
