// Error reporting without printf or heap: a tiny formatter (%s %d %u %ld %lu %lld %llu %zu %g %%) writing
// into the caller's qgnn_error. printf-family functions are avoided on purpose: newlib's float formatting
// allocates, and the runtime promises not to touch the heap outside the create functions.
#ifndef QGNN_RUNTIME_ERROR_REPORTER_H_
#define QGNN_RUNTIME_ERROR_REPORTER_H_

#include <cinttypes>  // PRId32 / PRIu32: int32_t is long on arm-none-eabi
#include <cstdarg>
#include <cstddef>
#include <cstdint>

#include "qgnn/qgnn.h"

namespace qgnn {
namespace runtime {

/// Formats `fmt` into `out` (capacity `size` > 0, always NUL-terminated, truncated when too long).
/// Returns the number of characters written, without the NUL.
size_t FormatV(char* out, size_t size, const char* fmt, va_list args);
size_t Format(char* out, size_t size, const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/// Fills a (possibly NULL) qgnn_error. Every failing path of the runtime goes through Report so that the
/// status returned and the status recorded always agree.
class ErrorReporter {
 public:
  explicit ErrorReporter(qgnn_error* error) : error_(error) {}

  /// Records `status` with a formatted message and returns `status`.
  qgnn_status Report(qgnn_status status, const char* fmt, ...)
#if defined(__GNUC__)
      __attribute__((format(printf, 3, 4)))
#endif
      ;

  /// Same, prefixed with "layer <index> (<name>): " (or "layer <index>: " when the layer has no name).
  qgnn_status ReportLayer(qgnn_status status, uint32_t layer, const char* name, const char* fmt, ...)
#if defined(__GNUC__)
      __attribute__((format(printf, 5, 6)))
#endif
      ;

  qgnn_status ReportV(qgnn_status status, const char* fmt, va_list args);
  qgnn_status ReportLayerV(qgnn_status status, uint32_t layer, const char* name, const char* fmt,
                           va_list args);

  /// Records success (status QGNN_OK, empty message) and returns QGNN_OK.
  qgnn_status Ok();

 private:
  qgnn_error* error_;
};

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_ERROR_REPORTER_H_
