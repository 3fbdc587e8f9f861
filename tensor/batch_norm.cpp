// batch_norm.cpp — batch normalisation forward (training and eval) and backward
// (tutorial chapter 4). A channel's values sit in N planes of H*W contiguous elements (NCHW).
// Each op makes at most two passes over memory: one for the per-channel sums (float partials
// over 512 values, totals in double: a float32 sum over 128*32*32 values would lose digits),
// one elementwise. Both walk
// the planes in memory order, shared among OpenMP threads.
// Legend: N batch, C channels, HW = H*W, M = N*HW values per channel.
#include "tensor/batch_norm.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace dl {

namespace {

[[maybe_unused]] constexpr int64_t kBatchNormGrain = 32768;

void require(bool ok, const char* op, const std::string& message) {
  if (!ok) throw std::invalid_argument(std::string(op) + ": " + message);
}

/// x viewed as [N, C, HW]: the sizes the loops need.
struct Layout {
  int64_t N = 0, C = 0, HW = 1;
  int64_t M() const { return N * HW; }  // values per channel
};

Layout check_input(const Tensor& x, const char* op) {
  require(x.defined(), op, "input is undefined");
  require(x.dim() == 2 || x.dim() == 4, op,
          "input must be [N, C] or [N, C, H, W], got " + shape_str(x.shape()));
  require(is_floating(x.dtype()), op,
          std::string("input must be float32 or float64, got ") + dtype_name(x.dtype()));
  Layout l;
  l.N = x.size(0);
  l.C = x.size(1);
  if (x.dim() == 4) l.HW = x.size(2) * x.size(3);
  return l;
}

/// A per-channel tensor (weight, bias, running statistic) must be [C] of x's dtype.
void check_channel_tensor(const Tensor& t, const Tensor& x, const char* what, const char* op) {
  if (!t.defined()) return;
  require(t.shape() == Shape{x.size(1)}, op,
          std::string(what) + " " + shape_str(t.shape()) + " must be [" +
              std::to_string(x.size(1)) + "] for input " + shape_str(x.shape()));
  require(t.dtype() == x.dtype(), op,
          std::string(what) + " is " + dtype_name(t.dtype()) + " but input is " +
              dtype_name(x.dtype()));
}

/// The values of a [C] tensor as doubles, or @p fill when it is undefined.
std::vector<double> channel_values(const Tensor& t, int64_t C, double fill) {
  if (!t.defined()) return std::vector<double>(size_t(C), fill);
  return t.to_vector();
}

Tensor channel_tensor(const std::vector<double>& v, DType dtype) {
  return Tensor::from_vector(v, {int64_t(v.size())}).to(dtype);
}

/// Sums (Σ u_i, Σ v_i) of (u_i, v_i) = f(i) for i in [0, n), with f computing in T.
/// Each chunk of kChunk values is summed in T as a SIMD reduction (independent lanes: one
/// running sum would be a chain of dependent adds, each waiting for the last), then added
/// into double. Float lanes run twice as many values per instruction as double ones and
/// need no conversions; a float partial over 512 values keeps ~1e-7 relative accuracy, and
/// the totals over up to millions of values per channel accumulate in double.
constexpr int64_t kChunk = 512;
template <class T, class F>
std::pair<double, double> pair_sum(int64_t n, F&& f) {
  double sa = 0.0, sb = 0.0;
  for (int64_t i0 = 0; i0 < n; i0 += kChunk) {
    const int64_t end = std::min(n, i0 + kChunk);
    T a = 0, b = 0;
#ifdef DL_WITH_OPENMP
#pragma omp simd reduction(+ : a, b)
#endif
    for (int64_t i = i0; i < end; ++i) {
      const std::pair<T, T> uv = f(i);
      a += uv.first;
      b += uv.second;
    }
    sa += double(a);
    sb += double(b);
  }
  return {sa, sb};
}

/// Two per-channel sums: plane_sums(p, c) returns the pair for plane p = n*C + c. Planes are
/// visited in memory order, split among threads (each 4 KB row of a 32x32 float plane is a page,
/// and walking a channel's planes, C*HW apart, would defeat the prefetcher). The partial
/// results are then added per channel in plane order, so the totals do not depend on the
/// thread count.
template <class PlaneSums>
void channel_sums(const Layout& l, PlaneSums&& plane_sums, std::vector<double>& a,
                  std::vector<double>& b) {
  const int64_t planes = l.N * l.C;
  std::vector<std::pair<double, double>> part(static_cast<size_t>(planes));
#ifdef DL_WITH_OPENMP
#pragma omp parallel for schedule(static) if (planes > 1 && planes * l.HW >= kBatchNormGrain)
#endif
  for (int64_t p = 0; p < planes; ++p) part[size_t(p)] = plane_sums(p, p % l.C);
  a.assign(size_t(l.C), 0.0);
  b.assign(size_t(l.C), 0.0);
  for (int64_t p = 0; p < planes; ++p) {
    a[size_t(p % l.C)] += part[size_t(p)].first;
    b[size_t(p % l.C)] += part[size_t(p)].second;
  }
}

/// Calls plane(p, c) for every plane p = n*C + c, in memory order, threaded.
template <class Plane>
void for_each_plane(const Layout& l, Plane&& plane) {
  const int64_t planes = l.N * l.C;
#ifdef DL_WITH_OPENMP
#pragma omp parallel for schedule(static) if (planes > 1 && planes * l.HW >= kBatchNormGrain)
#endif
  for (int64_t p = 0; p < planes; ++p) plane(p, p % l.C);
}

/// Per-channel constants of y = (x - mu)·scale + shift in T. Built from mean and inv_std as
/// rounded to T, which is what BatchNormResult stores: the backward of the fused ReLU rebuilds
/// bit for bit the values the forward computed, and so the forward's ReLU mask.
template <class T>
struct ChannelAffine {
  std::vector<T> mu, scale, shift;
  ChannelAffine(const std::vector<double>& mean, const std::vector<double>& inv_std,
                const std::vector<double>& gamma, const std::vector<double>& beta)
      : mu(mean.size()), scale(mean.size()), shift(mean.size()) {
    for (size_t c = 0; c < mean.size(); ++c) {
      mu[c] = T(mean[c]);
      scale[c] = T(double(T(inv_std[c])) * gamma[c]);
      shift[c] = T(beta[c]);
    }
  }
};

/// y = (x - mean)·(inv_std·gamma) + beta per channel: the last pass of both forward modes,
/// followed by max(0, y) in the same loop when @p relu.
/// Computed in T: float math is accurate enough for float data, and twice as fast as
/// converting every element to double.
BatchNormResult normalise(const Tensor& x, const Layout& l, const std::vector<double>& mean,
                          const std::vector<double>& inv_std, const Tensor& gamma,
                          const Tensor& beta, bool relu) {
  BatchNormResult r{Tensor::empty(x.shape(), x.dtype()), channel_tensor(mean, x.dtype()),
                    channel_tensor(inv_std, x.dtype())};
  dispatch_floating(x.dtype(), "batch_norm", [&](auto tag) {
    using T = decltype(tag);
    const ChannelAffine<T> f(mean, inv_std, channel_values(gamma, l.C, 1.0),
                             channel_values(beta, l.C, 0.0));
    const std::vector<T>&mu = f.mu, &scale = f.scale, &shift = f.shift;
    const T* px = x.data<T>();
    T* py = r.y.data<T>();
    for_each_plane(l, [&](int64_t p, int64_t c) {
      const T* xr = px + p * l.HW;
      T* yr = py + p * l.HW;
      const T m = mu[c], a = scale[c], s = shift[c];
      if (!relu) {
        for (int64_t i = 0; i < l.HW; ++i) yr[i] = (xr[i] - m) * a + s;
        return;
      }
      for (int64_t i = 0; i < l.HW; ++i) {
        const T v = (xr[i] - m) * a + s;
        yr[i] = (v > T(0) || v != v) ? v : T(0);  // dl::relu's rule, NaN included
      }
    });
  });
  return r;
}

}  // namespace

