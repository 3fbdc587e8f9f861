// elementwise.cpp — unary and binary elementwise ops with NumPy broadcasting (chapter 1).
// Each op is one line naming its scalar function; the shared loops below do the broadcasting
// (stride 0 along broadcast dims) and the threading.
#include <cmath>
#include <stdexcept>
#include <type_traits>

#include "tensor/ops.h"
#include "tensor/strided_loop.h"

namespace dl {

namespace {

void check_binary(const Tensor& a, const Tensor& b, const char* op) {
  if (!a.defined() || !b.defined())
    throw std::invalid_argument(std::string(op) + ": tensor is undefined");
  if (a.dtype() != b.dtype())
    throw std::invalid_argument(std::string(op) + ": dtypes differ (" + dtype_name(a.dtype()) +
                                " " + shape_str(a.shape()) + " vs " + dtype_name(b.dtype()) +
                                " " + shape_str(b.shape()) + ")");
}

/// out = f(a, b) with a, b broadcast to a common shape; out has a's dtype.
template <class F>
Tensor binary(const Tensor& a, const Tensor& b, const char* op, F f) {
  check_binary(a, b, op);
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), op);
  Tensor out = Tensor::empty(shape, a.dtype());
  dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* o = out.data<T>();
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    detail::strided_for_each<3>(
        shape, {out.strides(), a.expand(shape).strides(), b.expand(shape).strides()},
        [&](const std::array<int64_t, 3>& off, int64_t n, const std::array<int64_t, 3>& st) {
          T* op_ = o + off[0];
          const T* x = pa + off[1];
          const T* y = pb + off[2];
          if (st[0] == 1 && st[1] == 1 && st[2] == 1) {  // the common, vectorisable case
            for (int64_t i = 0; i < n; ++i) op_[i] = f(x[i], y[i]);
          } else if (st[0] == 1 && st[1] == 1 && st[2] == 0) {  // tensor op scalar
            const T yv = *y;
            for (int64_t i = 0; i < n; ++i) op_[i] = f(x[i], yv);
          } else {
            for (int64_t i = 0; i < n; ++i) op_[i * st[0]] = f(x[i * st[1]], y[i * st[2]]);
          }
        });
  });
  return out;
}

/// out = f(a) elementwise; floating dtypes only unless @p allow_int.
template <class F>
Tensor unary(const Tensor& a, const char* op, F f, bool allow_int = false) {
  if (!a.defined()) throw std::invalid_argument(std::string(op) + ": tensor is undefined");
  if (!allow_int && !is_floating(a.dtype()))
    throw std::invalid_argument(std::string(op) + ": expected a float tensor, got " +
                                dtype_name(a.dtype()));
  Tensor out = Tensor::empty(a.shape(), a.dtype());
  dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* o = out.data<T>();
    const T* x = a.data<T>();
    detail::strided_for_each<2>(
        a.shape(), {out.strides(), a.strides()},
        [&](const std::array<int64_t, 2>& off, int64_t n, const std::array<int64_t, 2>& st) {
          T* po = o + off[0];
          const T* px = x + off[1];
          if (st[0] == 1 && st[1] == 1) {  // contiguous run: a loop the compiler vectorises
            for (int64_t i = 0; i < n; ++i) po[i] = f(px[i]);
          } else {
            for (int64_t i = 0; i < n; ++i) po[i * st[0]] = f(px[i * st[1]]);
          }
        });
  });
  return out;
}

}  // namespace

