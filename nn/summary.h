// summary.h — a torchinfo-like table of a model: every layer call with its output shape,
// parameter count and multiply-accumulates (tutorial chapter 4; `resnet summary` prints it).
// Recorded from one real forward pass through a CallObserver (module.h), so the shapes are
// the ones the code actually produces, not a second hand-written computation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nn/module.h"

namespace dl::nn {

/// One module call of the recorded forward pass.
struct SummaryRow {
  std::string name;  ///< dotted name in the model ("layer1.0.conv1"); "" for the model itself
  std::string type;  ///< Module::type_name() ("Conv2d")
  int depth = 0;     ///< nesting level: 0 for the model, 1 for its children, ...
  Shape output;      ///< output shape of this call
  int64_t params = 0;  ///< elements of the parameters registered directly on this module
  int64_t macs = 0;    ///< Module::macs() for leaf modules, 0 for containers
};

/// Result of summarize(): the rows in call order plus totals.
struct Summary {
  std::vector<SummaryRow> rows;
  int64_t total_params = 0;      ///< all parameter elements of the model
  int64_t trainable_params = 0;  ///< those with requires_grad
  int64_t total_macs = 0;        ///< sum of the rows' MACs (one forward at the given shape)

  /// The table: one line per row (name and type indented two spaces per depth, output shape,
  /// params, MACs), then total lines. The last line is exactly "params <N> macs <M>"
  /// (plain integers, no trailing newline), for scripts and tests to parse.
  std::string format() const;
};

/// Runs one forward pass of zeros of @p input_shape (batch included, usually 1) through
/// @p model in eval mode under NoGradGuard, recording every Module call made through
/// Module::operator() (a child invoked as `child->forward(x)` directly is not seen).
/// The input dtype is that of the model's first parameter (float32 for a parameterless
/// model). Every module's training flag is restored afterwards, and BN running statistics
/// are untouched (eval mode does not update them).
/// @throws whatever the model's forward throws for a bad input shape.
Summary summarize(Module& model, const Shape& input_shape);

}  // namespace dl::nn
