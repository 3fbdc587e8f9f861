// lr_schedule.cpp — the schedules of lr_schedule.h (tutorial chapter 10), each following its
// torch.optim.lr_scheduler namesake: MultiStepLR, CosineAnnealingLR (Loshchilov & Hutter,
// "SGDR", 2017), OneCycleLR (Smith & Topin, "Super-convergence", 2017), ReduceLROnPlateau.
#include "train/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace dl::train {

void LrSchedule::set_state(const std::vector<double>& s) {
  if (!s.empty())
    throw std::invalid_argument("LrSchedule: " + describe() + " has no state, got " +
                                std::to_string(s.size()) + " values");
}

MultiStepLr::MultiStepLr(double base_lr, std::vector<int64_t> milestones, double gamma)
    : base_lr_(base_lr), gamma_(gamma), milestones_(std::move(milestones)) {}

double MultiStepLr::lr(int64_t step) const {
  double lr = base_lr_;
  for (int64_t m : milestones_)
    if (step >= m) lr *= gamma_;
  return lr;
}

std::string MultiStepLr::describe() const {
  std::ostringstream os;
  if (milestones_.empty()) {
    os << "constant(lr=" << base_lr_ << ')';
    return os.str();
  }
  os << "multistep(lr=" << base_lr_ << ", gamma=" << gamma_ << ", milestones=";
  for (size_t i = 0; i < milestones_.size(); ++i) os << (i ? "/" : "") << milestones_[i];
  os << ')';
  return os.str();
}

namespace {
/// Cosine interpolation from a (t = 0) to b (t = 1): b + (a − b)·(1 + cos πt)/2.
double cosine_anneal(double a, double b, double t) {
  return b + (a - b) * 0.5 * (1.0 + std::cos(M_PI * t));
}
}  // namespace

CosineLr::CosineLr(double base_lr, int64_t total_steps, double min_lr)
    : base_lr_(base_lr), min_lr_(min_lr), total_(std::max<int64_t>(1, total_steps)) {}

double CosineLr::lr(int64_t step) const {
  const double t = std::min(1.0, double(step) / double(total_));
  return cosine_anneal(base_lr_, min_lr_, t);
}

std::string CosineLr::describe() const {
  std::ostringstream os;
  os << "cosine(lr=" << base_lr_ << ", steps=" << total_ << ", min=" << min_lr_ << ')';
  return os.str();
}

OneCycleLr::OneCycleLr(double max_lr, int64_t total_steps, double pct_start, double div_factor,
                       double final_div)
    : max_lr_(max_lr),
      pct_start_(pct_start),
      div_factor_(div_factor),
      final_div_(final_div),
      total_(std::max<int64_t>(2, total_steps)) {
  if (!(pct_start > 0 && pct_start < 1))
    throw std::invalid_argument("OneCycleLr: pct_start must be in (0, 1), got " +
                                std::to_string(pct_start));
  if (!(div_factor > 0 && final_div > 0))
    throw std::invalid_argument("OneCycleLr: div_factor and final_div must be > 0");
}

double OneCycleLr::lr(int64_t step) const {
  // PyTorch's phase boundaries: the peak is at step pct·T − 1 and the end at T − 1; steps
  // past the end keep the final lr. With pct·T <= 1 there is no warm-up phase at all.
  const double initial = max_lr_ / div_factor_;
  const double last = double(total_ - 1);
  const double peak = pct_start_ * double(total_) - 1.0;
  const double s = std::min(double(step), last);
  if (peak > 0 && s <= peak) return cosine_anneal(initial, max_lr_, s / peak);
  return cosine_anneal(max_lr_, initial / final_div_, (s - peak) / (last - peak));
}

std::string OneCycleLr::describe() const {
  std::ostringstream os;
  os << "onecycle(max_lr=" << max_lr_ << ", steps=" << total_ << ", pct_start=" << pct_start_
     << ')';
  return os.str();
}

PlateauLr::PlateauLr(double base_lr, double factor, int64_t patience, double threshold,
                     double min_lr)
    : current_(base_lr),
      factor_(factor),
      threshold_(threshold),
      min_lr_(min_lr),
      patience_(patience),
      best_(INFINITY) {
  if (!(factor > 0 && factor < 1))
    throw std::invalid_argument("PlateauLr: factor must be in (0, 1), got " +
                                std::to_string(factor));
  if (patience < 0 || threshold < 0)
    throw std::invalid_argument("PlateauLr: patience and threshold must be >= 0");
}

double PlateauLr::lr(int64_t) const { return current_; }

void PlateauLr::on_epoch_end(double metric) {
  // "Improved" means below the best by more than the relative threshold.
  if (metric < best_ * (1.0 - threshold_)) {
    best_ = metric;
    bad_epochs_ = 0;
    return;
  }
  if (++bad_epochs_ > patience_) {
    current_ = std::max(min_lr_, current_ * factor_);
    bad_epochs_ = 0;
  }
}

std::vector<double> PlateauLr::state() const { return {current_, best_, double(bad_epochs_)}; }

void PlateauLr::set_state(const std::vector<double>& s) {
  if (s.size() != 3)
    throw std::invalid_argument("PlateauLr: expected 3 state values, got " +
                                std::to_string(s.size()));
  current_ = s[0];
  best_ = s[1];
  bad_epochs_ = int64_t(s[2]);
}

std::string PlateauLr::describe() const {
  std::ostringstream os;
  os << "plateau(lr=" << current_ << ", factor=" << factor_ << ", patience=" << patience_ << ')';
  return os.str();
}

WarmupLr::WarmupLr(std::unique_ptr<LrSchedule> inner, int64_t warmup_steps, double start_lr)
    : inner_(std::move(inner)), warmup_(warmup_steps), start_lr_(start_lr) {
  if (!inner_) throw std::invalid_argument("WarmupLr: no schedule to wrap");
  if (warmup_ <= 0)
    throw std::invalid_argument("WarmupLr: warmup_steps must be > 0, got " +
                                std::to_string(warmup_));
}

double WarmupLr::lr(int64_t step) const {
  if (step >= warmup_) return inner_->lr(step);
  const double t = double(step) / double(warmup_);
  return start_lr_ + (inner_->lr(step) - start_lr_) * t;
}

std::string WarmupLr::describe() const {
  std::ostringstream os;
  os << "warmup(" << warmup_ << " steps from " << start_lr_ << ") then " << inner_->describe();
  return os.str();
}

std::unique_ptr<LrSchedule> make_schedule(const std::string& name, double base_lr,
                                          int64_t total_steps, int64_t warmup_steps,
                                          double warmup_lr) {
  std::unique_ptr<LrSchedule> s;
  if (name == "multistep")
    s = std::make_unique<MultiStepLr>(base_lr,
                                      std::vector<int64_t>{total_steps / 2, total_steps * 3 / 4});
  else if (name == "cosine")
    s = std::make_unique<CosineLr>(base_lr, total_steps);
  else if (name == "onecycle")
    s = std::make_unique<OneCycleLr>(base_lr, total_steps);
  else if (name == "plateau")
    s = std::make_unique<PlateauLr>(base_lr);
  else if (name == "constant")
    s = std::make_unique<MultiStepLr>(base_lr, std::vector<int64_t>{});
  else
    throw std::invalid_argument("schedule: unknown name '" + name +
                                "' (known: multistep, cosine, onecycle, plateau, constant)");
  if (warmup_steps > 0) s = std::make_unique<WarmupLr>(std::move(s), warmup_steps, warmup_lr);
  return s;
}

}  // namespace dl::train
