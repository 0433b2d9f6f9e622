// How the tools report failures: one line on stderr, "<tool>: error: <message>", and a non-zero exit.
#ifndef QGNN_TOOLS_COMMON_ERRORS_H_
#define QGNN_TOOLS_COMMON_ERRORS_H_

#include <string>

#include "qgnn/qgnn.h"
#include "qgnn/session.hpp"

namespace qgnn {
namespace tools {

/// Exit codes: 1 for bad input (model, data, arguments the runtime rejects), 2 for usage errors (CLI11).
constexpr int kExitFailure = 1;

/// Print "<tool>: error: <message>" to stderr and return kExitFailure.
int fail(const char* tool, const std::string& message);

/// "QGNN_MALFORMED_FLATBUFFER: <message>" for a runtime error report.
std::string describe(const qgnn_error& error);

/// The same for a failed qgnn::session call: "QGNN_INVALID_GRAPH: <message>" when the runtime failed, else
/// the session's own message (a file that cannot be read).
std::string describe(qgnn_status status, const std::string& message, const std::string& error);
template <typename T>
std::string describe(const session::Result<T>& r) {
  return describe(r.status, r.message, r.error);
}

}  // namespace tools
}  // namespace qgnn

#endif  // QGNN_TOOLS_COMMON_ERRORS_H_
