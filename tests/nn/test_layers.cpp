// test_layers.cpp — each layer's forward against values computed by hand on tiny inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "nn/activation.h"
#include "nn/conv2d.h"
#include "nn/dropout.h"
#include "nn/flatten.h"
#include "nn/linear.h"
#include "nn/pooling.h"
#include "nn_test_util.h"

namespace dl::nn {
namespace {

using testing::expect_values;

/// 1, 2, ..., n reshaped to @p shape (float32).
Tensor counting(const Shape& shape) {
  return Tensor::arange(1.0, static_cast<double>(shape_numel(shape)) + 1.0, 1.0).reshape(shape);
}

TEST(Conv2d, ForwardMatchesHandComputedValues) {
  // x = [[1,2,3],[4,5,6],[7,8,9]], w = [[1,2],[3,4]], b = 0.5: each output is
  // x[i][j] + 2x[i][j+1] + 3x[i+1][j] + 4x[i+1][j+1] + 0.5.
  Conv2d conv(1, 1, 2);
  conv.weight().data().copy_(Tensor::of({1, 2, 3, 4}).reshape({1, 1, 2, 2}));
  conv.bias().data().fill_(0.5);
  const ag::Variable y = conv(ag::Variable(counting({1, 1, 3, 3})));
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  expect_values(y.data(), {37.5, 47.5, 67.5, 77.5});
}

TEST(Conv2d, StridePaddingAndChannelMixingMatchHandComputedValues) {
  // Two input channels: x0 = 1..9, x1 = ones. Output channel 0 sums x0's 3x3 window (zero
  // padded); output channel 1 takes x1's centre plus 2 * x0's top-left neighbour.
  Conv2d conv(2, 2, 3, /*stride=*/2, /*padding=*/1, /*bias=*/false);
  Tensor w = Tensor::zeros({2, 2, 3, 3});
  w.select(0, 0).select(0, 0).fill_(1.0);
  w.set({1, 1, 1, 1}, 1.0);
  w.set({1, 0, 0, 0}, 2.0);
  conv.weight().data().copy_(w);
  const Tensor x = concat({counting({1, 1, 3, 3}), Tensor::ones({1, 1, 3, 3})}, 1);
  const ag::Variable y = conv(ag::Variable(x));
  EXPECT_EQ(y.shape(), (Shape{1, 2, 2, 2}));
  expect_values(y.data(), {12, 16, 24, 28, 1, 1, 1, 11});
}

TEST(Conv2d, RegistersPyTorchParameterNamesAndShapes) {
  Conv2d with_bias(3, 16, 3);
  const auto p = with_bias.named_parameters();
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].first, "weight");
  EXPECT_EQ(p[0].second.shape(), (Shape{16, 3, 3, 3}));
  EXPECT_EQ(p[1].first, "bias");
  EXPECT_EQ(p[1].second.shape(), (Shape{16}));

  Conv2d no_bias(3, 16, 3, 2, 1, /*bias=*/false);
  EXPECT_EQ(no_bias.named_parameters().size(), 1u);
  EXPECT_FALSE(no_bias.bias().defined());
  EXPECT_EQ(no_bias.stride(), 2);
  EXPECT_EQ(no_bias.padding(), 1);
  EXPECT_EQ(no_bias.kernel_size(), 3);
  EXPECT_EQ(no_bias.type_name(), "Conv2d");
}

TEST(Conv2d, RejectsWrongChannelCountNamingBothShapes) {
  Conv2d conv(2, 4, 3);
  try {
    conv(ag::Variable(Tensor::zeros({1, 3, 5, 5})));
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("[1, 3, 5, 5]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[4, 2, 3, 3]"), std::string::npos) << msg;
  }
  EXPECT_THROW(conv(ag::Variable(Tensor::zeros({2, 5, 5}))), std::invalid_argument);
  EXPECT_THROW(Conv2d(2, 4, 0), std::invalid_argument);
}

TEST(Conv2d, MacsCountEveryMultiplyAccumulate) {
  Conv2d conv(3, 8, 3, 1, 1, false);
  // N·OC·OH·OW·C·K·K = 2·8·4·4·3·3·3
  EXPECT_EQ(conv.macs({2, 3, 4, 4}, {2, 8, 4, 4}), 2 * 8 * 4 * 4 * 3 * 3 * 3);
}

TEST(Linear, ForwardMatchesHandComputedValues) {
  Linear fc(3, 2);
  fc.weight().data().copy_(Tensor::of2d({{1, 0, -1}, {0.5, 0.5, 0.5}}));
  fc.bias().data().copy_(Tensor::of({1, -1}));
  const ag::Variable y = fc(ag::Variable(Tensor::of2d({{1, 2, 3}, {4, 5, 6}})));
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  expect_values(y.data(), {-1, 2, -1, 6.5});
  EXPECT_EQ(fc.macs({2, 3}, {2, 2}), 2 * 3 * 2);
}

