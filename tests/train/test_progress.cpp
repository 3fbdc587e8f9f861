// Tests for train/progress.h: in-place redraws on a TTY, one line per epoch otherwise.
#include "train/progress.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

using dl::train::ProgressBar;
using dl::train::ProgressOptions;

namespace {
// A fake clock advanced by the test.
struct FakeClock {
  double t = 100.0;
};
ProgressOptions fake(FakeClock& c) {
  ProgressOptions o;
  o.min_redraw_interval = 0.0;
  o.bar_width = 10;
  o.clock = [&c] { return c.t; };
  return o;
}
size_t count(const std::string& s, char ch) { return std::count(s.begin(), s.end(), ch); }
}  // namespace

TEST(Progress, TtyRedrawsInPlaceWithRateAndEta) {
  FakeClock clk;
  std::ostringstream os;
  ProgressBar bar(os, true, 4, "train 1/10", fake(clk));
  clk.t += 1.0;
  bar.update(1, 128, 2.5, 0.125);
  const std::string first = os.str();
  EXPECT_EQ(first[0], '\r');
  EXPECT_NE(first.find("train 1/10"), std::string::npos);
  EXPECT_NE(first.find("1/4"), std::string::npos);
  EXPECT_NE(first.find("loss 2.5000"), std::string::npos);
  EXPECT_NE(first.find("acc 12.50%"), std::string::npos);
  EXPECT_NE(first.find("128 img/s"), std::string::npos);
  EXPECT_NE(first.find("ETA 0:03"), std::string::npos);  // 1 s per batch, 3 left
  EXPECT_NE(first.find("[==>"), std::string::npos);
  EXPECT_EQ(first.find('\n'), std::string::npos);
  clk.t += 1.0;
  bar.update(2, 256, 2.0, 0.25);
  clk.t += 2.0;
  bar.update(4, 512, 1.5, 0.5);
  bar.finish("test err 9.00%");
  const std::string all = os.str();
  EXPECT_EQ(count(all, '\r'), 4u);  // three updates + the final redraw
  EXPECT_EQ(count(all, '\n'), 1u);
  EXPECT_NE(all.find("[==========]"), std::string::npos);
  EXPECT_NE(all.find("test err 9.00%"), std::string::npos);
  EXPECT_EQ(all.back(), '\n');
}

TEST(Progress, NonTtyPrintsOnePlainLinePerEpoch) {
  FakeClock clk;
  std::ostringstream os;
  ProgressBar bar(os, false, 3, "epoch 2", fake(clk));
  for (int i = 1; i <= 3; ++i) {
    clk.t += 0.5;
    bar.update(i, 100 * i, 1.0 / i, 0.3 * i);
  }
  EXPECT_EQ(os.str(), "");  // nothing per batch
  bar.finish();
  bar.finish();  // idempotent
  const std::string s = os.str();
  EXPECT_EQ(count(s, '\n'), 1u);
  EXPECT_EQ(s.find('\r'), std::string::npos);
  EXPECT_EQ(s.find('['), std::string::npos);
  EXPECT_NE(s.find("epoch 2"), std::string::npos);
  EXPECT_NE(s.find("3/3"), std::string::npos);
  EXPECT_NE(s.find("acc 90.00%"), std::string::npos);
  EXPECT_NE(s.find("200 img/s"), std::string::npos);
  EXPECT_NE(s.find("1.5s"), std::string::npos);
}

TEST(Progress, ThrottlesRedrawsButAlwaysDrawsTheLastBatch) {
  FakeClock clk;
  std::ostringstream os;
  ProgressOptions o = fake(clk);
  o.min_redraw_interval = 10.0;
  ProgressBar bar(os, true, 100, "", o);
  for (int i = 1; i <= 100; ++i) {
    clk.t += 0.01;
    bar.update(i, i, 1.0, 0.5);
  }
  EXPECT_EQ(count(os.str(), '\r'), 2u);  // the first update and the last
}

TEST(Progress, FormatsDurations) {
  EXPECT_EQ(dl::train::format_duration(0), "0:00");
  EXPECT_EQ(dl::train::format_duration(61.4), "1:01");
  EXPECT_EQ(dl::train::format_duration(3725), "1:02:05");
  EXPECT_EQ(dl::train::format_duration(-1), "?");
}
