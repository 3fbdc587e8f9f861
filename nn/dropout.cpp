// dropout.cpp — Dropout forwards to ag::dropout with the layer's own generator (chapter 4).
#include "nn/dropout.h"

#include <stdexcept>

#include "autograd/ops.h"

namespace dl::nn {

Dropout::Dropout(double p, uint64_t seed) : p_(p), gen_(seed) {
  if (!(p >= 0.0 && p <= 1.0))
    throw std::invalid_argument("Dropout: probability p=" + std::to_string(p) +
                                " is outside [0, 1]");
}

ag::Variable Dropout::forward(const ag::Variable& x) {
  return ag::dropout(x, p_, is_training(), gen_);
}

}  // namespace dl::nn
