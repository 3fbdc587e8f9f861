// batchnorm.cpp — BatchNorm2d: state registration and a forward that passes the module's
// buffers to ag::batch_norm (tutorial chapter 4).
#include "nn/batchnorm.h"

#include <stdexcept>

#include "autograd/ops.h"

namespace dl::nn {

BatchNorm2d::BatchNorm2d(int64_t channels, double eps, double momentum, bool affine)
    : channels_(channels), eps_(eps), momentum_(momentum), affine_(affine) {
  if (channels <= 0 || !(eps > 0) || !(momentum >= 0 && momentum <= 1))
    throw std::invalid_argument("BatchNorm2d: invalid arguments channels=" +
                                std::to_string(channels) + " eps=" + std::to_string(eps) +
                                " momentum=" + std::to_string(momentum) +
                                "; expected channels > 0, eps > 0, momentum in [0, 1]");
  if (affine) {
    register_parameter("weight", Tensor::ones({channels}));
    register_parameter("bias", Tensor::zeros({channels}));
  }
  register_buffer("running_mean", Tensor::zeros({channels}));
  register_buffer("running_var", Tensor::ones({channels}));
  // A count, not a statistic: int64 so Module::to(dtype) leaves it alone and checkpoints
  // store it as I64, exactly like PyTorch's torch.long buffer.
  register_buffer("num_batches_tracked", Tensor::zeros({}, DType::Int64));
}

void BatchNorm2d::reset_running_stats() {
  buffer("running_mean").zero_();
  buffer("running_var").fill_(1.0);
  buffer("num_batches_tracked").zero_();
}

void BatchNorm2d::reset_parameters() {
  reset_running_stats();
  if (affine_) {
    param("weight").data().fill_(1.0);
    param("bias").data().zero_();
  }
}

int64_t BatchNorm2d::num_batches_tracked() const {
  return static_cast<int64_t>(buffer("num_batches_tracked").item());
}

void BatchNorm2d::check_input(const ag::Variable& x) const {
  if ((x.dim() != 4 && x.dim() != 2) || x.size(1) != channels_)
    throw std::invalid_argument("BatchNorm2d: input " + shape_str(x.shape()) +
                                " does not match the layer; expected [N, " +
                                std::to_string(channels_) + ", H, W] or [N, " +
                                std::to_string(channels_) + "]");
}

ag::Variable BatchNorm2d::forward(const ag::Variable& x) { return normalise(x, /*relu=*/false); }

ag::Variable BatchNorm2d::forward_relu(const ag::Variable& x) { return normalise(x, /*relu=*/true); }

ag::Variable BatchNorm2d::normalise(const ag::Variable& x, bool relu) {
  check_input(x);
  // Buffers are looked up on every call rather than cached: Module::to(dtype) and
  // load_state_dict may replace or rewrite them, and the op updates them in place.
  const auto op = relu ? ag::batch_norm_relu : ag::batch_norm;
  ag::Variable y = op(x, weight(), bias(), buffer("running_mean"), buffer("running_var"),
                      is_training(), momentum_, eps_);
  // Counted after the op, so a batch it rejects is not counted.
  if (is_training()) buffer("num_batches_tracked").add_(1.0);
  return y;
}

}  // namespace dl::nn
