// test_conv.cpp — every convolution algorithm against the direct float64 reference, on every
// distinct convolution shape of CIFAR ResNet-20/56 and ImageNet ResNet-18/50 (batch 1-2), plus
// edge cases: tail tiles, 1x1 inputs, C = 1, padding 0/1/2, stride and dilation.
//
// Error metrics (kernel_test_util.h): rel_l2 = ||got - ref|| / ||ref|| and max_rel =
// max|got - ref| / max|ref|, the reference being conv2d_*_direct<double> on the same data
// widened to double. Bounds, and the ranges observed over all shapes here (each test prints
// its numbers; forward / backward-input / weight gradient alike):
//   im2col f32              rel_l2 < 5e-6  (observed 4e-8 .. 3e-7), max_rel < 5e-5 (< 1e-6)
//   Winograd F(2x2) f32     rel_l2 < 5e-6  (observed 4e-8 .. 7e-7), max_rel < 5e-5 (< 1e-6)
//   Winograd F(4x4) f32     rel_l2 < 2e-5  (observed 4e-8 .. 3.5e-6), max_rel < 1e-4 (< 1.4e-5;
//                           weight gradient over 1024 tiles: 4.7e-6 / 1.2e-5)
//   im2col f64              rel_l2 < 1e-12
//   direct f32              rel_l2 < 1e-7  (accumulates in double: correctly rounded-ish)
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <ostream>
#include <string>

#ifdef DL_WITH_OPENMP
#include <omp.h>
#endif

#include "kernel_test_util.h"
#include "tensor/kernels/conv.h"
#include "tensor/kernels/cpu.h"
#include "tensor/kernels/gemm_simd.h"

