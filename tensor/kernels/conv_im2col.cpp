// conv_im2col.cpp — convolution as im2col + GEMM (tutorial chapter 5), float and double.
// Legend: N batch, C in-channels, H/W input, OC out-channels, KH/KW kernel, OH/OW output,
// K = C*KH*KW (GEMM depth), P = OH*OW (pixels per image). Weights w are a [OC, K] matrix.
// Per image n:  forward          y_n[OC,P]  = w[OC,K] · col_n[K,P]           (+ bias)
//               backward-input   col[K,P]   = wᵀ[K,OC] · dy_n[OC,P], then dx_n = col2im(col)
//               backward-weight  dw[OC,K]  += dy_n[OC,P] · col_nᵀ[P,K]
// Threads: a batch-wide GEMM here is skinny (M = OC = 16 in CIFAR ResNets) and OpenBLAS scales
// poorly on it, so images are spread over OpenMP threads with BLAS single-threaded inside
// (shared PERF-NOTES). With fewer images than threads, images run one after another and the
// OpenMP threads split each image's im2col (by channel) and GEMM (by output column). BLAS is
// always single-threaded here. A 1x1, stride-1, unpadded convolution needs no im2col: the
// image x_n[C, H*W] already is col_n. Scratch (col, dw partials) is thread-local and reused.
// On the SIMD paths the float forward skips the col buffer (gemm_blocked.h).
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "tensor/kernels/conv.h"
#include "tensor/kernels/conv_taps.h"
#include "tensor/kernels/cpu.h"
#include "tensor/kernels/gemm.h"
#include "tensor/kernels/gemm_simd.h"
#include "tensor/kernels/workspace.h"

namespace dl::kernels {
namespace {


inline bool is_pointwise(const ConvGeom& g) {
  return g.KH == 1 && g.KW == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 0 &&
         g.pad_w == 0;
}

// Rows of channels [c0, c1) of im2col: row r = (c, kh, kw) of col holds, for every output
// pixel (oh, ow), the input value that tap multiplies: x[c, oh*sh - ph + kh*dh, ow*sw - pw +
// kw*dw], or 0 in the padding.
template <class T>
void im2col_channels(const ConvGeom& g, const T* x, T* col, int64_t c0, int64_t c1) {
  const int64_t OH = g.out_h(), OW = g.out_w();
  col += c0 * g.KH * g.KW * OH * OW;
  for (int64_t c = c0; c < c1; ++c) {
    const T* xc = x + c * g.H * g.W;
    for (int64_t kh = 0; kh < g.KH; ++kh)
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const int64_t off_w = kw * g.dil_w - g.pad_w;
        int64_t lo, hi;
        tap_range(off_w, g.stride_w, g.W, OW, lo, hi);
        for (int64_t oh = 0; oh < OH; ++oh, col += OW) {
          const int64_t ih = oh * g.stride_h - g.pad_h + kh * g.dil_h;
          if (ih < 0 || ih >= g.H) {
            std::memset(col, 0, sizeof(T) * OW);
            continue;
          }
          const T* xrow = xc + ih * g.W;  // tap of column ow: xrow[ow*sw + off_w]
          for (int64_t ow = 0; ow < lo; ++ow) col[ow] = T(0);
          if (g.stride_w == 1) {
            if (hi > lo) std::memcpy(col + lo, xrow + lo + off_w, sizeof(T) * (hi - lo));
          } else {
            for (int64_t ow = lo; ow < hi; ++ow) col[ow] = xrow[ow * g.stride_w + off_w];
          }
          for (int64_t ow = hi; ow < OW; ++ow) col[ow] = T(0);
        }
      }
  }
}

// The exact adjoint of im2col for channels [c0, c1): every col entry is added back onto the
// input pixel it was copied from (overlapping windows add up); padding entries are dropped.
template <class T>
void col2im_channels(const ConvGeom& g, const T* col, T* x, int64_t c0, int64_t c1) {
  const int64_t OH = g.out_h(), OW = g.out_w();
  col += c0 * g.KH * g.KW * OH * OW;
  for (int64_t c = c0; c < c1; ++c) {
    T* xc = x + c * g.H * g.W;
    for (int64_t kh = 0; kh < g.KH; ++kh)
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const int64_t off_w = kw * g.dil_w - g.pad_w;
        int64_t lo, hi;
        tap_range(off_w, g.stride_w, g.W, OW, lo, hi);
        for (int64_t oh = 0; oh < OH; ++oh, col += OW) {
          const int64_t ih = oh * g.stride_h - g.pad_h + kh * g.dil_h;
          if (ih < 0 || ih >= g.H) continue;
          T* xrow = xc + ih * g.W;
          for (int64_t ow = lo; ow < hi; ++ow) xrow[ow * g.stride_w + off_w] += col[ow];
        }
      }
  }
}

