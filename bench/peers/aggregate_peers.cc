// qgnn-bench-peers: qgnn's sum aggregation (FP32, INT8, INT4) against SuiteSparse:GraphBLAS (FP32 C += A·X
// and its integer paths) on the same CSR graphs as the SpMM benchmarks (bench/kernels/graph_catalog.h), one
// thread, F = 64 by default, engines interleaved round by round with a memcpy copy-bandwidth probe in every
// round. After timing, the engines' outputs are compared (peer_check.h); a mismatch fails the run.
//
//   QGNN_BENCH_QGD=cora=cora.qgd,pubmed=pubmed_topo.qgd qgnn-bench-peers [--graphs cora,pubmed,pl100k,pl1m]
//       [--cols 64] [--rounds 7] [--json out.json] [--dump-csr DIR]
//
// --dump-csr writes each graph's CSR as DIR/<name>.qcsr (bench/torch_sparse_peer.py times torch.sparse.mm on
// exactly these bytes): "QCSR0001", int64 nodes, int64 edges, int32 row_ptr[nodes + 1], int32 col_idx[edges],
// little-endian. docs/benchmarks.md, "Aggregation against peers", describes the method and the output.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <memory>
#include <sstream>
#include <vector>

#include "graph_catalog.h"
#include "kernel_data.h"
#include "peer_check.h"
#include "peer_engines.h"
#include "peer_report.h"
#include "qgnn/converter/model_builder.h"

namespace qgnn {
namespace bench {
namespace {

struct Options {
  std::vector<std::string> graphs;
  int32_t cols = 64;
  int32_t rounds = 7;
  double min_round_s = 0.05;  // calls repeat within a round until this much time passed (small graphs)
  double slow_s = 2.0;        // an engine whose warm-up call takes longer runs in --slow-rounds rounds only
  int32_t slow_rounds = 1;
  size_t copy_mib = 256;
  std::string json_path, dump_dir;
};

// The quantized inputs as bench_spmm.cc's BM_Spmm/<graph>/sum/int8 (zero point -1, outputs rescaled by 0.05
// so a hub's sum does not saturate), so the two benchmarks time the same work.
constexpr int32_t kZeroPoint = -1;
constexpr double kSumRescale = 0.05;

// Wall-clock and this thread's CPU time. The machine is shared: CPU time leaves out the time the thread was
// preempted by other jobs, so it is the primary figure (as the kernel benchmarks' cpu_time); wall time is
// kept in the JSON.
struct Clock {
  std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
  double cpu = thread_cpu_s();

