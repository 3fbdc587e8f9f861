// reduce.cpp — sum, mean, max, argmax and var over any set of dims (tutorial chapter 1).
// One engine serves them all. It splits a's dims into kept ones (one output element per index)
// and reduced ones (folded into that element), merges dims that are contiguous within each
// group, and walks the reduced sub-space of every output in row-major order. Floating sums
// accumulate in double. Large reductions are cut into chunks of a fixed length whose partial
// results are merged in chunk order; the cut depends only on the shape, never on the thread
// count, so results are bit-identical for 1 or N threads.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "tensor/ops.h"
#include "tensor/strided_loop.h"

namespace dl {

namespace {

/// Which dims a reduction folds away, and the shape of its result.
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
    // A 0-d tensor accepts dim 0 or -1, as in PyTorch: there is nothing to fold.
    if (a.dim() == 0 && (d == 0 || d == -1)) continue;
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

// ---- the reduction ops ------------------------------------------------------------------------
// Each op says how to start a partial result for output element i (init), fold in one element
// x whose row-major index in the reduced sub-space is j (step), fold in a whole run of n
// elements (row), merge the partial of a later chunk into an earlier one (combine), and turn
// the final partial into the output value (finish).

/// sum (divisor 1) and mean (divisor = count). Floats accumulate in double, int64 in int64.
/// OutT is the output element type (T, or double for var's internal mean).
template <class T, class OutT = T>
struct SumOp {
  using Acc = std::conditional_t<std::is_integral_v<T>, int64_t, double>;
  using Out = OutT;
  double divisor = 1.0;
  Acc init(int64_t) const { return Acc(0); }
  void step(Acc& s, T x, int64_t) const { s += Acc(x); }
  void row(Acc& s, const T* p, int64_t n, int64_t stride, int64_t) const {
    if (stride != 1 || n < 16) {
      for (int64_t i = 0; i < n; ++i) s += Acc(p[i * stride]);
      return;
    }
    // Eight independent partial sums break the add-latency chain and let the compiler use
    // SIMD; the grouping is fixed, so the result is still deterministic.
    Acc lane[8] = {};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
      for (int l = 0; l < 8; ++l) lane[l] += Acc(p[i + l]);
    Acc tail = 0;
    for (; i < n; ++i) tail += Acc(p[i]);
    s += ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7])) +
         tail;
  }
  void combine(Acc& s, const Acc& o) const { s += o; }
  Out finish(Acc s) const {
    if constexpr (std::is_integral_v<T>) return Out(s);
    else return Out(s / divisor);
  }
};

/// Sum of squared deviations from each output's mean (computed beforehand, in double) divided
/// by @p divisor: the second pass of a two-pass variance, which is stabler than E[x²] - E[x]².
template <class T>
struct VarOp {
  struct Acc {
    double mean, ss;
  };
  using Out = T;
  const double* means;
  double divisor;
  Acc init(int64_t i) const { return {means[i], 0.0}; }
  void step(Acc& s, T x, int64_t) const {
    const double d = double(x) - s.mean;
    s.ss += d * d;
  }
  void row(Acc& s, const T* p, int64_t n, int64_t stride, int64_t) const {
    double lane[4] = {};
    int64_t i = 0;
    if (stride == 1)
      for (; i + 4 <= n; i += 4)
        for (int l = 0; l < 4; ++l) {
          const double d = double(p[i + l]) - s.mean;
          lane[l] += d * d;
        }
    for (; i < n; ++i) {
      const double d = double(p[i * stride]) - s.mean;
      lane[0] += d * d;
    }
    s.ss += (lane[0] + lane[1]) + (lane[2] + lane[3]);
  }
  void combine(Acc& s, const Acc& o) const { s.ss += o.ss; }
  Out finish(const Acc& s) const { return Out(s.ss / divisor); }
};

/// Largest element; NaN wins (propagates), as in PyTorch.
template <class T>
struct MaxOp {
  using Acc = T;
  using Out = T;
  Acc init(int64_t) const {
    if constexpr (std::is_integral_v<T>) return std::numeric_limits<T>::lowest();
    else return -std::numeric_limits<T>::infinity();
  }
  void step(Acc& s, T x, int64_t) const {
    if (x > s || x != x) s = (s != s) ? s : x;  // keep the first NaN once seen
  }
  void row(Acc& s, const T* p, int64_t n, int64_t stride, int64_t j) const {
    for (int64_t i = 0; i < n; ++i) step(s, p[i * stride], j + i);
  }
  void combine(Acc& s, const Acc& o) const { step(s, o, 0); }
  Out finish(Acc s) const { return s; }
};

