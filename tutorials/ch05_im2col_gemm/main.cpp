// Chapter 5 — convolution as im2col + GEMM: unfold every receptive field into a column, then
// one matrix multiply with M = OC, N = OH*OW, K = C*KH*KW does the whole layer. Compared with
// plain loops, with the library's kernels, and timed on a CIFAR-sized layer.
// Read README.md beside this file; every check() below is a claim the chapter makes.
#include <chrono>
#include <cmath>
#include <functional>
#include <iostream>
#include <vector>

#include "common.h"
#ifdef DL_WITH_OPENMP
#include <omp.h>
#endif
#include "tensor/conv2d.h"
#include "tensor/kernels/conv.h"
#include "tensor/kernels/gemm.h"
#include "tensor/ops.h"

using dl::Tensor;
using dl::kernels::ConvGeom;
using tut::check;
namespace kernels = dl::kernels;

namespace {

// [snippet:naive]
// The definition, one image: y[oc, oh, ow] = Σ_{c, kh, kw} w[oc, c, kh, kw] ·
// x[c, oh·stride - pad + kh, ow·stride - pad + kw], zero outside the image.
std::vector<float> conv_loops(const ConvGeom& g, const std::vector<float>& x,
                              const std::vector<float>& w) {
  const int64_t OH = g.out_h(), OW = g.out_w();
  std::vector<float> y(g.OC * OH * OW, 0.0f);
  for (int64_t oc = 0; oc < g.OC; ++oc)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        double acc = 0;
        for (int64_t c = 0; c < g.C; ++c)
          for (int64_t kh = 0; kh < g.KH; ++kh)
            for (int64_t kw = 0; kw < g.KW; ++kw) {
              const int64_t ih = oh * g.stride_h - g.pad_h + kh,
                            iw = ow * g.stride_w - g.pad_w + kw;
              if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;  // zero padding
              acc += w[((oc * g.C + c) * g.KH + kh) * g.KW + kw] * x[(c * g.H + ih) * g.W + iw];
            }
        y[(oc * OH + oh) * OW + ow] = static_cast<float>(acc);
      }
  return y;
}
// [/snippet]

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, double(std::fabs(a[i] - b[i])));
  return m;
}

void tiny_im2col() {
  tut::section("1. im2col on a 4x4 image");
  // [snippet:tiny]
  ConvGeom g;  // one image, one channel, 4x4, a 3x3 kernel, stride 1, no padding
  g.C = 1, g.H = 4, g.W = 4, g.OC = 1, g.KH = 3, g.KW = 3;
  std::vector<float> x(16);
  for (int i = 0; i < 16; ++i) x[i] = float(i);                    // pixel values 0..15, row by row
  const int64_t K = g.C * g.KH * g.KW, P = g.out_h() * g.out_w();  // 9 rows, 2*2 = 4 columns
  std::vector<float> col(K * P);
  kernels::im2col(g, x.data(), col.data());
  // [/snippet]
  std::cout << "image:\n";
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 4; ++c) std::cout << (x[r * 4 + c] < 10 ? "   " : "  ") << x[r * 4 + c];
    std::cout << "\n";
  }
  std::cout << "col [" << K << " x " << P
            << "]: row = kernel tap (kh, kw), column = output pixel\n";
  for (int64_t k = 0; k < K; ++k) {
    std::cout << "  (" << k / 3 << "," << k % 3 << ")";
    for (int64_t p = 0; p < P; ++p)
      std::cout << (col[k * P + p] < 10 ? "   " : "  ") << col[k * P + p];
    std::cout << "\n";
  }
  // Column p holds the 3x3 window of output pixel p: for p = 3, output (1, 1), it is 5 ... 15.
  bool columns_are_windows = true;
  for (int64_t p = 0; p < P; ++p)
    for (int64_t k = 0; k < K; ++k) {
      const int64_t oh = p / 2, ow = p % 2, kh = k / 3, kw = k % 3;
      columns_are_windows &= col[k * P + p] == x[(oh + kh) * 4 + ow + kw];
    }
  check(columns_are_windows, "column p of col is the 3x3 window under output pixel p, flattened");
  check(col[0 * P + 3] == 5 && col[8 * P + 3] == 15, "output (1, 1) sees pixels 5 .. 15");
}

