// conv_bn.cpp — folding eval-mode BatchNorm (and a residual add and ReLU) into the convolution
// before it; see conv_bn.h.
#include "nn/conv_bn.h"

#include <stdexcept>
#include <string>

#include "autograd/grad_mode.h"
#include "nn/activation.h"
#include "tensor/batch_norm.h"
#include "tensor/conv2d.h"

namespace dl::nn {

bool can_fold_batch_norm(const BatchNorm2d& bn) {
  return !ag::is_grad_enabled() && !bn.is_training() && call_observer() == nullptr;
}

ag::Variable conv_bn_inference(Conv2d& conv, const BatchNorm2d& bn, const ag::Variable& x,
                               bool relu, const ag::Variable& residual) {
  if (!can_fold_batch_norm(bn))
    throw std::logic_error(
        "conv_bn_inference: needs no gradient recording, BatchNorm2d in eval mode and no "
        "call observer");
  if (bn.num_features() != conv.out_channels())
    throw std::invalid_argument("conv_bn_inference: BatchNorm2d of " +
                                std::to_string(bn.num_features()) + " channels after Conv2d of " +
                                std::to_string(conv.out_channels()) + " output channels");
  const Tensor w = conv.weight().data();
  const ag::Variable gamma = bn.weight(), beta = bn.bias();
  const BatchNormAffine f = batch_norm_eval_affine(
      gamma.defined() ? gamma.data() : Tensor(), beta.defined() ? beta.data() : Tensor(),
      bn.running_mean(), bn.running_var(), bn.eps(), x.data().dtype());
  Conv2dEpilogue epilogue;
  epilogue.mean = f.mean;
  epilogue.scale = f.scale;
  epilogue.shift = f.shift;
  if (residual.defined()) epilogue.residual = residual.data();
  epilogue.relu = relu;
  Conv2dArgs args = conv.args();
  args.reuse_prepared_weights = true;  // nothing records a gradient for the weight
  const ag::Variable b = conv.bias();
  return ag::Variable(
      conv2d_forward(x.data(), w, b.defined() ? b.data() : Tensor(), args, epilogue));
}

ag::Variable forward_in_order(const std::vector<Module*>& modules, const ag::Variable& x) {
  ag::Variable y = x;
  for (size_t i = 0; i < modules.size(); ++i) {
    auto* conv = dynamic_cast<Conv2d*>(modules[i]);
    auto* bn = i + 1 < modules.size() ? dynamic_cast<BatchNorm2d*>(modules[i + 1]) : nullptr;
    if (conv != nullptr && bn != nullptr && can_fold_batch_norm(*bn)) {
      const bool relu = i + 2 < modules.size() && dynamic_cast<ReLU*>(modules[i + 2]) != nullptr;
      y = conv_bn_inference(*conv, *bn, y, relu);
      i += relu ? 2 : 1;
      continue;
    }
    y = (*modules[i])(y);
  }
  return y;
}

}  // namespace dl::nn
