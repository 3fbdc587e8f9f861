// resnet.h — whole networks: ImageNet and CIFAR ResNets v1 and v2 and their plain
// counterparts, built from the blocks in blocks.h (tutorial chapter 7).
// References: He et al. 2015, Table 1 (ImageNet) and §4.2 (CIFAR); He et al. 2016,
// "Identity Mappings in Deep Residual Networks" (pre-activation, ResNet-164/1001); torchvision's
// resnet.py for parameter names and the v1.5 bottleneck.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/blocks.h"
#include "nn/module.h"

namespace dl::models {

/// Which unit a network stacks (the classes of blocks.h).
enum class BlockType {
  Basic,             ///< BasicBlock (v1)
  Bottleneck,        ///< Bottleneck (v1, stride on the 3x3)
  PreActBasic,       ///< PreActBasicBlock (v2)
  PreActBottleneck,  ///< PreActBottleneck (v2)
  PlainBasic,        ///< PlainBasicBlock (no shortcut)
  PlainBottleneck,   ///< PlainBottleneck (no shortcut)
};

/// Output channels of a block of @p type divided by its width (1 or 4).
int64_t block_expansion(BlockType type);
/// True for the pre-activation (v2) unit types.
bool is_preact(BlockType type);
/// True for the plain (shortcut-free) unit types.
bool is_plain(BlockType type);
/// A new block of @p type. Plain types ignore @p shortcut.
std::shared_ptr<ResidualBlock> make_block(BlockType type, int64_t in_channels, int64_t planes,
                                          int64_t stride, Shortcut shortcut);

/// The stem in front of the stages.
enum class Stem {
  /// 7x7/2 conv (64) -> BN -> ReLU -> 3x3/2 max pool: 224² becomes 56² (paper Table 1).
  ImageNet,
  /// 3x3 conv (16) -> BN -> ReLU at 32² (paper §4.2). Pre-activation nets keep only the conv:
  /// their first unit applies the first BN-ReLU ("Identity Mappings", appendix).
  Cifar,
};

/// Everything that defines a network. registry.h fills it in from a model name.
struct ResNetConfig {
  BlockType block = BlockType::Basic;
  Stem stem = Stem::ImageNet;
  /// Blocks per stage, e.g. {2, 2, 2, 2} for ResNet-18, {3, 3, 3} for ResNet-20.
  std::vector<int64_t> blocks;
  /// Width (planes) of each stage: {64, 128, 256, 512} on ImageNet, {16, 32, 64} on CIFAR.
  /// A stage outputs width · block_expansion(block) channels.
  std::vector<int64_t> widths;
  int64_t num_classes = 1000;
  /// Ignored by plain networks.
  Shortcut shortcut = Shortcut::B;
  /// Zero the gamma of each residual branch's last BN (v1 blocks only).
  bool zero_init_residual = false;
  /// Seed of the generator that draws the initial weights.
  uint64_t seed = 0;
};

/// A ResNet (v1, v2 or plain) on ImageNet or CIFAR.
///
/// Layout, with children named as in torchvision so state_dict keys match PyTorch:
///
///     conv1 -> bn1 -> relu [-> maxpool]              stem (pre-activation CIFAR: conv1 only)
///     layer1 ... layerK                              Sequential of blocks "0", "1", ...;
///                                                    the first block of layer2.. has stride 2
///     [bn_final -> relu]                             pre-activation nets only: the last
///                                                    unit's output is not normalised yet
///     avgpool -> flatten -> fc                       AdaptiveAvgPool2d(1, 1), Linear
///
/// Input [N, 3, H, W] float32 or float64 -> logits [N, num_classes]. The adaptive pool makes any
/// H, W that survives the strides valid; the native inputs are 224² and 32².
///
/// Initialisation (done by the constructor, reproducible from config.seed): convolutions MSRA
/// normal, fan-out mode, std = sqrt(2 / (OC·KH·KW)) (He et al. 2015b, as torchvision); BN
/// gamma 1, beta 0; fc as PyTorch's Linear default, U(-1/sqrt(in), 1/sqrt(in)) for weight and
/// bias.
///
/// @code
///   dl::models::ResNetConfig cfg;
///   cfg.block = dl::models::BlockType::Basic;
///   cfg.stem = dl::models::Stem::Cifar;
///   cfg.blocks = {3, 3, 3};
///   cfg.widths = {16, 32, 64};
///   cfg.num_classes = 10;
///   cfg.shortcut = dl::models::Shortcut::A;
///   dl::models::ResNet net(cfg);                        // ResNet-20, 269,722 parameters
///   dl::ag::Variable logits = net(dl::ag::Variable(x)); // x: [N, 3, 32, 32]
/// @endcode
class ResNet : public nn::Module {
 public:
  /// @throws std::invalid_argument for empty or mismatched blocks/widths, num_classes < 1, or
  /// zero_init_residual on a network without v1 residual blocks.
  explicit ResNet(const ResNetConfig& config);
  ag::Variable forward(const ag::Variable& x) override;
  /// "ResNet", "PreActResNet" or "PlainNet".
  std::string type_name() const override;
  const ResNetConfig& config() const { return config_; }

 private:
  ResNetConfig config_;
  std::vector<std::shared_ptr<nn::Module>> stem_;    // called in order
  std::vector<std::shared_ptr<nn::Module>> stages_;  // layer1..layerK
  std::vector<std::shared_ptr<nn::Module>> head_;    // [bn_final, relu,] avgpool, flatten, fc
};

/// Draws the initial weights of every Conv2d (MSRA normal, fan-out), BatchNorm2d (1, 0) and
/// Linear (PyTorch default) inside @p model from a Generator seeded with @p seed, visiting
/// modules in named_modules() order, so the same seed gives the same weights.
void init_weights(nn::Module& model, uint64_t seed);

/// Sets gamma of the last BN of every v1 residual branch (BasicBlock::bn2, Bottleneck::bn3)
/// in @p model to zero; returns how many were zeroed.
int64_t zero_init_residual(nn::Module& model);

}  // namespace dl::models
