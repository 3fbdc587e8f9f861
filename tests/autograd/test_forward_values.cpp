// test_forward_values.cpp — forward passes of the NN ops on numbers small enough to work out
// by hand. The gradient checks prove backward matches forward; these prove forward is right.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "autograd/ops.h"
#include "tensor/ops.h"
#include "tensor/pool.h"
#include "tensor/random.h"

using namespace dl;
using namespace dl::ag;

namespace {
Variable f64(const std::vector<double>& values, const Shape& shape) {
  return Variable(Tensor::from_vector(values, shape));
}
void expect_values(const Variable& y, const std::vector<double>& expected, double tol = 1e-12) {
  const std::vector<double> got = y.data().to_vector();
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], tol) << "element " << i;
}
}  // namespace

TEST(ForwardValues, Conv2dSumsEachWindowTimesTheKernel) {
  // x = [[1,2,3],[4,5,6],[7,8,9]], w = [[1,2],[3,4]], bias 0.5:
  // y[0][0] = 1·1 + 2·2 + 3·4 + 4·5 + 0.5 = 37.5, and so on one step right / down.
  const Variable x = f64({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
  const Variable w = f64({1, 2, 3, 4}, {1, 1, 2, 2});
  const Variable y = conv2d(x, w, f64({0.5}, {1}), Conv2dArgs());
  ASSERT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  expect_values(y, {37.5, 47.5, 67.5, 77.5});
}

TEST(ForwardValues, Conv2dPaddingAndStrideSkipPositions) {
  // A 1x1 kernel of 2 with pad 1, stride 2 over a 2x2 input: the padded input is 4x4 with x in
  // its middle, and the output samples padded positions (0,0), (0,2), (2,0), (2,2). Only
  // (2,2) lies on x, at x[1][1] = 4.
  const Variable x = f64({1, 2, 3, 4}, {1, 1, 2, 2});
  const Variable y = conv2d(x, f64({2}, {1, 1, 1, 1}), Variable(), Conv2dArgs::square(2, 1));
  ASSERT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  expect_values(y, {0, 0, 0, 8});
}

TEST(ForwardValues, MaxPoolPicksTheLargestOfEachWindow) {
  const Variable x = f64({1, 5, 2, 0,  //
                          3, 4, 8, 7,  //
                          9, 6, 1, 2,  //
                          0, 3, 4, 5},
                         {1, 1, 4, 4});
  expect_values(max_pool2d(x, 2, 2), {5, 8, 9, 5});
}

// At inference (nothing requires grad) max pooling skips the argmax indices; the values are
// the same, NaN included (a NaN in a window wins it, as in PyTorch).
TEST(ForwardValues, MaxPoolWithoutIndicesGivesTheSameValues) {
  Generator gen(5);
  Tensor x = Tensor::randn({2, 3, 9, 8}, gen);
  x.data<float>()[11] = std::nanf("");
  struct Window { int64_t k, s, p; };
  for (const Window& win : {Window{3, 2, 1}, Window{2, 2, 0}, Window{3, 1, 1}, Window{4, 3, 2}}) {
    SCOPED_TRACE("kernel " + std::to_string(win.k) + " stride " + std::to_string(win.s) +
                 " pad " + std::to_string(win.p));
    const MaxPool2dResult with = max_pool2d_forward(x, win.k, win.s, win.p, true);
    const MaxPool2dResult without = max_pool2d_forward(x, win.k, win.s, win.p, false);
    EXPECT_FALSE(without.indices.defined());
    ASSERT_EQ(with.values.shape(), without.values.shape());
    int nans = 0;
    for (int64_t i = 0; i < with.values.numel(); ++i) {
      const float a = with.values.data<float>()[i], b = without.values.data<float>()[i];
      if (std::isnan(a)) {
        ++nans;
        EXPECT_TRUE(std::isnan(b)) << i;
      } else {
        EXPECT_EQ(a, b) << i;
      }
    }
    EXPECT_GT(nans, 0);
  }
  EXPECT_EQ(max_pool2d(Variable(x), 3, 2, 1).data().numel(), 2 * 3 * 5 * 4);
}

TEST(ForwardValues, AvgPoolCountsPaddedZerosInTheDivisor) {
  // Every 3x3 window (pad 1) over a 2x2 input covers all four values: (1+2+3+4)/9.
  const Variable x = f64({1, 2, 3, 4}, {1, 1, 2, 2});
  expect_values(avg_pool2d(x, 3, 1, 1), {10.0 / 9, 10.0 / 9, 10.0 / 9, 10.0 / 9});
}

TEST(ForwardValues, AdaptiveAvgPoolUsesOverlappingWindows) {
  // Width 5 -> 3: windows [0,2), [1,4), [3,5).
  const Variable x = f64({1, 2, 3, 4, 5}, {1, 1, 1, 5});
  expect_values(adaptive_avg_pool2d(x, 1, 3), {1.5, 3.0, 4.5});
}

TEST(ForwardValues, GlobalAvgPoolAveragesEachPlane) {
  const Variable x = f64({1, 2, 3, 4, 10, 20, 30, 40}, {1, 2, 2, 2});
  expect_values(global_avg_pool2d(x), {2.5, 25});
}

TEST(ForwardValues, BatchNormTrainingNormalisesEachChannel) {
  // Channel 0 holds {3, 5, 3, 5}: mean 4, biased variance 1. Channel 1 holds {0, 0, 2, 2}:
  // mean 1, variance 1. With eps = 0, gamma = (2, 1) and beta = (1, 0):
  // y = gamma·(x - mean) + beta.
  const Variable x = f64({3, 5, 0, 0,  // sample 0: channel 0 then channel 1
                          3, 5, 2, 2},  // sample 1
                         {2, 2, 1, 2});
  Tensor running_mean, running_var;
  const Variable y = batch_norm(x, f64({2, 1}, {2}), f64({1, 0}, {2}), running_mean, running_var,
                                /*training=*/true, 0.1, /*eps=*/0.0);
  expect_values(y, {-1, 3, -1, -1,  //
                    -1, 3, 1, 1});
}

TEST(ForwardValues, BatchNormEvalUsesRunningStatistics) {
  // Running mean 1, running variance 4: y = (x - 1) / 2.
  const Variable x = f64({1, 3, 5, 7}, {4, 1});
  Tensor running_mean = Tensor::of({1}, DType::Float64);
  Tensor running_var = Tensor::of({4}, DType::Float64);
  const Variable y =
      batch_norm(x, Variable(), Variable(), running_mean, running_var, false, 0.1, 0.0);
  expect_values(y, {0, 1, 2, 3});
}

TEST(ForwardValues, LogSoftmaxOfLogOneAndLogThree) {
  // softmax(log 1, log 3) = (1/4, 3/4).
  const Variable x = f64({0.0, std::log(3.0)}, {1, 2});
  expect_values(log_softmax(x, 1), {std::log(0.25), std::log(0.75)});
}

TEST(ForwardValues, LogSoftmaxIsStableForHugeLogits) {
  // exp(1000) overflows; subtracting the max first keeps the result finite.
  const Variable x = f64({1000.0, 1000.0}, {1, 2});
  expect_values(log_softmax(x, 1), {-std::log(2.0), -std::log(2.0)});
}

TEST(ForwardValues, CrossEntropyIsMeanNegativeLogProbability) {
  // Row 0: p(label 1) = 3/4. Row 1: uniform over 2 classes, p = 1/2.
  const Variable logits = f64({0.0, std::log(3.0), 0.0, 0.0}, {2, 2});
  const Tensor labels = Tensor::from_vector(std::vector<int64_t>{1, 0}, {2});
  EXPECT_NEAR(cross_entropy(logits, labels).item(), -(std::log(0.75) + std::log(0.5)) / 2, 1e-12);
}

TEST(ForwardValues, LabelSmoothingMixesInTheUniformTarget) {
  // ε = 0.2, K = 2: target (0.1, 0.9) for label 1; loss = -(0.1·log 1/4 + 0.9·log 3/4).
  const Variable logits = f64({0.0, std::log(3.0)}, {1, 2});
  const Tensor labels = Tensor::from_vector(std::vector<int64_t>{1}, {1});
  EXPECT_NEAR(cross_entropy(logits, labels, 0.2).item(),
              -(0.1 * std::log(0.25) + 0.9 * std::log(0.75)), 1e-12);
}
