// Optional per-stage profiling of invoke (qgnn_interpreter_set_profiler): the interpreter calls the caller's
// callback at stage boundaries and the caller reads its own clock there. The runtime keeps no clock and no
// buffer of its own, so it stays free of heap use and of any platform timer (a microcontroller passes a cycle
// counter read, a host std::chrono), and an unset profiler costs one predictable branch per stage.
#ifndef QGNN_RUNTIME_PROFILING_H_
#define QGNN_RUNTIME_PROFILING_H_

#include <cstdint>

#include "qgnn/qgnn.h"

namespace qgnn {
namespace runtime {

struct Profiler {
  qgnn_profile_callback callback = nullptr;
  void* user_data = nullptr;

  /// Marks the end of stage `step` (0: the start of invoke).
  void Mark(uint32_t step) const {
    if (callback != nullptr) callback(user_data, step);
  }
};

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_PROFILING_H_
