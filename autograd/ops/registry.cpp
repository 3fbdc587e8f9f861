// registry.cpp — the list of differentiable ops. tests/autograd checks that each name has a
// gradcheck case, so a new op cannot land without its finite-difference test (chapter 3).
#include "autograd/ops.h"

namespace dl::ag {

const std::vector<std::string>& differentiable_ops() {
  static const std::vector<std::string> names = {
      "add", "sub", "mul", "div", "maximum", "minimum", "neg", "exp", "log", "sqrt", "abs",
      "pow", "relu", "add_relu", "add_scalar", "mul_scalar",
      "sum", "mean", "max", "var",
      "reshape", "permute", "transpose", "slice", "expand", "squeeze", "unsqueeze", "flatten",
      "matmul", "linear", "concat", "pad",
      "conv2d",
      "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "global_avg_pool2d",
      "batch_norm", "batch_norm_relu", "dropout",
      "log_softmax", "cross_entropy",
      "shortcut_a"};
  return names;
}

}  // namespace dl::ag
