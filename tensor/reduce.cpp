// reduce.cpp — sum, mean, max, argmax and var over any set of dims (tutorial chapter 1).
// One engine serves them all: split the dims into kept and reduced, then for every output
// element walk the reduced sub-space in a fixed order, accumulating in double. The fixed
// order makes results identical for any thread count.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "tensor/ops.h"
#include "tensor/strided_loop.h"

namespace dl {

namespace {

struct ReducePlan {
  Shape kept_shape, kept_strides;  // dims that survive, with a's strides
  Shape red_shape, red_strides;    // dims folded into each output element
  Shape out_shape;                 // kept_shape, with 1s in place when keepdim
  int64_t count = 1;               // elements per output
};

ReducePlan make_plan(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim,
                     const char* op) {
  if (!a.defined()) throw std::invalid_argument(std::string(op) + ": tensor is undefined");
  std::vector<bool> reduced(a.dim(), dims.empty());
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(d, a.dim(), op);
    if (reduced[w])
      throw std::invalid_argument(std::string(op) + ": dim " + std::to_string(d) + " repeated");
    reduced[w] = true;
  }
  ReducePlan p;
  for (int64_t d = 0; d < a.dim(); ++d) {
    if (reduced[d]) {
      p.red_shape.push_back(a.shape()[d]);
      p.red_strides.push_back(a.strides()[d]);
      p.count *= a.shape()[d];
      if (keepdim) p.out_shape.push_back(1);
    } else {
      p.kept_shape.push_back(a.shape()[d]);
      p.kept_strides.push_back(a.strides()[d]);
      p.out_shape.push_back(a.shape()[d]);
    }
  }
  return p;
}

/// Element offsets of a (sub-)index space in odometer order.
std::vector<int64_t> offsets_of(const Shape& shape, const Shape& strides) {
  std::vector<int64_t> offs;
  offs.reserve(shape_numel(shape));
  detail::strided_for_each<1>(shape, {strides},
                              [&](const std::array<int64_t, 1>& o, int64_t n,
                                  const std::array<int64_t, 1>& st) {
                                for (int64_t i = 0; i < n; ++i) offs.push_back(o[0] + i * st[0]);
                              });
  return offs;
}

/// For each output element: state = init; step(state, x, j) for the j-th reduced element;
/// out = finish(state). OutT is the output element type.
template <class OutT, class Init, class Step, class Finish>
Tensor run_reduce(const Tensor& a, const ReducePlan& p, DType out_dtype, Init init, Step step,
                  Finish finish) {
  Tensor out = Tensor::empty(p.out_shape, out_dtype);
  OutT* o = out.data<OutT>();
  const std::vector<int64_t> kept = offsets_of(p.kept_shape, p.kept_strides);
  const std::vector<int64_t> red = offsets_of(p.red_shape, p.red_strides);
  const int64_t n_out = int64_t(kept.size()), n_red = int64_t(red.size());
  dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* x = a.data<T>();
#ifdef DL_WITH_OPENMP
#pragma omp parallel for schedule(static) if (n_out > 1 && n_out * n_red >= detail::kParallelGrain)
#endif
    for (int64_t i = 0; i < n_out; ++i) {
      auto state = init();
      const T* base = x + kept[i];
      for (int64_t j = 0; j < n_red; ++j) step(state, double(base[red[j]]), j);
      o[i] = static_cast<OutT>(finish(state));
    }
  });
  return out;
}

}  // namespace

Tensor sum(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  const ReducePlan p = make_plan(a, dims, keepdim, "sum");
  return dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    return run_reduce<T>(
        a, p, a.dtype(), [] { return 0.0; }, [](double& s, double x, int64_t) { s += x; },
        [](double s) { return s; });
  });
}

Tensor mean(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  const ReducePlan p = make_plan(a, dims, keepdim, "mean");
  const double n = double(p.count);
  return dispatch_floating(a.dtype(), "mean", [&](auto tag) {
    using T = decltype(tag);
    return run_reduce<T>(
        a, p, a.dtype(), [] { return 0.0; }, [](double& s, double x, int64_t) { s += x; },
        [n](double s) { return s / n; });
  });
}

Tensor max(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  const ReducePlan p = make_plan(a, dims, keepdim, "max");
  if (p.count == 0) throw std::invalid_argument("max: cannot reduce an empty dim of shape " + shape_str(a.shape()));
  return dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    return run_reduce<T>(
        a, p, a.dtype(), [] { return -std::numeric_limits<double>::infinity(); },
        [](double& s, double x, int64_t) { s = (x > s || std::isnan(x)) ? x : s; },
        [](double s) { return s; });
  });
}

Tensor argmax(const Tensor& a, int64_t dim, bool keepdim) {
  const ReducePlan p = make_plan(a, {dim}, keepdim, "argmax");
  if (p.count == 0) throw std::invalid_argument("argmax: cannot reduce an empty dim of shape " + shape_str(a.shape()));
  struct Best {
    double value;
    int64_t index;
  };
  return run_reduce<int64_t>(
      a, p, DType::Int64, [] { return Best{-std::numeric_limits<double>::infinity(), 0}; },
      [](Best& b, double x, int64_t j) {
        if (x > b.value || (j == 0)) b = {x, j};  // first maximum wins ties
      },
      [](const Best& b) { return b.index; });
}

Tensor var(const Tensor& a, const std::vector<int64_t>& dims, bool unbiased, bool keepdim) {
  const ReducePlan p = make_plan(a, dims, keepdim, "var");
  const double denom = double(p.count) - (unbiased ? 1.0 : 0.0);
  // Two passes (mean, then squared deviations) are stabler than E[x²] - E[x]².
  const Tensor centered = sub(a, mean(a, dims, true));
  return div(sum(mul(centered, centered), dims, keepdim), Tensor::scalar(denom, a.dtype()));
}

Tensor sum_to(const Tensor& a, const Shape& shape) {
  if (a.shape() == shape) return a;
  if (broadcast_shapes(a.shape(), shape, "sum_to") != a.shape())
    throw std::invalid_argument("sum_to: shape " + shape_str(a.shape()) +
                                " is not a broadcast of " + shape_str(shape));
  const int64_t lead = a.dim() - int64_t(shape.size());
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < a.dim(); ++d)
    if (d < lead || (shape[d - lead] == 1 && a.shape()[d] != 1)) dims.push_back(d);
  if (dims.empty()) return a.reshape(shape);
  return sum(a, dims, true).reshape(shape);
}

}  // namespace dl
