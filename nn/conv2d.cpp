// conv2d.cpp — Conv2d: parameter setup, PyTorch's default init, and a forward that is one
// call to ag::conv2d (tutorial chapter 4).
#include "nn/conv2d.h"

#include <cmath>
#include <stdexcept>

#include "nn/init.h"

namespace dl::nn {

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t stride,
               int64_t padding, bool bias, int64_t dilation)
    : in_channels_(in_channels),
      out_channels_(out_channels),
      kernel_size_(kernel_size),
      has_bias_(bias),
      args_(ag::Conv2dArgs::square(stride, padding, dilation)) {
  if (in_channels <= 0 || out_channels <= 0 || kernel_size <= 0 || stride <= 0 ||
      dilation <= 0 || padding < 0)
    throw std::invalid_argument(
        "Conv2d: invalid arguments in_channels=" + std::to_string(in_channels) +
        " out_channels=" + std::to_string(out_channels) + " kernel_size=" +
        std::to_string(kernel_size) + " stride=" + std::to_string(stride) + " padding=" +
        std::to_string(padding) + " dilation=" + std::to_string(dilation) +
        "; expected positive sizes and padding >= 0");
  register_parameter("weight", Tensor::empty({out_channels, in_channels, kernel_size, kernel_size}));
  if (bias) register_parameter("bias", Tensor::empty({out_channels}));
  reset_parameters(default_generator());
}

void Conv2d::reset_parameters(Generator& gen) {
  // PyTorch's _ConvNd.reset_parameters: kaiming_uniform_(a=sqrt(5)) gives U(±1/sqrt(fan_in)),
  // and the bias uses the same bound. Kept so freshly built layers match PyTorch's statistics.
  Tensor& w = param("weight").data();
  init::kaiming_uniform_(w, gen, init::FanMode::FanIn, std::sqrt(5.0));
  if (has_bias_) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(init::fan_in(w.shape())));
    init::uniform_(param("bias").data(), gen, -bound, bound);
  }
}

ag::Variable Conv2d::forward(const ag::Variable& x) {
  const ag::Variable w = weight();
  if (x.dim() != 4 || x.size(1) != in_channels_)
    throw std::invalid_argument("Conv2d: input " + shape_str(x.shape()) +
                                " does not match weight " + shape_str(w.shape()) +
                                "; expected [N, " + std::to_string(in_channels_) + ", H, W]");
  return ag::conv2d(x, w, bias(), args_);
}

int64_t Conv2d::macs(const Shape& input, const Shape& output) const {
  // Every output element is a dot product of length C·K·K.
  if (input.size() != 4 || output.size() != 4) return 0;
  return shape_numel(output) * input[1] * kernel_size_ * kernel_size_;
}

}  // namespace dl::nn
