// linear.h — the fully connected layer (tutorial chapter 4): y = x·Wᵀ + b, one call to
// ag::linear. ResNet's classifier head is one of these.
#pragma once

#include <cstdint>
#include <string>

#include "autograd/ops.h"
#include "nn/module.h"

namespace dl::nn {

/// Affine map of the last dim, as torch.nn.Linear. Parameters "weight" [out, in] and "bias"
/// [out] (only when bias = true), initialised as PyTorch does from dl::default_generator():
/// weight kaiming_uniform_(a = sqrt(5)) = U(±1/sqrt(in)), bias U(±1/sqrt(in)).
class Linear : public Module {
 public:
  /// @throws std::invalid_argument if a size is not positive.
  Linear(int64_t in_features, int64_t out_features, bool bias = true);

  /// x [N, in] -> [N, out].
  /// @throws std::invalid_argument naming both shapes if x is not 2-d or its last dim != in.
  ag::Variable forward(const ag::Variable& x) override;
  std::string type_name() const override { return "Linear"; }
  /// N·in·out multiply-accumulates (bias adds not counted).
  int64_t macs(const Shape& input, const Shape& output) const override;

  /// Redraws weight and bias with PyTorch's default init from @p gen.
  void reset_parameters(Generator& gen);

  /// The weight [out, in]; shares state with the module.
  ag::Variable weight() const { return param("weight"); }
  /// The bias [out], or undefined when built with bias = false.
  ag::Variable bias() const { return has_bias_ ? param("bias") : ag::Variable(); }
  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return out_features_; }

 private:
  int64_t in_features_, out_features_;
  bool has_bias_;
};

}  // namespace dl::nn