// ---- one image spread over all threads (batch smaller than the thread count) ----------------
// OpenBLAS's own threads are never used (they and the OpenMP threads busy-wait after their
// work and slow each other down, see gemm_openblas.cpp): im2col/col2im split by channel, and
// gemm() itself splits a large product across the OpenMP threads.

template <class T>
void im2col_parallel(const ConvGeom& g, const T* x, T* col) {
#ifdef DL_WITH_OPENMP
#pragma omp parallel for schedule(static) if (detail::max_threads() > 1 && g.C > 1)
#endif
  for (int64_t c = 0; c < g.C; ++c) im2col_channels(g, x, col, c, c + 1);
}

template <class T>
void col2im_parallel(const ConvGeom& g, const T* col, T* x) {
#ifdef DL_WITH_OPENMP
#pragma omp parallel for schedule(static) if (detail::max_threads() > 1 && g.C > 1)
#endif
  for (int64_t c = 0; c < g.C; ++c) col2im_channels(g, col, x, c, c + 1);
}

}  // namespace

template <class T>
void im2col(const ConvGeom& g, const T* x, T* col) {
  im2col_channels(g, x, col, 0, g.C);
}

template <class T>
void col2im(const ConvGeom& g, const T* col, T* x) {
  col2im_channels(g, col, x, 0, g.C);
}

// With at least as many images as threads, each thread runs whole images (im2col + one GEMM);
// otherwise the images run in turn, each one split across the threads.
template <class T>
void conv2d_forward_im2col(const ConvGeom& g, const T* x, const T* w, const T* b, T* y,
                           const ConvEpilogue<T>* epilogue) {
  const int64_t K = g.C * g.KH * g.KW, P = g.out_h() * g.out_w();
  const bool pointwise = is_pointwise(g);
  const bool per_thread_images = detail::max_threads() > 1 && g.N >= detail::max_threads();
  BlasSingleThreadScope single;  // process-wide setting: set once, outside any team
  if constexpr (std::is_same_v<T, float>) {
    if (use_simd_conv_forward(g)) {  // no col buffer: the GEMM packs its strips from the image
      return detail::for_each_index(g.N, per_thread_images, [&](int64_t n) {
        conv2d_forward_image_simd(g, pointwise, x + n * g.C * g.H * g.W, w, b,
                                  y + n * g.OC * P, !per_thread_images, n, epilogue);
      });
    }
  }
  // One image: unfold (unless 1x1), prefill the bias, one GEMM.
  auto image = [&](int64_t n) {
    const T* xn = x + n * g.C * g.H * g.W;
    T* yn = y + n * g.OC * P;
    const T* cm = xn;
    if (!pointwise) {
      T* col = detail::thread_scratch<T, 0>(size_t(K * P));
      if (per_thread_images) {
        im2col(g, xn, col);
      } else {
        im2col_parallel(g, xn, col);
      }
      cm = col;
    }
    if (b != nullptr)
      for (int64_t oc = 0; oc < g.OC; ++oc)
        for (int64_t p = 0; p < P; ++p) yn[oc * P + p] = b[oc];
    // Inside the image loop's parallel region this is one single-threaded call; called from
    // the serial loop, gemm() splits the product across the threads itself.
    gemm(false, false, g.OC, P, K, T(1), w, K, cm, P, b != nullptr ? T(1) : T(0), yn, P);
    if (epilogue != nullptr) epilogue->apply(n, g.OC, P, 0, g.OC, 0, P, yn);
  };
  detail::for_each_index(g.N, per_thread_images, image);
}

