// test_msra.cpp — why MSRA init exists (He et al. 2015, §2.2). Each weight + ReLU layer
// multiplies the mean square of the activations by fan·Var[w]/2 in expectation. MSRA makes
// that factor exactly 1; a naive N(0, 0.01²) init makes it a few percent, so after 50 layers
// the signal (and with it the gradient) is gone, and a naive std of 0.1 explodes instead.
//
// We measure E[h²] of the last ReLU's output over E[x²] of the input: the quantity the
// derivation keeps constant (the variance of a ReLU output is 1 - 1/π of it). Finite width
// adds a random walk on top: log E[h²] wanders with a standard deviation of roughly
// sqrt(5·depth/width) (Hanin and Nica, "Products of many large random matrices and gradients
// in deep neural networks", 2019). The 1024-wide MLP keeps a 50-layer walk well inside
// 0.25..4; a conv stack's width is its channel count, so 50 conv layers wander further
// (within an order of magnitude at 64 channels) while the naive init loses everything.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <vector>

#include "autograd/grad_mode.h"
#include "nn/activation.h"
#include "nn/conv2d.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn_test_util.h"

namespace dl::nn {
namespace {

using InitFn = std::function<void(Tensor&, Generator&)>;

double mean_square(const Tensor& t) {
  const Tensor d = t.to(DType::Float64);
  return mean(mul(d, d)).item();
}

/// E[net(x)²] / E[x²], run in eval mode without a tape.
double mean_square_ratio(Module& net, const Tensor& x) {
  ag::NoGradGuard no_grad;
  net.eval();
  return mean_square(net(ag::Variable(x)).data()) / mean_square(x);
}

/// @p depth x (Linear(width, width, no bias) + ReLU), weights drawn by @p init_weight.
std::shared_ptr<Sequential> mlp(int depth, int64_t width, const InitFn& init_weight) {
  Generator gen(2015);
  auto net = std::make_shared<Sequential>();
  for (int i = 0; i < depth; ++i) {
    auto fc = std::make_shared<Linear>(width, width, /*bias=*/false);
    init_weight(fc->weight().data(), gen);
    net->push_back(fc);
    net->push_back(std::make_shared<ReLU>());
  }
  return net;
}

/// @p depth x (Conv2d 3x3, channels -> channels, no bias + ReLU).
std::shared_ptr<Sequential> conv_stack(int depth, int64_t channels, const InitFn& init_weight,
                                       int64_t padding = 1, uint64_t seed = 2016) {
  Generator gen(seed);
  auto net = std::make_shared<Sequential>();
  for (int i = 0; i < depth; ++i) {
    auto conv = std::make_shared<Conv2d>(channels, channels, 3, 1, padding, /*bias=*/false);
    init_weight(conv->weight().data(), gen);
    net->push_back(conv);
    net->push_back(std::make_shared<ReLU>());
  }
  return net;
}

Tensor input(const Shape& shape) {
  Generator gen(7);
  return Tensor::randn(shape, gen);
}

void msra(Tensor& w, Generator& gen) { init::kaiming_normal_(w, gen, init::FanMode::FanIn); }
void naive_001(Tensor& w, Generator& gen) { init::normal_(w, gen, 0.0, 0.01); }
void naive_01(Tensor& w, Generator& gen) { init::normal_(w, gen, 0.0, 0.1); }

double report(const char* what, double ratio) {
  std::printf("[ MSRA     ] %-48s E[h^2]/E[x^2] = %.4g\n", what, ratio);
  return ratio;
}

TEST(Msra, FiftyLinearLayersKeepTheScaleWithKaimingNormal) {
  const double r = report("50 x Linear(1024)+ReLU, kaiming_normal fan_in",
                          mean_square_ratio(*mlp(50, 1024, msra), input({32, 1024})));
  EXPECT_GT(r, 0.25);
  EXPECT_LT(r, 4.0);
}

TEST(Msra, FiftyLinearLayersVanishWithNaiveSmallInit) {
  // 1024 · 1e-4 / 2 = 0.0512 per layer: 0.0512^50 ≈ 3e-65 (float32 underflows to 0 first).
  const double r = report("50 x Linear(1024)+ReLU, N(0, 0.01^2)",
                          mean_square_ratio(*mlp(50, 1024, naive_001), input({32, 1024})));
  EXPECT_LT(r, 1e-6);
}

TEST(Msra, TwentyLinearLayersExplodeWithNaiveLargerInit) {
  // std 0.1 looks as harmless, but 1024 · 0.01 / 2 = 5.12 per layer: 5.12^20 ≈ 1.5e14.
  const double r = report("20 x Linear(1024)+ReLU, N(0, 0.1^2)",
                          mean_square_ratio(*mlp(20, 1024, naive_01), input({32, 1024})));
  EXPECT_GT(r, 1e10);
}

TEST(Msra, TenConvLayersKeepTheScaleWithKaimingNormal) {
  // 32x32 maps keep the zero-padding border (whose pixels see only 4/9 or 6/9 of the taps)
  // from eating a noticeable part of the signal.
  const double r = report("10 x Conv3x3(64)+ReLU on 32x32, kaiming_normal",
                          mean_square_ratio(*conv_stack(10, 64, msra), input({1, 64, 32, 32})));
  EXPECT_GT(r, 0.25);
  EXPECT_LT(r, 4.0);
}

TEST(Msra, TenConvLayersVanishWithNaiveSmallInit) {
  // fan = 64·9 = 576: 576 · 1e-4 / 2 = 0.0288 per layer, 0.0288^10 ≈ 4e-16.
  const double r = report("10 x Conv3x3(64)+ReLU on 32x32, N(0, 0.01^2)",
                          mean_square_ratio(*conv_stack(10, 64, naive_001), input({1, 64, 32, 32})));
  EXPECT_LT(r, 1e-6);
}

TEST(Msra, FiftyConvLayersStayWithinASmallFactorWithKaimingNormal) {
  // 50 unpadded Conv3x3(64) layers take 104x104 down to 4x4, so no zero border eats signal.
  // The width that counts for the random walk is the channel count (a filter is shared over
  // positions): sqrt(5 · 50/64) ≈ 2 e-folds, far more than the 0.5 of the 1024-wide MLP, so
  // one init can land anywhere in roughly 0.01..3 (16 seeds: 0.025..2.3). The typical init,
  // the median over 8 seeds, stays within 4x of the ideal 0.5. The naive init loses 0.0288
  // per layer, 0.0288^50 ≈ 1e-77: the same stack returns zeros.
  const Tensor x = input({1, 64, 104, 104});
  std::vector<double> ratios;
  for (uint64_t seed = 1; seed <= 8; ++seed)
    ratios.push_back(mean_square_ratio(*conv_stack(50, 64, msra, /*padding=*/0, seed), x));
  std::sort(ratios.begin(), ratios.end());
  const double median = report("50 x Conv3x3(64, no pad)+ReLU, kaiming_normal, median of 8",
                               0.5 * (ratios[3] + ratios[4]));
  const double bad = report("50 x Conv3x3(64, no pad)+ReLU, N(0, 0.01^2)",
                            mean_square_ratio(*conv_stack(50, 64, naive_001, /*padding=*/0), x));
  EXPECT_GT(median, 0.5 / 4);
  EXPECT_LT(median, 0.5 * 4);
  EXPECT_LT(bad, 1e-30);
}

TEST(Msra, FiftyNarrowPaddedConvLayersDriftFurtherButStillFarFromNaive) {
  // 16 channels with padding 1 on 32x32: the walk is twice as wide (sqrt(5 · 50/16) ≈ 4
  // e-folds) and every layer's border pixels see only 4/9 or 6/9 of the taps, so MSRA drifts
  // down to ~1e-2..1e-4 (over 16 seeds we saw 3e-5 .. 2e-2). The naive init is still about a
  // hundred orders of magnitude worse: 0.0072^50 ≈ 1e-107.
  const Tensor x = input({2, 16, 32, 32});
  const double good = report("50 x Conv3x3(16)+ReLU on 32x32, kaiming_normal",
                             mean_square_ratio(*conv_stack(50, 16, msra), x));
  const double bad = report("50 x Conv3x3(16)+ReLU on 32x32, N(0, 0.01^2)",
                            mean_square_ratio(*conv_stack(50, 16, naive_001), x));
  EXPECT_GT(good, 1e-8);
  EXPECT_LT(bad, 1e-30);
}

}  // namespace
}  // namespace dl::nn
