// gradcheck.cpp — finite differences against backward() (tutorial chapter 3).
#include "autograd/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "autograd/grad_mode.h"
#include "tensor/ops.h"

namespace dl::ag {

namespace {

/// L(x) = Σ u ⊙ f(x), evaluated without recording. Summed in long double: the difference
/// of two nearby L values loses |L|·ε/h to rounding, which at h = 1e-6 would otherwise sit
/// close to the 1e-6 tolerance.
long double scalar_loss(const GradcheckFn& f, const std::vector<Tensor>& xs, const Tensor& u) {
  NoGradGuard no_grad;
  std::vector<Variable> vars;
  for (const Tensor& x : xs) vars.emplace_back(x);
  const Tensor y = f(vars).data().contiguous();
  const double* py = y.data<double>();
  const double* pu = u.data<double>();
  long double acc = 0;
  for (int64_t i = 0; i < y.numel(); ++i) acc += static_cast<long double>(py[i]) * pu[i];
  return acc;
}

double rel_error(double a, double n, double floor) {
  return std::fabs(a - n) / std::max({std::fabs(a), std::fabs(n), floor});
}

}  // namespace

GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& opt, std::vector<bool> check) {
  for (const Tensor& x : inputs)
    if (x.defined() && x.dtype() != DType::Float64)
      throw std::invalid_argument(std::string("gradcheck: inputs must be float64, got ") +
                                  dtype_name(x.dtype()) + " " + shape_str(x.shape()));
  if (check.empty()) check.assign(inputs.size(), true);
  Generator gen(opt.seed);

  // Analytic side: one backward pass with a random upstream gradient u.
  std::vector<Variable> vars;
  for (size_t i = 0; i < inputs.size(); ++i)
    vars.emplace_back(inputs[i].defined() ? inputs[i].clone() : Tensor(),
                      inputs[i].defined() && check[i]);
  const Variable y = f(vars);
  const Tensor u = Tensor::randn(y.shape(), gen, DType::Float64);
  y.backward(u);

  GradcheckResult result;
  // Keeps the worst element seen so far, with a line saying where it is.
  auto consider = [&](double analytic, double numeric, const std::string& where) {
    const double err = rel_error(analytic, numeric, opt.floor);
    if (!result.report.empty() && err <= result.max_rel_error) return;
    result.max_rel_error = err;
    std::ostringstream os;
    os << where << ": analytic " << analytic << ", numeric " << numeric << ", rel error " << err;
    result.report = os.str();
  };

  std::vector<Tensor> xs(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) xs[i] = inputs[i].defined() ? inputs[i].clone() : Tensor();
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!check[i] || !inputs[i].defined()) continue;
    const Tensor grad = vars[i].grad().defined() ? vars[i].grad()
                                                 : Tensor::zeros(inputs[i].shape(), DType::Float64);
    Tensor& x = xs[i];
    double* px = x.data<double>();
    const int64_t n = x.numel();
    if (n <= opt.full_jacobian_limit) {
      // Every element: perturb one coordinate at a time.
      const std::vector<double> g = grad.to_vector();
      for (int64_t k = 0; k < n; ++k) {
        const double saved = px[k];
        px[k] = saved + opt.eps;
        const long double plus = scalar_loss(f, xs, u);
        px[k] = saved - opt.eps;
        const long double minus = scalar_loss(f, xs, u);
        px[k] = saved;
        consider(g[k], double((plus - minus) / (2 * opt.eps)),
                 "input " + std::to_string(i) + " element " + std::to_string(k));
      }
    } else {
      // Random directions: the directional derivative checks every element at once.
      for (int64_t p = 0; p < opt.probes; ++p) {
        const Tensor v = Tensor::randn(x.shape(), gen, DType::Float64);
        const Tensor saved = x.clone();
        x.add_(v, opt.eps);
        const long double plus = scalar_loss(f, xs, u);
        x.copy_(saved).add_(v, -opt.eps);
        const long double minus = scalar_loss(f, xs, u);
        x.copy_(saved);
        consider(sum(mul(grad, v)).item(), double((plus - minus) / (2 * opt.eps)),
                 "input " + std::to_string(i) + " probe " + std::to_string(p));
      }
    }
  }
  result.ok = result.max_rel_error < opt.tolerance;
  return result;
}

}  // namespace dl::ag
