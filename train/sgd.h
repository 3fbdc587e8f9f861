// sgd.h — stochastic gradient descent with momentum and weight decay (tutorial chapter 10).
// PyTorch's formulation, which the golden test checks:
//     g = grad + wd·p;   buf = momentum·buf + g  (buf = g on the first step);   p -= lr·buf
// The ResNet paper used Caffe's form, v = momentum·v + lr·(grad + wd·p); p -= v, which puts
// lr inside the velocity. The two agree while lr is constant; when lr drops ten-fold, Caffe's
// velocity still carries the old lr for a few dozen steps while PyTorch's follows at once.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "autograd/variable.h"
#include "nn/module.h"

namespace dl::train {

/// Hyper-parameters of Sgd. Defaults are the ResNet paper's CIFAR recipe.
struct SgdOptions {
  double lr = 0.1;
  double momentum = 0.9;
  double weight_decay = 1e-4;
  bool nesterov = false;
  /// When false, 1-d parameters (BN weight/bias, biases) get no weight decay.
  bool decay_bn_and_bias = true;
};

/// SGD over a model's named parameters. Momentum buffers are created on the first step.
class Sgd {
 public:
  Sgd(std::vector<std::pair<std::string, ag::Variable>> params, SgdOptions options);
  /// Applies one update to every parameter that has a gradient (vectorised, OpenMP).
  void step();
  /// Drops every parameter's gradient.
  void zero_grad();
  double lr() const { return options_.lr; }
  void set_lr(double lr) { options_.lr = lr; }
  const SgdOptions& options() const { return options_; }
  /// Momentum buffers keyed "momentum_buffer.<param name>" (for checkpoints).
  nn::StateDict state_dict() const;
  /// Restores buffers saved by state_dict(); throws naming any key or shape that differs.
  void load_state_dict(const nn::StateDict& state);

 private:
  struct Slot {
    std::string name;
    ag::Variable param;
    Tensor momentum_buffer;  // undefined until the first step
    bool decay;
  };
  std::vector<Slot> slots_;
  SgdOptions options_;
};

}  // namespace dl::train
