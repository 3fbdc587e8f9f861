// Chapter 3 — gradient checking: central differences against backward(), why the check runs in
// float64 (the float32 error is measured next to the float64 one), and what a failing check
// looks like for two deliberately wrong backward functions.
// Read README.md beside this file; every check() below is a claim the chapter makes.
#include <algorithm>
#include <cmath>
#include <iostream>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "common.h"
#include "tensor/ops.h"

using dl::DType;
using dl::Tensor;
using dl::ag::Variable;
using tut::check;
namespace ag = dl::ag;

namespace {

// [snippet:central]
// Relative error of the central difference (f(x+h) - f(x-h)) / 2h of f(x) = x·exp(x) at
// x = 0.5, computed entirely in `dtype`, against the exact derivative (1 + x)·exp(x).
double central_difference_error(DType dtype, double h) {
  auto f = [](const Tensor& x) { return x * dl::exp(x); };
  const Tensor x = Tensor::full({1}, 0.5, dtype);
  const double numeric = (f(x + h) - f(x - h)).item() / (2 * h);
  const double exact = 1.5 * std::exp(0.5);
  return std::fabs(numeric - exact) / exact;
}
// [/snippet]

void finite_differences() {
  tut::section("1. Central differences in float32 and float64");
  std::cout << "     h      float32 error   float64 error\n";
  double best32 = 1, best64 = 1, at_1e6_32 = 0;
  for (int k = 1; k <= 9; ++k) {
    const double h = std::pow(10.0, -k);
    const double e32 = central_difference_error(DType::Float32, h);
    const double e64 = central_difference_error(DType::Float64, h);
    std::cout << "  " << tut::sci(h, 1) << "     " << tut::sci(e32) << "        " << tut::sci(e64)
              << "\n";
    best32 = std::min(best32, e32);
    best64 = std::min(best64, e64);
    if (k == 6) at_1e6_32 = e32;
  }
  check(best64 < 1e-9,
        "float64: some h reaches a relative error below 1e-9 (best " + tut::sci(best64) + ")");
  check(best32 > 1e-6, "float32: no h gets below 1e-6 (best " + tut::sci(best32) + ")");
  check(at_1e6_32 > 1e-3, "float32 at the float64 step h = 1e-6 is off by " + tut::sci(at_1e6_32));
}

// Relative error of the directional derivative of L(w) = Σ u ⊙ exp(conv(x, w)) along a random
// direction v, backward() vs central difference with step `h`, all computed in `dtype`.
double conv_check_error(DType dtype, double h) {
  dl::Generator gen(7);
  const Tensor x = Tensor::randn({2, 3, 6, 6}, gen, DType::Float64).to(dtype);
  const Tensor w = (Tensor::randn({4, 3, 3, 3}, gen, DType::Float64) * 0.1).to(dtype);
  const Tensor u = Tensor::randn({2, 4, 6, 6}, gen, DType::Float64).to(dtype);
  const Tensor v = Tensor::randn({4, 3, 3, 3}, gen, DType::Float64).to(dtype);
  const auto args = ag::Conv2dArgs::square(1, 1);
  auto loss = [&](const Variable& wv) {
    return ag::sum(ag::exp(ag::conv2d(Variable(x), wv, Variable(), args)) * Variable(u));
  };
  Variable wv(w, true);
  loss(wv).backward();
  const double analytic = dl::sum(wv.grad() * v).item();
  const double numeric =
      (loss(Variable(w + v * h)).item() - loss(Variable(w - v * h)).item()) / (2 * h);
  return std::fabs(analytic - numeric) / std::max(std::fabs(analytic), 1e-3);
}

void float32_versus_float64_on_a_layer() {
  tut::section("2. The same check on a convolution layer");
  const double e64 = conv_check_error(DType::Float64, 1e-6);
  const double e32_small = conv_check_error(DType::Float32, 1e-6);
  const double e32_best = conv_check_error(DType::Float32, 1e-2);
  std::cout << "float64, h = 1e-6: relative error " << tut::sci(e64) << "\n"
            << "float32, h = 1e-6: relative error " << tut::sci(e32_small) << "\n"
            << "float32, h = 1e-2: relative error " << tut::sci(e32_best) << "\n";
  check(e64 < 1e-7, "float64: backward and finite differences agree to " + tut::sci(e64));
  check(e32_small > 1e-3, "float32 with a small step is dominated by rounding");
  check(e32_best > 100 * e64, "float32 with a good step is still over 100x worse than float64");
}

void gradcheck_real_ops() {
  tut::section("3. ag::gradcheck on the project's ops (float64)");
  dl::Generator gen(1);
  // [snippet:gradcheck]
  Tensor x = Tensor::randn({2, 3, 5, 5}, gen, DType::Float64);
  Tensor w = Tensor::randn({4, 3, 3, 3}, gen, DType::Float64);
  Tensor b = Tensor::randn({4}, gen, DType::Float64);
  auto conv = [](const std::vector<Variable>& in) {
    return ag::conv2d(in[0], in[1], in[2], ag::Conv2dArgs::square(/*stride=*/2, /*pad=*/1));
  };
  ag::GradcheckResult r = ag::gradcheck(conv, {x, w, b});
  std::cout << "conv2d: ok = " << r.ok << ", worst " << r.report << "\n";
  // [/snippet]
  check(r.ok && r.max_rel_error < 1e-6,
        "conv2d passes: max relative error " + tut::sci(r.max_rel_error));

  Tensor mean = Tensor::zeros({3}, DType::Float64), var = Tensor::ones({3}, DType::Float64);
  auto bn = [&](const std::vector<Variable>& in) {
    return ag::batch_norm(in[0], in[1], in[2], mean, var, /*training=*/true);
  };
  Tensor gamma = Tensor::uniform({3}, 0.5, 1.5, gen, DType::Float64);
  Tensor beta = Tensor::randn({3}, gen, DType::Float64);
  r = ag::gradcheck(bn, {x, gamma, beta});
  std::cout << "batch_norm (training): ok = " << r.ok << ", worst " << r.report << "\n";
  check(r.ok, "batch_norm in training mode passes (batch statistics couple the samples)");

  Tensor logits = Tensor::randn({4, 10}, gen, DType::Float64);
  Tensor labels = Tensor::from_vector(std::vector<int64_t>{3, 0, 9, 3}, {4});
  auto ce = [&](const std::vector<Variable>& in) { return ag::cross_entropy(in[0], labels); };
  r = ag::gradcheck(ce, {logits});
  std::cout << "cross_entropy: ok = " << r.ok << ", worst " << r.report << "\n";
  check(r.ok, "cross_entropy passes");
}

// [snippet:buggy]
// y = a², with a bug: the backward forgets the factor 2 of d(a²)/da = 2a.
Variable buggy_square(const Variable& a) {
  const Tensor x = a.data();
  return ag::record("BuggySquareBackward", {&a}, dl::mul(x, x),
                    [x](const Tensor& g, const ag::NeedsGrad& needs) -> std::vector<Tensor> {
                      return {needs[0] ? dl::mul(g, x) : Tensor()};  // should be 2·g·x
                    });
}
// [/snippet]

// [snippet:ignores_g]
// y = 3a, with a subtler bug: the backward returns dy/da = 3 and ignores the incoming
// gradient g. Right only when g is all ones, i.e. when checked through sum(y).
Variable scale3_ignoring_g(const Variable& a) {
  const Tensor x = a.data();
  return ag::record(
      "Scale3Backward", {&a}, x * 3.0,
      [shape = x.shape()](const Tensor&, const ag::NeedsGrad& needs) -> std::vector<Tensor> {
        return {needs[0] ? Tensor::full(shape, 3.0, DType::Float64) : Tensor()};
      });
}
// [/snippet]

void failing_checks() {
  tut::section("4. What a failing check looks like");
  dl::Generator gen(3);
  Tensor a = Tensor::randn({2, 3}, gen, DType::Float64);

  // [snippet:fail]
  ag::GradcheckResult r =
      ag::gradcheck([](const std::vector<Variable>& in) { return buggy_square(in[0]); }, {a});
  std::cout << "buggy_square: ok = " << r.ok << "\n  " << r.report << "\n";
  // [/snippet]
  check(!r.ok, "gradcheck rejects the backward that forgot the factor 2");
  check(std::fabs(r.max_rel_error - 0.5) < 1e-6,
        "analytic = numeric / 2, so the relative error is 0.5");

  // Checked through sum(y) the second bug is invisible: the upstream gradient is all ones.
  Variable av(a, true);
  ag::sum(scale3_ignoring_g(av)).backward();
  const bool sum_check_passes = dl::allclose(av.grad(), Tensor::full({2, 3}, 3.0, DType::Float64));
  check(sum_check_passes,
        "a check through sum(y) (all-ones upstream gradient) passes the second bug");

  r = ag::gradcheck([](const std::vector<Variable>& in) { return scale3_ignoring_g(in[0]); }, {a});
  std::cout << "scale3_ignoring_g: ok = " << r.ok << "\n  " << r.report << "\n";
  check(!r.ok, "gradcheck's random upstream gradient u catches it");
}

}  // namespace

int main() {
  return tut::run([] {
    finite_differences();
    float32_versus_float64_on_a_layer();
    gradcheck_real_ops();
    failing_checks();
  });
}
