// qgnn-bench MODEL DATA.qgd [MODEL2 ...] [--json] [--threads N] [--batch B] [--split S] [--fold K]
// [--warmup W] [--repeat R] [--isa ISA] [--input auto|dense|sparse] [--reorder none,rcm,degree]: per-stage
// and end-to-end latency, memory split, and ratios between models measured in the same interleaved run.
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench/measure.h"
#include "bench/model_bytes.h"
#include "bench/report.h"
#include "common/errors.h"
#include "common/selection.h"
#include "qgnn/converter/dataset.h"
#include "qgnn/qgnn.h"
#include "qgnn/session.hpp"

namespace {

constexpr const char* kTool = "qgnn-bench";

int run(int argc, char** argv) {
  using namespace qgnn::tools;  // NOLINT(build/namespaces)
  CLI::App app{
      "Benchmark qgnn models on a .qgd data set: per-layer and end-to-end latency (p50/p99), graphs/s, arena "
      "and model bytes; several models are run interleaved and compared with the first."};
  BenchReport report;
  BenchOptions& options = report.options;
  std::string first_model;
  std::vector<std::string> more_models;
  bool json = false;
  app.add_option("model", first_model, "Model file (.qgnn)")->required();
  app.add_option("data", report.data_path, "Data set (.qgd)")->required();
  app.add_option("models", more_models, "More models to compare with the first (same network, other bits)");
  app.add_flag("--json", json, "Print one JSON object instead of text");
  app.add_option("--threads", options.threads, "Worker threads per invoke")
      ->check(CLI::Range(1u, 256u))
      ->capture_default_str();
  app.add_flag("--spin-workers", options.spin_workers,
               "Keep the pool's workers spinning between invokes (default: they sleep after each)");
  app.add_option("--batch", options.batch, "Graphs per invoke (graph classification)")
      ->check(CLI::Range(1u, 1u << 20))
      ->capture_default_str();
  app.add_option("--split", options.split, "Which graphs to run (graph classification)")
      ->check(CLI::IsMember({"all", "train", "val", "test"}))
      ->capture_default_str();
  app.add_option("--fold", options.fold,
                 "Graph classification: the --split of cross-validation fold K (test = fold K, val = fold "
                 "(K+1)%k, train = the rest; as python3 -m qgnn.train --fold K)")
      ->check(CLI::Range(0, 255));
  app.add_option("--warmup", options.warmup, "Untimed passes before measuring")
      ->check(CLI::Range(0u, 100000u))
      ->capture_default_str();
  app.add_option("--repeat", options.repeat, "Timed passes over the split")
      ->check(CLI::Range(1u, 1000000u))
      ->capture_default_str();
  app.add_option("--input", options.input,
                 "Form of the node features per model: auto (sparse when the data set stores them sparse and "
                 "the model accepts them), dense, or sparse (an error for a model that does not accept them)")
      ->check(CLI::IsMember({"auto", "dense", "sparse"}))
      ->capture_default_str();
  app.add_option("--isa", options.isa, "Instruction set of the integer kernels (default: the fastest)")
      ->check(CLI::IsMember({"reference", "avx2", "avx512", "neon", "neondot"}));
  app.add_option(
         "--reorder", options.reorder,
         "Node orders, comma-separated: none, rcm (reverse Cuthill-McKee), degree (descending "
         "in-degree); every model runs once per order, interleaved, its batches renumbered once before "
         "the passes")
      ->delimiter(',')
      ->check(CLI::IsMember(reorder_names()))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::vector<std::string> paths{first_model};
  paths.insert(paths.end(), more_models.begin(), more_models.end());
  // Sessions live on the heap: the report's models point at them.
  std::vector<std::unique_ptr<qgnn::session::Session>> sessions;
  std::string error;
  // One entry (and session: an interpreter with its arena) per model file and node order.
  for (const std::string& path : paths) {
    for (const std::string& reorder : options.reorder) {
      auto loaded = qgnn::session::Session::load_file(path);
      if (!loaded.ok())
        return fail(kTool, loaded.status == QGNN_OK ? loaded.error : path + ": " + describe(loaded));
      sessions.push_back(std::make_unique<qgnn::session::Session>(std::move(loaded.value)));
      BenchModel m;
      m.path = path;
      m.reorder = reorder;
      m.session = sessions.back().get();
      m.info = m.session->info();
      if (!analyze_model_bytes(m.session->model_data(), m.session->model_bytes(), &m.bytes, &error))
        return fail(kTool, path + ": " + error);
      report.models.push_back(std::move(m));
    }
  }

  auto bytes = qgnn::converter::read_file(report.data_path);
  if (!bytes.ok()) return fail(kTool, bytes.error);
  auto set = qgnn::converter::load_graph_set(bytes.value);
  if (!set.ok()) return fail(kTool, report.data_path + ": " + set.error);
  report.data_name = set.value.name;

  if (!measure(report.models, set.value, options, &report.result, &error)) return fail(kTool, error);
  // Latency does not depend on which fold a model learnt, so only the note, not the training-fold warning.
  report_selection(kTool, report.result.selection, set.value, nullptr, stderr);
  if (json) {
    std::printf("%s\n", bench_report_json(report).dump(2).c_str());
  } else {
    print_bench_report_text(report, stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // CLI11 and std:: containers may throw (bad_alloc); the tool reports instead of terminating.
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    return qgnn::tools::fail(kTool, e.what());
  }
}
