// softmax.cpp — log-softmax and cross-entropy, forward and backward (tutorial chapter 4).
// log_softmax works along any dim by viewing the contiguous input as [outer, K, inner]: each
// of the outer*inner "lines" holds K values spaced inner apart. Lines are independent, so
// they are shared among OpenMP threads. Sums are accumulated in double.
#include "tensor/softmax.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace dl {

namespace {

[[maybe_unused]] constexpr int64_t kSoftmaxGrain = 32768;

void require(bool ok, const char* op, const std::string& message) {
  if (!ok) throw std::invalid_argument(std::string(op) + ": " + message);
}

/// x viewed as [outer, K, inner] around dim d.
struct Lines {
  int64_t outer = 1, K = 1, inner = 1;
  int64_t count() const { return outer * inner; }
  /// Offset of element 0 of line l; the line's elements are inner apart.
  int64_t base(int64_t l) const { return (l / inner) * K * inner + l % inner; }
};

Lines lines_of(const Shape& shape, int64_t d) {
  Lines ln;
  for (int64_t i = 0; i < d; ++i) ln.outer *= shape[i];
  ln.K = shape[d];
  for (size_t i = size_t(d) + 1; i < shape.size(); ++i) ln.inner *= shape[i];
  return ln;
}

}  // namespace

Tensor log_softmax_forward(const Tensor& x_in, int64_t dim) {
  const char* op = "log_softmax";
  require(x_in.defined(), op, "input is undefined");
  require(x_in.dim() >= 1, op, "input must have at least 1 dim, got " + shape_str(x_in.shape()));
  require(is_floating(x_in.dtype()), op,
          std::string("input must be float32 or float64, got ") + dtype_name(x_in.dtype()));
  const int64_t d = wrap_dim(dim, x_in.dim(), op);
  const Tensor x = x_in.contiguous();
  const Lines ln = lines_of(x.shape(), d);
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  if (ln.K == 0) return y;
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* py = y.data<T>();
#ifdef DL_WITH_OPENMP
#pragma omp parallel for schedule(static) if (ln.count() > 1 && x.numel() >= kSoftmaxGrain)
#endif
    for (int64_t l = 0; l < ln.count(); ++l) {
      const T* xl = px + ln.base(l);
      T* yl = py + ln.base(l);
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t k = 0; k < ln.K; ++k) mx = std::max(mx, double(xl[k * ln.inner]));
      double s = 0.0;
      for (int64_t k = 0; k < ln.K; ++k) s += std::exp(double(xl[k * ln.inner]) - mx);
      const double log_z = mx + std::log(s);  // log Σ exp(x), without overflow
      for (int64_t k = 0; k < ln.K; ++k) yl[k * ln.inner] = T(double(xl[k * ln.inner]) - log_z);
    }
  });
  return y;
}

Tensor log_softmax_backward(const Tensor& grad_y, const Tensor& y_in, int64_t dim) {
  const char* op = "log_softmax_backward";
  require(grad_y.defined() && y_in.defined(), op, "grad_output or output is undefined");
  require(grad_y.shape() == y_in.shape() && grad_y.dtype() == y_in.dtype(), op,
          "grad_output " + shape_str(grad_y.shape()) + " " + dtype_name(grad_y.dtype()) +
              " does not match output " + shape_str(y_in.shape()) + " " +
              dtype_name(y_in.dtype()));
  const int64_t d = wrap_dim(dim, y_in.dim(), op);
  const Tensor y = y_in.contiguous(), g = grad_y.contiguous();
  const Lines ln = lines_of(y.shape(), d);
  Tensor dx = Tensor::empty(y.shape(), y.dtype());
  if (ln.K == 0) return dx;
  dispatch_floating(y.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* py = y.data<T>();
    const T* pg = g.data<T>();
    T* pdx = dx.data<T>();
    // y_k = x_k - log Z, so dy_k/dx_j = δ_kj - softmax_j and grad_x_j = g_j - softmax_j Σ_k g_k.
#ifdef DL_WITH_OPENMP
#pragma omp parallel for schedule(static) if (ln.count() > 1 && y.numel() >= kSoftmaxGrain)
#endif
    for (int64_t l = 0; l < ln.count(); ++l) {
      const int64_t b = ln.base(l);
      double sg = 0.0;
      for (int64_t k = 0; k < ln.K; ++k) sg += double(pg[b + k * ln.inner]);
      for (int64_t k = 0; k < ln.K; ++k) {
        const int64_t i = b + k * ln.inner;
        pdx[i] = T(double(pg[i]) - std::exp(double(py[i])) * sg);
      }
    }
  });
  return dx;
}

