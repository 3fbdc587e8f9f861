// activation.cpp — ReLU forwards to ag::relu (tutorial chapter 4).
#include "nn/activation.h"

#include "autograd/ops.h"

namespace dl::nn {

ag::Variable ReLU::forward(const ag::Variable& x) { return ag::relu(x); }

}  // namespace dl::nn
