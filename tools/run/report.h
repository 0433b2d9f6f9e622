// qgnn-run output: human-readable text or one JSON object.
#ifndef QGNN_TOOLS_RUN_REPORT_H_
#define QGNN_TOOLS_RUN_REPORT_H_

#include <cstddef>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "run/evaluate.h"

namespace qgnn {
namespace tools {

struct RunReport {
  std::string model_path;
  size_t model_bytes = 0;
  std::string model_name;
  bool quantized = false;
  std::string data_path;
  std::string data_name;
  RunOptions options;
  RunResult result;
  std::string warning;  ///< the model's training fold differs from the one run ("" when not)
};

nlohmann::ordered_json run_report_json(const RunReport& report);
void print_run_report_text(const RunReport& report, std::FILE* out);

}  // namespace tools
}  // namespace qgnn

#endif  // QGNN_TOOLS_RUN_REPORT_H_
