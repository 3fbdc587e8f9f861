// pool.cpp — max, average, adaptive-average and global-average pooling, forward and backward
// (tutorial chapter 4). Every function works one (n, c) plane at a time: planes are
// independent, so they are shared among OpenMP threads and each backward writes only into its
// own plane (no races, no atomics). Window sums are accumulated in double.
// Legend: N batch, C channels, H/W input size, OH/OW output size, k kernel, s stride, p pad.
#include "tensor/pool.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace dl {

namespace {

/// Below this many elements a pooling op runs on one thread.
[[maybe_unused]] constexpr int64_t kPoolGrain = 32768;

void require(bool ok, const char* op, const std::string& message) {
  if (!ok) throw std::invalid_argument(std::string(op) + ": " + message);
}

void check_input(const Tensor& x, const char* op) {
  require(x.defined(), op, "input is undefined");
  require(x.dim() == 4, op, "input must be [N, C, H, W], got " + shape_str(x.shape()));
  require(is_floating(x.dtype()), op,
          std::string("input must be float32 or float64, got ") + dtype_name(x.dtype()));
}

/// Output size of a fixed-window pooling along one dim, after checking the window settings.
int64_t pooled_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, const char* op,
                    const Shape& x_shape) {
  require(kernel >= 1 && stride >= 1 && pad >= 0, op,
          "kernel and stride must be >= 1 and pad >= 0, got kernel " + std::to_string(kernel) +
              ", stride " + std::to_string(stride) + ", pad " + std::to_string(pad));
  // PyTorch's rule: with pad <= kernel/2 every window overlaps the input.
  require(2 * pad <= kernel, op,
          "pad " + std::to_string(pad) + " must be at most half the kernel " +
              std::to_string(kernel));
  require(in + 2 * pad >= kernel, op,
          "kernel " + std::to_string(kernel) + " is larger than input " + shape_str(x_shape) +
              " padded by " + std::to_string(pad));
  return (in + 2 * pad - kernel) / stride + 1;
}

void check_grad(const Tensor& grad_y, const Shape& expected, const char* op) {
  require(grad_y.defined(), op, "grad_output is undefined");
  require(grad_y.shape() == expected, op,
          "grad_output " + shape_str(grad_y.shape()) + " does not match the forward output " +
              shape_str(expected));
  require(is_floating(grad_y.dtype()), op,
          std::string("grad_output must be float32 or float64, got ") +
              dtype_name(grad_y.dtype()));
}

/// Calls body(plane) for plane = n*C + c in [0, planes), threaded when the work is large.
template <class Body>
void for_each_plane(int64_t planes, int64_t work_per_plane, Body&& body) {
#ifdef DL_WITH_OPENMP
#pragma omp parallel for schedule(static) if (planes > 1 && planes * work_per_plane >= kPoolGrain)
#endif
  for (int64_t p = 0; p < planes; ++p) body(p);
  (void)work_per_plane;
}

// Adaptive pooling windows (PyTorch's adaptive_avg_pool2d): [floor(i*in/out), ceil((i+1)*in/out)).
inline int64_t adaptive_start(int64_t i, int64_t in, int64_t out) { return (i * in) / out; }
inline int64_t adaptive_end(int64_t i, int64_t in, int64_t out) {
  return ((i + 1) * in + out - 1) / out;
}

}  // namespace

// ---- max pooling --------------------------------------------------------------------------------