/// Index of the first maximum; the first NaN counts as the maximum, as in PyTorch.
template <class T>
struct ArgmaxOp {
  struct Acc {
    T value;
    int64_t index;  // -1 while empty
  };
  using Out = int64_t;
  Acc init(int64_t) const { return {T(0), -1}; }
  static bool better(T x, T best) {
    if (best != best) return false;  // a NaN is never beaten
    return x > best || x != x;
  }
  void step(Acc& s, T x, int64_t j) const {
    if (s.index < 0 || better(x, s.value)) s = {x, j};
  }
  void row(Acc& s, const T* p, int64_t n, int64_t stride, int64_t j) const {
    for (int64_t i = 0; i < n; ++i) step(s, p[i * stride], j + i);
  }
  // o comes from a later chunk, so on a tie the earlier (s) keeps the first index.
  void combine(Acc& s, const Acc& o) const {
    if (o.index >= 0 && (s.index < 0 || better(o.value, s.value))) s = o;
  }
  Out finish(const Acc& s) const { return s.index; }
};

// ---- the engine -------------------------------------------------------------------------------

/// Elements per task: below this a whole output is folded by one thread in one go.
constexpr int64_t kReduceChunk = 32768;
/// Most neighbouring outputs accumulated side by side in column mode (bounds the per-task
/// accumulator array; a wider kept dim is split into blocks of this many).
constexpr int64_t kMaxGroup = 256;

/// Writes op's result for every output element of plan @p p over the elements at @p x into the
/// contiguous buffer @p out (row-major over the kept dims).
template <class T, class Op>
void run_reduce(const T* x, typename Op::Out* out, const ReducePlan& p, const Op& op) {
  using Acc = typename Op::Acc;
  // Merge dims within each group: kept dims walk the input and the (contiguous) output in the
  // same order, so merging on the input strides alone is valid for both.
  Shape ks = p.kept_shape, rs = p.red_shape;
  std::array<Shape, 1> kst{p.kept_strides}, rst{p.red_strides};
  detail::coalesce<1>(ks, kst);
  detail::coalesce<1>(rs, rst);
  const int64_t n_out = shape_numel(ks), count = shape_numel(rs);
  if (n_out == 0) return;

  // Two loop orders. "Row" mode folds each output's reduced elements one after another (the
  // innermost reduced dim is the closer one in memory, e.g. summing rows of [M, N] over dim 1,
  // or BatchNorm's sum over N, H, W of NCHW). "Column" mode is for when the innermost kept dim
  // is the closer one (e.g. summing [N, C] over dim 0): a group of neighbouring outputs
  // accumulates side by side, so every load is used and the inner loop vectorises.
  const int64_t k_inner = ks.back(), k_inner_stride = kst[0].back();
  const bool column = k_inner > 1 && count > 1 && std::abs(k_inner_stride) < std::abs(rst[0].back());
  // A group is a block of up to kMaxGroup neighbouring outputs along the innermost kept dim
  // (column mode) or one output (row mode).
  const int64_t group = column ? std::min(k_inner, kMaxGroup) : 1;
  const int64_t blocks = column ? (k_inner + group - 1) / group : 1;  // groups per inner row
  const int64_t n_groups = column ? n_out / k_inner * blocks : n_out;
  const int64_t outer_dims = int64_t(ks.size()) - (column ? 1 : 0);

  // Cut each output's reduced range into chunks of fixed length (a function of the shape only).
  const int64_t chunk = std::max<int64_t>(1, kReduceChunk / group);
  const int64_t n_chunks = std::max<int64_t>(1, (count + chunk - 1) / chunk);
  const int64_t n_tasks = n_groups * n_chunks;
  std::vector<Acc> partial(n_chunks > 1 ? size_t(n_out * n_chunks) : 0);

  auto task = [&](int64_t t, std::vector<Acc>& acc) {
    const int64_t g = t / n_chunks, c = t % n_chunks;
    // Group g covers outputs first .. first + width - 1 (flat, row-major over the kept dims).
    const int64_t outer = g / blocks, block = g % blocks;
    const int64_t first = column ? outer * k_inner + block * group : g;
    const int64_t width = column ? std::min(group, k_inner - block * group) : 1;
    acc.resize(size_t(width));
    for (int64_t q = 0; q < width; ++q) acc[size_t(q)] = op.init(first + q);
    // Input offset of the group's first output: decompose its outer index over the kept dims
    // (all but the innermost in column mode, where the block starts at block * group).
    int64_t base = column ? block * group * k_inner_stride : 0;
    for (int64_t d = outer_dims - 1, rem = outer; d >= 0; --d) {
      base += (rem % ks[d]) * kst[0][d];
      rem /= ks[d];
    }
    int64_t j = c * chunk;
    auto row = [&](const std::array<int64_t, 1>& off, int64_t n, const std::array<int64_t, 1>& st) {
      const T* px = x + base + off[0];
      if (!column) {
        op.row(acc[0], px, n, st[0], j);
      } else {
        for (int64_t i = 0; i < n; ++i) {
          const T* pr = px + i * st[0];
          for (int64_t q = 0; q < width; ++q) op.step(acc[q], pr[q * k_inner_stride], j + i);
        }
      }
      j += n;
    };
    detail::strided_range<1>(rs, rst, c * chunk, std::min(count, (c + 1) * chunk), row);
    for (int64_t q = 0; q < width; ++q) {
      if (n_chunks == 1) out[first + q] = op.finish(acc[q]);
      else partial[size_t((first + q) * n_chunks + c)] = acc[q];
    }
  };

#ifdef DL_WITH_OPENMP
  const bool parallel = n_tasks > 1 && n_out * count >= detail::kParallelGrain && !omp_in_parallel();
#pragma omp parallel if (parallel)
  {
    std::vector<Acc> acc;
#pragma omp for schedule(static)
    for (int64_t t = 0; t < n_tasks; ++t) task(t, acc);
  }
#else
  std::vector<Acc> acc;
  for (int64_t t = 0; t < n_tasks; ++t) task(t, acc);
#endif

  if (n_chunks > 1) {
    for (int64_t i = 0; i < n_out; ++i) {
      Acc s = partial[size_t(i * n_chunks)];
      for (int64_t c = 1; c < n_chunks; ++c) op.combine(s, partial[size_t(i * n_chunks + c)]);
      out[i] = op.finish(s);
    }
  }
}

