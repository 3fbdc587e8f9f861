// models_test_util.h — helpers shared by the tests of models/: a finite-difference check of a
// module's parameter gradients (ag::gradcheck differentiates inputs only) and small fixtures.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "nn/module.h"
#include "tensor/ops.h"

namespace dl::models::testing {

/// Standard-normal float64 tensor from a fixed seed.
inline Tensor randn64(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return Tensor::randn(shape, gen, DType::Float64);
}

/// Gradcheck of @p m with respect to its input @p x (float64, the module in float64).
inline ag::GradcheckResult gradcheck_input(nn::Module& m, const Tensor& x,
                                          const ag::GradcheckOptions& options = {}) {
  return ag::gradcheck([&m](const std::vector<ag::Variable>& v) { return m(v[0]); }, {x},
                       options);
}

/// Compares the parameter gradients of L = Σ u ⊙ m(x) from backward() with central
/// differences, for up to @p per_param elements of each parameter (spread over the tensor).
/// Relative error |a - n| / max(|a|, |n|, 1e-3), as ag::gradcheck measures it. Returns the
/// worst error and fills @p report with where it occurred.
inline double param_grad_error(nn::Module& m, const Tensor& x, std::string* report,
                               int64_t per_param = 6, double h = 1e-6) {
  Generator gen(99);
  m.zero_grad();
  const ag::Variable y = m(ag::Variable(x));
  const Tensor u = Tensor::randn(y.shape(), gen, DType::Float64);
  y.backward(u);
  auto loss = [&]() {
    ag::NoGradGuard no_grad;
    return sum(mul(m(ag::Variable(x)).data(), u)).item();
  };
  double worst = 0.0;
  for (auto& [name, p] : m.named_parameters()) {
    const Tensor g = p.grad();
    const int64_t n = p.numel();
    const int64_t step = std::max<int64_t>(1, n / per_param);
    Tensor flat = p.data().view({n});
    for (int64_t i = 0; i < n; i += step) {
      const double orig = flat.at({i});
      flat.set({i}, orig + h);
      const double lp = loss();
      flat.set({i}, orig - h);
      const double lm = loss();
      flat.set({i}, orig);
      const double numeric = (lp - lm) / (2 * h);
      const double analytic = g.defined() ? g.reshape({n}).at({i}) : 0.0;
      const double err = std::fabs(analytic - numeric) /
                         std::max({std::fabs(analytic), std::fabs(numeric), 1e-3});
      if (err >= worst) {
        worst = err;
        std::ostringstream os;
        os << name << "[" << i << "]: analytic " << analytic << ", numeric " << numeric;
        *report = os.str();
      }
    }
  }
  return worst;
}

/// The names of a state dict, in order.
inline std::vector<std::string> keys_of(const nn::StateDict& state) {
  std::vector<std::string> keys;
  for (const auto& [k, _] : state) keys.push_back(k);
  return keys;
}

}  // namespace dl::models::testing
