// softmax.h — log-softmax and the cross-entropy loss on Tensors, forward and backward
// (tutorial chapter 4). Both subtract the row maximum before exponentiating, so large logits
// never overflow: log_softmax(x) = x - max - log Σ exp(x - max).
// No autograd here: autograd/ops/loss.cpp wraps these. float32 or float64.
#pragma once

#include <cstdint>

#include "tensor/tensor.h"

namespace dl {

/// y = log(softmax(x)) along @p dim (negative counts from the end); same shape as x.
/// @throws std::invalid_argument if x is undefined, 0-d or not floating;
///         std::out_of_range for a bad dim.
Tensor log_softmax_forward(const Tensor& x, int64_t dim);

/// grad_x = g - softmax · Σ_dim g, with softmax = exp(y) recovered from the forward output y.
/// @throws std::invalid_argument if grad_y and y differ in shape or dtype.
Tensor log_softmax_backward(const Tensor& grad_y, const Tensor& y, int64_t dim);

/// What cross_entropy_forward returns.
struct CrossEntropyResult {
  Tensor loss;       ///< 0-d, the logits' dtype
  Tensor log_probs;  ///< [N, K] log_softmax of the logits (what the backward pass reads)
};

/// Mean over the batch of -Σ_k t_k log p_k, p = softmax(logits [N, K]) per row and
/// t = (1 - ε)·onehot(label) + ε/K (label smoothing ε in [0, 1]).
/// @param labels int64 [N], each in [0, K).
/// @throws std::invalid_argument for wrong shapes or dtypes, ε outside [0, 1], or a label out
///         of range, naming the label and its position ("label 12 at position 3 is outside
///         [0, 10)").
CrossEntropyResult cross_entropy_forward(const Tensor& logits, const Tensor& labels,
                                         double label_smoothing = 0.0);

/// grad_logits [N, K] = grad_loss · (softmax - t) / N.
/// @param grad_loss the gradient of the (scalar) loss.
/// @throws std::invalid_argument if labels do not match log_probs.
Tensor cross_entropy_backward(double grad_loss, const Tensor& log_probs, const Tensor& labels,
                              double label_smoothing = 0.0);

}  // namespace dl