namespace {

/// Checks logits [N, K] against int64 labels [N] with every label in [0, K).
void check_cross_entropy(const Tensor& logits, const Tensor& labels, double smoothing,
                         const char* op) {
  require(logits.defined() && labels.defined(), op, "logits or labels are undefined");
  require(logits.dim() == 2, op, "logits must be [N, K], got " + shape_str(logits.shape()));
  require(is_floating(logits.dtype()), op,
          std::string("logits must be float32 or float64, got ") + dtype_name(logits.dtype()));
  require(labels.dtype() == DType::Int64, op,
          std::string("labels must be int64, got ") + dtype_name(labels.dtype()));
  require(labels.shape() == Shape{logits.size(0)}, op,
          "labels " + shape_str(labels.shape()) + " must be [" + std::to_string(logits.size(0)) +
              "] for logits " + shape_str(logits.shape()));
  require(logits.size(0) >= 1 && logits.size(1) >= 1, op,
          "logits " + shape_str(logits.shape()) + " are empty");
  require(smoothing >= 0.0 && smoothing <= 1.0, op,
          "label_smoothing must be in [0, 1], got " + std::to_string(smoothing));
  const Tensor lab = labels.contiguous();
  const int64_t* p = lab.data<int64_t>();
  const int64_t K = logits.size(1);
  for (int64_t n = 0; n < lab.numel(); ++n)
    require(p[n] >= 0 && p[n] < K, op,
            "label " + std::to_string(p[n]) + " at position " + std::to_string(n) +
                " is outside [0, " + std::to_string(K) + ") for logits " +
                shape_str(logits.shape()));
}

}  // namespace

CrossEntropyResult cross_entropy_forward(const Tensor& logits, const Tensor& labels,
                                         double smoothing) {
  const char* op = "cross_entropy";
  check_cross_entropy(logits, labels, smoothing, op);
  const int64_t N = logits.size(0), K = logits.size(1);
  CrossEntropyResult r;
  r.log_probs = log_softmax_forward(logits, 1);
  const Tensor lab = labels.contiguous();
  const int64_t* pl = lab.data<int64_t>();
  double total = 0.0;
  dispatch_floating(logits.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* lp = r.log_probs.data<T>();
    // Row n: -(1-ε)·log p[label] - (ε/K)·Σ_k log p[k]. A sequential sum keeps the loss
    // independent of the thread count.
    for (int64_t n = 0; n < N; ++n) {
      const T* row = lp + n * K;
      double row_sum = 0.0;
      if (smoothing > 0.0)
        for (int64_t k = 0; k < K; ++k) row_sum += double(row[k]);
      total -= (1.0 - smoothing) * double(row[pl[n]]) + smoothing / double(K) * row_sum;
    }
  });
  r.loss = Tensor::scalar(total / double(N), logits.dtype());
  return r;
}

Tensor cross_entropy_backward(double grad_loss, const Tensor& log_probs, const Tensor& labels,
                              double smoothing) {
  const char* op = "cross_entropy_backward";
  check_cross_entropy(log_probs, labels, smoothing, op);
  const int64_t N = log_probs.size(0), K = log_probs.size(1);
  const Tensor lp = log_probs.contiguous(), lab = labels.contiguous();
  const int64_t* pl = lab.data<int64_t>();
  Tensor dx = Tensor::empty(lp.shape(), lp.dtype());
  const double scale = grad_loss / double(N);  // the mean over the batch
  const double uniform = smoothing / double(K);
  dispatch_floating(lp.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* src = lp.data<T>();
    T* dst = dx.data<T>();
    // d loss_n / d logit_k = softmax_k - t_k, with t = (1-ε)·onehot + ε/K.
#ifdef DL_WITH_OPENMP
#pragma omp parallel for schedule(static) if (N > 1 && N * K >= kSoftmaxGrain)
#endif
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t k = 0; k < K; ++k) {
        const double t = (k == pl[n] ? 1.0 - smoothing : 0.0) + uniform;
        dst[n * K + k] = T(scale * (std::exp(double(src[n * K + k])) - t));
      }
    }
  });
  return dx;
}

}  // namespace dl