BatchNormResult batch_norm_train_forward(const Tensor& x_in, const Tensor& gamma,
                                         const Tensor& beta, Tensor& running_mean,
                                         Tensor& running_var, double momentum, double eps,
                                         bool relu) {
  const char* op = "batch_norm";
  const Layout l = check_input(x_in, op);
  check_channel_tensor(gamma, x_in, "weight", op);
  check_channel_tensor(beta, x_in, "bias", op);
  check_channel_tensor(running_mean, x_in, "running_mean", op);
  check_channel_tensor(running_var, x_in, "running_var", op);
  require(l.M() > 1, op,
          "training needs more than one value per channel, got input " + shape_str(x_in.shape()));
  const Tensor x = x_in.contiguous();
  const int64_t M = l.M();
  std::vector<double> mean(size_t(l.C)), var(size_t(l.C)), inv_std(size_t(l.C));

  // Both moments in one pass over x, of d = x - K with K the channel's first value:
  // var = (Σd² - (Σd)²/M) / M. Shifting by a value near the mean avoids the cancellation of
  // the textbook E[x²] - E[x]² when the mean is large against the spread (Chan, Golub &
  // LeVeque 1983, "shifted data").
  std::vector<double> sum_d, sum_dd;
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    std::vector<double> K(size_t(l.C));
    for (int64_t c = 0; c < l.C; ++c) K[c] = double(px[c * l.HW]);
    channel_sums(
        l,
        [&](int64_t p, int64_t c) {
          const T* xr = px + p * l.HW;
          const T k = px[c * l.HW];
          return pair_sum<T>(l.HW, [xr, k](int64_t i) {
            const T d = xr[i] - k;
            return std::pair<T, T>(d, d * d);
          });
        },
        sum_d, sum_dd);
    for (int64_t c = 0; c < l.C; ++c) {
      mean[c] = K[c] + sum_d[c] / double(M);
      // biased: this is what the batch is normalised with
      var[c] = std::max(0.0, (sum_dd[c] - sum_d[c] * sum_d[c] / double(M)) / double(M));
      inv_std[c] = 1.0 / std::sqrt(var[c] + eps);
    }
  });

  // Running statistics track the unbiased variance (PyTorch's convention).
  if (running_mean.defined()) {
    std::vector<double> rm = running_mean.to_vector();
    for (int64_t c = 0; c < l.C; ++c) rm[c] = (1.0 - momentum) * rm[c] + momentum * mean[c];
    running_mean.copy_(Tensor::from_vector(rm, {l.C}));
  }
  if (running_var.defined()) {
    std::vector<double> rv = running_var.to_vector();
    const double unbias = double(M) / double(M - 1);
    for (int64_t c = 0; c < l.C; ++c)
      rv[c] = (1.0 - momentum) * rv[c] + momentum * var[c] * unbias;
    running_var.copy_(Tensor::from_vector(rv, {l.C}));
  }
  return normalise(x, l, mean, inv_std, gamma, beta, relu);
}