std::vector<float> random_vector(int64_t n, dl::Generator& gen) {
  std::vector<float> v(n);
  for (float& f : v) f = static_cast<float>(gen.normal());
  return v;
}

void conv_as_gemm() {
  tut::section("2. One GEMM computes the whole layer");
  dl::Generator gen(1);
  ConvGeom g;  // x [1, 3, 8, 8] * w [4, 3, 3, 3], stride 1, pad 1 -> y [1, 4, 8, 8]
  g.C = 3, g.H = 8, g.W = 8, g.OC = 4, g.KH = 3, g.KW = 3, g.pad_h = 1, g.pad_w = 1;
  const std::vector<float> x = random_vector(g.C * g.H * g.W, gen);
  const std::vector<float> w = random_vector(g.OC * g.C * g.KH * g.KW, gen);
  // [snippet:gemm]
  const int64_t M = g.OC, N = g.out_h() * g.out_w(), K = g.C * g.KH * g.KW;  // 4, 64, 27
  std::vector<float> col(K * N), y(M * N);
  kernels::im2col(g, x.data(), col.data());                // col [K, N]: one column per pixel
  kernels::gemm(false, false, M, N, K, 1.0f, w.data(), K,  // w [OC, C, KH, KW] read as [M, K]
                col.data(), N, 0.0f, y.data(), N);         // y [M, N] = [OC, OH*OW]
  // [/snippet]
  std::cout << "GEMM shapes: M = OC = " << M << ", N = OH*OW = " << N << ", K = C*KH*KW = " << K
            << "\n";
  const std::vector<float> reference = conv_loops(g, x, w);
  check(max_abs_diff(y, reference) < 1e-4, "im2col + gemm equals the seven loops (max |diff| " +
                                               tut::sci(max_abs_diff(y, reference)) + ")");
  std::vector<float> y_direct(M * N);
  kernels::conv2d_forward_direct<float>(g, x.data(), w.data(), nullptr, y_direct.data());
  check(max_abs_diff(y_direct, reference) < 1e-5, "the library's direct kernel agrees too");

  ConvGeom g2 = g;  // the same layer with stride 2: a quarter of the columns
  g2.stride_h = g2.stride_w = 2;
  std::vector<float> col2(K * g2.out_h() * g2.out_w()), y2(M * g2.out_h() * g2.out_w());
  kernels::im2col(g2, x.data(), col2.data());
  kernels::gemm(false, false, M, g2.out_h() * g2.out_w(), K, 1.0f, w.data(), K, col2.data(),
                g2.out_h() * g2.out_w(), 0.0f, y2.data(), g2.out_h() * g2.out_w());
  check(g2.out_h() == 4 && max_abs_diff(y2, conv_loops(g2, x, w)) < 1e-4,
        "stride 2: OH = (8 + 2 - 3) / 2 + 1 = 4, N = 16, same GEMM otherwise");

  // The tensor layer does the same through dl::conv2d_forward, choosing the algorithm per layer.
  Tensor xt = Tensor::from_vector(x, {1, g.C, g.H, g.W}),
         wt = Tensor::from_vector(w, {g.OC, g.C, 3, 3});
  dl::Conv2dArgs args = dl::Conv2dArgs::square(1, 1);
  args.algo = kernels::ConvAlgo::Im2col;
  Tensor yt = dl::conv2d_forward(xt, wt, Tensor(), args);
  check(max_abs_diff(std::vector<float>(yt.data<float>(), yt.data<float>() + yt.numel()),
                     reference) < 1e-4,
        "dl::conv2d_forward with ConvAlgo::Im2col gives the same [1, 4, 8, 8]");

  tut::section("3. The backward pass is two more GEMMs");
  const std::vector<float> dy = random_vector(M * N, gen);  // some upstream gradient [OC, OH*OW]
  // [snippet:backward]
  std::vector<float> grad_w(M * K), grad_col(K * N), grad_x(g.C * g.H * g.W, 0.0f);
  kernels::gemm(false, true, M, K, N, 1.0f, dy.data(), N,  // grad_w [M, K] = dy [M, N] · colᵀ
                col.data(), N, 0.0f, grad_w.data(), K);
  kernels::gemm(true, false, K, N, M, 1.0f, w.data(), K,  // grad_col [K, N] = wᵀ [K, M] · dy
                dy.data(), N, 0.0f, grad_col.data(), N);
  kernels::col2im(g, grad_col.data(), grad_x.data());  // add each column back onto its window
  // [/snippet]
  std::vector<float> ref_w(M * K), ref_x(g.C * g.H * g.W);
  kernels::conv2d_backward_weight_direct<float>(g, dy.data(), x.data(), ref_w.data());
  kernels::conv2d_backward_input_direct<float>(g, dy.data(), w.data(), ref_x.data());
  check(max_abs_diff(grad_w, ref_w) < 1e-4,
        "grad_w = dy · colᵀ matches the direct backward-weight kernel");
  check(max_abs_diff(grad_x, ref_x) < 1e-4,
        "col2im(wᵀ · dy) matches the direct backward-input kernel");
}

