// blocks.h — the residual units ResNets are stacked from (tutorial chapter 7): v1
// post-activation BasicBlock and Bottleneck (He et al. 2015, "Deep Residual Learning", Fig. 5),
// v2 pre-activation PreActBasicBlock and PreActBottleneck (He et al. 2016, "Identity Mappings",
// Fig. 4e), and plain blocks (the same stacks without a shortcut, for the degradation study).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "nn/activation.h"
#include "nn/batchnorm.h"
#include "nn/conv2d.h"
#include "nn/module.h"

namespace dl::models {

/// How a block's input reaches the addition (the paper's §3.3 and Table 3).
enum class Shortcut {
  /// Option A, parameter-free: identity; where the shape changes, subsample x[:, :, ::s, ::s]
  /// and add zero channels, half before and half after the old ones ("symmetric", the layout of
  /// the common CIFAR reference code and of the golden test file).
  A,
  /// Option A with every new zero channel after the old ones ("append").
  AAppend,
  /// Option B: a 1x1 convolution + BN projection only where the shape changes; identity
  /// elsewhere (torchvision's choice).
  B,
  /// Option C: a projection on every block, even where the shape is unchanged.
  C,
  /// No shortcut at all: the block is a plain stack (the paper's plain networks).
  None,
};

/// Parses "A", "A-append", "B", "C" or "none" (case-insensitive).
/// @throws std::invalid_argument naming the accepted spellings.
Shortcut parse_shortcut(const std::string& text);
/// The spelling parse_shortcut() accepts: "A", "A-append", "B", "C", "none".
std::string shortcut_name(Shortcut s);

/// What the blocks share: the shortcut branch and the bookkeeping of channels and stride.
///
/// A projection shortcut is registered as child "downsample", a Sequential whose child "0" is a
/// bias-free 1x1 convolution with the block's stride and (v1 blocks only) whose child "1" is a
/// BatchNorm2d, so checkpoint keys read `layer2.0.downsample.0.weight` and
/// `layer2.0.downsample.1.running_var` exactly as in torchvision.
class ResidualBlock : public nn::Module {
 public:
  int64_t in_channels() const { return in_channels_; }
  int64_t out_channels() const { return out_channels_; }
  int64_t stride() const { return stride_; }
  Shortcut shortcut() const { return shortcut_; }
  /// True when this block owns a "downsample" projection (option B at a shape change, or C).
  bool has_projection() const { return downsample_ != nullptr; }

 protected:
  /// @throws std::invalid_argument for non-positive sizes or an option-A block that would have
  /// to drop channels (out_channels < in_channels).
  ResidualBlock(int64_t in_channels, int64_t out_channels, int64_t stride, Shortcut shortcut);
  /// Registers "downsample" if the shortcut option asks for a projection here. Called last in
  /// each constructor so that the keys come out in torchvision's order. @p with_bn adds the BN
  /// (v1); pre-activation blocks project an input that is already normalised, so they omit it.
  void add_projection_if_needed(bool with_bn);
  /// The shortcut's contribution to the sum. Identity and option A act on @p x itself; a
  /// projection acts on @p projection_input (x for v1, the pre-activated BN-ReLU(x) for v2).
  /// Must not be called for Shortcut::None.
  ag::Variable shortcut_path(const ag::Variable& x, const ag::Variable& projection_input);

 private:
  int64_t in_channels_, out_channels_, stride_;
  Shortcut shortcut_;
  std::shared_ptr<nn::Sequential> downsample_;
};

/// v1 two-layer unit for ResNet-18/34 and the CIFAR nets (paper Fig. 5 left):
///   out = ReLU(BN2(conv2(ReLU(BN1(conv1(x))))) + shortcut(x))
/// conv1 is 3x3 with the block's stride, conv2 3x3 stride 1; both bias-free.
/// x: [N, in_channels, H, W] -> [N, planes, H/stride, W/stride].
/// Children: conv1, bn1, relu, conv2, bn2[, downsample] (torchvision's names and order).
class BasicBlock : public ResidualBlock {
 public:
  /// Output channels = planes * kExpansion.
  static constexpr int64_t kExpansion = 1;
  BasicBlock(int64_t in_channels, int64_t planes, int64_t stride = 1,
             Shortcut shortcut = Shortcut::B);
  ag::Variable forward(const ag::Variable& x) override;
  std::string type_name() const override { return "BasicBlock"; }
  /// The last BN of the residual branch (bn2), whose gamma zero_init_residual sets to 0 so the
  /// block starts as the identity (Goyal et al. 2017, "Accurate, Large Minibatch SGD", §5.1).
  nn::BatchNorm2d& last_bn() { return *bn2_; }

