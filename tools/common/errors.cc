#include "common/errors.h"

#include <cstdio>
#include <cstring>

namespace qgnn {
namespace tools {

int fail(const char* tool, const std::string& message) {
  std::fprintf(stderr, "%s: error: %s\n", tool, message.c_str());
  std::fflush(stderr);
  return kExitFailure;
}

std::string describe(const qgnn_error& error) {
  const char* name = qgnn_status_name(error.status);
  std::string text = name != nullptr ? name : "unknown status";
  const size_t length = strnlen(error.message, sizeof(error.message));
  if (length > 0) text += ": " + std::string(error.message, length);
  return text;
}

std::string describe(qgnn_status status, const std::string& message, const std::string& error) {
  if (status == QGNN_OK) return error;
  qgnn_error e{};
  e.status = status;
  std::snprintf(e.message, sizeof(e.message), "%s", message.c_str());
  return describe(e);
}

}  // namespace tools
}  // namespace qgnn
