// QGNN_BENCH_QGD: the real graphs a benchmark run adds, as "name=PATH[,name=PATH...]" (scripts/bench-report
// sets it). One parser for the kernel benchmarks' catalog and the invoke benchmarks' GAT workload.
#ifndef QGNN_BENCH_COMMON_QGD_ENV_H_
#define QGNN_BENCH_COMMON_QGD_ENV_H_

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace qgnn {
namespace bench {

struct QgdSource {
  std::string name;
  std::string path;
};

/// The entries of QGNN_BENCH_QGD in order; malformed items are reported on stderr and skipped.
inline std::vector<QgdSource> qgd_sources() {
  std::vector<QgdSource> out;
  const char* env = std::getenv("QGNN_BENCH_QGD");
  if (env == nullptr) return out;
  const std::string text(env);
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t end = std::min(text.find(',', pos), text.size());
    const std::string item = text.substr(pos, end - pos);
    const size_t eq = item.find('=');
    if (eq != std::string::npos && eq > 0 && eq + 1 < item.size()) {
      out.push_back({item.substr(0, eq), item.substr(eq + 1)});
    } else if (!item.empty()) {
      std::fprintf(stderr, "QGNN_BENCH_QGD: ignoring \"%s\" (expected NAME=PATH)\n", item.c_str());
    }
    pos = end + 1;
  }
  return out;
}

/// The path QGNN_BENCH_QGD gives `name` (the first entry), empty when none.
inline std::string qgd_path(const std::string& name) {
  for (const QgdSource& s : qgd_sources()) {
    if (s.name == name) return s.path;
  }
  return "";
}

}  // namespace bench
}  // namespace qgnn

#endif  // QGNN_BENCH_COMMON_QGD_ENV_H_
