// linear.cpp — Linear: PyTorch's default init and a forward that is one ag::linear call
// (tutorial chapter 4).
#include "nn/linear.h"

#include <cmath>
#include <stdexcept>

#include "nn/init.h"

namespace dl::nn {

Linear::Linear(int64_t in_features, int64_t out_features, bool bias)
    : in_features_(in_features), out_features_(out_features), has_bias_(bias) {
  if (in_features <= 0 || out_features <= 0)
    throw std::invalid_argument("Linear: invalid sizes in_features=" +
                                std::to_string(in_features) + " out_features=" +
                                std::to_string(out_features) + "; expected positive sizes");
  register_parameter("weight", Tensor::empty({out_features, in_features}));
  if (bias) register_parameter("bias", Tensor::empty({out_features}));
  reset_parameters(default_generator());
}

void Linear::reset_parameters(Generator& gen) {
  // PyTorch's Linear.reset_parameters: kaiming_uniform_(a=sqrt(5)) = U(±1/sqrt(in)); bias alike.
  init::kaiming_uniform_(param("weight").data(), gen, init::FanMode::FanIn, std::sqrt(5.0));
  if (has_bias_) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_features_));
    init::uniform_(param("bias").data(), gen, -bound, bound);
  }
}

ag::Variable Linear::forward(const ag::Variable& x) {
  const ag::Variable w = weight();
  if (x.dim() != 2 || x.size(1) != in_features_)
    throw std::invalid_argument("Linear: input " + shape_str(x.shape()) +
                                " does not match weight " + shape_str(w.shape()) +
                                "; expected [N, " + std::to_string(in_features_) + "]");
  return ag::linear(x, w, bias());
}

int64_t Linear::macs(const Shape&, const Shape& output) const {
  // Each of the numel(output) = N·out outputs is a dot product of length in.
  return shape_numel(output) * in_features_;
}

}  // namespace dl::nn
