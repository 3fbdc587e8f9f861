// pooling.h — max, average and adaptive average pooling layers (tutorial chapter 4). Each is
// one call to the matching op in autograd/ops/pool.cpp; the layers hold only the window sizes.
#pragma once

#include <cstdint>
#include <string>

#include "nn/module.h"

namespace dl::nn {

/// Max over K×K windows of x [N, C, H, W], as torch.nn.MaxPool2d; padding counts as -inf.
/// Output [N, C, OH, OW], OH = (H + 2·padding - K) / stride + 1.
class MaxPool2d : public Module {
 public:
  /// @p stride <= 0 means stride = kernel_size (PyTorch's stride=None).
  /// @throws std::invalid_argument if kernel_size <= 0, padding < 0 or padding > K/2.
  explicit MaxPool2d(int64_t kernel_size, int64_t stride = 0, int64_t padding = 0);
  /// @throws std::invalid_argument naming the shape if x is not 4-d.
  ag::Variable forward(const ag::Variable& x) override;
  std::string type_name() const override { return "MaxPool2d"; }
  int64_t kernel_size() const { return kernel_; }
  int64_t stride() const { return stride_; }
  int64_t padding() const { return padding_; }

 private:
  int64_t kernel_, stride_, padding_;
};

/// Mean over K×K windows of x [N, C, H, W], as torch.nn.AvgPool2d with its default
/// count_include_pad = true (padded zeros count in the divisor K·K).
class AvgPool2d : public Module {
 public:
  /// @p stride <= 0 means stride = kernel_size.
  /// @throws std::invalid_argument if kernel_size <= 0, padding < 0 or padding > K/2.
  explicit AvgPool2d(int64_t kernel_size, int64_t stride = 0, int64_t padding = 0);
  /// @throws std::invalid_argument naming the shape if x is not 4-d.
  ag::Variable forward(const ag::Variable& x) override;
  std::string type_name() const override { return "AvgPool2d"; }
  int64_t kernel_size() const { return kernel_; }
  int64_t stride() const { return stride_; }
  int64_t padding() const { return padding_; }

 private:
  int64_t kernel_, stride_, padding_;
};

/// Average pooling to a fixed output size, as torch.nn.AdaptiveAvgPool2d: output cell i
/// averages input rows floor(i·H/OH) .. ceil((i+1)·H/OH) - 1 (and likewise for columns).
/// AdaptiveAvgPool2d(1) is the global average pool before a ResNet's classifier:
/// [N, C, H, W] -> [N, C, 1, 1].
class AdaptiveAvgPool2d : public Module {
 public:
  /// Output [N, C, output_h, output_w].
  /// @throws std::invalid_argument if a size is not positive.
  AdaptiveAvgPool2d(int64_t output_h, int64_t output_w);
  /// Square output [N, C, output_size, output_size].
  explicit AdaptiveAvgPool2d(int64_t output_size) : AdaptiveAvgPool2d(output_size, output_size) {}
  /// @throws std::invalid_argument naming the shape if x is not 4-d.
  ag::Variable forward(const ag::Variable& x) override;
  std::string type_name() const override { return "AdaptiveAvgPool2d"; }
  int64_t output_h() const { return out_h_; }
  int64_t output_w() const { return out_w_; }

 private:
  int64_t out_h_, out_w_;
};

}  // namespace dl::nn
