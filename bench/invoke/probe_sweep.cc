// qgnn-bench-probe: the density probe of dense float input (runtime/src/ops/input_probe.h) measured the way
// docs/runtime.md reports it. For each feature density, every model runs once per QGNN_INPUT_PROBE mode in
// its own interpreter (the mode is read at create), all bound to the same graph and features once; the timed
// rounds then alternate the invokes (order reversed every round, so cache warmth and the machine's slow
// phases fall on every mode alike). Printed per density, model and mode: p50 invoke and the median over
// rounds of its time relative to the first mode's invoke of the same round.
//
//   qgnn-bench-probe DATA.qgd MODEL.qgnn [MODEL.qgnn...] [--densities stored,0.02,0.5] [--modes dense,auto]
//                    [--rounds 120]
//
// "stored" keeps the data set's own features (densified); a number replaces them by seeded random values
// in [0.05, 1) at that fraction of non-zeros, on the data set's graph.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "qgnn/converter/dataset.h"
#include "qgnn/converter/runtime_graph.h"
#include "qgnn/qgnn.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string data;
  std::vector<std::string> models;
  std::vector<std::string> densities{"stored"};
  std::vector<std::string> modes{"dense", "auto"};
  int rounds = 120;
};

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  size_t begin = 0;
  while (begin <= s.size()) {
    const size_t end = s.find(',', begin);
    out.push_back(s.substr(begin, end == std::string::npos ? std::string::npos : end - begin));
    if (end == std::string::npos) break;
    begin = end + 1;
  }
  return out;
}

bool ParseArgs(int argc, char** argv, Args* a, std::string* error) {
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--densities" && has_value) {
      a->densities = Split(argv[++i]);
    } else if (arg == "--modes" && has_value) {
      a->modes = Split(argv[++i]);
    } else if (arg == "--rounds" && has_value) {
      a->rounds = std::atoi(argv[++i]);
    } else if (arg.rfind("--", 0) == 0) {
      *error = "unknown option or missing value: " + arg;
      return false;
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.size() < 2) {
    *error = "need a data set and at least one model";
    return false;
  }
  if (a->rounds < 1 || a->modes.empty()) {
    *error = "--rounds must be >= 1 and --modes non-empty";
    return false;
  }
  for (const std::string& d : a->densities) {
    char* end = nullptr;
    const double v = std::strtod(d.c_str(), &end);
    if (d != "stored" && (end == d.c_str() || *end != '\0' || !(v > 0.0 && v <= 1.0))) {
      *error = "density \"" + d + "\" is neither \"stored\" nor a fraction in (0, 1]";
      return false;
    }
  }
  a->data = positional[0];
  a->models.assign(positional.begin() + 1, positional.end());
  return true;
}

bool ReadFile(const std::string& path, std::vector<uint8_t>* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  out->assign(std::istreambuf_iterator<char>(f), {});
  return true;
}

// Memory the runtime keeps pointers into: the model buffer (16-byte aligned) and the arena.
struct Aligned {
  void* p = nullptr;
  explicit Aligned(size_t bytes) : p(std::aligned_alloc(64, (bytes + 63) & ~size_t{63})) {}
  ~Aligned() { std::free(p); }
  Aligned(const Aligned&) = delete;
  Aligned& operator=(const Aligned&) = delete;
};