namespace dl::kernels {
namespace {

using testing::convert;
using testing::max_rel;
using testing::random_vec;
using testing::rel_l2;
using testing::Simd;
using testing::simd_name;
using testing::SimdScope;
using testing::available_simd;

struct Shape {
  const char* name;
  int64_t N, C, H, W, OC, KH, KW, sh, sw, ph, pw, dh, dw;
};

// Square kernel / stride / padding, no dilation.
constexpr Shape sq(const char* name, int64_t N, int64_t C, int64_t HW, int64_t OC, int64_t K,
                   int64_t s, int64_t p) {
  return Shape{name, N, C, HW, HW, OC, K, K, s, s, p, p, 1, 1};
}

ConvGeom geom(const Shape& s) {
  ConvGeom g;
  g.N = s.N, g.C = s.C, g.H = s.H, g.W = s.W, g.OC = s.OC, g.KH = s.KH, g.KW = s.KW;
  g.stride_h = s.sh, g.stride_w = s.sw, g.pad_h = s.ph, g.pad_w = s.pw;
  g.dil_h = s.dh, g.dil_w = s.dw;
  return g;
}

const Shape kShapes[] = {
    // CIFAR ResNet-20/56 (every distinct conv), batch 2.
    sq("cifar_3to16_32", 2, 3, 32, 16, 3, 1, 1),
    sq("cifar_16to16_32", 2, 16, 32, 16, 3, 1, 1),
    sq("cifar_16to32_s2", 2, 16, 32, 32, 3, 2, 1),
    sq("cifar_32to32_16", 2, 32, 16, 32, 3, 1, 1),
    sq("cifar_32to64_s2", 2, 32, 16, 64, 3, 2, 1),
    sq("cifar_64to64_8", 2, 64, 8, 64, 3, 1, 1),
    sq("cifar_proj_16to32_1x1s2", 2, 16, 32, 32, 1, 2, 0),
    sq("cifar_proj_32to64_1x1s2", 2, 32, 16, 64, 1, 2, 0),
    // ImageNet ResNet-18, batch 1.
    sq("in_stem_7x7s2", 1, 3, 224, 64, 7, 2, 3),
    sq("in_64to64_56", 1, 64, 56, 64, 3, 1, 1),
    sq("in_64to128_s2", 1, 64, 56, 128, 3, 2, 1),
    sq("in_128to128_28", 1, 128, 28, 128, 3, 1, 1),
    sq("in_128to256_s2", 1, 128, 28, 256, 3, 2, 1),
    sq("in_256to256_14", 1, 256, 14, 256, 3, 1, 1),
    sq("in_256to512_s2", 1, 256, 14, 512, 3, 2, 1),
    sq("in_512to512_7", 1, 512, 7, 512, 3, 1, 1),
    sq("in_proj_64to128_1x1s2", 1, 64, 56, 128, 1, 2, 0),
    sq("in_proj_128to256_1x1s2", 1, 128, 28, 256, 1, 2, 0),
    sq("in_proj_256to512_1x1s2", 1, 256, 14, 512, 1, 2, 0),
    // ImageNet ResNet-50 bottlenecks (stride on the 3x3, torchvision v1.5), batch 1.
    sq("bn_64to64_1x1_56", 1, 64, 56, 64, 1, 1, 0),
    sq("bn_64to256_1x1_56", 1, 64, 56, 256, 1, 1, 0),
    sq("bn_256to64_1x1_56", 1, 256, 56, 64, 1, 1, 0),
    sq("bn_256to128_1x1_56", 1, 256, 56, 128, 1, 1, 0),
    sq("bn_128to128_3x3s2_56", 1, 128, 56, 128, 3, 2, 1),
    sq("bn_128to512_1x1_28", 1, 128, 28, 512, 1, 1, 0),
    sq("bn_proj_256to512_1x1s2", 1, 256, 56, 512, 1, 2, 0),
    sq("bn_512to128_1x1_28", 1, 512, 28, 128, 1, 1, 0),
    sq("bn_512to256_1x1_28", 1, 512, 28, 256, 1, 1, 0),
    sq("bn_256to256_3x3s2_28", 1, 256, 28, 256, 3, 2, 1),
    sq("bn_256to1024_1x1_14", 1, 256, 14, 1024, 1, 1, 0),
    sq("bn_proj_512to1024_1x1s2", 1, 512, 28, 1024, 1, 2, 0),
    sq("bn_1024to256_1x1_14", 1, 1024, 14, 256, 1, 1, 0),
    sq("bn_1024to512_1x1_14", 1, 1024, 14, 512, 1, 1, 0),
    sq("bn_512to512_3x3s2_14", 1, 512, 14, 512, 3, 2, 1),
    sq("bn_512to2048_1x1_7", 1, 512, 7, 2048, 1, 1, 0),
    sq("bn_proj_1024to2048_1x1s2", 1, 1024, 14, 2048, 1, 2, 0),
    sq("bn_2048to512_1x1_7", 1, 2048, 7, 512, 1, 1, 0),
    // Edge cases: tails (H, W not multiples of 2 or 4), tiny inputs, C = 1, paddings.
    sq("tail_7x7", 2, 4, 7, 5, 3, 1, 1),
    Shape{"tail_5x9", 1, 3, 5, 9, 6, 3, 3, 1, 1, 1, 1, 1, 1},
    Shape{"tail_5x9_pad0", 2, 3, 5, 9, 6, 3, 3, 1, 1, 0, 0, 1, 1},
    sq("input_1x1", 2, 8, 1, 4, 3, 1, 1),
    sq("c1", 2, 1, 6, 3, 3, 1, 1),
    sq("oc1_pad0", 1, 5, 6, 1, 3, 1, 0),
    sq("pad2", 2, 3, 6, 4, 3, 1, 2),
    Shape{"mixed_pad", 1, 5, 9, 7, 3, 3, 3, 1, 1, 0, 2, 1, 1},
    Shape{"stride2_dil2", 2, 3, 11, 10, 4, 3, 3, 2, 2, 2, 2, 2, 2},
    Shape{"k5_s3", 1, 3, 13, 12, 4, 5, 5, 3, 3, 1, 1, 1, 1},
    Shape{"dil2_s1", 1, 4, 9, 9, 3, 3, 3, 1, 1, 2, 2, 2, 2},
    Shape{"k3x1_asym", 2, 3, 7, 6, 5, 3, 1, 1, 2, 1, 0, 1, 1},
    Shape{"pointwise_odd", 3, 5, 3, 7, 6, 1, 1, 1, 1, 0, 0, 1, 1},
    sq("n1_c16", 1, 16, 10, 16, 3, 1, 1),
    sq("c24_oc40", 2, 24, 7, 40, 3, 1, 1),  // column panels of 8, 24 and 40: masked SIMD tails
};

// Float inputs and float64 references for one shape, computed once and shared by the tests.
struct Case {
  ConvGeom g;
  std::vector<float> x, w, b, dy;
  std::vector<double> y, dx, dw;  // direct<double> on the same values widened to double
};

const Case& get_case(const Shape& s) {
  static std::map<std::string, Case> cache;
  auto it = cache.find(s.name);
  if (it != cache.end()) return it->second;
  Case c;
  c.g = geom(s);
  const ConvGeom& g = c.g;
  const int64_t OH = g.out_h(), OW = g.out_w();
  c.x = random_vec<float>(size_t(g.N * g.C * g.H * g.W), 11);
  c.w = random_vec<float>(size_t(g.OC * g.C * g.KH * g.KW), 12);
  c.b = random_vec<float>(size_t(g.OC), 13);
  c.dy = random_vec<float>(size_t(g.N * g.OC * OH * OW), 14);
  auto xd = convert<float, double>(c.x), wd = convert<float, double>(c.w);
  auto bd = convert<float, double>(c.b), dyd = convert<float, double>(c.dy);
  c.y.resize(c.dy.size());
  c.dx.resize(c.x.size());
  c.dw.resize(c.w.size());
  conv2d_forward_direct<double>(g, xd.data(), wd.data(), bd.data(), c.y.data());
  conv2d_backward_input_direct<double>(g, dyd.data(), wd.data(), c.dx.data());
  conv2d_backward_weight_direct<double>(g, dyd.data(), xd.data(), c.dw.data());
  return cache.emplace(s.name, std::move(c)).first->second;
}

// Runs one algorithm in float on the case and checks all three directions (dw only when
// `with_weight`), printing the observed errors.
struct Bounds {
  double l2, max;
};

void check_float(const Case& c, const char* label, ConvAlgo algo, Bounds bd, bool with_weight) {
  const ConvGeom& g = c.g;
  std::vector<float> y(c.y.size(), -7.0f), dx(c.dx.size(), -7.0f), dw(c.dw.size(), -7.0f);
  conv2d_forward<float>(g, c.x.data(), c.w.data(), c.b.data(), y.data(), algo);
  conv2d_backward_input<float>(g, c.dy.data(), c.w.data(), dx.data(), algo);
  const double ey = rel_l2(y, c.y), my = max_rel(y, c.y);
  const double ex = rel_l2(dx, c.dx), mx = max_rel(dx, c.dx);
  EXPECT_LT(ey, bd.l2) << label << " forward";
  EXPECT_LT(my, bd.max) << label << " forward";
  EXPECT_LT(ex, bd.l2) << label << " backward_input";
  EXPECT_LT(mx, bd.max) << label << " backward_input";
  double ew = 0, mw = 0;
  if (with_weight) {
    conv2d_backward_weight<float>(g, c.dy.data(), c.x.data(), dw.data(), algo);
    ew = rel_l2(dw, c.dw), mw = max_rel(dw, c.dw);
    EXPECT_LT(ew, bd.l2) << label << " backward_weight";
    EXPECT_LT(mw, bd.max) << label << " backward_weight";
  }
  std::printf("  %-12s rel_l2 fwd %.1e bwd_in %.1e bwd_w %.1e | max_rel %.1e %.1e %.1e\n", label,
              ey, ex, ew, my, mx, mw);
}

constexpr Bounds kIm2colF32{5e-6, 5e-5};
constexpr Bounds kF2x2{5e-6, 5e-5};
constexpr Bounds kF4x4{2e-5, 1e-4};

class ConvShapes : public ::testing::TestWithParam<Shape> {};

// gtest prints parameters in failure messages and ctest names: show the shape's name.
void PrintTo(const Shape& s, std::ostream* os) { *os << s.name; }

// Every float algorithm on one shape, sharing one float64 reference (so ctest, which runs each
// test in its own process, computes each reference once).
TEST_P(ConvShapes, FloatAlgorithmsMatchDirect) {
  const Case& c = get_case(GetParam());
  check_float(c, "auto", ConvAlgo::Auto, kF4x4, true);  // Auto may pick F(4x4)
  // The portable path, and the SIMD ones this CPU has: im2col's GEMM is OpenBLAS, or our own
  // kernel packing from the image (AVX-512; AVX2 from 512 output pixels).
  for (Simd simd : available_simd()) {
    SimdScope scope(simd);
    check_float(c, ("im2col " + simd_name(simd)).c_str(), ConvAlgo::Im2col, kIm2colF32, true);
    if (!winograd_applicable(c.g)) continue;
    check_float(c, ("wino2 " + simd_name(simd)).c_str(), ConvAlgo::Winograd2x2, kF2x2, true);
    check_float(c, ("wino4 " + simd_name(simd)).c_str(), ConvAlgo::Winograd4x4, kF4x4, true);
  }
}

TEST_P(ConvShapes, Im2colDoubleMatchesDirect) {
  if (geom(GetParam()).macs() > 20000000) GTEST_SKIP() << "large layer: float checks cover it";
  const Case& c = get_case(GetParam());
  const ConvGeom& g = c.g;
  auto xd = convert<float, double>(c.x), wd = convert<float, double>(c.w);
  auto bd = convert<float, double>(c.b), dyd = convert<float, double>(c.dy);
  std::vector<double> y(c.y.size()), dx(c.dx.size()), dw(c.dw.size());
  // Auto in double is im2col; Winograd requests fall back to it too.
  conv2d_forward<double>(g, xd.data(), wd.data(), bd.data(), y.data());
  conv2d_backward_input<double>(g, dyd.data(), wd.data(), dx.data(), ConvAlgo::Winograd4x4);
  conv2d_backward_weight<double>(g, dyd.data(), xd.data(), dw.data(), ConvAlgo::Im2col);
  EXPECT_LT(rel_l2(y, c.y), 1e-12);
  EXPECT_LT(rel_l2(dx, c.dx), 1e-12);
  EXPECT_LT(rel_l2(dw, c.dw), 1e-12);
}

TEST_P(ConvShapes, DirectFloatMatchesDirectDouble) {
  if (geom(GetParam()).macs() > 2000000) GTEST_SKIP() << "large layer";
  const Case& c = get_case(GetParam());
  check_float(c, "direct", ConvAlgo::Direct, Bounds{1e-7, 1e-6}, true);
}

INSTANTIATE_TEST_SUITE_P(Kernels, ConvShapes, ::testing::ValuesIn(kShapes),
                         [](const ::testing::TestParamInfo<Shape>& info) {
                           return std::string(info.param.name);
                         });

// <col2im(c), x> == <c, im2col(x)> for random x and c: col2im is im2col's adjoint, which is
// exactly what backward-input needs.
TEST(Im2col, Col2imIsAdjoint) {
  for (const Shape& s : {sq("a", 1, 3, 7, 1, 3, 1, 1), Shape{"b", 1, 2, 11, 10, 1, 3, 3, 2, 2, 2, 2, 2, 2},
                         Shape{"c", 1, 4, 9, 7, 1, 5, 3, 3, 1, 1, 0, 1, 2},
                         sq("d", 1, 5, 6, 1, 1, 2, 0), sq("e", 1, 2, 1, 1, 3, 1, 1)}) {
    const ConvGeom g = geom(s);
    const int64_t rows = g.C * g.KH * g.KW, cols = g.out_h() * g.out_w();
    auto x = random_vec<double>(size_t(g.C * g.H * g.W), 21);
    auto c = random_vec<double>(size_t(rows * cols), 22);
    std::vector<double> col(c.size(), 5.0), back(x.size(), 0.0);
    im2col<double>(g, x.data(), col.data());
    col2im<double>(g, c.data(), back.data());
    double lhs = 0, rhs = 0;
    for (size_t i = 0; i < x.size(); ++i) lhs += back[i] * x[i];
    for (size_t i = 0; i < c.size(); ++i) rhs += c[i] * col[i];
    EXPECT_NEAR(lhs, rhs, 1e-12 * (1 + std::abs(rhs))) << s.name;
  }
}

// Weight gradients are reduced over per-thread partials in a fixed order: same bits each run.
TEST(Im2col, BackwardWeightIsDeterministic) {
  const ConvGeom g = geom(sq("det", 7, 16, 12, 16, 3, 1, 1));
  auto dy = random_vec<float>(size_t(g.N * g.OC * g.out_h() * g.out_w()), 31);
  auto x = random_vec<float>(size_t(g.N * g.C * g.H * g.W), 32);
  std::vector<float> a(size_t(g.OC * g.C * 9)), b(a.size());
  conv2d_backward_weight_im2col<float>(g, dy.data(), x.data(), a.data());
  conv2d_backward_weight_im2col<float>(g, dy.data(), x.data(), b.data());
  EXPECT_EQ(a, b);
}

TEST(ConvDispatch, NamesAndApplicability) {
  EXPECT_STREQ(conv_algo_name(ConvAlgo::Auto), "auto");
  EXPECT_STREQ(conv_algo_name(ConvAlgo::Direct), "direct");
  EXPECT_STREQ(conv_algo_name(ConvAlgo::Im2col), "im2col");
  EXPECT_STREQ(conv_algo_name(ConvAlgo::Winograd2x2), "winograd2x2");
  EXPECT_STREQ(conv_algo_name(ConvAlgo::Winograd4x4), "winograd4x4");
  EXPECT_TRUE(winograd_applicable(geom(sq("w", 1, 16, 32, 16, 3, 1, 1))));
  EXPECT_TRUE(winograd_applicable(geom(sq("w0", 1, 16, 32, 16, 3, 1, 0))));
  EXPECT_FALSE(winograd_applicable(geom(sq("s2", 1, 16, 32, 16, 3, 2, 1))));
  EXPECT_FALSE(winograd_applicable(geom(sq("k1", 1, 16, 32, 16, 1, 1, 0))));
  EXPECT_FALSE(winograd_applicable(geom(Shape{"d2", 1, 4, 9, 9, 3, 3, 3, 1, 1, 2, 2, 2, 2})));
}

// A Winograd request on a layer Winograd cannot do (stride 2) runs im2col, still correct.
TEST(ConvDispatch, InapplicableWinogradFallsBack) {
  const Case& c = get_case(sq("cifar_16to32_s2", 2, 16, 32, 32, 3, 2, 1));
  check_float(c, "wino->im2col", ConvAlgo::Winograd4x4, kIm2colF32, true);
}

// Backward-input with padding 3 (> 2) has no Winograd form; the dispatcher must notice.
TEST(ConvDispatch, WinogradBackwardPad3FallsBack) {
  const Case& c = get_case(sq("pad3", 1, 3, 6, 4, 3, 1, 3));
  check_float(c, "pad3", ConvAlgo::Winograd2x2, kF2x2, true);
}

// Filters prepared once (prepare_conv2d_filters) give the very same output as transforming
// them in the call, on every kernel set and tile size, including channel counts that are not
// multiples of 8 (the AVX2 layout pads them); prepared filters that do not fit the call (other
// algorithm, other layout) are ignored rather than misread.
TEST(ConvDispatch, PreparedFiltersGiveTheSameOutput) {
  for (const Shape& s : {sq("in_256to256_14", 1, 256, 14, 256, 3, 1, 1),
                         sq("c24_oc40", 2, 24, 7, 40, 3, 1, 1), sq("c1", 2, 1, 6, 3, 3, 1, 1)}) {
    const Case& c = get_case(s);
    const ConvGeom& g = c.g;
    for (Simd simd : available_simd()) {
      SimdScope scope(simd);
      for (ConvAlgo algo : {ConvAlgo::Winograd2x2, ConvAlgo::Winograd4x4}) {
        const std::string label = std::string(s.name) + " " + simd_name(simd) + " " +
                                  conv_algo_name(algo);
        const PreparedFilters p = prepare_conv2d_filters(g, c.w.data(), algo);
        EXPECT_EQ(p.algo, algo) << label;
        EXPECT_FALSE(p.data.empty()) << label;
        std::vector<float> fresh(c.y.size()), reused(c.y.size(), -7.0f);
        conv2d_forward<float>(g, c.x.data(), c.w.data(), c.b.data(), fresh.data(), algo);
        conv2d_forward<float>(g, c.x.data(), c.w.data(), c.b.data(), reused.data(), algo, &p);
        EXPECT_EQ(reused, fresh) << label;
      }
      // F(2x2) filters handed to an F(4x4) call, or to another kernel set, are not used.
      const PreparedFilters p2 = prepare_conv2d_filters(g, c.w.data(), ConvAlgo::Winograd2x2);
      std::vector<float> y4(c.y.size());
      conv2d_forward<float>(g, c.x.data(), c.w.data(), c.b.data(), y4.data(),
                            ConvAlgo::Winograd4x4, &p2);
      EXPECT_LT(rel_l2(y4, c.y), kF4x4.l2) << s.name << " " << simd_name(simd);
      PreparedFilters other_layout = p2;
      other_layout.layout = std::string(other_layout.layout) == "avx2" ? "portable" : "avx2";
      std::vector<float> y2(c.y.size());
      conv2d_forward<float>(g, c.x.data(), c.w.data(), c.b.data(), y2.data(),
                            ConvAlgo::Winograd2x2, &other_layout);
      EXPECT_LT(rel_l2(y2, c.y), kF2x2.l2) << s.name << " " << simd_name(simd);
    }
  }
}

// Auto's tile choice counts the filter transform only when the call pays for it: at batch 1,
// 128 -> 128 at 28x28 (49 F(4x4) tiles) takes F(2x2) transforming per call, F(4x4) with
// prepared filters; 256 -> 256 at 14x14 (16 tiles) F(2x2) either way, where Winograd runs
// 256-channel layers at all (without AVX-512 GEMMs).
TEST(ConvDispatch, PreparedFiltersFavourF4x4) {
  if (!use_avx2()) GTEST_SKIP() << "Auto picks Winograd only with the AVX2 kernels";
  const ConvGeom g128 = geom(sq("in_128to128_28", 1, 128, 28, 128, 3, 1, 1));
  const ConvGeom g256 = geom(sq("in_256to256_14", 1, 256, 14, 256, 3, 1, 1));
  EXPECT_EQ(conv2d_forward_algo<float>(g128, ConvAlgo::Auto, false), ConvAlgo::Winograd2x2);
  EXPECT_EQ(conv2d_forward_algo<float>(g128, ConvAlgo::Auto, true), ConvAlgo::Winograd4x4);
  // 256 channels at batch 1: Winograd only without AVX-512 GEMMs (auto_winograd), then F(2x2)
  // (16 tiles).
  EXPECT_EQ(conv2d_forward_algo<float>(g256, ConvAlgo::Auto, true),
            use_avx512() ? ConvAlgo::Im2col : ConvAlgo::Winograd2x2);
  EXPECT_EQ(prepare_conv2d_filters(g128, get_case(sq("in_128to128_28", 1, 128, 28, 128, 3, 1, 1))
                                             .w.data())
                .algo,
            ConvAlgo::Winograd4x4);
}

// With AVX-512 GEMMs a 256-channel layer takes Winograd only with many tiles (batch 16 at 14x14:
// 784 F(2x2) tiles, not batch 1: 49), and then F(2x2) in every pass; a 512-channel one never.
TEST(ConvDispatch, Avx512Takes256ChannelWinogradOnlyWithManyTiles) {
  if (!use_avx512()) GTEST_SKIP() << "the rule for AVX-512 GEMMs";
  const ConvGeom b1 = geom(sq("in_256to256_14", 1, 256, 14, 256, 3, 1, 1));
  const ConvGeom b16 = geom(sq("in_256to256_14", 16, 256, 14, 256, 3, 1, 1));
  const ConvGeom c512 = geom(sq("in_512to512_7", 64, 512, 7, 512, 3, 1, 1));
  EXPECT_EQ(conv2d_forward_algo<float>(b1, ConvAlgo::Auto, true), ConvAlgo::Im2col);
  EXPECT_EQ(conv2d_forward_algo<float>(b16, ConvAlgo::Auto, false), ConvAlgo::Winograd2x2);
  EXPECT_EQ(conv2d_forward_algo<float>(b16, ConvAlgo::Auto, true), ConvAlgo::Winograd2x2);
  EXPECT_EQ(conv2d_forward_algo<float>(c512, ConvAlgo::Auto, false), ConvAlgo::Im2col);
}

// Algorithms that read the weights as they are have nothing to prepare.
TEST(ConvDispatch, OnlyWinogradPreparesFilters) {
  const Case& c = get_case(sq("cifar_16to32_s2", 2, 16, 32, 32, 3, 2, 1));
  const PreparedFilters p = prepare_conv2d_filters(c.g, c.w.data(), ConvAlgo::Winograd2x2);
  EXPECT_EQ(p.algo, ConvAlgo::Im2col);  // stride 2: the request falls back to im2col
  EXPECT_TRUE(p.data.empty());
}

}  // namespace
}  // namespace dl::kernels