template <class T>
void conv2d_backward_input_im2col(const ConvGeom& g, const T* dy, const T* w, T* dx) {
  const int64_t K = g.C * g.KH * g.KW, P = g.out_h() * g.out_w();
  const int64_t HW = g.H * g.W;
  const bool pointwise = is_pointwise(g);
  const bool per_thread_images = detail::max_threads() > 1 && g.N >= detail::max_threads();
  BlasSingleThreadScope single;
  auto image = [&](int64_t n) {
    const T* dyn = dy + n * g.OC * P;
    T* dxn = dx + n * g.C * HW;
    // pointwise: dx_n[C, HW] = wᵀ · dy_n directly; otherwise col = wᵀ · dy_n, then col2im.
    T* out = pointwise ? dxn : detail::thread_scratch<T, 0>(size_t(K * P));
    gemm(true, false, K, P, g.OC, T(1), w, K, dyn, P, T(0), out, P);
    if (pointwise) return;
    std::memset(dxn, 0, sizeof(T) * g.C * HW);
    if (per_thread_images) {
      col2im(g, out, dxn);
    } else {
      col2im_parallel(g, out, dxn);
    }
  };
  detail::for_each_index(g.N, per_thread_images, image);
}

// With enough images, each of `parts` threads sums its own contiguous run of images into a
// private dw partial; the partials are then added in fixed part order, so the result is
// bitwise reproducible for a given thread count (no atomics, no scheduling-dependent order).
// With fewer images than threads, images run in turn and the threads split dw's columns.
template <class T>
void conv2d_backward_weight_im2col(const ConvGeom& g, const T* dy, const T* x, T* dw) {
  const int64_t K = g.C * g.KH * g.KW, P = g.out_h() * g.out_w();
  const bool pointwise = is_pointwise(g);
  const int64_t DW = g.OC * K;
  if (g.N <= 0) {
    std::memset(dw, 0, sizeof(T) * DW);
    return;
  }
  const int nt = detail::max_threads();
  BlasSingleThreadScope single;
  if (nt <= 1 || g.N < nt) {
    for (int64_t n = 0; n < g.N; ++n) {
      const T* xn = x + n * g.C * g.H * g.W;
      const T* cm = xn;
      if (!pointwise) {
        T* col = detail::thread_scratch<T, 0>(size_t(K * P));
        im2col_parallel(g, xn, col);
        cm = col;
      }
      gemm(false, true, g.OC, K, P, T(1), dy + n * g.OC * P, P, cm, P, n == 0 ? T(0) : T(1),
           dw, K);  // splits itself across the threads
    }
    return;
  }
  // Adds (beta = 1) or writes (beta = 0) image n's contribution into out[OC, K].
  auto image = [&](int64_t n, T* out, T beta) {
    const T* xn = x + n * g.C * g.H * g.W;
    const T* cm = xn;
    if (!pointwise) {
      T* col = detail::thread_scratch<T, 0>(size_t(K * P));
      im2col(g, xn, col);
      cm = col;
    }
    gemm(false, true, g.OC, K, P, T(1), dy + n * g.OC * P, P, cm, P, beta, out, K);
  };
  const int64_t parts = nt;
  // Partials live in the calling thread's scratch (slot 1), reused across calls.
  T* partial = detail::thread_scratch<T, 1>(size_t(parts * DW));
#ifdef DL_WITH_OPENMP
#pragma omp parallel for schedule(static, 1) num_threads(int(parts))
#endif
  for (int64_t t = 0; t < parts; ++t) {
    const int64_t n0 = t * g.N / parts, n1 = (t + 1) * g.N / parts;  // non-empty: parts <= N
    for (int64_t n = n0; n < n1; ++n) image(n, partial + t * DW, n == n0 ? T(0) : T(1));
  }
#ifdef DL_WITH_OPENMP
#pragma omp parallel for schedule(static) num_threads(int(parts))
#endif
  for (int64_t i = 0; i < DW; ++i) {
    T s = partial[i];
    for (int64_t t = 1; t < parts; ++t) s += partial[t * DW + i];
    dw[i] = s;
  }
}

#define DL_INSTANTIATE_IM2COL(T)                                                            \
  template void im2col<T>(const ConvGeom&, const T*, T*);                                   \
  template void col2im<T>(const ConvGeom&, const T*, T*);                                   \
  template void conv2d_forward_im2col<T>(const ConvGeom&, const T*, const T*, const T*, T*,   \
                                         const ConvEpilogue<T>*);                            \
  template void conv2d_backward_input_im2col<T>(const ConvGeom&, const T*, const T*, T*);   \
  template void conv2d_backward_weight_im2col<T>(const ConvGeom&, const T*, const T*, T*);
DL_INSTANTIATE_IM2COL(float)
DL_INSTANTIATE_IM2COL(double)
#undef DL_INSTANTIATE_IM2COL

}  // namespace dl::kernels
