// registry.h — creating models by name ("resnet20", "resnet50", "preact_resnet164", ...), the
// entry point of the `resnet` tool and the trainer (tutorial chapter 7).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/blocks.h"
#include "nn/module.h"
#include "tensor/shape.h"

namespace dl::models {

/// Choices a caller may override; everything else follows from the model name.
struct ModelOptions {
  /// Number of logits; 0 keeps the family default (1000 for ImageNet, 10 for CIFAR).
  int64_t num_classes = 0;
  /// Shortcut option; unset keeps the family default: A (symmetric) for the CIFAR v1 ResNets,
  /// as in the paper's §4.2, and B for everything else (torchvision; the pre-activation
  /// paper's projection). Plain networks accept none but Shortcut::None.
  std::optional<Shortcut> shortcut;
  /// Zero-initialise the last BN gamma of each residual branch (v1 residual models only).
  bool zero_init_residual = false;
  /// Seed of the initial weights: the same name, options and seed give the same weights.
  uint64_t seed = 0;
};

/// Builds the model called @p name with freshly initialised weights.
///
/// Names (the number is the count of weighted layers):
/// - ImageNet, 224² input, 1000 classes: resnet18, resnet34 (BasicBlock), resnet50, resnet101,
///   resnet152 (Bottleneck); preact_resnet18 ... preact_resnet152; plain18, plain34.
/// - CIFAR, 32² input, 10 classes: resnet20, 32, 44, 56, 110, 1202 (6n+2 layers, BasicBlock);
///   plain20 ... plain110; preact_resnet110 (PreActBasicBlock); preact_resnet164 and
///   preact_resnet1001 (9n+2 layers, PreActBottleneck).
///
/// @throws std::invalid_argument for an unknown name (listing the known ones), a negative
/// num_classes, a shortcut option on a plain net, Shortcut::None on a residual net, or
/// zero_init_residual where there is no v1 residual branch.
std::shared_ptr<nn::Module> create_model(const std::string& name,
                                         const ModelOptions& options = {});

/// Every name create_model() accepts, ImageNet models first, in a stable order.
std::vector<std::string> model_names();

/// True when @p name is a CIFAR model (32² input). @throws std::invalid_argument if unknown.
bool is_cifar_model(const std::string& name);

/// The input shape the model was designed for, batch 1: {1, 3, 32, 32} for CIFAR models,
/// {1, 3, 224, 224} for ImageNet ones. @throws std::invalid_argument for an unknown name.
Shape native_input_shape(const std::string& name);

}  // namespace dl::models
