// flatten.cpp — Flatten forwards to ag::flatten (tutorial chapter 4).
#include "nn/flatten.h"

#include "autograd/ops.h"

namespace dl::nn {

ag::Variable Flatten::forward(const ag::Variable& x) {
  return ag::flatten(x, start_dim_, end_dim_);
}

}  // namespace dl::nn