namespace dl::kernels {
namespace {

#ifdef DL_WITH_OPENMP
// Every threading mode: one thread; more threads than images (each image split across
// threads); more images than threads (whole images per thread, per-thread dw partials).
TEST(ConvThreads, AllModesMatchDirect) {
  const int saved = omp_get_max_threads();
  for (int threads : {1, 3}) {
    omp_set_num_threads(threads);
    for (int64_t n : {1, 2, 5}) {
      const Shape s = sq("thr", n, 16, 9, 24, 3, 1, 1);
      Case c;  // not cached: N varies
      c.g = geom(s);
      const ConvGeom& g = c.g;
      c.x = random_vec<float>(size_t(g.N * g.C * g.H * g.W), 41);
      c.w = random_vec<float>(size_t(g.OC * g.C * 9), 42);
      c.b = random_vec<float>(size_t(g.OC), 43);
      c.dy = random_vec<float>(size_t(g.N * g.OC * g.out_h() * g.out_w()), 44);
      auto xd = convert<float, double>(c.x), wd = convert<float, double>(c.w);
      auto bd = convert<float, double>(c.b), dyd = convert<float, double>(c.dy);
      c.y.resize(c.dy.size());
      c.dx.resize(c.x.size());
      c.dw.resize(c.w.size());
      conv2d_forward_direct<double>(g, xd.data(), wd.data(), bd.data(), c.y.data());
      conv2d_backward_input_direct<double>(g, dyd.data(), wd.data(), c.dx.data());
      conv2d_backward_weight_direct<double>(g, dyd.data(), xd.data(), c.dw.data());
      SCOPED_TRACE("threads=" + std::to_string(threads) + " N=" + std::to_string(n));
      check_float(c, "im2col", ConvAlgo::Im2col, kIm2colF32, true);
      for (Simd simd : available_simd()) {
        SimdScope scope(simd);
        check_float(c, ("wino2 " + simd_name(simd)).c_str(), ConvAlgo::Winograd2x2, kF2x2, true);
        check_float(c, ("wino4 " + simd_name(simd)).c_str(), ConvAlgo::Winograd4x4, kF4x4, true);
      }
    }
  }
  omp_set_num_threads(saved);
}
#endif

#ifdef DL_WITH_OPENMP
// The forward's blocks (batch 1) and groups of images (batch 5) go to whichever thread is free
// (a slower core takes fewer); each computes outputs of its own, so every run gives the same
// bits whatever the timing.
TEST(ConvWinograd, ForwardGivesTheSameBitsWhicheverThreadTakesABlock) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(3);
  for (int64_t n : {1, 5}) {
    const ConvGeom g = geom(sq("wf", n, 16, 30, 24, 3, 1, 1));
    auto x = random_vec<float>(size_t(g.N * g.C * g.H * g.W), 55);
    auto w = random_vec<float>(size_t(g.OC * g.C * 9), 56);
    for (Simd simd : available_simd()) {
      SimdScope scope(simd);
      for (int m : {2, 4}) {
        std::vector<float> first(size_t(g.N * g.OC * g.out_h() * g.out_w()));
        conv2d_forward_winograd(g, x.data(), w.data(), nullptr, first.data(), m);
        for (int run = 0; run < 5; ++run) {
          std::vector<float> again(first.size());
          conv2d_forward_winograd(g, x.data(), w.data(), nullptr, again.data(), m);
          EXPECT_EQ(again, first) << "N " << n << " F(" << m << "x" << m << ") "
                                  << simd_name(simd);
        }
      }
    }
  }
  omp_set_num_threads(saved);
}
#endif

// A weight gradient summed over many tiles (batch 16, 32x32: 1024 F(4x4) tiles per channel
// pair) stays within the bounds, and repeated runs give identical bits.
TEST(ConvWinograd, WeightGradLargeBatchAccurateAndDeterministic) {
  const ConvGeom g = geom(sq("wg", 16, 16, 32, 16, 3, 1, 1));
  auto dy = random_vec<float>(size_t(g.N * g.OC * g.out_h() * g.out_w()), 51);
  auto x = random_vec<float>(size_t(g.N * g.C * g.H * g.W), 52);
  std::vector<double> ref(size_t(g.OC * g.C * 9));
  auto dyd = convert<float, double>(dy), xd = convert<float, double>(x);
  conv2d_backward_weight_direct<double>(g, dyd.data(), xd.data(), ref.data());
  for (Simd simd : available_simd()) {
    SimdScope scope(simd);
    for (int m : {2, 4}) {
      std::vector<float> a(ref.size()), b(ref.size());
      conv2d_backward_weight_winograd(g, dy.data(), x.data(), a.data(), m);
      conv2d_backward_weight_winograd(g, dy.data(), x.data(), b.data(), m);
      EXPECT_EQ(a, b) << "F(" << m << "x" << m << ") " << simd_name(simd);
      const Bounds bd = m == 2 ? kF2x2 : kF4x4;
      EXPECT_LT(rel_l2(a, ref), bd.l2) << m << " " << simd_name(simd);
      EXPECT_LT(max_rel(a, ref), bd.max) << m << " " << simd_name(simd);
      std::printf("  F(%dx%d) %s dw batch 16: rel_l2 %.1e max_rel %.1e\n", m, m,
                  simd_name(simd).c_str(), rel_l2(a, ref), max_rel(a, ref));
    }
  }
}


// The im2col forward that packs GEMM strips straight from the image (gemm_blocked.h), called
// directly: conv2d_forward() takes it on AVX2 only for layers of 512+ output pixels, whose
// ResNet sizes are whole strips, so the partial strips, pieces split across output rows,
// stride-2 gathers, padding, dilation, C = 1, the row/strip/depth splits, the strips split's
// chunks and the depth split's blocks of channels (several per thread, the last one partial)
// are checked here, each with and without bias, sharing the image between threads and not, and
// with each split forced (DL_CONV_SPLIT).
// Shared, the rows and strips splits must give the same bits as one thread, and the depth
// split the same bits every time.
TEST(ConvIm2col, ImagePackedForwardMatchesDirect) {
  const Shape shapes[] = {
      sq("tail_5x5", 1, 3, 5, 7, 3, 1, 1),       // 25 pixels: one partial strip
      sq("c1_oc1", 1, 1, 9, 1, 3, 1, 0),         // C = 1, OC = 1, no padding
      sq("s2_odd", 1, 8, 15, 13, 3, 2, 1),       // stride-2 gathers, odd sizes
      sq("stem_7x7s2", 1, 3, 23, 16, 7, 2, 3),   // wide taps across strip rows
      sq("chunks", 1, 3, 61, 8, 7, 2, 3),        // 961 pixels: the strips split packs in chunks
      sq("pw_1x1", 1, 20, 11, 30, 1, 1, 0),      // pointwise, 121 pixels
      sq("1x1_s2", 1, 16, 13, 20, 1, 2, 0),      // strided 1x1 (not pointwise)
      sq("rows_split", 1, 40, 6, 70, 3, 1, 1),   // few pixels, many channels
      sq("strips_split", 1, 4, 40, 8, 3, 1, 1),  // many pixels, few channels
      Shape{"dilated", 1, 5, 12, 11, 9, 3, 3, 1, 1, 2, 2, 2, 2},
      sq("deep_k", 1, 64, 7, 12, 3, 1, 1),       // K = 576: two slices of 256 + a partial one;
                                                 // depth split: blocks of 28 + 4 channels
      sq("big_taps", 1, 4, 20, 6, 17, 1, 8)};    // 289 taps: one channel is more than a slice
  for (Simd simd : available_simd()) {
    SimdScope scope(simd);
    if (!use_avx2()) continue;  // the packed forward exists on the SIMD paths only
    for (const Shape& s : shapes) {
      const ConvGeom g = geom(s);
      const bool pointwise = s.KH == 1 && s.KW == 1 && s.sh == 1 && s.ph == 0;
      const int64_t Y = g.OC * g.out_h() * g.out_w();
      auto x = random_vec<float>(size_t(g.C * g.H * g.W), 61);
      auto w = random_vec<float>(size_t(g.OC * g.C * g.KH * g.KW), 62);
      auto b = random_vec<float>(size_t(g.OC), 63);
      auto xd = convert<float, double>(x), wd = convert<float, double>(w);
      auto bd = convert<float, double>(b);
      for (const char* split : {"", "rows", "strips", "depth"})
        for (bool bias : {false, true})
          for (bool parallel : {false, true}) {
            std::vector<double> ref(static_cast<size_t>(Y));
            conv2d_forward_direct<double>(g, xd.data(), wd.data(), bias ? bd.data() : nullptr,
                                          ref.data());
            // y with the split `with` forced ("" lets the kernel choose).
            auto forward = [&](const char* with, bool shared) {
              std::vector<float> out(static_cast<size_t>(Y), -7.0f);
              if (*with) setenv("DL_CONV_SPLIT", with, 1);
              conv2d_forward_image_simd(g, pointwise, x.data(), w.data(),
                                        bias ? b.data() : nullptr, out.data(), shared);
              unsetenv("DL_CONV_SPLIT");
              return out;
            };
            const std::vector<float> y = forward(split, parallel);
            EXPECT_LT(rel_l2(y, ref), kIm2colF32.l2) << s.name << " " << simd_name(simd)
                                                     << " split " << split << " bias " << bias
                                                     << " parallel " << parallel;
            EXPECT_LT(max_rel(y, ref), kIm2colF32.max)
                << s.name << " " << simd_name(simd) << " split " << split;
            if (!parallel || !*split) continue;
            // The rows and strips splits compute every value the same way whichever thread
            // takes it: the same bits as one thread left to pick its own split. The depth
            // split adds its parts up in one order: the same bits every time.
            const bool depth = std::strcmp(split, "depth") == 0;
            EXPECT_EQ(y, depth ? forward(split, true) : forward("", false))
                << s.name << " " << simd_name(simd) << " split " << split;
          }
    }
  }
}
}  // namespace
}  // namespace dl::kernels
