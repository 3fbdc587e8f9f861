// dropout.h — the Dropout layer (tutorial chapter 4). Reference: Srivastava et al., "Dropout"
// (JMLR 2014). Uses "inverted" dropout like PyTorch: survivors are scaled by 1/(1-p) during
// training, so eval mode is the identity and needs no rescaling.
#pragma once

#include <cstdint>
#include <string>

#include "nn/module.h"

namespace dl::nn {

/// Zeroes each element with probability p in training mode and scales the rest by 1/(1-p);
/// the identity in eval mode. Any shape. As torch.nn.Dropout, but the masks come from the
/// layer's own seeded Generator, so a run is reproducible whatever else draws numbers.
class Dropout : public Module {
 public:
  /// @throws std::invalid_argument if p is outside [0, 1].
  explicit Dropout(double p = 0.5, uint64_t seed = 0);
  ag::Variable forward(const ag::Variable& x) override;
  std::string type_name() const override { return "Dropout"; }
  double p() const { return p_; }
  /// The mask generator; its state can be saved and restored (checkpoints, gradient checks).
  Generator& generator() { return gen_; }

 private:
  double p_;
  Generator gen_;
};

}  // namespace dl::nn
