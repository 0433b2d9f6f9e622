// qgnn-inspect output: human-readable text or one JSON object.
#ifndef QGNN_TOOLS_INSPECT_REPORT_H_
#define QGNN_TOOLS_INSPECT_REPORT_H_

#include <cstddef>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "inspect/model_summary.h"

namespace qgnn {
namespace tools {

struct InspectReport {
  std::string path;
  size_t file_bytes = 0;
  ModelSummary model;
  qgnn_plan_limits arena_limits{};
  size_t arena_bytes = 0;
  /// The instruction set the arena was sized for ("" = any this build has: qgnn_arena_size).
  std::string arena_isa;
};

nlohmann::ordered_json report_json(const InspectReport& report);
void print_report_text(const InspectReport& report, std::FILE* out);

}  // namespace tools
}  // namespace qgnn

#endif  // QGNN_TOOLS_INSPECT_REPORT_H_
