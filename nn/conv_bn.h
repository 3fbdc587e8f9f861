// conv_bn.h — a convolution and the BatchNorm after it as one op at inference (tutorial
// chapter 7). In eval mode a BatchNorm is a fixed per-channel affine map, so it can be applied
// to each output value as the convolution stores it, together with a residual block's add and
// ReLU (dl::Conv2dEpilogue): one pass over the activations where the separate ops take up to
// three, and at batch 1 one parallel region where they take up to three. Training, and any
// forward that records gradients, keeps the separate ops (their backward needs them).
#pragma once

#include <vector>

#include "nn/batchnorm.h"
#include "nn/conv2d.h"

namespace dl::nn {

/// Whether conv_bn_inference() may stand in for bn(conv(x)): no gradient is being recorded
/// (ag::NoGradGuard), @p bn is in eval mode, and no CallObserver watches (it would miss the
/// module calls that the fold skips).
bool can_fold_batch_norm(const BatchNorm2d& bn);

/// bn(conv(x)), then + @p residual when it is defined, then ReLU when @p relu, as one
/// convolution: the same values, bit for bit, as the separate ops. @p conv keeps its
/// prepared weights between calls, as ag::conv2d does when it records nothing.
/// @throws std::logic_error unless can_fold_batch_norm(bn); std::invalid_argument naming the
///         shapes when x does not fit conv, bn's channels differ from conv's outputs, or the
///         residual is not the output's shape.
ag::Variable conv_bn_inference(Conv2d& conv, const BatchNorm2d& bn, const ag::Variable& x,
                               bool relu, const ag::Variable& residual = ag::Variable());

/// Runs @p modules in order on x, each Conv2d -> BatchNorm2d [-> ReLU] run as one
/// conv_bn_inference() when can_fold_batch_norm(): how Sequential and the ResNet stem call
/// their layers.
ag::Variable forward_in_order(const std::vector<Module*>& modules, const ag::Variable& x);

}  // namespace dl::nn
