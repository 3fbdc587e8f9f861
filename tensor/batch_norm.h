// batch_norm.h — batch normalisation on Tensors, forward and backward (tutorial chapter 4).
// Per channel c of x [N,C,H,W] (or [N,C]), over the M = N*H*W values of that channel:
//   y = (x - mean) * inv_std * gamma + beta,   inv_std = 1 / sqrt(var + eps).
// Training uses the batch's mean and biased variance and updates the running statistics;
// evaluation uses the running statistics. Ioffe & Szegedy 2015, Algorithm 1 and Section 3.1.
// No autograd here: autograd/ops/norm.cpp wraps these.
#pragma once

#include "tensor/tensor.h"

namespace dl {

/// What a batch-norm forward pass returns: the output and the statistics it normalised with,
/// which are all the backward pass needs besides x and gamma.
struct BatchNormResult {
  Tensor y;        ///< same shape and dtype as x
  Tensor mean;     ///< [C], x's dtype: batch mean (training) or running mean (eval)
  Tensor inv_std;  ///< [C], x's dtype: 1/sqrt(var + eps) with the variance used
};

/// Training-mode forward with batch statistics. Updates, in place,
///   running_mean = (1 - momentum) * running_mean + momentum * batch_mean
///   running_var  = (1 - momentum) * running_var  + momentum * batch_var * M / (M - 1)
/// (the unbiased variance, as PyTorch does), when they are defined; undefined ones are skipped.
/// @param gamma, beta [C] or undefined (no affine transform: gamma = 1, beta = 0).
/// @param relu y = max(0, BN(x)) in the same pass: in training this saves a pass over the
///        activations forward and one backward (batch_norm_backward with relu = true).
/// @throws std::invalid_argument if x is not [N,C] or [N,C,H,W], a parameter or running
///         statistic is not [C], dtypes differ, or a channel has a single value (M = 1).
BatchNormResult batch_norm_train_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                         Tensor& running_mean, Tensor& running_var,
                                         double momentum, double eps, bool relu = false);

/// Eval-mode forward with the running statistics (both must be defined, [C]).
/// @param relu also apply ReLU in the same pass over memory, y = max(0, BN(x)) (NaN passes
///        through, as in dl::relu): inference fuses the ReLU that follows a BN this way. The
///        values equal relu() of the unfused output exactly.
/// @throws std::invalid_argument as batch_norm_train_forward.
BatchNormResult batch_norm_eval_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                        const Tensor& running_mean, const Tensor& running_var,
                                        double eps, bool relu = false);

/// Eval-mode batch norm as per-channel constants, y = (x - mean)·scale + shift, each [C] in
/// @p dtype and rounded exactly as batch_norm_eval_forward rounds them, so that a convolution
/// can apply them as it stores its output (Conv2dEpilogue, tensor/conv2d.h) and give the very
/// same values as the separate op.
struct BatchNormAffine {
  Tensor mean, scale, shift;
};
/// The constants of batch_norm_eval_forward(x, gamma, beta, running_mean, running_var, eps)
/// for any x of @p dtype with C = running_mean's length channels.
/// @throws std::invalid_argument as batch_norm_eval_forward for the parameters.
BatchNormAffine batch_norm_eval_affine(const Tensor& gamma, const Tensor& beta,
                                       const Tensor& running_mean, const Tensor& running_var,
                                       double eps, DType dtype);

/// Gradients of a batch-norm forward pass. Undefined when not requested.
struct BatchNormGrads {
  Tensor grad_x;      ///< like x
  Tensor grad_gamma;  ///< [C]
  Tensor grad_beta;   ///< [C]
};

/// Backward pass. With xhat = (x - mean) * inv_std, per channel:
///   grad_beta  = Σ g,   grad_gamma = Σ g·xhat,
///   grad_x     = gamma·inv_std/M · (M·g - Σ g - xhat·Σ g·xhat)   (batch statistics), or
///   grad_x     = gamma·inv_std · g                                 (running statistics:
///                the mean and variance are constants, so the op is a per-channel scale).
/// Sums are accumulated in double.
/// @param batch_stats true for a training-mode forward pass.
/// @param gamma [C] or undefined (treated as ones).
/// @param relu grad_y is the gradient of the fused max(0, BN(x)): g is taken as 0 where the
///        forward's pre-ReLU value was not > 0. That value is recomputed from x, mean,
///        inv_std, gamma and @p beta exactly as the forward computed it, so no mask is stored.
/// @throws std::invalid_argument if grad_y's shape differs from x's.
BatchNormGrads batch_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& mean,
                                   const Tensor& inv_std, const Tensor& gamma, bool batch_stats,
                                   bool need_x, bool need_gamma, bool need_beta,
                                   bool relu = false, const Tensor& beta = Tensor());

}  // namespace dl
