// Runs a tool as a child process (posix_spawn) and captures its exit status, stdout and stderr.
#ifndef QGNN_TESTS_TOOLS_TOOL_RUNNER_H_
#define QGNN_TESTS_TOOLS_TOOL_RUNNER_H_

#include <string>
#include <vector>

namespace qgnn {
namespace tools {
namespace testing {

struct ToolResult {
  bool exited = false;  ///< terminated normally (not by a signal)
  int exit_code = -1;
  int signal = 0;  ///< the signal that killed it, when !exited
  std::string out;
  std::string err;
  /// "exit 1" / "killed by signal 11 (Segmentation fault)" plus stderr, for assertion messages.
  std::string describe() const;
};

/// Run `program` with `args` (argv[1..]), stdout/stderr captured through files in `scratch_dir`.
ToolResult run_tool(const std::string& program, const std::vector<std::string>& args,
                    const std::string& scratch_dir);

}  // namespace testing
}  // namespace tools
}  // namespace qgnn

#endif  // QGNN_TESTS_TOOLS_TOOL_RUNNER_H_