struct Run {
  std::string label;
  qgnn_interpreter* interpreter = nullptr;
  std::unique_ptr<Aligned> arena;
  std::vector<double> us;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  std::string error;
  if (!ParseArgs(argc, argv, &args, &error)) {
    std::fprintf(stderr,
                 "qgnn-bench-probe: %s\nusage: qgnn-bench-probe DATA.qgd MODEL.qgnn [MODEL.qgnn...] "
                 "[--densities stored,0.02,...] [--modes dense,sparse,auto] [--rounds N]\n",
                 error.c_str());
    return 2;
  }
  std::vector<uint8_t> bytes;
  if (!ReadFile(args.data, &bytes)) {
    std::fprintf(stderr, "qgnn-bench-probe: cannot read %s\n", args.data.c_str());
    return 1;
  }
  auto set = qgnn::converter::load_graph_set(bytes);
  if (!set.ok()) {
    std::fprintf(stderr, "qgnn-bench-probe: %s: %s\n", args.data.c_str(), set.error.c_str());
    return 1;
  }
  auto batch = qgnn::converter::extract_all_graphs(set.value, qgnn::converter::FeatureForm::kDense);
  if (!batch.ok()) {
    std::fprintf(stderr, "qgnn-bench-probe: %s\n", batch.error.c_str());
    return 1;
  }
  const std::vector<float> stored = batch.value.features;
  // The models: loaded once, one interpreter per (density, model, mode) below.
  std::vector<std::unique_ptr<Aligned>> buffers;
  std::vector<qgnn_model*> models;
  for (const std::string& path : args.models) {
    std::vector<uint8_t> model_bytes;
    if (!ReadFile(path, &model_bytes)) {
      std::fprintf(stderr, "qgnn-bench-probe: cannot read %s\n", path.c_str());
      return 1;
    }
    buffers.push_back(std::make_unique<Aligned>(model_bytes.size()));
    std::memcpy(buffers.back()->p, model_bytes.data(), model_bytes.size());
    qgnn_model* model = nullptr;
    qgnn_error e{};
    if (qgnn_model_create(buffers.back()->p, model_bytes.size(), &model, &e) != QGNN_OK) {
      std::fprintf(stderr, "qgnn-bench-probe: %s: %s\n", path.c_str(), e.message);
      return 1;
    }
    models.push_back(model);
  }
  std::printf("%s: %u nodes x %d features, %d rounds\n", args.data.c_str(), batch.value.num_nodes,
              batch.value.feature_dim, args.rounds);
  for (const std::string& density : args.densities) {
    if (density == "stored") {
      batch.value.features = stored;
    } else {
      std::mt19937 rng(7);
      std::uniform_real_distribution<float> u(0.0f, 1.0f);
      const float fraction = std::strtof(density.c_str(), nullptr);
      for (float& x : batch.value.features) x = u(rng) < fraction ? 0.05f + 0.95f * u(rng) : 0.0f;
    }
    size_t nonzeros = 0;
    for (float x : batch.value.features) nonzeros += x != 0.0f ? 1 : 0;
    const qgnn_graph graph = qgnn::converter::runtime_graph(batch.value);
    const qgnn_plan_limits limits{graph.num_nodes, graph.num_edges, graph.num_graphs};
    std::vector<Run> runs;
    for (size_t m = 0; m < models.size(); ++m) {
      for (const std::string& mode : args.modes) {
        setenv("QGNN_INPUT_PROBE", mode.c_str(), 1);
        Run run;
        run.label = args.models[m].substr(args.models[m].find_last_of('/') + 1) + " " + mode;
        size_t arena_bytes = 0;
        qgnn_error e{};
        qgnn_status st = qgnn_arena_size(models[m], &limits, &arena_bytes, &e);
        if (st == QGNN_OK) {
          run.arena = std::make_unique<Aligned>(arena_bytes);
          st = qgnn_interpreter_create(models[m], &limits, run.arena->p, arena_bytes, nullptr,
                                       &run.interpreter, &e);
        }
        if (st == QGNN_OK) st = qgnn_interpreter_setup(run.interpreter, &graph, &e);
        if (st != QGNN_OK) {
          std::fprintf(stderr, "qgnn-bench-probe: %s: %s\n", run.label.c_str(), e.message);
          return 1;
        }
        runs.push_back(std::move(run));
      }
    }
    unsetenv("QGNN_INPUT_PROBE");
    const int warmup = 3;
    for (int r = 0; r < args.rounds + warmup; ++r) {
      for (size_t k = 0; k < runs.size(); ++k) {
        Run& run = runs[r % 2 == 0 ? k : runs.size() - 1 - k];
        const Clock::time_point t0 = Clock::now();
        if (qgnn_interpreter_invoke(run.interpreter, nullptr) != QGNN_OK) {
          std::fprintf(stderr, "qgnn-bench-probe: %s: invoke failed\n", run.label.c_str());
          return 1;
        }
        const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
        if (r >= warmup) run.us.push_back(us);
      }
    }
    std::printf(
        "density %s (%.2f %% non-zeros)\n", density.c_str(),
        100.0 * static_cast<double>(nonzeros) / static_cast<double>(std::max<size_t>(1, stored.size())));
    const size_t per_model = args.modes.size();
    for (size_t k = 0; k < runs.size(); ++k) {
      const Run& base = runs[k - k % per_model];
      std::vector<double> ratio(runs[k].us.size());
      for (size_t i = 0; i < ratio.size(); ++i) ratio[i] = runs[k].us[i] / base.us[i];
      std::printf("  %-32s p50 %9.1f us   vs %s: %.3f\n", runs[k].label.c_str(), Median(runs[k].us),
                  args.modes[0].c_str(), Median(ratio));
    }
    for (Run& run : runs) qgnn_interpreter_delete(run.interpreter);
  }
  for (qgnn_model* model : models) qgnn_model_delete(model);
  return 0;
}
