// progress.h — a terminal progress bar for training/evaluation epochs.
//
// On a terminal (is_tty) the line is redrawn in place with '\r':
//   train 3/160  [=========>          ]  120/391  loss 1.2345  acc 56.78%  2345 img/s  ETA 0:42
// Otherwise (log files, pipes) nothing is printed per batch and finish() prints one plain line:
//   train 3/160  391/391  loss 1.2345  acc 56.78%  2345 img/s  12.3s
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

namespace dl::train {

struct ProgressOptions {
  int bar_width = 24;
  /// Minimum seconds between two redraws on a TTY (the last batch is always drawn).
  double min_redraw_interval = 0.1;
  /// Clock in seconds; defaults to std::chrono::steady_clock. Tests inject a fake one.
  std::function<double()> clock;
};

class ProgressBar {
 public:
  /// @p prefix starts every line (e.g. "train 3/160"). @p total = batches in the epoch.
  ProgressBar(std::ostream& os, bool is_tty, int64_t total, std::string prefix = "",
              ProgressOptions options = {});
  /// Reports that @p done batches (1..total) and @p images images are finished; @p loss and
  /// @p accuracy (fraction 0..1) are running averages. Redraws on a TTY.
  void update(int64_t done, int64_t images, double loss, double accuracy);
  /// Ends the epoch: on a TTY redraws the final state and ends the line; otherwise prints the
  /// one summary line. @p extra is appended (e.g. "test err 8.75%"). Idempotent.
  void finish(const std::string& extra = "");

  /// Images per second so far (0 before any progress).
  double images_per_sec() const;
  /// Seconds since construction.
  double elapsed() const;
  /// True if file descriptor 1 is a terminal.
  static bool stdout_is_tty();

 private:
  std::string stats_text(bool with_eta) const;
  void draw();

  std::ostream& os_;
  bool tty_;
  int64_t total_;
  std::string prefix_;
  ProgressOptions opt_;
  double start_ = 0, last_draw_ = -1e300;
  int64_t done_ = 0, images_ = 0;
  double loss_ = 0, acc_ = 0;
  size_t last_len_ = 0;
  bool finished_ = false;
};

/// "m:ss" or "h:mm:ss" (negative or non-finite -> "?").
std::string format_duration(double seconds);

}  // namespace dl::train