/// Allocates the output of plan @p p and runs op (built by make_op for a's element type).
template <class MakeOp>
Tensor reduce(const Tensor& a, const ReducePlan& p, MakeOp make_op) {
  return dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const auto op = make_op(tag);
    using Out = typename std::decay_t<decltype(op)>::Out;
    Tensor out = Tensor::empty(p.out_shape, DTypeOf<Out>::value);
    run_reduce<T>(a.data<T>(), out.data<Out>(), p, op);
    return out;
  });
}

}  // namespace

Tensor sum(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  const ReducePlan p = make_plan(a, dims, keepdim, "sum");
  return reduce(a, p, [](auto tag) { return SumOp<decltype(tag)>{}; });
}

Tensor mean(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  const ReducePlan p = make_plan(a, dims, keepdim, "mean");
  dispatch_floating(a.dtype(), "mean", [](auto) {});  // int64 has no mean: throw early
  const double n = double(p.count);  // 0 for an empty dim, so the mean is 0/0 = nan
  return reduce(a, p, [n](auto tag) { return SumOp<decltype(tag)>{n}; });
}

Tensor max(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  const ReducePlan p = make_plan(a, dims, keepdim, "max");
  if (p.count == 0 && shape_numel(p.out_shape) > 0)
    throw std::invalid_argument("max: cannot reduce over an empty dim of shape " +
                                shape_str(a.shape()));
  return reduce(a, p, [](auto tag) { return MaxOp<decltype(tag)>{}; });
}

Tensor argmax(const Tensor& a, int64_t dim, bool keepdim) {
  const ReducePlan p = make_plan(a, {dim}, keepdim, "argmax");
  if (p.count == 0 && shape_numel(p.out_shape) > 0)
    throw std::invalid_argument("argmax: cannot reduce over an empty dim of shape " +
                                shape_str(a.shape()));
  return reduce(a, p, [](auto tag) { return ArgmaxOp<decltype(tag)>{}; });
}

Tensor var(const Tensor& a, const std::vector<int64_t>& dims, bool unbiased, bool keepdim) {
  const ReducePlan p = make_plan(a, dims, keepdim, "var");
  // n - 1 = 0 (one element, unbiased) gives 0/0 = nan, as in PyTorch.
  const double denom = double(p.count) - (unbiased ? 1.0 : 0.0);
  // Two passes over a, no temporaries: the means (kept in double), then the squared
  // deviations from them.
  return dispatch_floating(a.dtype(), "var", [&](auto tag) {
    using T = decltype(tag);
    std::vector<double> means(size_t(shape_numel(p.out_shape)));
    run_reduce<T>(a.data<T>(), means.data(), p, SumOp<T, double>{double(p.count)});
    Tensor out = Tensor::empty(p.out_shape, a.dtype());
    run_reduce<T>(a.data<T>(), out.data<T>(), p, VarOp<T>{means.data(), denom});
    return out;
  });
}

Tensor sum_to(const Tensor& a, const Shape& shape) {
  if (!a.defined()) throw std::invalid_argument("sum_to: tensor is undefined");
  if (a.shape() == shape) return a;
  if (shape.size() > a.shape().size() || broadcast_shapes(a.shape(), shape, "sum_to") != a.shape())
    throw std::invalid_argument("sum_to: shape " + shape_str(a.shape()) +
                                " is not a broadcast of " + shape_str(shape));
  // Sum the new leading dims and every dim that was stretched from 1.
  const int64_t lead = a.dim() - int64_t(shape.size());
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < a.dim(); ++d)
    if (d < lead || (shape[d - lead] == 1 && a.shape()[d] != 1)) dims.push_back(d);
  if (dims.empty()) return a.reshape(shape);
  return sum(a, dims, true).reshape(shape);
}

}  // namespace dl
