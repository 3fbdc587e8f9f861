// activation.h — the ReLU layer (tutorial chapter 4): max(x, 0) elementwise via ag::relu.
// Its gain sqrt(2) is what MSRA init (init.h) compensates for.
#pragma once

#include <string>

#include "nn/module.h"

namespace dl::nn {

/// max(x, 0) elementwise, any shape, as torch.nn.ReLU. No state. The result is a new
/// tensor (no in-place variant: the autograd node keeps the output for its backward).
class ReLU : public Module {
 public:
  ag::Variable forward(const ag::Variable& x) override;
  std::string type_name() const override { return "ReLU"; }
};

}  // namespace dl::nn
