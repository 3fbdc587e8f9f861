// test_init.cpp — fans, MSRA / He normal and PyTorch-default uniform initialisation.
#include <gtest/gtest.h>

#include <cmath>

#include "nn/batchnorm.h"
#include "nn/conv2d.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn_test_util.h"

namespace dl::nn {
namespace {

/// Sample standard deviation of all elements.
double stddev(const Tensor& t) { return std::sqrt(var(t.to(DType::Float64)).item()); }
double max_abs(const Tensor& t) { return max(abs(t.to(DType::Float64))).item(); }

TEST(Init, FansOfConvAndLinearWeights) {
  EXPECT_EQ(init::fan_in({64, 16, 3, 3}), 16 * 9);
  EXPECT_EQ(init::fan_out({64, 16, 3, 3}), 64 * 9);
  EXPECT_EQ(init::fan_in({10, 512}), 512);
  EXPECT_EQ(init::fan_out({10, 512}), 10);
  EXPECT_EQ(init::fan({10, 512}, init::FanMode::FanOut), 10);
  EXPECT_THROW(init::fan_in({16}), std::invalid_argument);
}

TEST(Init, KaimingNormalHasStdSqrtTwoOverFan) {
  Generator gen(1);
  Tensor w = Tensor::empty({64, 32, 3, 3});  // 18432 draws: the sample std is within ~0.5%
  init::kaiming_normal_(w, gen, init::FanMode::FanIn);
  EXPECT_NEAR(stddev(w), std::sqrt(2.0 / (32 * 9)), 0.03 * std::sqrt(2.0 / (32 * 9)));
  init::kaiming_normal_(w, gen);  // default: fan_out, as torchvision's ResNet
  EXPECT_NEAR(stddev(w), std::sqrt(2.0 / (64 * 9)), 0.03 * std::sqrt(2.0 / (64 * 9)));
  EXPECT_NEAR(mean(w.to(DType::Float64)).item(), 0.0, 0.002);
}

TEST(Init, KaimingNormalIsReproducibleFromTheSeed) {
  Tensor a = Tensor::empty({8, 4, 3, 3}), b = Tensor::empty({8, 4, 3, 3});
  Generator g1(5), g2(5);
  init::kaiming_normal_(a, g1);
  init::kaiming_normal_(b, g2);
  EXPECT_EQ(a.to_vector(), b.to_vector());
}

TEST(Init, KaimingUniformWithASqrt5IsPyTorchsDefaultBound) {
  // gain sqrt(2/(1+5)) times sqrt(3/fan) = 1/sqrt(fan).
  Generator gen(2);
  Tensor w = Tensor::empty({128, 100});
  init::kaiming_uniform_(w, gen);
  const double bound = 1.0 / std::sqrt(100.0);
  EXPECT_LE(max_abs(w), bound);
  EXPECT_GT(max_abs(w), 0.99 * bound);
  EXPECT_NEAR(stddev(w), bound / std::sqrt(3.0), 0.03 * bound);
}

TEST(Init, KaimingUniformWithReluSlopeMatchesKaimingNormalVariance) {
  Generator gen(3);
  Tensor w = Tensor::empty({64, 64, 3, 3});
  init::kaiming_uniform_(w, gen, init::FanMode::FanIn, /*a=*/0.0);
  EXPECT_NEAR(stddev(w), std::sqrt(2.0 / 576), 0.03 * std::sqrt(2.0 / 576));
}

TEST(Init, ConstantFills) {
  Tensor t = Tensor::empty({2, 3});
  init::zeros_(t);
  testing::expect_values(t, std::vector<double>(6, 0.0), 0);
  init::ones_(t);
  testing::expect_values(t, std::vector<double>(6, 1.0), 0);
  init::constant_(t, -2.5);
  testing::expect_values(t, std::vector<double>(6, -2.5), 0);
}

TEST(Init, UniformAndNormalFillInPlace) {
  Generator gen(4);
  Tensor t = Tensor::zeros({1000}, DType::Float64);
  const Tensor alias = t;  // shares storage: must see the new values
  init::uniform_(t, gen, 2.0, 3.0);
  EXPECT_GE(-max(neg(alias)).item(), 2.0);
  init::normal_(t, gen, 10.0, 0.5);
  EXPECT_NEAR(mean(alias).item(), 10.0, 0.1);
  EXPECT_EQ(t.dtype(), DType::Float64);
}

TEST(Init, LayersUsePyTorchDefaults) {
  Conv2d conv(16, 32, 3);
  const double conv_bound = 1.0 / std::sqrt(16.0 * 9);
  EXPECT_LE(max_abs(conv.weight().data()), conv_bound);
  EXPECT_LE(max_abs(conv.bias().data()), conv_bound);
  Linear fc(64, 10);
  EXPECT_LE(max_abs(fc.weight().data()), 1.0 / 8);
  EXPECT_LE(max_abs(fc.bias().data()), 1.0 / 8);
  Generator g1(9), g2(9);
  Conv2d a(4, 4, 3), b(4, 4, 3);
  a.reset_parameters(g1);
  b.reset_parameters(g2);
  EXPECT_EQ(a.weight().data().to_vector(), b.weight().data().to_vector());
}

}  // namespace
}  // namespace dl::nn
