// elementwise.cpp — differentiable elementwise ops, forward and backward side by side
// (tutorial chapter 2). Binary ops broadcast, so each input's gradient is summed back down
// to that input's shape (sum_to): a bias added to every row gets the sum of the rows' grads.
#include <cmath>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/ops.h"

namespace dl::ag {

namespace {
/// The gradient for an input of @p shape that was broadcast in the forward pass.
Tensor unbroadcast(const Tensor& g, const Shape& shape) { return sum_to(g, shape); }
}  // namespace

// d(a+b) = da + db
Variable add(const Variable& a, const Variable& b) {
  const Shape sa = a.shape(), sb = b.shape();
  return record("AddBackward", {&a, &b}, dl::add(a.data(), b.data()),
                [sa, sb](const Tensor& g, const NeedsGrad& needs) -> std::vector<Tensor> {
                  return {needs[0] ? unbroadcast(g, sa) : Tensor(),
                          needs[1] ? unbroadcast(g, sb) : Tensor()};
                });
}

// d(a-b) = da - db
Variable sub(const Variable& a, const Variable& b) {
  const Shape sa = a.shape(), sb = b.shape();
  return record("SubBackward", {&a, &b}, dl::sub(a.data(), b.data()),
                [sa, sb](const Tensor& g, const NeedsGrad& needs) -> std::vector<Tensor> {
                  return {needs[0] ? unbroadcast(g, sa) : Tensor(),
                          needs[1] ? unbroadcast(dl::neg(g), sb) : Tensor()};
                });
}

// d(ab) = b da + a db: each side saves the other operand.
Variable mul(const Variable& a, const Variable& b) {
  const Tensor x = a.data(), y = b.data();
  return record("MulBackward", {&a, &b}, dl::mul(x, y),
                [x, y](const Tensor& g, const NeedsGrad& needs) -> std::vector<Tensor> {
                  return {needs[0] ? unbroadcast(dl::mul(g, y), x.shape()) : Tensor(),
                          needs[1] ? unbroadcast(dl::mul(g, x), y.shape()) : Tensor()};
                });
}

// d(a/b) = da / b - a db / b²
Variable div(const Variable& a, const Variable& b) {
  const Tensor x = a.data(), y = b.data();
  return record("DivBackward", {&a, &b}, dl::div(x, y),
                [x, y](const Tensor& g, const NeedsGrad& needs) -> std::vector<Tensor> {
                  return {needs[0] ? unbroadcast(dl::div(g, y), x.shape()) : Tensor(),
                          needs[1] ? unbroadcast(dl::neg(dl::div(dl::mul(g, x), dl::mul(y, y))),
                                                 y.shape())
                                   : Tensor()};
                });
}

namespace {
/// max/min: the gradient goes to whichever input was selected (a on ties).
Variable select_binary(const char* name, const Variable& a, const Variable& b, bool take_max) {
  const Tensor x = a.data(), y = b.data();
  const Tensor pick_a = take_max ? dl::ge(x, y) : dl::le(x, y);  // 1 where a wins
  const Tensor out = take_max ? dl::maximum(x, y) : dl::minimum(x, y);
  return record(name, {&a, &b}, out,
                [pick_a, sa = x.shape(), sb = y.shape()](
                    const Tensor& g, const NeedsGrad& needs) -> std::vector<Tensor> {
                  return {needs[0] ? unbroadcast(dl::mul(g, pick_a), sa) : Tensor(),
                          needs[1] ? unbroadcast(dl::sub(g, dl::mul(g, pick_a)), sb) : Tensor()};
                });
}
}  // namespace

Variable maximum(const Variable& a, const Variable& b) {
  return select_binary("MaximumBackward", a, b, true);
}
Variable minimum(const Variable& a, const Variable& b) {
  return select_binary("MinimumBackward", a, b, false);
}

// d(-a) = -da
Variable neg(const Variable& a) {
  return record("NegBackward", {&a}, dl::neg(a.data()),
                [](const Tensor& g, const NeedsGrad&) -> std::vector<Tensor> { return {dl::neg(g)}; });
}

// d exp(a) = exp(a) da: saves the output, not the input.
Variable exp(const Variable& a) {
  const Tensor y = dl::exp(a.data());
  return record("ExpBackward", {&a}, y,
                [y](const Tensor& g, const NeedsGrad&) -> std::vector<Tensor> { return {dl::mul(g, y)}; });
}

// d log(a) = da / a
Variable log(const Variable& a) {
  const Tensor x = a.data();
  return record("LogBackward", {&a}, dl::log(x),
                [x](const Tensor& g, const NeedsGrad&) -> std::vector<Tensor> { return {dl::div(g, x)}; });
}

// d sqrt(a) = da / (2 sqrt(a))
Variable sqrt(const Variable& a) {
  const Tensor y = dl::sqrt(a.data());
  return record("SqrtBackward", {&a}, y, [y](const Tensor& g, const NeedsGrad&) -> std::vector<Tensor> {
    return {dl::div(g, dl::mul(y, Tensor::scalar(2.0, y.dtype())))};
  });
}

// d|a| = sign(a) da (0 at a = 0)
Variable abs(const Variable& a) {
  const Tensor x = a.data();
  return record("AbsBackward", {&a}, dl::abs(x), [x](const Tensor& g, const NeedsGrad&) -> std::vector<Tensor> {
    const Tensor zero = Tensor::scalar(0.0, x.dtype());
    return {dl::mul(g, dl::sub(dl::gt(x, zero), dl::lt(x, zero)))};
  });
}

// d a^p = p a^(p-1) da
Variable pow(const Variable& a, double exponent) {
  const Tensor x = a.data();
  return record("PowBackward", {&a}, dl::pow(x, exponent),
                [x, exponent](const Tensor& g, const NeedsGrad&) -> std::vector<Tensor> {
                  return {dl::mul(g, dl::pow(x, exponent - 1.0) * exponent)};
                });
}

namespace {
/// grad_a = g where y > 0, else 0, in one pass over memory: no 0/1 mask tensor is built and
/// multiplied in (that took two passes and a temporary). A NaN in y gives 0, as in PyTorch.
Tensor relu_grad(const Tensor& g_in, const Tensor& y_in) {
  const Tensor g = g_in.contiguous(), y = y_in.contiguous();
  Tensor out = Tensor::empty(y.shape(), y.dtype());
  dispatch_floating(y.dtype(), "relu_backward", [&](auto tag) {
    using T = decltype(tag);
    const T* pg = g.data<T>();
    const T* py = y.data<T>();
    T* po = out.data<T>();
    const int64_t n = y.numel();
#ifdef DL_WITH_OPENMP
#pragma omp parallel for schedule(static) if (n >= 32768)
#endif
    // Both loads happen unconditionally, so the select compiles to a vector blend; reading
    // pg[i] only on the taken side was a branch per element, mispredicted half the time.
    for (int64_t i = 0; i < n; ++i) {
      const T gi = pg[i];
      po[i] = py[i] > T(0) ? gi : T(0);
    }
  });
  return out;
}
}  // namespace

// d relu(a) = da where a > 0. Saves the output: y > 0 exactly where a > 0.
Variable relu(const Variable& a) {
  const Tensor y = dl::relu(a.data());
  return record("ReluBackward", {&a}, y, [y](const Tensor& g, const NeedsGrad&) -> std::vector<Tensor> {
    return {relu_grad(g, y)};
  });
}

// d relu(a + b) = (da + db) where a + b > 0. Saves the output, as relu does.
Variable add_relu(const Variable& a, const Variable& b) {
  const Shape sa = a.shape(), sb = b.shape();
  const Tensor y = dl::add_relu(a.data(), b.data());
  return record("AddReluBackward", {&a, &b}, y,
                [y, sa, sb](const Tensor& g, const NeedsGrad& needs) -> std::vector<Tensor> {
                  const Tensor gm = relu_grad(g, y);
                  return {needs[0] ? unbroadcast(gm, sa) : Tensor(),
                          needs[1] ? unbroadcast(gm, sb) : Tensor()};
                });
}

Variable add_scalar(const Variable& a, double s) {
  return record("AddScalarBackward", {&a}, dl::affine(a.data(), 1.0, s),
                [](const Tensor& g, const NeedsGrad&) -> std::vector<Tensor> { return {g}; });
}

Variable mul_scalar(const Variable& a, double s) {
  return record("MulScalarBackward", {&a}, dl::affine(a.data(), s, 0.0),
                [s](const Tensor& g, const NeedsGrad&) -> std::vector<Tensor> {
                  return {dl::affine(g, s, 0.0)};
                });
}

Variable operator+(const Variable& a, const Variable& b) { return add(a, b); }
Variable operator-(const Variable& a, const Variable& b) { return sub(a, b); }
Variable operator*(const Variable& a, const Variable& b) { return mul(a, b); }
Variable operator/(const Variable& a, const Variable& b) { return div(a, b); }
Variable operator-(const Variable& a) { return neg(a); }

}  // namespace dl::ag
