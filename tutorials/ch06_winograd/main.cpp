// Chapter 6 — Winograd convolution F(2x2,3x3) and F(4x4,3x3): the transforms of Lavin & Gray
// (arXiv:1509.09308) applied to one tile by hand, the multiplication count, and the float32
// error of the library's Winograd kernels against a float64 direct convolution.
// Read README.md beside this file; every check() below is a claim the chapter makes.
#include <chrono>
#include <cmath>
#include <functional>
#include <iostream>
#include <vector>

#include "common.h"
#include "tensor/kernels/conv.h"
#include "tensor/random.h"
#ifdef DL_WITH_OPENMP
#include <omp.h>
#endif

using dl::kernels::ConvGeom;
using tut::check;
namespace kernels = dl::kernels;

namespace {

// A small dense row-major matrix in double.
struct Mat {
  int rows, cols;
  std::vector<double> v;
  double& operator()(int r, int c) { return v[r * cols + c]; }
  double operator()(int r, int c) const { return v[r * cols + c]; }
};

Mat matmul(const Mat& a, const Mat& b) {
  Mat c{a.rows, b.cols, std::vector<double>(a.rows * b.cols, 0.0)};
  for (int i = 0; i < a.rows; ++i)
    for (int j = 0; j < b.cols; ++j)
      for (int k = 0; k < a.cols; ++k) c(i, j) += a(i, k) * b(k, j);
  return c;
}

Mat transpose(const Mat& a) {
  Mat t{a.cols, a.rows, std::vector<double>(a.v.size())};
  for (int i = 0; i < a.rows; ++i)
    for (int j = 0; j < a.cols; ++j) t(j, i) = a(i, j);
  return t;
}

// clang-format off
// [snippet:matrices]
// F(2x2, 3x3), tile α = 4 (Lavin & Gray 2016, arXiv:1509.09308). One matrix row per line.
const Mat BT2{4, 4, {1,  0, -1,  0,
                     0,  1,  1,  0,
                     0, -1,  1,  0,
                     0,  1,  0, -1}};
const Mat G2{4, 3, {1,    0,    0,
                    0.5,  0.5,  0.5,
                    0.5, -0.5,  0.5,
                    0,    0,    1}};
const Mat AT2{2, 4, {1,  1,  1,  0,
                     0,  1, -1, -1}};

// F(4x4, 3x3), tile α = 6, interpolation points 0, ±1, ±2, ∞.
const Mat BT4{6, 6, {4,  0, -5,  0,  1,  0,
                     0, -4, -4,  1,  1,  0,
                     0,  4, -4, -1,  1,  0,
                     0, -2, -1,  2,  1,  0,
                     0,  2, -1, -2,  1,  0,
                     0,  4,  0, -5,  0,  1}};
const Mat G4{6, 3, { 1.0 / 4,   0,          0,
                    -1.0 / 6,  -1.0 / 6,   -1.0 / 6,
                    -1.0 / 6,   1.0 / 6,   -1.0 / 6,
                     1.0 / 24,  1.0 / 12,   1.0 / 6,
                     1.0 / 24, -1.0 / 12,   1.0 / 6,
                     0,         0,          1}};
const Mat AT4{4, 6, {1,  1,  1,  1,  1,  0,
                     0,  1, -1,  2, -2,  0,
                     0,  1,  1,  4,  4,  0,
                     0,  1, -1,  8, -8,  1}};
// [/snippet]
// clang-format on

// [snippet:tile]
// One output tile Y [m, m] of the correlation of input tile d [α, α] with filter g [3, 3]:
//   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A.
// The elementwise product ⊙ holds the only multiplications that involve both data and filter:
// α² of them, against m²·9 for the definition.
Mat winograd_tile(const Mat& BT, const Mat& G, const Mat& AT, const Mat& d, const Mat& g) {
  const Mat U = matmul(matmul(G, g), transpose(G));    // filter transform, α x α
  const Mat V = matmul(matmul(BT, d), transpose(BT));  // input transform,  α x α
  Mat M = U;
  for (size_t i = 0; i < M.v.size(); ++i) M.v[i] = U.v[i] * V.v[i];  // α² multiplications
  return matmul(matmul(AT, M), transpose(AT));                       // output transform, m x m
}
// [/snippet]

// The definition: Y[i, j] = Σ d[i + kh, j + kw] · g[kh, kw] for an m x m output.
Mat correlate(const Mat& d, const Mat& g, int m) {
  Mat y{m, m, std::vector<double>(m * m, 0.0)};
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < m; ++j)
      for (int kh = 0; kh < 3; ++kh)
        for (int kw = 0; kw < 3; ++kw) y(i, j) += d(i + kh, j + kw) * g(kh, kw);
  return y;
}

