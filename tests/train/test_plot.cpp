// Tests for train/plot.h and train/fs_util.h: SVG charts, metrics.csv, atomic writes.
#include "train/plot.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "train/fs_util.h"
#include "train_test_util.h"

using dl::train::MetricsRow;
using dl::train::Series;
using dl::train::testing::TempDir;
using dl::train::testing::write_bytes;

namespace {

// Minimal XML well-formedness: every element closed in order, no stray '<' or '&'.
::testing::AssertionResult well_formed(const std::string& xml) {
  std::vector<std::string> stack;
  size_t i = 0;
  while ((i = xml.find('<', i)) != std::string::npos) {
    const size_t end = xml.find('>', i);
    if (end == std::string::npos) return ::testing::AssertionFailure() << "unclosed tag at " << i;
    const std::string tag = xml.substr(i + 1, end - i - 1);
    if (tag.find('<') != std::string::npos)
      return ::testing::AssertionFailure() << "'<' inside tag at " << i;
    if (tag[0] == '?' || tag[0] == '!') {
      // declaration
    } else if (tag[0] == '/') {
      const std::string name = tag.substr(1);
      if (stack.empty() || stack.back() != name)
        return ::testing::AssertionFailure() << "mismatched </" << name << "> at " << i;
      stack.pop_back();
    } else if (tag.back() != '/') {
      stack.push_back(tag.substr(0, tag.find_first_of(" \n\t")));
    }
    i = end + 1;
  }
  if (!stack.empty()) return ::testing::AssertionFailure() << "unclosed <" << stack.back() << ">";
  for (size_t a = xml.find('&'); a != std::string::npos; a = xml.find('&', a + 1)) {
    const size_t semi = xml.find(';', a);
    if (semi == std::string::npos || semi - a > 6)
      return ::testing::AssertionFailure() << "raw '&' at " << a;
  }
  return ::testing::AssertionSuccess();
}

size_t count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace

TEST(Plot, SvgIsWellFormedWithLabelsLegendAndStyles) {
  Series train{"ResNet-20 train", {1, 2, 3, 4}, {60, 40, 30, 25}, "dashed", ""};
  Series test{"ResNet-20 test <&>", {1, 2, 3, 4}, {55, 42, 35, 31}, "solid", ""};
  const std::string svg =
      dl::train::render_svg_chart({train, test}, "CIFAR-10 error", "epoch", "error (%)");
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_TRUE(well_formed(svg));
  EXPECT_NE(svg.find("ResNet-20 train"), std::string::npos);
  EXPECT_NE(svg.find("ResNet-20 test &lt;&amp;&gt;"), std::string::npos);  // escaped
  EXPECT_NE(svg.find("CIFAR-10 error"), std::string::npos);
  EXPECT_NE(svg.find("error (%)"), std::string::npos);
  EXPECT_NE(svg.find("stroke-dasharray"), std::string::npos);
  EXPECT_EQ(count(svg, "<path"), 2u);
  // Two different automatic colours.
  EXPECT_NE(svg.find(dl::train::palette_color(0)), std::string::npos);
  EXPECT_NE(svg.find(dl::train::palette_color(1)), std::string::npos);
}

TEST(Plot, HandlesEmptyNanAndSinglePointSeries) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Series gap{"gap", {1, 2, 3, 4}, {1, nan, 3, 4}, "solid", "#000000"};
  Series one{"one", {2}, {2}, "dotted", ""};
  Series none{"none", {}, {}, "solid", ""};
  const std::string svg = dl::train::render_svg_chart({gap, one, none}, "t", "x", "y");
  EXPECT_TRUE(well_formed(svg));
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_NE(svg.find(" M"), std::string::npos);  // the line restarts after the NaN
  EXPECT_NE(svg.find("<circle"), std::string::npos);
  EXPECT_TRUE(well_formed(dl::train::render_svg_chart({}, "empty", "x", "y")));
}

TEST(Plot, NiceTicksUseRoundSteps) {
  const auto t = dl::train::nice_ticks(0, 100, 5);
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(t.front(), 0);
  EXPECT_EQ(t.back(), 100);
  EXPECT_DOUBLE_EQ(t[1] - t[0], 20);
  const auto u = dl::train::nice_ticks(0.013, 0.087, 6);  // raw step 0.0123 -> 0.02
  ASSERT_GE(u.size(), 2u);
  EXPECT_NEAR(u[1] - u[0], 0.02, 1e-12);
  EXPECT_NEAR(u.front(), 0.02, 1e-12);
  EXPECT_NEAR(u.back(), 0.08, 1e-12);
}

