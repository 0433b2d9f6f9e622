#include "qgnn/converter/progress.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

namespace qgnn {
namespace converter {
namespace {

constexpr size_t kBarWidth = 20;

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::FILE* or_stderr(std::FILE* out) { return out != nullptr ? out : stderr; }

std::string accuracy_text(double accuracy) {
  char text[16];
  std::snprintf(text, sizeof(text), "%.3f", accuracy);
  return text;
}

}  // namespace

ProgressBar::ProgressBar(std::FILE* out) : ProgressBar(out, ::isatty(::fileno(or_stderr(out))) != 0) {}

ProgressBar::ProgressBar(std::FILE* out, bool terminal, Clock clock)
    : out_(or_stderr(out)), terminal_(terminal), clock_(clock ? std::move(clock) : Clock(steady_seconds)) {
  start_ = clock_();
}

std::string ProgressBar::format_duration(double seconds) {
  const long total = seconds > 0 ? static_cast<long>(seconds + 0.5) : 0;
  char text[32];
  if (total >= 3600) {
    std::snprintf(text, sizeof(text), "%ld:%02ld:%02ld", total / 3600, total / 60 % 60, total % 60);
  } else {
    std::snprintf(text, sizeof(text), "%ld:%02ld", total / 60, total % 60);
  }
  return text;
}

void ProgressBar::update(size_t done, size_t total, const std::string& status, const std::string& detail) {
  total = std::max(total, done);
  const double elapsed = clock_() - start_;
  const std::string eta =
      done == 0 ? "?:??"
                : format_duration(elapsed / static_cast<double>(done) * static_cast<double>(total - done));
  const std::string counts =
      std::to_string(done) + "/" + std::to_string(total) + " ETA " + eta + " " + status;
  if (terminal_) {
    const size_t filled = total == 0 ? kBarWidth : done * kBarWidth / total;
    const std::string bar = std::string(filled, '#') + std::string(kBarWidth - filled, '.');
    // \033[K clears what a longer previous line left behind.
    std::fprintf(out_, "\r[%s] %s\033[K", bar.c_str(), counts.c_str());
    drawn_ = true;
  } else {
    std::fprintf(out_, "%s%s%s\n", counts.c_str(), detail.empty() ? "" : " | ", detail.c_str());
  }
  std::fflush(out_);
}

void ProgressBar::finish() {
  if (terminal_ && drawn_) std::fprintf(out_, "\n");
  drawn_ = false;
  std::fflush(out_);
}

Progress auto_bits_progress(ProgressBar* bar) {
  return [bar](size_t done, size_t total, const Candidate& last, const Candidate* best) {
    const std::string status = best == nullptr ? "best -"
                                               : "best " + std::to_string(best->total_bytes()) + " B " +
                                                     accuracy_text(best->accuracy);
    bar->update(done, total, status,
                last.label + " " + std::to_string(last.total_bytes()) + " B " + accuracy_text(last.accuracy));
  };
}

}  // namespace converter
}  // namespace qgnn
