// A progress bar for long converter jobs (the automatic bit selection): one redrawn line on a terminal,
// plain lines otherwise (logs and CI capture every step instead of a screen full of carriage returns).
#ifndef QGNN_CONVERTER_PROGRESS_H_
#define QGNN_CONVERTER_PROGRESS_H_

#include <cstddef>
#include <cstdio>
#include <functional>
#include <string>

#include "qgnn/converter/auto_bits.h"

namespace qgnn {
namespace converter {

class ProgressBar {
 public:
  /// Seconds from a monotonic clock; injectable so tests get a deterministic ETA.
  using Clock = std::function<double()>;

  /// Writes to `out` (stderr when null); `terminal` says whether to redraw one line (defaults to
  /// isatty(out)). The clock starts now.
  explicit ProgressBar(std::FILE* out = nullptr);
  ProgressBar(std::FILE* out, bool terminal, Clock clock = nullptr);

  /// `done` of an estimated `total` steps, with a short status text. On a terminal:
  ///   "\r[#####.....] 12/40 ETA 0:31 best 8312 B 0.812"; otherwise the same without the bar and followed by
  /// `detail` (left out on a terminal, where a line that wraps can no longer be redrawn), one line per call.
  /// The ETA is (total - done) times the mean time per step so far; the total may be an estimate.
  void update(size_t done, size_t total, const std::string& status, const std::string& detail = "");
  /// Ends the redrawn line (terminal); nothing otherwise.
  void finish();

  /// "m:ss" (or "h:mm:ss").
  static std::string format_duration(double seconds);

 private:
  std::FILE* out_;
  bool terminal_;
  Clock clock_;
  double start_;
  bool drawn_ = false;
};

/// An auto-bits Progress that draws on `bar` (which must outlive it): status "best N B 0.812" (the current
/// choice) or "best -" while nothing meets the constraint; detail: the point just measured.
Progress auto_bits_progress(ProgressBar* bar);

}  // namespace converter
}  // namespace qgnn

#endif  // QGNN_CONVERTER_PROGRESS_H_