double max_abs_diff(const Mat& a, const Mat& b) {
  double m = 0;
  for (size_t i = 0; i < a.v.size(); ++i) m = std::max(m, std::fabs(a.v[i] - b.v[i]));
  return m;
}

void one_dimension() {
  tut::section("1. F(2,3) in one dimension: 4 multiplications instead of 6");
  // [snippet:f23]
  const double d0 = 1, d1 = 2, d2 = 3, d3 = 4, g0 = 0.5, g1 = -1, g2 = 2;
  // Direct: y0 = d0 g0 + d1 g1 + d2 g2, y1 = d1 g0 + d2 g1 + d3 g2 (6 multiplications).
  const double y0 = d0 * g0 + d1 * g1 + d2 * g2, y1 = d1 * g0 + d2 * g1 + d3 * g2;
  // Winograd: the (g0 ± g1 + g2)/2 terms depend only on the filter and are computed once.
  const double m1 = (d0 - d2) * g0;
  const double m2 = (d1 + d2) * (g0 + g1 + g2) / 2;
  const double m3 = (d2 - d1) * (g0 - g1 + g2) / 2;
  const double m4 = (d1 - d3) * g2;
  const double w0 = m1 + m2 + m3, w1 = m2 - m3 - m4;
  // [/snippet]
  std::cout << "direct  : y = [" << y0 << ", " << y1 << "]\nwinograd: y = [" << w0 << ", " << w1
            << "]\n";
  check(w0 == y0 && w1 == y1, "m1 + m2 + m3 and m2 - m3 - m4 reproduce both outputs");
}

void one_tile() {
  tut::section("2. One 2-D tile through the transforms");
  dl::Generator gen(11);
  auto random = [&](int r, int c) {
    Mat a{r, c, std::vector<double>(r * c)};
    for (double& x : a.v) x = gen.normal();
    return a;
  };
  const Mat g = random(3, 3);
  const Mat d4 = random(4, 4), d6 = random(6, 6);
  const double err2 = max_abs_diff(winograd_tile(BT2, G2, AT2, d4, g), correlate(d4, g, 2));
  const double err4 = max_abs_diff(winograd_tile(BT4, G4, AT4, d6, g), correlate(d6, g, 4));
  std::cout << "F(2x2,3x3) vs definition: max |diff| " << tut::sci(err2) << "\n"
            << "F(4x4,3x3) vs definition: max |diff| " << tut::sci(err4) << "\n";
  check(err2 < 1e-13,
        "F(2x2,3x3): a 4x4 tile gives the 2x2 correlation (float64, exact up to rounding)");
  check(err4 < 1e-13, "F(4x4,3x3): a 6x6 tile gives the 4x4 correlation");

  // [snippet:count]
  std::vector<double> saving;
  for (int m : {2, 4}) {
    const int alpha = m + 2;
    const int winograd = alpha * alpha, direct = m * m * 9;
    saving.push_back(double(direct) / winograd);
    std::cout << "F(" << m << "x" << m << ",3x3): " << winograd << " multiplications per tile vs "
              << direct << " direct, " << saving.back() << "x fewer\n";
  }
  // [/snippet]
  check(saving[0] == 2.25, "F(2x2,3x3): 16 vs 36 multiplications per tile (2.25x fewer)");
  check(saving[1] == 4.0, "F(4x4,3x3): 36 vs 144 multiplications per tile (4x fewer)");
}

