// qgnn-inspect MODEL [--json] [--nodes N --edges E --graphs G]: what a .qgnn model holds and what it needs.
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>

#include "common/errors.h"
#include "inspect/model_summary.h"
#include "inspect/report.h"
#include "qgnn/qgnn.h"
#include "qgnn/session.hpp"

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
  std::string isa;
  app.add_option(
         "--isa", isa,
         "Size the arena for this instruction set (\"reference\": what a microcontroller build needs); "
         "default: room for any this build has")
      ->check(CLI::IsMember({"reference", "avx2", "avx512", "neon", "neondot"}));
  CLI11_PARSE(app, argc, argv);

  InspectReport report;
  report.path = model_path;
  auto loaded = qgnn::session::Session::load_file(model_path);
  if (!loaded.ok()) {
    return fail(kTool, loaded.status == QGNN_OK ? loaded.error : model_path + ": " + describe(loaded));
  }
  const qgnn::session::Session& model = loaded.value;
  report.file_bytes = model.model_bytes();
  std::string error;
  if (!summarize_model(model.model_data(), model.model_bytes(), model.model().get(), &report.model, &error)) {
    return fail(kTool, model_path + ": " + error);
  }
  report.arena_limits = qgnn_plan_limits{nodes, edges, graphs};
  report.arena_isa = isa;
  const auto arena = model.arena_size(report.arena_limits, isa);
  if (!arena.ok()) {
    return fail(kTool, "arena size for " + std::to_string(nodes) + " nodes, " + std::to_string(edges) +
                           " edges, " + std::to_string(graphs) + " graphs: " + describe(arena));
  }
  report.arena_bytes = arena.value;

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
