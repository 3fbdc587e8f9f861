// conv2d.h — the 2-D convolution layer (tutorial chapter 4; the op itself is chapter 5).
// A Module that owns weight [OC,C,K,K] and an optional bias [OC] and calls ag::conv2d; the
// gradient comes from the op's node, so this file has no backward.
#pragma once

#include <cstdint>
#include <string>

#include "autograd/ops.h"
#include "nn/module.h"

namespace dl::nn {

/// Square-kernel 2-D convolution over NCHW input, as torch.nn.Conv2d (groups = 1).
///
/// Parameters (state_dict keys as in PyTorch): "weight" [OC, C, K, K], and "bias" [OC] only
/// when constructed with bias = true. Initialised as PyTorch does: weight
/// kaiming_uniform_(a = sqrt(5)) = U(±1/sqrt(C·K·K)), bias U(±1/sqrt(C·K·K)), drawn from
/// dl::default_generator(). ResNets re-initialise with init::kaiming_normal_ and use no bias
/// (BN follows every conv).
///
/// @code
///   auto conv = std::make_shared<nn::Conv2d>(3, 16, 3, /*stride=*/1, /*padding=*/1, false);
///   ag::Variable y = (*conv)(x);   // x [N,3,32,32] -> y [N,16,32,32]
/// @endcode
class Conv2d : public Module {
 public:
  /// @throws std::invalid_argument if a size is not positive or padding is negative.
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t stride = 1,
         int64_t padding = 0, bool bias = true, int64_t dilation = 1);

  /// x [N, C, H, W] -> [N, OC, OH, OW], OH = (H + 2·padding - dilation·(K-1) - 1) / stride + 1.
  /// @throws std::invalid_argument naming both shapes if x is not 4-d or C != in_channels.
  ag::Variable forward(const ag::Variable& x) override;
  std::string type_name() const override { return "Conv2d"; }
  /// N·OC·OH·OW·C·K·K multiply-accumulates (read from @p output and @p input); the bias adds
  /// are not counted, as in the ResNet paper's FLOP counts.
  int64_t macs(const Shape& input, const Shape& output) const override;

  /// Redraws weight and bias with PyTorch's default init from @p gen.
  void reset_parameters(Generator& gen);

  /// The weight [OC, C, K, K]; shares state with the module (writing its data writes the layer).
  ag::Variable weight() const { return param("weight"); }
  /// The bias [OC], or an undefined Variable for a layer built with bias = false.
  ag::Variable bias() const { return has_bias_ ? param("bias") : ag::Variable(); }
  int64_t in_channels() const { return in_channels_; }
  int64_t out_channels() const { return out_channels_; }
  int64_t kernel_size() const { return kernel_size_; }
  int64_t stride() const { return args_.stride_h; }
  int64_t padding() const { return args_.pad_h; }
  int64_t dilation() const { return args_.dil_h; }
  /// Stride, padding, dilation and algorithm as passed to ag::conv2d; set algo to force one.
  ag::Conv2dArgs& args() { return args_; }

 private:
  int64_t in_channels_, out_channels_, kernel_size_;
  bool has_bias_;
  ag::Conv2dArgs args_;
};

}  // namespace dl::nn
