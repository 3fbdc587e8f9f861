// nn_test_util.h — helpers shared by the nn tests: gradient checks through a module (input and
// parameter gradients) and value comparisons against hand-computed numbers.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "autograd/gradcheck.h"
#include "nn/module.h"
#include "tensor/ops.h"

namespace dl::nn::testing {

/// A layer whose protected Module::param() is public, so a test can swap the module's
/// parameter Variables for gradcheck's leaves (the layer reads param() on every forward).
template <class M>
class Open : public M {
 public:
  using M::M;
  using M::param;
};

/// gradcheck of y = m(x) with respect to x and the parameters @p names, in float64 (the
/// module must have been converted with to(DType::Float64)). gradcheck's leaves for the
/// parameters are put into the module on each call, so backward reaches them; the original
/// parameter Variables are restored afterwards. @p before runs before each forward (e.g. to
/// reseed a dropout generator so every evaluation uses the same mask).
template <class M>
ag::GradcheckResult gradcheck_module(Open<M>& m, const Tensor& x,
                                     const std::vector<std::string>& names,
                                     const std::function<void()>& before = {}) {
  std::vector<Tensor> inputs{x};
  std::vector<ag::Variable> saved;
  for (const auto& n : names) {
    inputs.push_back(m.param(n).data().clone());
    saved.push_back(m.param(n));
  }
  auto fn = [&](const std::vector<ag::Variable>& v) {
    for (size_t i = 0; i < names.size(); ++i) m.param(names[i]) = v[1 + i];
    if (before) before();
    return m(v[0]);
  };
  ag::GradcheckResult r = ag::gradcheck(fn, inputs);
  for (size_t i = 0; i < names.size(); ++i) m.param(names[i]) = saved[i];
  return r;
}

/// Random float64 values kept at least @p gap away from zero (off ReLU's kink).
inline Tensor randn_off_zero(const Shape& shape, uint64_t seed, double gap = 0.05) {
  Generator gen(seed);
  Tensor t = Tensor::randn(shape, gen, DType::Float64);
  double* p = t.data<double>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] += p[i] >= 0 ? gap : -gap;
  return t;
}

/// Elementwise comparison with a readable failure (index, both values).
inline void expect_values(const Tensor& actual, const std::vector<double>& expected,
                          double tol = 1e-6) {
  const std::vector<double> a = actual.to_vector();
  ASSERT_EQ(a.size(), expected.size()) << "shape " << shape_str(actual.shape());
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_NEAR(a[i], expected[i], tol) << "element " << i;
}

}  // namespace dl::nn::testing