TEST(Linear, NamesShapesAndInputValidation) {
  Linear fc(4, 3, /*bias=*/false);
  ASSERT_EQ(fc.named_parameters().size(), 1u);
  EXPECT_EQ(fc.weight().shape(), (Shape{3, 4}));
  EXPECT_FALSE(fc.bias().defined());
  EXPECT_THROW(fc(ag::Variable(Tensor::zeros({2, 5}))), std::invalid_argument);
}

TEST(ReLU, ZeroesNegativeValues) {
  ReLU relu;
  expect_values(relu(ag::Variable(Tensor::of({-1, 0, 2, -3.5, 4}))).data(), {0, 0, 2, 0, 4});
  EXPECT_TRUE(relu.named_parameters().empty());
}

TEST(MaxPool2d, TakesWindowMaxima) {
  MaxPool2d pool(2);  // stride defaults to the kernel size
  EXPECT_EQ(pool.stride(), 2);
  const ag::Variable y = pool(ag::Variable(Tensor::arange(16).reshape({1, 1, 4, 4})));
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  expect_values(y.data(), {5, 7, 13, 15});
}

TEST(MaxPool2d, PaddingNeverWinsOverNegativeValues) {
  // x = -[0..15]: with zero padding every window would return 0; -inf padding keeps the
  // largest real value of each (partial) window.
  MaxPool2d pool(3, 2, 1);
  const ag::Variable y = pool(ag::Variable(neg(Tensor::arange(16).reshape({1, 1, 4, 4}))));
  expect_values(y.data(), {0, -1, -4, -5});
}

TEST(AvgPool2d, AveragesWindows) {
  AvgPool2d pool(2, 2);
  expect_values(pool(ag::Variable(Tensor::arange(16).reshape({1, 1, 4, 4}))).data(),
                {2.5, 4.5, 10.5, 12.5});
}

TEST(AvgPool2d, PaddedZerosCountInTheDivisor) {
  // count_include_pad: every window divides by 9, even the corner one with 4 real elements.
  AvgPool2d pool(3, 2, 1);
  expect_values(pool(ag::Variable(Tensor::arange(16).reshape({1, 1, 4, 4}))).data(),
                {10.0 / 9, 24.0 / 9, 51.0 / 9, 90.0 / 9}, 1e-5);
}

TEST(AdaptiveAvgPool2d, UsesOverlappingWindowsOfPyTorchsRule) {
  // 3 -> 2: windows [floor(i*3/2), ceil((i+1)*3/2)) = rows {0,1} and {1,2}.
  AdaptiveAvgPool2d pool(2, 2);
  expect_values(pool(ag::Variable(counting({1, 1, 3, 3}))).data(), {3, 4, 6, 7});
}

TEST(AdaptiveAvgPool2d, OneByOneIsTheGlobalAverage) {
  AdaptiveAvgPool2d pool(1);
  const ag::Variable y = pool(ag::Variable(counting({2, 1, 3, 3})));
  EXPECT_EQ(y.shape(), (Shape{2, 1, 1, 1}));
  expect_values(y.data(), {5, 14});
}

TEST(Flatten, MergesTrailingDimsByDefault) {
  Flatten flat;
  const ag::Variable y = flat(ag::Variable(counting({2, 3, 1, 1})));
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  expect_values(y.data(), {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(Flatten(0)(ag::Variable(counting({2, 3, 1, 1}))).shape(), (Shape{6}));
}

TEST(Identity, ReturnsItsInput) {
  Identity id;
  const Tensor x = counting({2, 2});
  EXPECT_TRUE(id(ag::Variable(x)).data().shares_storage(x));
}

TEST(Dropout, IsTheIdentityInEvalModeAndForPZero) {
  const Tensor x = counting({4, 5});
  Dropout drop(0.5, 1);
  drop.eval();
  expect_values(drop(ag::Variable(x)).data(), x.to_vector());
  Dropout none(0.0, 1);
  expect_values(none(ag::Variable(x)).data(), x.to_vector());
}

TEST(Dropout, ZeroesAboutPAndScalesTheRest) {
  Dropout drop(0.25, 3);
  const std::vector<double> y = drop(ag::Variable(Tensor::ones({10000}))).data().to_vector();
  int64_t zeros = 0;
  for (double v : y) {
    if (v == 0.0) {
      ++zeros;
    } else {
      EXPECT_NEAR(v, 1.0 / 0.75, 1e-6);
    }
  }
  // Binomial(10000, 0.25): standard deviation 43, so ±250 is far outside chance.
  EXPECT_NEAR(static_cast<double>(zeros), 2500.0, 250.0);
}

TEST(Dropout, SameSeedGivesTheSameMask) {
  Dropout a(0.5, 42), b(0.5, 42);
  const Tensor x = Tensor::ones({64});
  EXPECT_EQ(a(ag::Variable(x)).data().to_vector(), b(ag::Variable(x)).data().to_vector());
  EXPECT_THROW(Dropout(1.5), std::invalid_argument);
}

}  // namespace
}  // namespace dl::nn
