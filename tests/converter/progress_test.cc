// ProgressBar output with a fake clock: plain lines off a terminal, one redrawn line on it.
#include "qgnn/converter/progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace qgnn {
namespace converter {
namespace {

std::string contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string text;
  char buffer[256];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), f)) > 0) text.append(buffer, n);
  return text;
}

TEST(ProgressBar, PlainLinesOffATerminal) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  double now = 100.0;
  ProgressBar bar(f, false, [&] { return now; });
  now = 110.0;  // 10 s for the first of 4 steps: 30 s left
  bar.update(1, 4, "best 8312 B 0.812", "in8 conv:w4");
  now = 120.0;
  bar.update(2, 4, "best -");
  bar.finish();
  EXPECT_EQ(contents(f), "1/4 ETA 0:30 best 8312 B 0.812 | in8 conv:w4\n2/4 ETA 0:20 best -\n");
  std::fclose(f);
}

TEST(ProgressBar, OneRedrawnLineOnATerminal) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  double now = 0.0;
  ProgressBar bar(f, true, [&] { return now; });
  now = 31.0;
  bar.update(12, 40, "best 8312 B 0.812", "left out on a terminal");
  bar.update(40, 40, "done");
  bar.finish();
  const std::string text = contents(f);
  // 12 of 40 is 6 of 20 cells; 28 steps at 31/12 s each is 72 s.
  EXPECT_EQ(text,
            "\r[######..............] 12/40 ETA 1:12 best 8312 B 0.812\033[K"
            "\r[####################] 40/40 ETA 0:00 done\033[K\n");
  std::fclose(f);
}

TEST(ProgressBar, TotalBelowDoneAndDurations) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  double now = 0.0;
  ProgressBar bar(f, false, [&] { return now; });
  bar.update(0, 0, "start");
  now = 5.0;
  bar.update(3, 2, "estimate exceeded");  // an estimate may be passed: shown as 3/3
  EXPECT_EQ(contents(f), "0/0 ETA ?:?? start\n3/3 ETA 0:00 estimate exceeded\n");
  std::fclose(f);
  EXPECT_EQ(ProgressBar::format_duration(59.6), "1:00");
  EXPECT_EQ(ProgressBar::format_duration(3725), "1:02:05");
  EXPECT_EQ(ProgressBar::format_duration(-3), "0:00");
}

TEST(ProgressBar, AutoBitsStatusShowsTheBestPoint) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  ProgressBar bar(f, false, [] { return 0.0; });
  const Progress progress = auto_bits_progress(&bar);
  Candidate last;
  last.label = "in4 head:w4";
  last.model_bytes = 1000;
  last.arena_bytes = 200;
  last.accuracy = 0.5;
  progress(1, 2, last, nullptr);
  Candidate best = last;
  best.accuracy = 0.8125;
  progress(2, 2, last, &best);
  EXPECT_EQ(contents(f),
            "1/2 ETA 0:00 best - | in4 head:w4 1200 B 0.500\n2/2 ETA 0:00 best 1200 B 0.812 | in4 head:w4 "
            "1200 B 0.500\n");
  std::fclose(f);
}

}  // namespace
}  // namespace converter
}  // namespace qgnn