TEST(Metrics, CsvRoundTripIsExact) {
  TempDir tmp;
  const std::string path = tmp / "metrics.csv";
  MetricsRow a{1, 0.1, 2.302585, 0.9, 1.9, 0.71, 1234.5, 12.25};
  MetricsRow b{2, 0.1, 1.0 / 3.0, 0.123456789012345, std::nan(""), std::nan(""), 2000, 11};
  dl::train::append_metrics_csv(path, a);
  dl::train::append_metrics_csv(path, b);
  const std::string text = dl::train::read_file(path);
  EXPECT_EQ(text.rfind(dl::train::metrics_csv_header() + "\n", 0), 0u);
  const auto rows = dl::train::read_metrics_csv(path);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].epoch, 1);
  EXPECT_EQ(rows[0].train_loss, a.train_loss);
  EXPECT_EQ(rows[0].seconds, a.seconds);
  EXPECT_EQ(rows[1].train_loss, b.train_loss);  // bit-exact
  EXPECT_EQ(rows[1].train_error, b.train_error);
  EXPECT_TRUE(std::isnan(rows[1].test_loss));
  EXPECT_TRUE(std::isnan(rows[1].test_error));
  // Fig. 6 style curves: the NaN test error is left out.
  const auto curves = dl::train::error_curves(rows, "plain-20");
  ASSERT_EQ(curves.size(), 2u);
  EXPECT_EQ(curves[0].style, "dashed");
  EXPECT_EQ(curves[0].y.size(), 2u);
  EXPECT_EQ(curves[1].y.size(), 1u);
  EXPECT_DOUBLE_EQ(curves[1].y[0], 71.0);
}

TEST(Metrics, MalformedRowsAreRejectedWithFileAndLine) {
  TempDir tmp;
  const std::string h = dl::train::metrics_csv_header() + "\n";
  struct Case {
    std::string content, expect;
  } cases[] = {
      {h + "1,0.1,2,0.5,2,0.5,100,1\n1,0.1,2,0.5\n", ":3:"},           // too few fields
      {h + "x,0.1,2,0.5,2,0.5,100,1\n", ":2: epoch"},                   // bad epoch
      {h + "1,0.1,abc,0.5,2,0.5,100,1\n", ":2: train_loss"},            // bad number
      {"epoch,lr\n1,0.1\n", ":1: unexpected header"},                   // wrong header
      {h + "1.5,0.1,2,0.5,2,0.5,100,1\n", ":2: epoch"},                 // non-integer epoch
  };
  int i = 0;
  for (const auto& c : cases) {
    const std::string path = tmp / ("m" + std::to_string(i++) + ".csv");
    write_bytes(path, c.content);
    try {
      dl::train::read_metrics_csv(path);
      ADD_FAILURE() << "accepted: " << c.content;
    } catch (const std::runtime_error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path + c.expect), std::string::npos) << msg;
    }
  }
  // Appending to a malformed file fails and leaves it unchanged.
  const std::string bad = tmp / "m0.csv";
  const std::string before = dl::train::read_file(bad);
  EXPECT_THROW(dl::train::append_metrics_csv(bad, MetricsRow{}), std::runtime_error);
  EXPECT_EQ(dl::train::read_file(bad), before);
}

TEST(FsUtil, AtomicWriteReplacesContentAndLeavesNoTempFiles) {
  TempDir tmp;
  const std::string path = tmp / "ckpt.bin";
  dl::train::write_file_atomic(path, "old content");
  EXPECT_EQ(dl::train::read_file(path), "old content");
  std::string big(1 << 20, 'x');
  big[12345] = '\0';  // binary-safe
  dl::train::write_file_atomic(path, big);
  EXPECT_EQ(dl::train::read_file(path), big);
  size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(tmp.path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1u);
}

TEST(FsUtil, FailedAtomicWriteKeepsOldFileAndCleansUp) {
  TempDir tmp;
  // The target is a non-empty directory, so the final rename fails after the data is written.
  const std::string target = tmp / "target";
  write_bytes(target + "/keep.txt", "precious");
  try {
    dl::train::write_file_atomic(target, "new");
    ADD_FAILURE() << "write over a directory succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(target), std::string::npos) << e.what();
  }
  EXPECT_EQ(dl::train::read_file(target + "/keep.txt"), "precious");
  size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(tmp.path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1u);  // no temporary file left behind
  // A missing directory is reported with the path.
  EXPECT_THROW(dl::train::write_file_atomic(tmp / "no/such/dir/f", "x"), std::runtime_error);
}
