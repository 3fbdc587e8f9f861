// loss.h — the classification loss and accuracy metrics (tutorial chapter 6). The loss itself
// (stable log-softmax, label smoothing, backward) is ag::cross_entropy in
// autograd/ops/loss.cpp; label smoothing is from Szegedy et al., "Rethinking the Inception
// Architecture" (CVPR 2016, arXiv:1512.00567), §7.
#pragma once

#include <cstdint>

#include "autograd/variable.h"
#include "tensor/tensor.h"

namespace dl::nn {

/// Mean cross-entropy of @p logits [N, K] against int64 class indices @p labels [N], as
/// torch.nn.functional.cross_entropy. With label smoothing ε the target is
/// (1-ε)·onehot + ε/K, so the loss is (1-ε)·(-log p_label) + ε·mean_k(-log p_k).
/// @return a 0-d Variable; backward() from it fills the logits' gradient.
/// @throws std::invalid_argument for shape mismatches, non-int64 labels, labels outside
/// [0, K), or ε outside [0, 1].
ag::Variable cross_entropy_loss(const ag::Variable& logits, const Tensor& labels,
                                double label_smoothing = 0.0);

/// Number of rows of @p logits [N, K] whose label is among the @p k largest logits.
/// Ties are broken towards the lower class index (as argmax does): the label's rank is the
/// number of classes with a larger logit plus those with an equal logit and a lower index.
/// No gradient; float32 or float64 logits, int64 labels [N].
/// @throws std::invalid_argument for bad shapes or dtypes, k outside [1, K], or a label
/// outside [0, K).
int64_t topk_correct(const Tensor& logits, const Tensor& labels, int k);

/// topk_correct / N: the fraction in [0, 1] of rows classified correctly within the top k
/// (top-1 accuracy for k = 1). 0 for an empty batch.
double topk_accuracy(const Tensor& logits, const Tensor& labels, int k);

}  // namespace dl::nn
