// qgnn-run MODEL DATA.qgd [--json] [--split all|train|val|test] [--fold K] [--isa ISA] [--threads N]
// [--batch B] [--repeat R] [--input auto|dense|sparse] [--reorder none|rcm|degree]: accuracy, latency and a
// bit-exact fingerprint of a model's outputs on a data set.
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>

#include "common/errors.h"
#include "common/selection.h"
#include "qgnn/converter/dataset.h"
#include "qgnn/converter/model_builder.h"
#include "qgnn/qgnn.h"
#include "qgnn/session.hpp"
#include "run/evaluate.h"
#include "run/report.h"

namespace {

constexpr const char* kTool = "qgnn-run";

int run(int argc, char** argv) {
  using namespace qgnn::tools;
  CLI::App app{"Run a qgnn model over a .qgd data set: accuracy, latency per invoke, output fingerprint."};
  RunReport report;
  RunOptions& options = report.options;
  bool json = false;
  app.add_option("model", report.model_path, "Model file (.qgnn)")->required();
  app.add_option("data", report.data_path, "Data set (.qgd)")->required();
  app.add_flag("--json", json, "Print one JSON object instead of text");
  app.add_option("--split", options.split, "Which graphs (or nodes) to run and score")
      ->check(CLI::IsMember({"all", "train", "val", "test"}))
      ->capture_default_str();
  app.add_option("--fold", options.fold,
                 "Graph classification: the --split of cross-validation fold K of the data set's fold array "
                 "(test = fold K, val = fold (K+1)%k, train = the rest; as python3 -m qgnn.train --fold K)")
      ->check(CLI::Range(0, 255));
  app.add_option("--isa", options.isa,
                 "Instruction set of the integer kernels: reference, avx2, avx512, neon, neondot (default: "
                 "QGNN_ISA, else the fastest this machine runs); results are identical")
      ->check(CLI::IsMember({"reference", "avx2", "avx512", "neon", "neondot"}));
  app.add_option(
         "--input", options.input,
         "Form of the node features handed to the runtime: auto (sparse when the data set stores them "
         "sparse and the model accepts them), dense, or sparse (an error for a model that does not "
         "accept them); outputs are identical")
      ->check(CLI::IsMember({"auto", "dense", "sparse"}))
      ->capture_default_str();
  app.add_option(
         "--reorder", options.reorder,
         "Renumber each batch's nodes once at setup for locality: none, rcm (reverse Cuthill-McKee) or "
         "degree (descending in-degree); per-node outputs are put back in the original order, so "
         "accuracy and the outputs hash are unchanged (integer models; float node classification too)")
      ->check(CLI::IsMember(qgnn::tools::reorder_names()))
      ->capture_default_str();
  app.add_option("--threads", options.threads, "Worker threads per invoke")
      ->check(CLI::Range(1u, 256u))
      ->capture_default_str();
  app.add_option("--batch", options.batch, "Graphs per invoke (graph classification)")
      ->check(CLI::Range(1u, 1u << 20))
      ->capture_default_str();
  app.add_option("--repeat", options.repeat, "Passes over the split (latency over all passes)")
      ->check(CLI::Range(1u, 1000000u))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto loaded = qgnn::session::Session::load_file(report.model_path);
  if (!loaded.ok()) {
    return fail(kTool, loaded.status == QGNN_OK ? loaded.error : report.model_path + ": " + describe(loaded));
  }
  qgnn::session::Session& model = loaded.value;
  report.model_bytes = model.model_bytes();
  const qgnn_model_info& info = model.info();
  report.model_name = info.name != nullptr ? info.name : "";
  report.quantized = info.quantized != 0;

  auto bytes = qgnn::converter::read_file(report.data_path);
  if (!bytes.ok()) return fail(kTool, bytes.error);
  auto set = qgnn::converter::load_graph_set(bytes.value);
  if (!set.ok()) return fail(kTool, report.data_path + ": " + set.error);
  report.data_name = set.value.name;

  std::string error;
  if (!evaluate(&model, set.value, options, &report.result, &error)) {
    return fail(kTool, report.model_path + " on " + report.data_path + ": " + error);
  }
  report.warning = report_selection(kTool, report.result.selection, set.value, &model, stderr);
  if (json) {
    std::printf("%s\n", run_report_json(report).dump(2).c_str());
  } else {
    print_run_report_text(report, stdout);
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