namespace {

/// Checks eval mode's parameters against x and returns the statistics it normalises with.
void eval_statistics(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                     const Tensor& running_mean, const Tensor& running_var, double eps,
                     std::vector<double>& mean, std::vector<double>& inv_std) {
  const char* op = "batch_norm";
  require(running_mean.defined() && running_var.defined(), op,
          "eval mode needs running_mean and running_var");
  check_channel_tensor(gamma, x, "weight", op);
  check_channel_tensor(beta, x, "bias", op);
  check_channel_tensor(running_mean, x, "running_mean", op);
  check_channel_tensor(running_var, x, "running_var", op);
  mean = running_mean.to_vector();
  inv_std = running_var.to_vector();
  for (double& v : inv_std) v = 1.0 / std::sqrt(v + eps);
}

}  // namespace

BatchNormResult batch_norm_eval_forward(const Tensor& x_in, const Tensor& gamma,
                                        const Tensor& beta, const Tensor& running_mean,
                                        const Tensor& running_var, double eps, bool relu) {
  const Layout l = check_input(x_in, "batch_norm");
  std::vector<double> mean, inv_std;
  eval_statistics(x_in, gamma, beta, running_mean, running_var, eps, mean, inv_std);
  return normalise(x_in.contiguous(), l, mean, inv_std, gamma, beta, relu);
}

BatchNormAffine batch_norm_eval_affine(const Tensor& gamma, const Tensor& beta,
                                       const Tensor& running_mean, const Tensor& running_var,
                                       double eps, DType dtype) {
  require(is_floating(dtype), "batch_norm",
          std::string("dtype must be float32 or float64, got ") + dtype_name(dtype));
  // The parameters are checked against an input of C channels and that dtype.
  const int64_t C = running_mean.defined() ? running_mean.numel() : 0;
  const Tensor like = Tensor::empty({1, C}, dtype);
  std::vector<double> mean, inv_std;
  eval_statistics(like, gamma, beta, running_mean, running_var, eps, mean, inv_std);
  BatchNormAffine out;
  dispatch_floating(dtype, "batch_norm", [&](auto tag) {
    using T = decltype(tag);
    const ChannelAffine<T> f(mean, inv_std, channel_values(gamma, C, 1.0),
                             channel_values(beta, C, 0.0));
    const auto as_tensor = [&](const std::vector<T>& v) {
      return channel_tensor(std::vector<double>(v.begin(), v.end()), dtype);
    };
    out = {as_tensor(f.mu), as_tensor(f.scale), as_tensor(f.shift)};
  });
  return out;
}