namespace {

// max that lets a NaN win, as PyTorch's max pooling does; a select, so loops of it vectorise.
template <class T>
inline T nan_max(T best, T v) {
  return (v > best || v != v) ? v : best;
}

// Values only (inference): per output row, the max down the window's input rows for every
// input column (contiguous, vectorised) into row[p .. p+W), with -inf in the p padding columns
// on either side; then every window is the k entries of row from ow*s on, with no clipping.
// row holds W + 2p + k values.
template <class T>
void max_pool_plane_values(const T* xp, int64_t H, int64_t W, int64_t k, int64_t s, int64_t p,
                           int64_t OH, int64_t OW, T* vp, T* row) {
  std::fill(row, row + W + 2 * p + k, -std::numeric_limits<T>::infinity());
  T* col_max = row + p;
  for (int64_t oh = 0; oh < OH; ++oh) {
    // The window's rows clipped to the input; padding is -inf, so it never wins.
    const int64_t h0 = std::max<int64_t>(oh * s - p, 0), h1 = std::min(oh * s - p + k, H);
    std::copy(xp + h0 * W, xp + (h0 + 1) * W, col_max);
    for (int64_t h = h0 + 1; h < h1; ++h)
      for (int64_t w = 0; w < W; ++w) col_max[w] = nan_max(col_max[w], xp[h * W + w]);
    T* out = vp + oh * OW;
    for (int64_t ow = 0; ow < OW; ++ow) out[ow] = row[ow * s];
    for (int64_t j = 1; j < k; ++j)
      for (int64_t ow = 0; ow < OW; ++ow) out[ow] = nan_max(out[ow], row[ow * s + j]);
  }
}

// Values and argmax indices (training): each window scanned in row-major order.
template <class T>
void max_pool_plane_indices(const T* xp, int64_t H, int64_t W, int64_t k, int64_t s, int64_t p,
                            int64_t OH, int64_t OW, T* vp, int64_t* ip) {
  for (int64_t oh = 0; oh < OH; ++oh) {
    const int64_t h0 = std::max<int64_t>(oh * s - p, 0), h1 = std::min(oh * s - p + k, H);
    for (int64_t ow = 0; ow < OW; ++ow) {
      const int64_t w0 = std::max<int64_t>(ow * s - p, 0), w1 = std::min(ow * s - p + k, W);
      T best = -std::numeric_limits<T>::infinity();
      int64_t best_at = h0 * W + w0;
      for (int64_t h = h0; h < h1; ++h)
        for (int64_t w = w0; w < w1; ++w) {
          const T v = xp[h * W + w];
          if (v > best || std::isnan(v)) {  // once best is NaN nothing beats it, as in PyTorch
            best = v;
            best_at = h * W + w;
          }
        }
      vp[oh * OW + ow] = best;
      ip[oh * OW + ow] = best_at;
    }
  }
}

}  // namespace

MaxPool2dResult max_pool2d_forward(const Tensor& x_in, int64_t k, int64_t s, int64_t p,
                                   bool with_indices) {
  const char* op = "max_pool2d";
  check_input(x_in, op);
  const int64_t N = x_in.size(0), C = x_in.size(1), H = x_in.size(2), W = x_in.size(3);
  const int64_t OH = pooled_size(H, k, s, p, op, x_in.shape());
  const int64_t OW = pooled_size(W, k, s, p, op, x_in.shape());
  const Tensor x = x_in.contiguous();
  MaxPool2dResult r{Tensor::empty({N, C, OH, OW}, x.dtype()),
                    with_indices ? Tensor::empty({N, C, OH, OW}, DType::Int64) : Tensor()};
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* src = x.data<T>();
    T* val = r.values.data<T>();
    int64_t* idx = with_indices ? r.indices.data<int64_t>() : nullptr;
    for_each_plane(N * C, OH * OW * k * k, [&](int64_t plane) {
      const T* xp = src + plane * H * W;
      T* vp = val + plane * OH * OW;
      if (with_indices) {
        max_pool_plane_indices(xp, H, W, k, s, p, OH, OW, vp, idx + plane * OH * OW);
      } else {
        thread_local std::vector<T> row;
        row.resize(size_t(W + 2 * p + k));
        max_pool_plane_values(xp, H, W, k, s, p, OH, OW, vp, row.data());
      }
    });
  });
  return r;
}

Tensor max_pool2d_backward(const Tensor& grad_y, const Tensor& indices_in, const Shape& x_shape) {
  const char* op = "max_pool2d_backward";
  require(x_shape.size() == 4, op, "input shape must be [N, C, H, W], got " + shape_str(x_shape));
  require(indices_in.defined() && indices_in.dtype() == DType::Int64 && indices_in.dim() == 4 &&
              indices_in.size(0) == x_shape[0] && indices_in.size(1) == x_shape[1],
          op, "indices must be int64 [N, C, OH, OW] for input " + shape_str(x_shape));
  check_grad(grad_y, indices_in.shape(), op);
  const int64_t planes = x_shape[0] * x_shape[1], HW = x_shape[2] * x_shape[3];
  const int64_t P = indices_in.size(2) * indices_in.size(3);
  const Tensor g = grad_y.contiguous(), indices = indices_in.contiguous();
  Tensor dx = Tensor::zeros(x_shape, g.dtype());
  dispatch_floating(g.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* gp = g.data<T>();
    const int64_t* ip = indices.data<int64_t>();
    T* dp = dx.data<T>();
    // Overlapping windows (stride < kernel) can share a winner, hence +=.
    for_each_plane(planes, P, [&](int64_t plane) {
      T* d = dp + plane * HW;
      for (int64_t i = 0; i < P; ++i) d[ip[plane * P + i]] += gp[plane * P + i];
    });
  });
  return dx;
}