double best_ms(const std::function<void()>& f, int repeats = 3) {
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(
        best,
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

void timing() {
  tut::section("4. Speed on a CIFAR ResNet layer: x [8, 16, 32, 32], w [16, 16, 3, 3], one thread");
#ifdef DL_WITH_OPENMP
  const int saved_threads = omp_get_max_threads();
  omp_set_num_threads(1);  // compare the algorithms, not the thread pools
#endif
  dl::Generator gen(2);
  ConvGeom g;
  g.N = 8, g.C = 16, g.H = 32, g.W = 32, g.OC = 16, g.KH = 3, g.KW = 3, g.pad_h = 1, g.pad_w = 1;
  const std::vector<float> x = random_vector(g.N * g.C * g.H * g.W, gen);
  const std::vector<float> w = random_vector(g.OC * g.C * 9, gen);
  std::vector<float> y_direct(g.N * g.OC * 32 * 32), y_im2col(y_direct.size());
  const double ms_direct = best_ms([&] {
    kernels::conv2d_forward_direct<float>(g, x.data(), w.data(), nullptr, y_direct.data());
  });
  const double ms_im2col = best_ms([&] {
    kernels::conv2d_forward_im2col<float>(g, x.data(), w.data(), nullptr, y_im2col.data());
  });
#ifdef DL_WITH_OPENMP
  omp_set_num_threads(saved_threads);
#endif
  const double gflop = 2.0 * double(g.macs()) / 1e9;
  std::cout << "MACs " << g.macs() << " (" << tut::fixed(gflop, 3) << " GFLOP)\n"
            << "direct loops : " << tut::fixed(ms_direct, 2) << " ms, "
            << tut::fixed(gflop / ms_direct * 1e3, 1) << " GFLOP/s\n"
            << "im2col + GEMM: " << tut::fixed(ms_im2col, 2) << " ms, "
            << tut::fixed(gflop / ms_im2col * 1e3, 1)
            << " GFLOP/s  (GEMM backend: " << kernels::gemm_backend() << ")\n"
            << "col buffer   : " << g.C * 9 << " x " << 32 * 32 << " floats per image, " << 9
            << "x the input image\n";
  double max_rel = 0;
  for (size_t i = 0; i < y_direct.size(); ++i)
    max_rel = std::max(max_rel, double(std::fabs(y_direct[i] - y_im2col[i]) /
                                       std::max(1.0f, std::fabs(y_direct[i]))));
  check(max_rel < 1e-4, "both algorithms agree to " + tut::sci(max_rel) + " (float32 rounding)");
  std::cout << "speed-up of im2col + GEMM: " << tut::fixed(ms_direct / ms_im2col, 1) << "x\n";
}

}  // namespace

int main() {
  return tut::run([] {
    tiny_im2col();
    conv_as_gemm();
    timing();
  });
}