#define DL_BINARY(name, expr) \
  Tensor name(const Tensor& a, const Tensor& b) { \
    return binary(a, b, #name, [](auto x, auto y) { return decltype(x)(expr); }); \
  }
DL_BINARY(add, x + y)
DL_BINARY(sub, x - y)
DL_BINARY(mul, x * y)
// maximum/minimum propagate NaN from either side (x != x is true only for NaN), as PyTorch does.
DL_BINARY(maximum, (x > y || x != x) ? x : y)
DL_BINARY(minimum, (x < y || x != x) ? x : y)
DL_BINARY(pow, std::pow(x, y))
DL_BINARY(eq, x == y)
DL_BINARY(ne, x != y)
DL_BINARY(lt, x < y)
DL_BINARY(le, x <= y)
DL_BINARY(gt, x > y)
DL_BINARY(ge, x >= y)
#undef DL_BINARY

Tensor div(const Tensor& a, const Tensor& b) {
  // Integer division by zero would crash the process (SIGFPE); refuse it up front.
  if (b.defined() && b.dtype() == DType::Int64 && a.defined() && a.dtype() == DType::Int64)
    for (double v : b.to_vector())
      if (v == 0) throw std::invalid_argument("div: integer division by zero");
  return binary(a, b, "div", [](auto x, auto y) { return decltype(x)(x / y); });
}

Tensor add_relu(const Tensor& a, const Tensor& b) {
  return binary(a, b, "add_relu", [](auto x, auto y) {
    const auto v = decltype(x)(x + y);
    return (v > 0 || v != v) ? v : decltype(x)(0);  // relu's rule, NaN included
  });
}

Tensor pow(const Tensor& a, double exponent) {
  return pow(a, Tensor::scalar(exponent, a.dtype()));
}

Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b) {
  if (!mask.defined()) throw std::invalid_argument("where: tensor is undefined");
  check_binary(a, b, "where");
  const Shape shape = broadcast_shapes(broadcast_shapes(mask.shape(), a.shape(), "where"),
                                       b.shape(), "where");
  // where = b + mask01 * (a - b) would lose infinities; select explicitly instead.
  const Tensor m = ne(mask.to(DType::Float64), Tensor::scalar(0.0, DType::Float64));
  Tensor out = b.expand(shape).clone();
  dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* o = out.data<T>();
    const T* pa = a.data<T>();
    const double* pm = m.data<double>();
    detail::strided_for_each<3>(
        shape, {out.strides(), a.expand(shape).strides(), m.expand(shape).strides()},
        [&](const std::array<int64_t, 3>& off, int64_t n, const std::array<int64_t, 3>& st) {
          for (int64_t i = 0; i < n; ++i)
            if (pm[off[2] + i * st[2]] != 0) o[off[0] + i * st[0]] = pa[off[1] + i * st[1]];
        });
  });
  return out;
}

Tensor neg(const Tensor& a) { return unary(a, "neg", [](auto x) { return decltype(x)(-x); }, true); }
Tensor abs(const Tensor& a) {
  return unary(a, "abs", [](auto x) {
    if constexpr (std::is_floating_point_v<decltype(x)>) return std::fabs(x);  // abs(-0.) = 0.
    else return x < 0 ? -x : x;
  }, true);
}
Tensor exp(const Tensor& a) { return unary(a, "exp", [](auto x) { return std::exp(x); }); }
Tensor log(const Tensor& a) { return unary(a, "log", [](auto x) { return std::log(x); }); }
Tensor sqrt(const Tensor& a) { return unary(a, "sqrt", [](auto x) { return std::sqrt(x); }); }
Tensor relu(const Tensor& a) {
  // NaN passes through (x != x), as in PyTorch.
  return unary(a, "relu", [](auto x) { return (x > 0 || x != x) ? x : decltype(x)(0); });
}
Tensor affine(const Tensor& a, double s, double t) {
  return unary(a, "affine", [s, t](auto x) { return decltype(x)(x * s + t); });
}

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& a) { return neg(a); }
Tensor operator+(const Tensor& a, double s) { return add(a, Tensor::scalar(s, a.dtype())); }
Tensor operator-(const Tensor& a, double s) { return sub(a, Tensor::scalar(s, a.dtype())); }
Tensor operator*(const Tensor& a, double s) { return mul(a, Tensor::scalar(s, a.dtype())); }
Tensor operator/(const Tensor& a, double s) { return div(a, Tensor::scalar(s, a.dtype())); }
Tensor operator*(double s, const Tensor& a) { return a * s; }

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol) {
  if (a.shape() != b.shape()) return false;
  const std::vector<double> x = a.to_vector(), y = b.to_vector();
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] == y[i]) continue;  // also equal infinities, whose difference is nan
    if (!(std::fabs(x[i] - y[i]) <= atol + rtol * std::fabs(y[i]))) return false;  // nan fails
  }
  return true;
}

double max_rel_error(const Tensor& a, const Tensor& b, double floor) {
  if (a.shape() != b.shape())
    throw std::invalid_argument("max_rel_error: shapes " + shape_str(a.shape()) + " and " +
                                shape_str(b.shape()) + " differ");
  const std::vector<double> x = a.to_vector(), y = b.to_vector();
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] == y[i] || (std::isnan(x[i]) && std::isnan(y[i]))) continue;
    const double err = std::fabs(x[i] - y[i]) / std::max(std::fabs(y[i]), floor);
    // A nan on one side only (or an infinity against a finite value) is infinitely wrong;
    // std::max would silently drop a nan.
    worst = std::isnan(err) ? INFINITY : std::max(worst, err);
    if (worst == INFINITY) break;
  }
  return worst;
}

}  // namespace dl