// ---- average pooling ----------------------------------------------------------------------------

Tensor avg_pool2d_forward(const Tensor& x_in, int64_t k, int64_t s, int64_t p) {
  const char* op = "avg_pool2d";
  check_input(x_in, op);
  const int64_t N = x_in.size(0), C = x_in.size(1), H = x_in.size(2), W = x_in.size(3);
  const int64_t OH = pooled_size(H, k, s, p, op, x_in.shape());
  const int64_t OW = pooled_size(W, k, s, p, op, x_in.shape());
  const Tensor x = x_in.contiguous();
  Tensor y = Tensor::empty({N, C, OH, OW}, x.dtype());
  // count_include_pad: in floor mode every window lies inside the padded input, so each one
  // covers kernel² positions, padded or not.
  const double inv_area = 1.0 / double(k * k);
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* src = x.data<T>();
    T* dst = y.data<T>();
    for_each_plane(N * C, OH * OW * k * k, [&](int64_t plane) {
      const T* xp = src + plane * H * W;
      T* yp = dst + plane * OH * OW;
      for (int64_t oh = 0; oh < OH; ++oh) {
        const int64_t h0 = std::max<int64_t>(oh * s - p, 0), h1 = std::min(oh * s - p + k, H);
        for (int64_t ow = 0; ow < OW; ++ow) {
          const int64_t w0 = std::max<int64_t>(ow * s - p, 0), w1 = std::min(ow * s - p + k, W);
          double acc = 0.0;
          for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w) acc += double(xp[h * W + w]);
          yp[oh * OW + ow] = T(acc * inv_area);
        }
      }
    });
  });
  return y;
}

Tensor avg_pool2d_backward(const Tensor& grad_y, const Shape& x_shape, int64_t k, int64_t s,
                           int64_t p) {
  const char* op = "avg_pool2d_backward";
  require(x_shape.size() == 4, op, "input shape must be [N, C, H, W], got " + shape_str(x_shape));
  const int64_t N = x_shape[0], C = x_shape[1], H = x_shape[2], W = x_shape[3];
  const int64_t OH = pooled_size(H, k, s, p, op, x_shape);
  const int64_t OW = pooled_size(W, k, s, p, op, x_shape);
  check_grad(grad_y, {N, C, OH, OW}, op);
  const Tensor g = grad_y.contiguous();
  Tensor dx = Tensor::zeros(x_shape, g.dtype());
  const double inv_area = 1.0 / double(k * k);
  dispatch_floating(g.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* src = g.data<T>();
    T* dst = dx.data<T>();
    for_each_plane(N * C, OH * OW * k * k, [&](int64_t plane) {
      const T* gp = src + plane * OH * OW;
      T* dp = dst + plane * H * W;
      for (int64_t oh = 0; oh < OH; ++oh) {
        const int64_t h0 = std::max<int64_t>(oh * s - p, 0), h1 = std::min(oh * s - p + k, H);
        for (int64_t ow = 0; ow < OW; ++ow) {
          const int64_t w0 = std::max<int64_t>(ow * s - p, 0), w1 = std::min(ow * s - p + k, W);
          const T share = T(double(gp[oh * OW + ow]) * inv_area);
          for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w) dp[h * W + w] += share;
        }
      }
    });
  });
  return dx;
}

// ---- adaptive average pooling -------------------------------------------------------------------