 private:
  std::shared_ptr<nn::Conv2d> conv1_, conv2_;
  std::shared_ptr<nn::BatchNorm2d> bn1_, bn2_;
  std::shared_ptr<nn::ReLU> relu_;
};

/// v1 three-layer bottleneck for ResNet-50/101/152 (paper Fig. 5 right), in torchvision's
/// "v1.5" form: the stride sits on the 3x3 convolution, not on the first 1x1.
///   1x1 in->planes, BN, ReLU; 3x3 planes->planes (stride), BN, ReLU; 1x1 planes->4·planes, BN;
///   add shortcut(x); ReLU.
/// x: [N, in_channels, H, W] -> [N, 4·planes, H/stride, W/stride].
/// Children: conv1, bn1, conv2, bn2, conv3, bn3, relu[, downsample].
class Bottleneck : public ResidualBlock {
 public:
  static constexpr int64_t kExpansion = 4;
  Bottleneck(int64_t in_channels, int64_t planes, int64_t stride = 1,
             Shortcut shortcut = Shortcut::B);
  ag::Variable forward(const ag::Variable& x) override;
  std::string type_name() const override { return "Bottleneck"; }
  /// bn3, the BN that zero_init_residual zeroes.
  nn::BatchNorm2d& last_bn() { return *bn3_; }

 private:
  std::shared_ptr<nn::Conv2d> conv1_, conv2_, conv3_;
  std::shared_ptr<nn::BatchNorm2d> bn1_, bn2_, bn3_;
  std::shared_ptr<nn::ReLU> relu_;
};

/// A BasicBlock without shortcut: conv-BN-ReLU-conv-BN-ReLU (the paper's plain-18/34 and
/// plain-20...110). Same children and keys as BasicBlock, never a "downsample".
class PlainBasicBlock : public BasicBlock {
 public:
  PlainBasicBlock(int64_t in_channels, int64_t planes, int64_t stride = 1)
      : BasicBlock(in_channels, planes, stride, Shortcut::None) {}
  std::string type_name() const override { return "PlainBasicBlock"; }
};

/// A Bottleneck without shortcut (a plain counterpart of the deep nets).
class PlainBottleneck : public Bottleneck {
 public:
  PlainBottleneck(int64_t in_channels, int64_t planes, int64_t stride = 1)
      : Bottleneck(in_channels, planes, stride, Shortcut::None) {}
  std::string type_name() const override { return "PlainBottleneck"; }
};

/// v2 pre-activation two-layer unit ("Identity Mappings", Fig. 1b / 4e):
///   a = ReLU(BN1(x));  out = conv2(ReLU(BN2(conv1(a)))) + shortcut
/// The identity path is untouched: no BN or ReLU after the addition. An identity or option-A
/// shortcut takes x; a projection (1x1 conv, no BN) takes the pre-activated a, as in the
/// paper's code. x: [N, in_channels, H, W] -> [N, planes, H/stride, W/stride].
/// Children: bn1, conv1, bn2, conv2[, downsample{"0": conv}].
class PreActBasicBlock : public ResidualBlock {
 public:
  static constexpr int64_t kExpansion = 1;
  PreActBasicBlock(int64_t in_channels, int64_t planes, int64_t stride = 1,
                   Shortcut shortcut = Shortcut::B);
  ag::Variable forward(const ag::Variable& x) override;
  std::string type_name() const override { return "PreActBasicBlock"; }

 private:
  std::shared_ptr<nn::BatchNorm2d> bn1_, bn2_;
  std::shared_ptr<nn::Conv2d> conv1_, conv2_;
  std::shared_ptr<nn::ReLU> relu_;
};

/// v2 pre-activation bottleneck: BN-ReLU-1x1, BN-ReLU-3x3 (stride), BN-ReLU-1x1 (x4), plus the
/// shortcut (projection of the pre-activated input where needed).
/// x: [N, in_channels, H, W] -> [N, 4·planes, H/stride, W/stride].
/// Children: bn1, conv1, bn2, conv2, bn3, conv3[, downsample{"0": conv}].
class PreActBottleneck : public ResidualBlock {
 public:
  static constexpr int64_t kExpansion = 4;
  PreActBottleneck(int64_t in_channels, int64_t planes, int64_t stride = 1,
                   Shortcut shortcut = Shortcut::B);
  ag::Variable forward(const ag::Variable& x) override;
  std::string type_name() const override { return "PreActBottleneck"; }

 private:
  std::shared_ptr<nn::BatchNorm2d> bn1_, bn2_, bn3_;
  std::shared_ptr<nn::Conv2d> conv1_, conv2_, conv3_;
  std::shared_ptr<nn::ReLU> relu_;
};

}  // namespace dl::models
