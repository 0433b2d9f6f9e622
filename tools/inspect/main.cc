// qgnn-inspect MODEL [--json] [--nodes N --edges E --graphs G]: what a .qgnn model holds and what it needs.
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>

#include "common/errors.h"
#include "common/file.h"
#include "inspect/model_summary.h"
#include "inspect/report.h"
#include "qgnn/qgnn.h"

namespace {

constexpr const char* kTool = "qgnn-inspect";

int run(int argc, char** argv) {
  using namespace qgnn::tools;
  CLI::App app{
      "Describe a qgnn model: task, input, layers with their bit widths, parameter and arena bytes."};
  std::string model_path;
  bool json = false;
  uint32_t nodes = 64, edges = 256, graphs = 1;
  app.add_option("model", model_path, "Model file (.qgnn)")->required();
  app.add_flag("--json", json, "Print one JSON object instead of text");
  app.add_option("--nodes", nodes, "Nodes per batch for the arena size")->capture_default_str();
  app.add_option("--edges", edges, "Edges per batch for the arena size")->capture_default_str();
  app.add_option("--graphs", graphs, "Graphs per batch for the arena size")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  InspectReport report;
  report.path = model_path;
  AlignedBuffer file;
  std::string error;
  if (!read_file_aligned(model_path, &file, &error)) return fail(kTool, error);
  report.file_bytes = file.size;

  qgnn_model* model = nullptr;
  qgnn_error qerr{};
  if (qgnn_model_create(file.data.get(), file.size, &model, &qerr) != QGNN_OK) {
    return fail(kTool, model_path + ": " + describe(qerr));
  }
  struct ModelGuard {
    qgnn_model* m;
    ~ModelGuard() { qgnn_model_delete(m); }
  } guard{model};

  if (!summarize_model(file.data.get(), file.size, model, &report.model, &error)) {
    return fail(kTool, model_path + ": " + error);
  }
  report.arena_limits = qgnn_plan_limits{nodes, edges, graphs};
  if (qgnn_arena_size(model, &report.arena_limits, &report.arena_bytes, &qerr) != QGNN_OK) {
    return fail(kTool, "arena size for " + std::to_string(nodes) + " nodes, " + std::to_string(edges) +
                           " edges, " + std::to_string(graphs) + " graphs: " + describe(qerr));
  }

  if (json) {
    std::printf("%s\n", report_json(report).dump(2).c_str());
  } else {
    print_report_text(report, stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    return qgnn::tools::fail(kTool, e.what());
  }
}