  static double thread_cpu_s() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  }
  Sample since(int32_t calls) const {
    const double w = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();
    return {(thread_cpu_s() - cpu) / calls, w / calls};
  }
};

Sample time_calls(PeerEngine& engine, int32_t calls) {
  const Clock start;
  for (int32_t k = 0; k < calls; ++k) engine.run();
  return start.since(calls);
}

// One memcpy of the copy buffers.
Sample time_copy(std::vector<uint8_t>& dst, const std::vector<uint8_t>& src) {
  const Clock start;
  std::memcpy(dst.data(), src.data(), src.size());
  const Sample s = start.since(1);
  // Read the destination back so the copy cannot be dropped as dead.
  volatile uint8_t sink = dst[dst.size() / 2];
  (void)sink;
  return s;
}

void dump_csr(const CsrData& g, const std::string& path) {
  std::vector<uint8_t> bytes(8);
  std::memcpy(bytes.data(), "QCSR0001", 8);
  auto append = [&bytes](const void* data, size_t size) {
    const auto* p = static_cast<const uint8_t*>(data);
    bytes.insert(bytes.end(), p, p + size);
  };
  const int64_t header[2] = {g.num_nodes, static_cast<int64_t>(g.col_idx.size())};
  append(header, sizeof header);
  append(g.row_ptr.data(), g.row_ptr.size() * sizeof(int32_t));
  append(g.col_idx.data(), g.col_idx.size() * sizeof(int32_t));
  const auto written = converter::write_file_atomic(path, bytes);
  if (!written.ok()) throw std::runtime_error("--dump-csr: " + written.error);
}

GraphTiming measure_graph(const std::string& name, const CsrData& g, const kernels::KernelTable* table,
                          const Options& opt, PeerRun& run, std::vector<uint8_t>& copy_dst,
                          const std::vector<uint8_t>& copy_src) {
  const int32_t cols = opt.cols;
  Rng rng(0x9EE45u);
  const std::vector<float> x_f32 = random_floats(static_cast<size_t>(g.num_nodes) * cols, -1.0f, 1.0f, rng);
  const std::vector<uint8_t> x_q8 = random_activation(g.num_nodes, cols, 8, rng);
  const std::vector<uint8_t> x_q4 = random_activation(g.num_nodes, cols, 4, rng);
  const kernels::Rescale rq = rescale_for(kSumRescale);

  std::vector<std::unique_ptr<PeerEngine>> engines;
  engines.push_back(make_qgnn_f32(table, g, x_f32.data(), cols));
  engines.push_back(make_qgnn_quantized(table, g, x_q8.data(), 8, kZeroPoint, rq, cols));
  engines.push_back(make_qgnn_quantized(table, g, x_q4.data(), 4, kZeroPoint, rq, cols));
  engines.push_back(make_graphblas(GraphBlasPath::kFp32, g, x_f32.data(), cols));
  engines.push_back(make_graphblas(GraphBlasPath::kInt8Typecast, g, x_q8.data(), cols));
  engines.push_back(make_graphblas(GraphBlasPath::kInt32, g, x_q8.data(), cols));
  // The gather floors (gather_floor.cc), where the rows are whole 8-byte words (F = 64: 64 and 32 bytes):
  // INT8 rows at three prefetch distances (the report takes the fastest), INT4 rows at qgnn's 64.
  if (cols % 16 == 0) {
    for (int32_t distance : {16, 64, 256}) {
      engines.push_back(make_gather_floor(g, x_q8.data(), 8, cols, distance));
    }
    engines.push_back(make_gather_floor(g, x_q4.data(), 4, cols, 64));
  }

  GraphTiming result;
  result.name = name;
  result.nodes = g.num_nodes;
  result.edges = g.num_edges();
  std::vector<int32_t> rounds_of(engines.size(), opt.rounds);
  for (size_t k = 0; k < engines.size(); ++k) {
    const double warm = time_calls(*engines[k], 1).wall_s;  // also faults in every page of the outputs
    EngineTiming t;
    t.key = engines[k]->key();
    t.label = engines[k]->label();
    t.bytes = engines[k]->bytes();
    t.calls_per_round =
        static_cast<int32_t>(std::min(1000.0, std::max(1.0, std::ceil(opt.min_round_s / warm))));
    if (warm > opt.slow_s) rounds_of[k] = std::min(opt.rounds, opt.slow_rounds);
    result.engines.push_back(t);
  }
  for (int32_t r = 0; r < opt.rounds; ++r) {
    run.copy.push_back(time_copy(copy_dst, copy_src));
    // Rotate the order each round, so no engine always runs right after the copy or after another engine.
    for (size_t i = 0; i < engines.size(); ++i) {
      const size_t k = (i + static_cast<size_t>(r)) % engines.size();
      if (r >= rounds_of[k]) continue;
      result.engines[k].rounds.push_back(time_calls(*engines[k], result.engines[k].calls_per_round));
    }
    std::fprintf(stderr, "qgnn-bench-peers: %s round %d/%d done\n", name.c_str(), r + 1, opt.rounds);
  }
  // Same sums? (Every engine's output is that of its last timed call.)
  result.checks.emplace_back("qgnn FP32 = GraphBLAS FP32 within 2 (d+1) eps sum|x|",
                             compare_f32_sums(g, x_f32.data(), cols, *engines[0], *engines[3]));
  result.checks.emplace_back("GraphBLAS INT8->INT32 typecast = INT32 pre-cast, exactly",
                             compare_exact(g, cols, *engines[4], *engines[5]));
  result.checks.emplace_back("qgnn INT8 = requantized GraphBLAS INT32 sum, exactly",
                             compare_requantized(g, cols, *engines[1], 8, kZeroPoint, rq, *engines[5]));
  return result;
}

int run_main(int argc, char** argv) {
  Options opt;
  CLI::App app{"qgnn's sum aggregation against SuiteSparse:GraphBLAS on the SpMM benchmarks' graphs"};
  app.add_option("--graphs", opt.graphs,
                 "graphs of the catalog (default: all; QGNN_BENCH_QGD adds real ones)")
      ->delimiter(',');
  app.add_option("--cols", opt.cols, "feature width F")->check(CLI::Range(1, 4096));
  app.add_option("--rounds", opt.rounds, "interleaved rounds (median reported)")->check(CLI::Range(1, 1000));
  app.add_option("--min-round-s", opt.min_round_s, "repeat calls within a round up to this time")
      ->check(CLI::Range(0.0, 10.0));
  app.add_option("--slow-s", opt.slow_s, "engines slower than this per call run only --slow-rounds rounds")
      ->check(CLI::PositiveNumber);
  app.add_option("--slow-rounds", opt.slow_rounds, "rounds for slow engines")->check(CLI::Range(1, 1000));
  app.add_option("--copy-mib", opt.copy_mib, "memcpy size of the copy-bandwidth probe")
      ->check(CLI::Range(1, 4096));
  app.add_option("--json", opt.json_path, "write the results as JSON to this file");
  app.add_option("--dump-csr", opt.dump_dir, "write each graph's CSR to DIR/<name>.qcsr");
  CLI11_PARSE(app, argc, argv);

  std::string why_not;
  if (!graphblas_available(&why_not)) throw std::runtime_error(why_not);
  const kernels::IsaChoice isa = kernels::select_isa(std::getenv("QGNN_ISA"));
  if (!isa.ok) throw std::runtime_error(std::string("QGNN_ISA: ") + isa.error);
  const kernels::KernelTable* table = kernels::kernels_for(isa.isa);
  if (opt.graphs.empty()) {
    for (const CatalogEntry& entry : graph_catalog()) opt.graphs.push_back(entry.name);
  }

  PeerRun run;
  run.isa = table->name;
  run.cols = opt.cols;
  run.rounds = opt.rounds;
  std::vector<uint8_t> copy_src(opt.copy_mib << 20, 1), copy_dst(opt.copy_mib << 20, 0);
  run.copy_bytes = 2.0 * static_cast<double>(copy_src.size());
  for (const std::string& name : opt.graphs) {
    const CsrData* g = catalog_graph(name);
    if (g == nullptr) {
      throw std::runtime_error(
          "graph \"" + name +
          "\" is not available (known: pl100k, pl1m and QGNN_BENCH_QGD's NAME=PATH entries)");
    }
    if (!opt.dump_dir.empty()) dump_csr(*g, opt.dump_dir + "/" + name + ".qcsr");
    run.graphs.push_back(measure_graph(name, *g, table, opt, run, copy_dst, copy_src));
  }

  std::fputs(markdown_report(run).c_str(), stdout);
  if (!opt.json_path.empty()) {
    const std::string text = json_report(run);
    const auto written =
        converter::write_file_atomic(opt.json_path, std::vector<uint8_t>(text.begin(), text.end()));
    if (!written.ok()) throw std::runtime_error("--json: " + written.error);
  }
  for (const GraphTiming& g : run.graphs) {
    for (const auto& check : g.checks) {
      if (!check.second.ok) {
        std::fprintf(stderr, "qgnn-bench-peers: error: %s: %s\n", g.name.c_str(),
                     check.second.message.c_str());
        return 1;
      }
    }
  }
  return 0;
}

}  // namespace
}  // namespace bench
}  // namespace qgnn

int main(int argc, char** argv) {
  try {
    return qgnn::bench::run_main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qgnn-bench-peers: error: %s\n", e.what());
    return 1;
  }
}
