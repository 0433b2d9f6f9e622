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

#if !defined(QGNN_NO_ERROR_MESSAGES)

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

#else  // QGNN_NO_ERROR_MESSAGES

// Builds without error messages (QGNN_ERROR_MESSAGES=OFF, for microcontrollers, like tflite-micro's
// TF_LITE_STRIP_ERROR_STRINGS): the same calls record only the status and leave the message empty. They are
// inline and never read their format string, so the compiler emits none of the messages' text and links no
// formatter; every status is unchanged.
// Variadic templates rather than C varargs: GCC inlines them, so the format strings are dead at every call.
template <typename... Args>
size_t Format(char* out, size_t size, const char*, const Args&...) {
  if (size > 0) out[0] = '\0';
  return 0;
}

class ErrorReporter {
 public:
  explicit ErrorReporter(qgnn_error* error) : error_(error) {}
  template <typename... Args>
  qgnn_status Report(qgnn_status status, const char*, const Args&...) {
    return Record(status);
  }
  template <typename... Args>
  qgnn_status ReportLayer(qgnn_status status, uint32_t, const char*, const char*, const Args&...) {
    return Record(status);
  }
  qgnn_status Ok() { return Record(QGNN_OK); }

 private:
  qgnn_status Record(qgnn_status status) {
    if (error_ != nullptr) {
      error_->status = status;
      error_->message[0] = '\0';
    }
    return status;
  }
  qgnn_error* error_;
};

#endif  // QGNN_NO_ERROR_MESSAGES

}  // namespace runtime
}  // namespace qgnn

#endif  // QGNN_RUNTIME_ERROR_REPORTER_H_
