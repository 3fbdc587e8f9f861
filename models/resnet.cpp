// resnet.cpp — assembling stems, stages and heads into ResNets, and their initialisation
// (tutorial chapter 7). Stage layout: He et al. 2015 Table 1 (ImageNet) and §4.2 (CIFAR:
// 6n+2 layers, widths 16/32/64, feature maps 32/16/8); pre-activation: He et al. 2016.
#include "models/resnet.h"

#include <cmath>
#include <stdexcept>

#include "autograd/ops.h"
#include "nn/conv_bn.h"
#include "nn/flatten.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/pooling.h"

namespace dl::models {

int64_t block_expansion(BlockType type) {
  switch (type) {
    case BlockType::Basic:
    case BlockType::PreActBasic:
    case BlockType::PlainBasic: return 1;
    case BlockType::Bottleneck:
    case BlockType::PreActBottleneck:
    case BlockType::PlainBottleneck: return 4;
  }
  return 1;
}

bool is_preact(BlockType type) {
  return type == BlockType::PreActBasic || type == BlockType::PreActBottleneck;
}

bool is_plain(BlockType type) {
  return type == BlockType::PlainBasic || type == BlockType::PlainBottleneck;
}

std::shared_ptr<ResidualBlock> make_block(BlockType type, int64_t in_channels, int64_t planes,
                                          int64_t stride, Shortcut shortcut) {
  switch (type) {
    case BlockType::Basic:
      return std::make_shared<BasicBlock>(in_channels, planes, stride, shortcut);
    case BlockType::Bottleneck:
      return std::make_shared<Bottleneck>(in_channels, planes, stride, shortcut);
    case BlockType::PreActBasic:
      return std::make_shared<PreActBasicBlock>(in_channels, planes, stride, shortcut);
    case BlockType::PreActBottleneck:
      return std::make_shared<PreActBottleneck>(in_channels, planes, stride, shortcut);
    case BlockType::PlainBasic:
      return std::make_shared<PlainBasicBlock>(in_channels, planes, stride);
    case BlockType::PlainBottleneck:
      return std::make_shared<PlainBottleneck>(in_channels, planes, stride);
  }
  throw std::invalid_argument("make_block: unknown block type");
}

ResNet::ResNet(const ResNetConfig& config) : config_(config) {
  const ResNetConfig& c = config_;
  if (c.blocks.empty() || c.blocks.size() != c.widths.size())
    throw std::invalid_argument("ResNet: blocks and widths must be non-empty and of equal "
                                "length; got " + std::to_string(c.blocks.size()) + " and " +
                                std::to_string(c.widths.size()));
  for (size_t s = 0; s < c.blocks.size(); ++s)
    if (c.blocks[s] < 1 || c.widths[s] < 1)
      throw std::invalid_argument("ResNet: stage " + std::to_string(s + 1) +
                                  " needs at least one block and a positive width");
  if (c.num_classes < 1)
    throw std::invalid_argument("ResNet: num_classes must be at least 1, got " +
                                std::to_string(c.num_classes));
  const bool preact = is_preact(c.block);
  if (c.zero_init_residual && (preact || is_plain(c.block)))
    throw std::invalid_argument(
        "ResNet: zero_init_residual needs v1 residual blocks (their branch ends in a BN); "
        "pre-activation branches end in a convolution and plain nets have no branch");

  // ---- stem
  const int64_t stem_width = c.stem == Stem::ImageNet ? 64 : 16;
  if (c.stem == Stem::ImageNet) {
    stem_.push_back(register_module(
        "conv1", std::make_shared<nn::Conv2d>(3, stem_width, 7, 2, 3, /*bias=*/false)));
    stem_.push_back(register_module("bn1", std::make_shared<nn::BatchNorm2d>(stem_width)));
    stem_.push_back(register_module("relu", std::make_shared<nn::ReLU>()));
    stem_.push_back(register_module("maxpool", std::make_shared<nn::MaxPool2d>(3, 2, 1)));
  } else {
    stem_.push_back(register_module(
        "conv1", std::make_shared<nn::Conv2d>(3, stem_width, 3, 1, 1, /*bias=*/false)));
    // A pre-activation net's first unit normalises and activates conv1's output itself.
    if (!preact) {
      stem_.push_back(register_module("bn1", std::make_shared<nn::BatchNorm2d>(stem_width)));
      stem_.push_back(register_module("relu", std::make_shared<nn::ReLU>()));
    }
  }

  // ---- stages: the first block of every stage but the first halves H and W (stride 2) and
  // changes the width; the others keep the shape, so only those first blocks (and, for a
  // bottleneck net, layer1.0, which widens 64 -> 256) need a non-identity shortcut.
  int64_t channels = stem_width;
  for (size_t s = 0; s < c.blocks.size(); ++s) {
    auto stage = std::make_shared<nn::Sequential>();
    for (int64_t b = 0; b < c.blocks[s]; ++b) {
      const int64_t stride = (s > 0 && b == 0) ? 2 : 1;
      stage->push_back(make_block(c.block, channels, c.widths[s], stride, c.shortcut));
      channels = c.widths[s] * block_expansion(c.block);
    }
    stages_.push_back(register_module("layer" + std::to_string(s + 1), stage));
  }

  // ---- head
  if (preact) {
    // The last unit's sum has not been through BN-ReLU ("Identity Mappings", appendix: "an
    // extra activation right after its element-wise addition").
    head_.push_back(register_module("bn_final", std::make_shared<nn::BatchNorm2d>(channels)));
    head_.push_back(register_module("relu_final", std::make_shared<nn::ReLU>()));
  }
  head_.push_back(register_module("avgpool", std::make_shared<nn::AdaptiveAvgPool2d>(1, 1)));
  head_.push_back(register_module("flatten", std::make_shared<nn::Flatten>(1)));
  head_.push_back(register_module("fc", std::make_shared<nn::Linear>(channels, c.num_classes)));

  init_weights(*this, c.seed);
  if (c.zero_init_residual) zero_init_residual(*this);
}

ag::Variable ResNet::forward(const ag::Variable& x) {
  if (x.dim() != 4 || x.size(1) != 3)
    throw std::invalid_argument(type_name() + ": expected input [N, 3, H, W], got " +
                                shape_str(x.shape()));
  std::vector<nn::Module*> stem;
  for (auto& m : stem_) stem.push_back(m.get());
  ag::Variable y = nn::forward_in_order(stem, x);  // conv1, bn1, relu: one op at inference
  for (auto& m : stages_) y = (*m)(y);
  for (auto& m : head_) y = (*m)(y);
  return y;
}

std::string ResNet::type_name() const {
  if (is_preact(config_.block)) return "PreActResNet";
  if (is_plain(config_.block)) return "PlainNet";
  return "ResNet";
}

void init_weights(nn::Module& model, uint64_t seed) {
  Generator gen(seed);
  for (auto& [name, m] : model.named_modules()) {
    if (auto* conv = dynamic_cast<nn::Conv2d*>(m)) {
      // MSRA (He et al. 2015b, "Delving Deep into Rectifiers", Eq. 14 with the backward
      // condition): std = sqrt(2 / fan_out), fan_out = OC·KH·KW, keeps gradient variance
      // constant through ReLU layers. torchvision uses mode="fan_out" too.
      ag::Variable w = conv->weight();
      nn::init::kaiming_normal_(w.data(), gen, nn::init::FanMode::FanOut, std::sqrt(2.0));
      ag::Variable b = conv->bias();
      if (b.defined()) nn::init::zeros_(b.data());
    } else if (auto* norm = dynamic_cast<nn::BatchNorm2d*>(m)) {
      ag::Variable w = norm->weight(), b = norm->bias();
      if (w.defined()) nn::init::ones_(w.data());
      if (b.defined()) nn::init::zeros_(b.data());
    } else if (auto* fc = dynamic_cast<nn::Linear*>(m)) {
      // PyTorch's default: kaiming_uniform_(a=sqrt(5)) gives bound gain·sqrt(3/fan_in) with
      // gain sqrt(2/(1+5)), i.e. 1/sqrt(fan_in); the bias uses the same bound.
      ag::Variable w = fc->weight(), b = fc->bias();
      const double bound = 1.0 / std::sqrt(static_cast<double>(w.size(1)));
      w.data().copy_(Tensor::uniform(w.shape(), -bound, bound, gen, w.dtype()));
      if (b.defined()) b.data().copy_(Tensor::uniform(b.shape(), -bound, bound, gen, b.dtype()));
    }
  }
}

int64_t zero_init_residual(nn::Module& model) {
  int64_t n = 0;
  for (auto& [name, m] : model.named_modules()) {
    nn::BatchNorm2d* last = nullptr;
    if (auto* basic = dynamic_cast<BasicBlock*>(m)) last = &basic->last_bn();
    if (auto* bottleneck = dynamic_cast<Bottleneck*>(m)) last = &bottleneck->last_bn();
    // Plain blocks derive from the v1 blocks but have no residual branch to silence.
    auto* block = dynamic_cast<ResidualBlock*>(m);
    if (!last || block->shortcut() == Shortcut::None) continue;
    ag::Variable gamma = last->weight();
    nn::init::zeros_(gamma.data());
    ++n;
  }
  return n;
}

}  // namespace dl::models
