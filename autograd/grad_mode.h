// grad_mode.h — switching the tape on and off (tutorial chapter 2).
// Evaluation and optimiser updates must not record nodes: NoGradGuard turns recording off
// for its scope, so memory for saved tensors is never allocated there.
#pragma once

namespace dl::ag {

/// True while ops record nodes on the tape (the default, per thread).
bool is_grad_enabled();
/// Sets recording on or off for this thread.
void set_grad_enabled(bool on);

/// Turns recording off until the guard leaves scope, then restores the previous state.
class NoGradGuard {
 public:
  NoGradGuard() : previous_(is_grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace dl::ag
