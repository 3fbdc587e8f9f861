// pooling.cpp — pooling layers forward to ag::max_pool2d / avg_pool2d / adaptive_avg_pool2d
// (tutorial chapter 4).
#include "nn/pooling.h"

#include <stdexcept>

#include "autograd/ops.h"

namespace dl::nn {

namespace {

/// PyTorch's rule for fixed windows: positive kernel, padding at most half the kernel (so
/// every window holds at least one real element).
void check_window(const char* layer, int64_t kernel, int64_t stride, int64_t padding) {
  if (kernel <= 0 || padding < 0 || padding > kernel / 2)
    throw std::invalid_argument(std::string(layer) + ": invalid window kernel_size=" +
                                std::to_string(kernel) + " stride=" + std::to_string(stride) +
                                " padding=" + std::to_string(padding) +
                                "; expected kernel_size > 0 and 0 <= padding <= kernel_size/2");
}

void check_4d(const char* layer, const ag::Variable& x) {
  if (x.dim() != 4)
    throw std::invalid_argument(std::string(layer) + ": expected a 4-d input [N, C, H, W], got " +
                                shape_str(x.shape()));
}

}  // namespace

MaxPool2d::MaxPool2d(int64_t kernel_size, int64_t stride, int64_t padding)
    : kernel_(kernel_size), stride_(stride > 0 ? stride : kernel_size), padding_(padding) {
  check_window("MaxPool2d", kernel_, stride_, padding_);
}

ag::Variable MaxPool2d::forward(const ag::Variable& x) {
  check_4d("MaxPool2d", x);
  return ag::max_pool2d(x, kernel_, stride_, padding_);
}

AvgPool2d::AvgPool2d(int64_t kernel_size, int64_t stride, int64_t padding)
    : kernel_(kernel_size), stride_(stride > 0 ? stride : kernel_size), padding_(padding) {
  check_window("AvgPool2d", kernel_, stride_, padding_);
}

ag::Variable AvgPool2d::forward(const ag::Variable& x) {
  check_4d("AvgPool2d", x);
  return ag::avg_pool2d(x, kernel_, stride_, padding_);
}

AdaptiveAvgPool2d::AdaptiveAvgPool2d(int64_t output_h, int64_t output_w)
    : out_h_(output_h), out_w_(output_w) {
  if (output_h <= 0 || output_w <= 0)
    throw std::invalid_argument("AdaptiveAvgPool2d: invalid output size [" +
                                std::to_string(output_h) + ", " + std::to_string(output_w) +
                                "]; expected positive sizes");
}

ag::Variable AdaptiveAvgPool2d::forward(const ag::Variable& x) {
  check_4d("AdaptiveAvgPool2d", x);
  return ag::adaptive_avg_pool2d(x, out_h_, out_w_);
}

}  // namespace dl::nn