Tensor adaptive_avg_pool2d_forward(const Tensor& x_in, int64_t out_h, int64_t out_w) {
  const char* op = "adaptive_avg_pool2d";
  check_input(x_in, op);
  require(out_h >= 1 && out_w >= 1, op,
          "output size must be >= 1, got " + std::to_string(out_h) + "x" + std::to_string(out_w));
  const int64_t N = x_in.size(0), C = x_in.size(1), H = x_in.size(2), W = x_in.size(3);
  require(H >= 1 && W >= 1, op, "input " + shape_str(x_in.shape()) + " has an empty plane");
  const Tensor x = x_in.contiguous();
  Tensor y = Tensor::empty({N, C, out_h, out_w}, x.dtype());
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* src = x.data<T>();
    T* dst = y.data<T>();
    for_each_plane(N * C, H * W, [&](int64_t plane) {
      const T* xp = src + plane * H * W;
      T* yp = dst + plane * out_h * out_w;
      for (int64_t i = 0; i < out_h; ++i) {
        const int64_t h0 = adaptive_start(i, H, out_h), h1 = adaptive_end(i, H, out_h);
        for (int64_t j = 0; j < out_w; ++j) {
          const int64_t w0 = adaptive_start(j, W, out_w), w1 = adaptive_end(j, W, out_w);
          double acc = 0.0;
          for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w) acc += double(xp[h * W + w]);
          yp[i * out_w + j] = T(acc / double((h1 - h0) * (w1 - w0)));
        }
      }
    });
  });
  return y;
}

Tensor adaptive_avg_pool2d_backward(const Tensor& grad_y, const Shape& x_shape) {
  const char* op = "adaptive_avg_pool2d_backward";
  require(x_shape.size() == 4, op, "input shape must be [N, C, H, W], got " + shape_str(x_shape));
  require(grad_y.defined() && grad_y.dim() == 4, op, "grad_output must be [N, C, OH, OW]");
  const int64_t N = x_shape[0], C = x_shape[1], H = x_shape[2], W = x_shape[3];
  const int64_t out_h = grad_y.size(2), out_w = grad_y.size(3);
  check_grad(grad_y, {N, C, out_h, out_w}, op);
  const Tensor g = grad_y.contiguous();
  Tensor dx = Tensor::zeros(x_shape, g.dtype());
  dispatch_floating(g.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* src = g.data<T>();
    T* dst = dx.data<T>();
    for_each_plane(N * C, H * W, [&](int64_t plane) {
      const T* gp = src + plane * out_h * out_w;
      T* dp = dst + plane * H * W;
      for (int64_t i = 0; i < out_h; ++i) {
        const int64_t h0 = adaptive_start(i, H, out_h), h1 = adaptive_end(i, H, out_h);
        for (int64_t j = 0; j < out_w; ++j) {
          const int64_t w0 = adaptive_start(j, W, out_w), w1 = adaptive_end(j, W, out_w);
          const T share = T(double(gp[i * out_w + j]) / double((h1 - h0) * (w1 - w0)));
          for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w) dp[h * W + w] += share;
        }
      }
    });
  });
  return dx;
}

// ---- global average pooling ---------------------------------------------------------------------

Tensor global_avg_pool2d_forward(const Tensor& x_in) {
  const char* op = "global_avg_pool2d";
  check_input(x_in, op);
  const int64_t N = x_in.size(0), C = x_in.size(1), HW = x_in.size(2) * x_in.size(3);
  require(HW >= 1, op, "input " + shape_str(x_in.shape()) + " has an empty plane");
  const Tensor x = x_in.contiguous();
  Tensor y = Tensor::empty({N, C}, x.dtype());
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* src = x.data<T>();
    T* dst = y.data<T>();
    for_each_plane(N * C, HW, [&](int64_t plane) {
      const T* xp = src + plane * HW;
      double acc = 0.0;
      for (int64_t i = 0; i < HW; ++i) acc += double(xp[i]);
      dst[plane] = T(acc / double(HW));
    });
  });
  return y;
}

Tensor global_avg_pool2d_backward(const Tensor& grad_y, const Shape& x_shape) {
  const char* op = "global_avg_pool2d_backward";
  require(x_shape.size() == 4, op, "input shape must be [N, C, H, W], got " + shape_str(x_shape));
  check_grad(grad_y, {x_shape[0], x_shape[1]}, op);
  const int64_t HW = x_shape[2] * x_shape[3];
  const Tensor g = grad_y.contiguous();
  Tensor dx = Tensor::empty(x_shape, g.dtype());
  dispatch_floating(g.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* src = g.data<T>();
    T* dst = dx.data<T>();
    for_each_plane(x_shape[0] * x_shape[1], HW, [&](int64_t plane) {
      const T share = T(double(src[plane]) / double(HW));
      std::fill(dst + plane * HW, dst + (plane + 1) * HW, share);
    });
  });
  return dx;
}

}  // namespace dl
