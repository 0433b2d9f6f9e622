// qgnn-bench-gat-model DATA.qgd -o FLOAT.qgnn: writes the GAT workload's float model (gat_workload.h: random
// weights, fixed seed) sized for a node-classification data set (its feature count and classes), for
// scripts/bench-report to quantize with qgnn-convert and to time with qgnn-bench and bench/pytorch_baseline.py.
#include <cstdio>
#include <string>

#include "gat_workload.h"

int main(int argc, char** argv) {
  using namespace qgnn;  // NOLINT(build/namespaces)
  if (argc != 4 || std::string(argv[2]) != "-o") {
    std::fprintf(stderr, "usage: %s DATA.qgd -o FLOAT.qgnn\n", argv[0]);
    return 2;
  }
  const converter::Result<bench::NodeGraph> data = bench::read_node_graph(argv[1]);
  if (!data.ok()) {
    std::fprintf(stderr, "qgnn-bench-gat-model: error: %s\n", data.error.c_str());
    return 1;
  }
  const converter::ModelDesc model =
      bench::gat_cora_float_model(data.value.batch.feature_dim, data.value.classes);
  auto bytes = converter::serialize_model(model);
  if (!bytes.ok()) {
    std::fprintf(stderr, "qgnn-bench-gat-model: error: %s\n", bytes.error.c_str());
    return 1;
  }
  const auto written = converter::write_file_atomic(argv[3], bytes.value);
  if (!written.ok()) {
    std::fprintf(stderr, "qgnn-bench-gat-model: error: %s\n", written.error.c_str());
    return 1;
  }
  std::printf("%s: %s, %zu bytes\n", argv[3], model.name.c_str(), bytes.value.size());
  return 0;
}
