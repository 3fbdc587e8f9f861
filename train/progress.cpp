// progress.cpp — ProgressBar: '\r' redraws on a terminal, one line per epoch otherwise.
#include "train/progress.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace dl::train {

namespace {
double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}
}  // namespace

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int64_t s = static_cast<int64_t>(std::llround(seconds));
  char buf[64];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>((s / 60) % 60), static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  return buf;
}

ProgressBar::ProgressBar(std::ostream& os, bool is_tty, int64_t total, std::string prefix,
                         ProgressOptions options)
    : os_(os), tty_(is_tty), total_(std::max<int64_t>(total, 0)), prefix_(std::move(prefix)),
      opt_(std::move(options)) {
  if (!opt_.clock) opt_.clock = steady_seconds;
  start_ = opt_.clock();
}

bool ProgressBar::stdout_is_tty() { return ::isatty(1) == 1; }

double ProgressBar::elapsed() const { return opt_.clock() - start_; }

double ProgressBar::images_per_sec() const {
  const double t = elapsed();
  return t > 0 ? static_cast<double>(images_) / t : 0.0;
}

std::string ProgressBar::stats_text(bool with_eta) const {
  std::string s = std::to_string(done_) + "/" + std::to_string(total_);
  s += "  loss " + fixed(loss_, 4);
  s += "  acc " + fixed(100.0 * acc_, 2) + "%";
  s += "  " + fixed(images_per_sec(), 0) + " img/s";
  if (with_eta) {
    const double t = elapsed();
    const double eta = done_ > 0 ? t / static_cast<double>(done_) *
                                       static_cast<double>(total_ - done_)
                                 : -1.0;
    s += "  ETA " + format_duration(eta);
  }
  return s;
}

void ProgressBar::draw() {
  std::string bar = "[";
  const int w = std::max(opt_.bar_width, 1);
  const int64_t filled = total_ > 0 ? std::min<int64_t>(w, done_ * w / total_) : 0;
  for (int i = 0; i < w; ++i)
    bar += i < filled ? '=' : (i == filled && done_ < total_ ? '>' : ' ');
  bar += "]";
  const std::string stats =
      finished_ ? stats_text(false) + "  " + fixed(elapsed(), 1) + "s" : stats_text(true);
  std::string line = (prefix_.empty() ? "" : prefix_ + "  ") + bar + "  " + stats;
  const size_t len = line.size();
  if (len < last_len_) line.append(last_len_ - len, ' ');  // erase leftovers of a longer line
  last_len_ = len;
  os_ << '\r' << line << std::flush;
  last_draw_ = opt_.clock();
}

void ProgressBar::update(int64_t done, int64_t images, double loss, double accuracy) {
  if (finished_) return;
  done_ = std::clamp<int64_t>(done, 0, total_);
  images_ = images;
  loss_ = loss;
  acc_ = accuracy;
  if (!tty_) return;
  const bool last = done_ >= total_;
  if (last || opt_.clock() - last_draw_ >= opt_.min_redraw_interval) draw();
}

void ProgressBar::finish(const std::string& extra) {
  if (finished_) return;
  finished_ = true;
  if (tty_) {
    draw();
    if (!extra.empty()) os_ << "  " << extra;
    os_ << '\n' << std::flush;
    return;
  }
  std::string line = (prefix_.empty() ? "" : prefix_ + "  ") + stats_text(false) + "  " +
                     fixed(elapsed(), 1) + "s";
  if (!extra.empty()) line += "  " + extra;
  os_ << line << '\n' << std::flush;
}

}  // namespace dl::train
