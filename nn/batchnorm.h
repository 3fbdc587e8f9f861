// batchnorm.h — batch normalisation over channels (tutorial chapter 4). Reference: Ioffe and
// Szegedy, "Batch Normalization" (ICML 2015, arXiv:1502.03167), Algorithm 1 (training) and
// Algorithm 2 step 10 (inference with population statistics). The math and its backward live
// in ag::batch_norm (autograd/ops/norm.cpp); this module owns the state.
#pragma once

#include <cstdint>
#include <string>

#include "autograd/ops.h"
#include "nn/module.h"

namespace dl::nn {

/// Per-channel normalisation of x [N, C, H, W] (or [N, C]), as torch.nn.BatchNorm2d:
///     y = (x - mean) / sqrt(var + eps) · weight + bias.
/// Training mode uses the batch's mean and biased variance over (N, H, W), then updates
///     running_mean = (1 - momentum)·running_mean + momentum·mean,
///     running_var  = (1 - momentum)·running_var  + momentum·var_unbiased
/// and increments num_batches_tracked. Eval mode uses the running statistics and changes
/// nothing.
///
/// State (PyTorch's names): parameters "weight" [C] (ones) and "bias" [C] (zeros), only when
/// affine; buffers "running_mean" [C] (zeros), "running_var" [C] (ones) and
/// "num_batches_tracked" (int64, 0-d, 0).
class BatchNorm2d : public Module {
 public:
  /// @throws std::invalid_argument if channels <= 0, eps <= 0 or momentum is outside [0, 1].
  explicit BatchNorm2d(int64_t channels, double eps = 1e-5, double momentum = 0.1,
                       bool affine = true);

  /// x [N, C, H, W] or [N, C] -> same shape.
  /// @throws std::invalid_argument naming the shape if x is not 2-d or 4-d or its channel
  /// count differs from the layer's.
  ag::Variable forward(const ag::Variable& x) override;
  std::string type_name() const override { return "BatchNorm2d"; }
  /// ReLU(forward(x)) as one op (ag::batch_norm_relu): one pass over the activations less in
  /// the forward and in the backward, in training and at inference. Same values and gradients
  /// as the two ops. The blocks in models/blocks.cpp use it for their BN-ReLU pairs.
  ag::Variable forward_relu(const ag::Variable& x);

  /// Resets the running statistics (mean 0, var 1, count 0), as PyTorch's
  /// reset_running_stats().
  void reset_running_stats();
  /// Sets weight to 1 and bias to 0 (also resets the running statistics). ResNets call it,
  /// then may zero the last BN weight of each residual branch.
  void reset_parameters();

  /// The scale γ [C] (shares state with the module), or undefined when not affine.
  ag::Variable weight() const { return affine_ ? param("weight") : ag::Variable(); }
  /// The shift β [C], or undefined when not affine.
  ag::Variable bias() const { return affine_ ? param("bias") : ag::Variable(); }
  /// Views of the buffers (writing into them writes the module's state).
  Tensor running_mean() const { return buffer("running_mean"); }
  Tensor running_var() const { return buffer("running_var"); }
  /// Training batches seen since construction or reset_running_stats().
  int64_t num_batches_tracked() const;
  int64_t num_features() const { return channels_; }
  double eps() const { return eps_; }
  double momentum() const { return momentum_; }
  bool affine() const { return affine_; }

 private:
  /// @throws std::invalid_argument unless x is [N, C, H, W] or [N, C] with C = channels.
  void check_input(const ag::Variable& x) const;
  ag::Variable normalise(const ag::Variable& x, bool relu);
  int64_t channels_;
  double eps_, momentum_;
  bool affine_;
};

}  // namespace dl::nn