// Relative L2 error ||a - ref|| / ||ref||.
double rel_l2(const std::vector<float>& a, const std::vector<double>& ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (a[i] - ref[i]) * (a[i] - ref[i]);
    den += ref[i] * ref[i];
  }
  return std::sqrt(num / den);
}

double best_ms(const std::function<void()>& f) {
  double best = 1e30;
  for (int r = 0; r < 3; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(
        best,
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

void whole_layer() {
  tut::section("3. The library's Winograd kernels on a ResNet layer: error vs float64");
  dl::Generator gen(5);
  ConvGeom g;  // CIFAR ResNet stage 2: 32 -> 32 channels at 16x16, batch 4, pad 1
  g.N = 4, g.C = 32, g.H = 16, g.W = 16, g.OC = 32, g.KH = 3, g.KW = 3, g.pad_h = 1, g.pad_w = 1;
  std::vector<double> x64(g.N * g.C * g.H * g.W), w64(g.OC * g.C * 9);
  for (double& v : x64) v = gen.normal();
  for (double& v : w64) v = gen.normal() * std::sqrt(2.0 / (g.C * 9));  // MSRA scale
  const std::vector<float> x(x64.begin(), x64.end()), w(w64.begin(), w64.end());
  // [snippet:layer]
  std::vector<double> reference(g.N * g.OC * g.out_h() * g.out_w());
  kernels::conv2d_forward_direct<double>(g, x64.data(), w64.data(), nullptr, reference.data());
  std::vector<float> direct(reference.size()), im2col(reference.size()), wino2(reference.size()),
      wino4(reference.size());
  kernels::conv2d_forward_direct<float>(g, x.data(), w.data(), nullptr, direct.data());
  kernels::conv2d_forward_im2col<float>(g, x.data(), w.data(), nullptr, im2col.data());
  kernels::conv2d_forward_winograd(g, x.data(), w.data(), nullptr, wino2.data(), /*tile_m=*/2);
  kernels::conv2d_forward_winograd(g, x.data(), w.data(), nullptr, wino4.data(), /*tile_m=*/4);
  // [/snippet]
  const double e_direct = rel_l2(direct, reference), e_im2col = rel_l2(im2col, reference);
  const double e2 = rel_l2(wino2, reference), e4 = rel_l2(wino4, reference);
  std::cout << "relative L2 error vs float64 direct:\n"
            << "  direct (float32, double accumulation) " << tut::sci(e_direct) << "\n"
            << "  im2col + GEMM (float32)               " << tut::sci(e_im2col) << "\n"
            << "  Winograd F(2x2,3x3)                   " << tut::sci(e2) << "\n"
            << "  Winograd F(4x4,3x3)                   " << tut::sci(e4) << "\n";
  check(e2 < 1e-6, "F(2x2) is about as accurate as float32 GEMM (below 1e-6)");
  check(e4 < 1e-5, "F(4x4) stays below 1e-5 relative");
  check(e4 > 1.5 * e2,
        "F(4x4) has clearly larger error than F(2x2) (" + tut::fixed(e4 / e2, 1) + "x)");

#ifdef DL_WITH_OPENMP
  const int saved_threads = omp_get_max_threads();
  omp_set_num_threads(1);
#endif
  const double ms_im2col = best_ms([&] {
    kernels::conv2d_forward_im2col<float>(g, x.data(), w.data(), nullptr, im2col.data());
  });
  const double ms2 = best_ms(
      [&] { kernels::conv2d_forward_winograd(g, x.data(), w.data(), nullptr, wino2.data(), 2); });
  const double ms4 = best_ms(
      [&] { kernels::conv2d_forward_winograd(g, x.data(), w.data(), nullptr, wino4.data(), 4); });
#ifdef DL_WITH_OPENMP
  omp_set_num_threads(saved_threads);
#endif
  std::cout << "one thread: im2col + GEMM " << tut::fixed(ms_im2col, 3) << " ms, F(2x2) "
            << tut::fixed(ms2, 3) << " ms, F(4x4) " << tut::fixed(ms4, 3) << " ms\n";
}

}  // namespace

int main() {
  return tut::run([] {
    one_dimension();
    one_tile();
    whole_layer();
  });
}