BatchNormGrads batch_norm_backward(const Tensor& grad_y, const Tensor& x_in, const Tensor& mean_t,
                                   const Tensor& inv_std_t, const Tensor& gamma, bool batch_stats,
                                   bool need_x, bool need_gamma, bool need_beta, bool relu,
                                   const Tensor& beta) {
  const char* op = "batch_norm_backward";
  const Layout l = check_input(x_in, op);
  require(grad_y.defined() && grad_y.shape() == x_in.shape() && grad_y.dtype() == x_in.dtype(),
          op, "grad_output " + (grad_y.defined() ? shape_str(grad_y.shape()) : "undefined") +
                  " must match input " + shape_str(x_in.shape()) + " " + dtype_name(x_in.dtype()));
  check_channel_tensor(mean_t, x_in, "mean", op);
  check_channel_tensor(inv_std_t, x_in, "inv_std", op);
  check_channel_tensor(gamma, x_in, "weight", op);
  check_channel_tensor(beta, x_in, "bias", op);
  const Tensor x = x_in.contiguous(), g = grad_y.contiguous();
  const std::vector<double> mean = mean_t.to_vector(), inv_std = inv_std_t.to_vector();
  const std::vector<double> gam = channel_values(gamma, l.C, 1.0);
  const int64_t M = l.M();
  // Σ g and Σ g·xhat per channel: the parameter gradients, and (batch statistics only) the
  // two correction terms of grad_x that come from mean and variance depending on x.
  const bool need_sums = need_gamma || need_beta || (need_x && batch_stats);
  std::vector<double> sum_g(size_t(l.C), 0.0), sum_gxhat(size_t(l.C), 0.0);

  BatchNormGrads out;
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    const T* pg = g.data<T>();
    // With the fused ReLU, the gradient reaching BN's output is grad_y where the forward's
    // pre-ReLU value v was > 0 (relu_grad's rule), else 0; v is recomputed from x exactly.
    const ChannelAffine<T> f(mean, inv_std, gam, channel_values(beta, l.C, 0.0));
    const auto both = [&](auto relu_tag) {
      constexpr bool kRelu = decltype(relu_tag)::value;
      // Both loads happen unconditionally, so the select compiles to a vector blend.
      const auto grad_at = [](const T* gr, const T* xr, int64_t i, T m, T a, T s) {
        const T gi = gr[i];
        if constexpr (kRelu) return (xr[i] - m) * a + s > T(0) ? gi : T(0);
        return gi;
      };
      if (need_sums) {
        // Σ g·(x - mean) per element, times inv_std once per channel afterwards.
        channel_sums(
            l,
            [&](int64_t p, int64_t c) {
              const T* xr = px + p * l.HW;
              const T* gr = pg + p * l.HW;
              const T m = f.mu[c], a = f.scale[c], s = f.shift[c];
              return pair_sum<T>(l.HW, [&](int64_t i) {
                const T gi = grad_at(gr, xr, i, m, a, s);
                return std::pair<T, T>(gi, gi * (xr[i] - m));
              });
            },
            sum_g, sum_gxhat);
        for (int64_t c = 0; c < l.C; ++c) sum_gxhat[c] *= inv_std[c];
      }
      if (!need_x) return;
      // Batch statistics: grad_x = k·(g - mean(g) - xhat·mean(g·xhat)), k = gamma·inv_std.
      // The second term is the path through the mean, the third the path through the
      // variance. Running statistics are constants: grad_x = k·g. Expanded for one pass in
      // T: grad_x = k·g + (x - mean)·B + A.
      std::vector<T> tk(size_t(l.C)), tB(size_t(l.C)), tA(size_t(l.C));
      for (int64_t c = 0; c < l.C; ++c) {
        const double k = gam[c] * inv_std[c];
        const double mean_g = batch_stats ? sum_g[c] / double(M) : 0.0;
        const double mean_gxhat = batch_stats ? sum_gxhat[c] / double(M) : 0.0;
        tk[c] = T(k);
        tB[c] = T(-k * inv_std[c] * mean_gxhat);
        tA[c] = T(-k * mean_g);
      }
      out.grad_x = Tensor::empty(x.shape(), x.dtype());
      T* pdx = out.grad_x.template data<T>();
      for_each_plane(l, [&](int64_t p, int64_t c) {
        const T* xr = px + p * l.HW;
        const T* gr = pg + p * l.HW;
        T* dr = pdx + p * l.HW;
        const T k = tk[c], m = f.mu[c], B = tB[c], A = tA[c], a = f.scale[c], s = f.shift[c];
        for (int64_t i = 0; i < l.HW; ++i)
          dr[i] = k * grad_at(gr, xr, i, m, a, s) + (xr[i] - m) * B + A;
      });
    };
    if (relu) {
      both(std::true_type{});
    } else {
      both(std::false_type{});
    }
  });
  if (need_gamma) out.grad_gamma = channel_tensor(sum_gxhat, x.dtype());
  if (need_beta) out.grad_beta = channel_tensor(sum_g, x.dtype());
  return out;
}

}  // namespace dl
