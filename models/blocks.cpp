// blocks.cpp — residual units v1 and v2, plain units, and the three shortcut options
// (tutorial chapter 7). References: He et al. 2015 §3.3 (options A/B/C) and Fig. 5;
// He et al. 2016 "Identity Mappings" Fig. 4(e) for the pre-activation order.
#include "models/blocks.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "autograd/ops.h"
#include "nn/conv_bn.h"

namespace dl::models {

namespace {

// Every convolution in a ResNet is bias-free: the BN that follows has its own shift (beta),
// which would make a conv bias redundant (and torchvision's state_dict has none).
std::shared_ptr<nn::Conv2d> conv3x3(int64_t in, int64_t out, int64_t stride) {
  return std::make_shared<nn::Conv2d>(in, out, 3, stride, /*padding=*/1, /*bias=*/false);
}

std::shared_ptr<nn::Conv2d> conv1x1(int64_t in, int64_t out, int64_t stride = 1) {
  return std::make_shared<nn::Conv2d>(in, out, 1, stride, /*padding=*/0, /*bias=*/false);
}

std::shared_ptr<nn::BatchNorm2d> bn(int64_t channels) {
  return std::make_shared<nn::BatchNorm2d>(channels);
}

/// relu(bn(x)). BatchNorm2d::forward_relu fuses the two into one op; when an observer
/// watches, both modules are called as usual so that it sees each of them.
ag::Variable bn_relu(nn::BatchNorm2d& bn, nn::ReLU& relu, const ag::Variable& x) {
  return nn::call_observer() ? relu(bn(x)) : bn.forward_relu(x);
}

/// relu(residual + shortcut), fused into one op unless an observer watches the ReLU module.
ag::Variable add_relu(nn::ReLU& relu, const ag::Variable& residual, const ag::Variable& shortcut) {
  return nn::call_observer() ? relu(ag::add(residual, shortcut)) : ag::add_relu(residual, shortcut);
}

/// relu(bn(conv(x))): at inference one convolution that normalises and rectifies as it stores
/// (nn/conv_bn.h), otherwise the modules.
ag::Variable conv_bn_relu(nn::Conv2d& conv, nn::BatchNorm2d& bn, nn::ReLU& relu,
                          const ag::Variable& x) {
  if (nn::can_fold_batch_norm(bn)) return nn::conv_bn_inference(conv, bn, x, /*relu=*/true);
  return bn_relu(bn, relu, conv(x));
}

/// relu(bn(conv(x)) + shortcut()), likewise. shortcut() runs after the convolution when the
/// modules run, so that an observer sees the calls in the order of the paper's Eq. (2).
template <class ShortcutFn>
ag::Variable conv_bn_add_relu(nn::Conv2d& conv, nn::BatchNorm2d& bn, nn::ReLU& relu,
                              const ag::Variable& x, const ShortcutFn& shortcut) {
  if (nn::can_fold_batch_norm(bn)) {
    const ag::Variable s = shortcut();
    return nn::conv_bn_inference(conv, bn, x, /*relu=*/true, s);
  }
  const ag::Variable out = bn(conv(x));
  return add_relu(relu, out, shortcut());
}

}  // namespace

Shortcut parse_shortcut(const std::string& text) {
  std::string t = text;
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  if (t == "a") return Shortcut::A;
  if (t == "a-append") return Shortcut::AAppend;
  if (t == "b") return Shortcut::B;
  if (t == "c") return Shortcut::C;
  if (t == "none") return Shortcut::None;
  throw std::invalid_argument("parse_shortcut: unknown shortcut option '" + text +
                              "'; expected A, A-append, B, C or none");
}

std::string shortcut_name(Shortcut s) {
  switch (s) {
    case Shortcut::A: return "A";
    case Shortcut::AAppend: return "A-append";
    case Shortcut::B: return "B";
    case Shortcut::C: return "C";
    case Shortcut::None: return "none";
  }
  return "?";
}

// ---- ResidualBlock ---------------------------------------------------------------------------

ResidualBlock::ResidualBlock(int64_t in_channels, int64_t out_channels, int64_t stride,
                             Shortcut shortcut)
    : in_channels_(in_channels), out_channels_(out_channels), stride_(stride),
      shortcut_(shortcut) {
  if (in_channels <= 0 || out_channels <= 0 || stride <= 0)
    throw std::invalid_argument("ResidualBlock: channels and stride must be positive; got in " +
                                std::to_string(in_channels) + ", out " +
                                std::to_string(out_channels) + ", stride " +
                                std::to_string(stride));
  // Option A can only add zero channels; it has no way to drop any.
  const bool option_a = shortcut == Shortcut::A || shortcut == Shortcut::AAppend;
  if (option_a && out_channels < in_channels)
    throw std::invalid_argument("ResidualBlock: option-A shortcut cannot map " +
                                std::to_string(in_channels) + " channels to " +
                                std::to_string(out_channels));
}

void ResidualBlock::add_projection_if_needed(bool with_bn) {
  const bool shape_changes = in_channels_ != out_channels_ || stride_ != 1;
  const bool project =
      shortcut_ == Shortcut::C || (shortcut_ == Shortcut::B && shape_changes);
  if (!project) return;
  // W_s in the paper's Eq. (2): y = F(x) + W_s·x, realised as a strided 1x1 convolution.
  downsample_ = std::make_shared<nn::Sequential>();
  downsample_->push_back(conv1x1(in_channels_, out_channels_, stride_));
  if (with_bn) downsample_->push_back(bn(out_channels_));
  register_module("downsample", downsample_);
}

ag::Variable ResidualBlock::shortcut_path(const ag::Variable& x,
                                          const ag::Variable& projection_input) {
  if (downsample_) return (*downsample_)(projection_input);
  const bool shape_changes = in_channels_ != out_channels_ || stride_ != 1;
  if (!shape_changes) return x;  // identity (options A and B), the common case
  if (shortcut_ == Shortcut::A || shortcut_ == Shortcut::AAppend)
    return ag::shortcut_a(x, out_channels_, stride_, shortcut_ == Shortcut::A);
  throw std::logic_error(type_name() + ": shortcut_path called for a block without shortcut");
}

// ---- v1 post-activation ----------------------------------------------------------------------

BasicBlock::BasicBlock(int64_t in_channels, int64_t planes, int64_t stride, Shortcut shortcut)
    : ResidualBlock(in_channels, planes * kExpansion, stride, shortcut) {
  conv1_ = register_module("conv1", conv3x3(in_channels, planes, stride));
  bn1_ = register_module("bn1", bn(planes));
  relu_ = register_module("relu", std::make_shared<nn::ReLU>());
  conv2_ = register_module("conv2", conv3x3(planes, planes, 1));
  bn2_ = register_module("bn2", bn(planes));
  add_projection_if_needed(/*with_bn=*/true);
}

ag::Variable BasicBlock::forward(const ag::Variable& x) {
  const ag::Variable out = conv_bn_relu(*conv1_, *bn1_, *relu_, x);
  // The residual formulation H(x) = F(x) + x (paper Eq. 1); ReLU comes after the addition.
  if (shortcut() == Shortcut::None) return conv_bn_relu(*conv2_, *bn2_, *relu_, out);
  return conv_bn_add_relu(*conv2_, *bn2_, *relu_, out, [&] { return shortcut_path(x, x); });
}

Bottleneck::Bottleneck(int64_t in_channels, int64_t planes, int64_t stride, Shortcut shortcut)
    : ResidualBlock(in_channels, planes * kExpansion, stride, shortcut) {
  conv1_ = register_module("conv1", conv1x1(in_channels, planes));
  bn1_ = register_module("bn1", bn(planes));
  // torchvision "v1.5": the stride is on the 3x3, which sees every input pixel; the original
  // paper put it on the first 1x1, which then skips three quarters of them.
  conv2_ = register_module("conv2", conv3x3(planes, planes, stride));
  bn2_ = register_module("bn2", bn(planes));
  conv3_ = register_module("conv3", conv1x1(planes, planes * kExpansion));
  bn3_ = register_module("bn3", bn(planes * kExpansion));
  relu_ = register_module("relu", std::make_shared<nn::ReLU>());
  add_projection_if_needed(/*with_bn=*/true);
}

ag::Variable Bottleneck::forward(const ag::Variable& x) {
  ag::Variable out = conv_bn_relu(*conv1_, *bn1_, *relu_, x);
  out = conv_bn_relu(*conv2_, *bn2_, *relu_, out);
  if (shortcut() == Shortcut::None) return conv_bn_relu(*conv3_, *bn3_, *relu_, out);
  return conv_bn_add_relu(*conv3_, *bn3_, *relu_, out, [&] { return shortcut_path(x, x); });
}

// ---- v2 pre-activation -----------------------------------------------------------------------

PreActBasicBlock::PreActBasicBlock(int64_t in_channels, int64_t planes, int64_t stride,
                                   Shortcut shortcut)
    : ResidualBlock(in_channels, planes * kExpansion, stride, shortcut) {
  bn1_ = register_module("bn1", bn(in_channels));
  conv1_ = register_module("conv1", conv3x3(in_channels, planes, stride));
  bn2_ = register_module("bn2", bn(planes));
  conv2_ = register_module("conv2", conv3x3(planes, planes, 1));
  relu_ = register_module("relu", std::make_shared<nn::ReLU>());
  add_projection_if_needed(/*with_bn=*/false);
}

ag::Variable PreActBasicBlock::forward(const ag::Variable& x) {
  // BN and ReLU act as the "pre-activation" of the weight layer (Identity Mappings §4.1), so
  // x_{l+1} = x_l + F(x_l) holds exactly and signals propagate directly between any two units.
  const ag::Variable a = bn_relu(*bn1_, *relu_, x);
  const ag::Variable out = (*conv2_)(conv_bn_relu(*conv1_, *bn2_, *relu_, a));
  if (shortcut() == Shortcut::None) return out;
  return ag::add(out, shortcut_path(x, a));
}

PreActBottleneck::PreActBottleneck(int64_t in_channels, int64_t planes, int64_t stride,
                                   Shortcut shortcut)
    : ResidualBlock(in_channels, planes * kExpansion, stride, shortcut) {
  bn1_ = register_module("bn1", bn(in_channels));
  conv1_ = register_module("conv1", conv1x1(in_channels, planes));
  bn2_ = register_module("bn2", bn(planes));
  conv2_ = register_module("conv2", conv3x3(planes, planes, stride));
  bn3_ = register_module("bn3", bn(planes));
  conv3_ = register_module("conv3", conv1x1(planes, planes * kExpansion));
  relu_ = register_module("relu", std::make_shared<nn::ReLU>());
  add_projection_if_needed(/*with_bn=*/false);
}

ag::Variable PreActBottleneck::forward(const ag::Variable& x) {
  const ag::Variable a = bn_relu(*bn1_, *relu_, x);
  ag::Variable out = conv_bn_relu(*conv1_, *bn2_, *relu_, a);
  out = (*conv3_)(conv_bn_relu(*conv2_, *bn3_, *relu_, out));
  if (shortcut() == Shortcut::None) return out;
  return ag::add(out, shortcut_path(x, a));
}

}  // namespace dl::models
