// lr_schedule.h — learning-rate schedules (tutorial chapter 10).
// The ResNet paper's CIFAR recipe: lr 0.1, divided by 10 at 32k and 48k iterations, stop at
// 64k (batch 128); ResNet-110 first warms up at 0.01. The ImageNet recipe divides by 10 "when
// the error plateaus". Schedules here are functions of the iteration, except the plateau
// rule, which also watches a metric at the end of each epoch.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dl::train {

/// A learning rate as a function of the global iteration (0-based).
class LrSchedule {
 public:
  virtual ~LrSchedule() = default;
  /// The learning rate to use for iteration @p step.
  virtual double lr(int64_t step) const = 0;
  /// Called once per epoch with the monitored metric (test error); only plateau uses it.
  virtual void on_epoch_end(double /*metric*/) {}
  /// Mutable state for checkpoints (empty for stateless schedules).
  virtual std::vector<double> state() const { return {}; }
  /// Restores state(); throws std::invalid_argument on a size mismatch.
  virtual void set_state(const std::vector<double>& s);
  virtual std::string describe() const = 0;
};

/// lr · gamma^(number of milestones ≤ step); with no milestones, a constant lr.
class MultiStepLr : public LrSchedule {
 public:
  MultiStepLr(double base_lr, std::vector<int64_t> milestones, double gamma = 0.1);
  double lr(int64_t step) const override;
  std::string describe() const override;

 private:
  double base_lr_, gamma_;
  std::vector<int64_t> milestones_;
};

/// Half a cosine from base_lr down to min_lr over total_steps (SGDR without restarts).
class CosineLr : public LrSchedule {
 public:
  CosineLr(double base_lr, int64_t total_steps, double min_lr = 0.0);
  double lr(int64_t step) const override;
  std::string describe() const override;

 private:
  double base_lr_, min_lr_;
  int64_t total_;
};

/// Leslie Smith's one-cycle, as torch.optim.lr_scheduler.OneCycleLR (cosine, two phases):
/// cosine up from initial = max_lr/div_factor to max_lr until step pct_start·total_steps − 1,
/// then cosine down to initial/final_div at step total_steps − 1 (held there after).
/// @throws std::invalid_argument unless 0 < pct_start < 1, div_factor > 0 and final_div > 0.
class OneCycleLr : public LrSchedule {
 public:
  OneCycleLr(double max_lr, int64_t total_steps, double pct_start = 0.3, double div_factor = 25,
             double final_div = 1e4);
  double lr(int64_t step) const override;
  std::string describe() const override;

 private:
  double max_lr_, pct_start_, div_factor_, final_div_;
  int64_t total_;
};

/// Multiplies the lr by @p factor when the metric (lower is better) has gone more than
/// @p patience epochs without improving on its best by more than @p threshold (relative):
/// torch's ReduceLROnPlateau(mode="min", threshold_mode="rel", cooldown=0). Never below min_lr.
/// state() is {current lr, best metric, epochs without improvement}.
/// @throws std::invalid_argument unless 0 < factor < 1, patience >= 0 and threshold >= 0.
class PlateauLr : public LrSchedule {
 public:
  PlateauLr(double base_lr, double factor = 0.1, int64_t patience = 10, double threshold = 1e-4,
            double min_lr = 0.0);
  double lr(int64_t step) const override;
  void on_epoch_end(double metric) override;
  std::vector<double> state() const override;
  void set_state(const std::vector<double>& s) override;
  std::string describe() const override;

 private:
  double current_, factor_, threshold_, min_lr_;
  int64_t patience_;
  double best_;
  int64_t bad_epochs_ = 0;
};

/// Linear warm-up from start_lr to the wrapped schedule's value over @p warmup_steps, then
/// the wrapped schedule (its own step count continues, not restarted). Epoch ends and state
/// pass through to the wrapped schedule.
/// @throws std::invalid_argument for a null schedule or warmup_steps <= 0.
class WarmupLr : public LrSchedule {
 public:
  WarmupLr(std::unique_ptr<LrSchedule> inner, int64_t warmup_steps, double start_lr);
  double lr(int64_t step) const override;
  void on_epoch_end(double metric) override { inner_->on_epoch_end(metric); }
  std::vector<double> state() const override { return inner_->state(); }
  void set_state(const std::vector<double>& s) override { inner_->set_state(s); }
  std::string describe() const override;

 private:
  std::unique_ptr<LrSchedule> inner_;
  int64_t warmup_;
  double start_lr_;
};

/// Builds a schedule from its command-line name: "multistep" (milestones at 50% and 75% of
/// training, the paper's 32k/48k of 64k), "cosine", "onecycle", "plateau", "constant".
/// @throws std::invalid_argument for an unknown name, listing the known ones.
std::unique_ptr<LrSchedule> make_schedule(const std::string& name, double base_lr,
                                          int64_t total_steps, int64_t warmup_steps = 0,
                                          double warmup_lr = 0.0);

}  // namespace dl::train
