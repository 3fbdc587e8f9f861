// test_conv_epilogue.cpp — the forward convolution's epilogue (ConvEpilogue: eval-mode
// BatchNorm, residual add, ReLU applied as the output is stored) gives, bit for bit, what the
// plain convolution followed by those operations gives, on every algorithm and SIMD path, for
// every part alone and together, at batch 1 (threads share one image, split by rows, strips or
// depth) and batch 3 (one image per thread), with tails and a K deep enough to take several
// slices.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "kernel_test_util.h"
#include "tensor/kernels/conv.h"

namespace dl::kernels {
namespace {

using testing::available_simd;
using testing::random_vec;
using testing::Simd;
using testing::simd_name;
using testing::SimdScope;

ConvGeom square(int64_t N, int64_t C, int64_t HW, int64_t OC, int64_t K, int64_t stride,
                int64_t pad) {
  ConvGeom g;
  g.N = N, g.C = C, g.H = g.W = HW, g.OC = OC, g.KH = g.KW = K;
  g.stride_h = g.stride_w = stride, g.pad_h = g.pad_w = pad;
  return g;
}

// The epilogue written out as the separate ops compute it (batch_norm_eval_forward, add_relu).
void epilogue_by_hand(const ConvGeom& g, const ConvEpilogue<float>& e, std::vector<float>& y) {
  const int64_t P = g.out_h() * g.out_w();
  for (int64_t i = 0; i < int64_t(y.size()); ++i) {
    const int64_t oc = (i / P) % g.OC;
    float v = y[size_t(i)];
    if (e.mean != nullptr) v = (v - e.mean[oc]) * e.scale[oc] + e.shift[oc];
    if (e.residual != nullptr) v = v + e.residual[i];
    if (e.relu) v = (v > 0.0f || v != v) ? v : 0.0f;
    y[size_t(i)] = v;
  }
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Each part alone and all together, on a pointwise layer, a 3x3 stride-1 layer (Winograd
// applies) with K = 360 (two slices of the SIMD GEMM), a strided one, and one of 576 output
// pixels (the AVX2 path packs from the image from 512); OC and the pixel counts are not
// multiples of the register tiles.
TEST(ConvEpilogue, EveryAlgorithmAppliesItBitForBit) {
  for (const ConvGeom& g : {square(1, 16, 9, 20, 1, 1, 0), square(3, 16, 9, 20, 1, 1, 0),
                            square(1, 40, 12, 26, 3, 1, 1), square(3, 40, 12, 26, 3, 1, 1),
                            square(1, 24, 11, 14, 3, 2, 1), square(1, 8, 24, 20, 3, 1, 1),
                            square(2, 8, 24, 20, 3, 1, 1)}) {
    const int64_t Y = g.N * g.OC * g.out_h() * g.out_w();
    const auto x = random_vec<float>(size_t(g.N * g.C * g.H * g.W), 1);
    const auto w = random_vec<float>(size_t(g.OC * g.C * g.KH * g.KW), 2);
    const auto mean = random_vec<float>(size_t(g.OC), 3);
    const auto scale = random_vec<float>(size_t(g.OC), 4, 0.5, 2.0);
    const auto shift = random_vec<float>(size_t(g.OC), 5);
    const auto residual = random_vec<float>(size_t(Y), 6, -3.0, 3.0);
    ConvEpilogue<float> bn, res, relu, all;
    bn.mean = all.mean = mean.data();
    bn.scale = all.scale = scale.data();
    bn.shift = all.shift = shift.data();
    res.residual = all.residual = residual.data();
    relu.relu = all.relu = true;
    for (Simd simd : available_simd()) {
      SimdScope scope(simd);
      for (ConvAlgo algo : {ConvAlgo::Direct, ConvAlgo::Im2col, ConvAlgo::Winograd2x2,
                            ConvAlgo::Winograd4x4}) {
        std::vector<float> plain(static_cast<size_t>(Y));
        conv2d_forward<float>(g, x.data(), w.data(), nullptr, plain.data(), algo);
        for (const auto& [e, what] : {std::pair{&bn, "bn"}, std::pair{&res, "residual"},
                                      std::pair{&relu, "relu"}, std::pair{&all, "all"}})
          for (const char* split : {"", "rows", "strips", "depth"}) {
            std::vector<float> want = plain, got(size_t(Y), -7.0f);
            epilogue_by_hand(g, *e, want);
            if (*split) setenv("DL_CONV_SPLIT", split, 1);  // the SIMD im2col's thread split
            conv2d_forward<float>(g, x.data(), w.data(), nullptr, got.data(), algo, nullptr, e);
            if (*split) {  // the plain convolution again, split the same way
              want.assign(size_t(Y), 0.0f);
              conv2d_forward<float>(g, x.data(), w.data(), nullptr, want.data(), algo);
              epilogue_by_hand(g, *e, want);
            }
            unsetenv("DL_CONV_SPLIT");
            EXPECT_TRUE(same_bits(got, want))
                << "N " << g.N << " C " << g.C << " K " << g.KH << " s " << g.stride_h << " "
                << simd_name(simd) << " " << conv_algo_name(algo) << " " << what << " split "
                << split;
          }
      }
    }
  }
}

// The ReLU follows dl::relu's rule, not max(0, v): -0 becomes +0 and NaN passes through.
TEST(ConvEpilogue, ReluTurnsNegativeZeroPositiveAndKeepsNaN) {
  const ConvGeom g = square(1, 8, 10, 13, 1, 1, 0);
  const int64_t Y = g.OC * g.out_h() * g.out_w();
  const auto x = random_vec<float>(size_t(g.C * g.H * g.W), 7);
  const std::vector<float> w(size_t(g.OC * g.C), 0.0f);  // the convolution gives +0
  const std::vector<float> mean(size_t(g.OC), 0.0f), scale(size_t(g.OC), -1.0f);
  const std::vector<float> shift(size_t(g.OC), -0.0f);  // (0 - 0)·(-1) + (-0) = -0
  std::vector<float> residual(size_t(Y), -0.0f);
  residual[5] = std::numeric_limits<float>::quiet_NaN();
  ConvEpilogue<float> e;
  e.mean = mean.data(), e.scale = scale.data(), e.shift = shift.data();
  e.residual = residual.data();
  e.relu = true;
  for (Simd simd : available_simd()) {
    SimdScope scope(simd);
    std::vector<float> y(static_cast<size_t>(Y), -7.0f);
    conv2d_forward<float>(g, x.data(), w.data(), nullptr, y.data(), ConvAlgo::Im2col, nullptr,
                          &e);
    EXPECT_TRUE(std::isnan(y[5])) << simd_name(simd);
    for (int64_t i = 0; i < Y; ++i) {
      if (i == 5) continue;
      EXPECT_EQ(y[size_t(i)], 0.0f) << simd_name(simd) << " at " << i;
      EXPECT_FALSE(std::signbit(y[size_t(i)])) << simd_name(simd) << " -0 at " << i;
    }
  }
}

}  // namespace
}  // namespace dl::kernels
