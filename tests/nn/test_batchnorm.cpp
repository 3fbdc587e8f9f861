// test_batchnorm.cpp — BatchNorm2d in training and eval mode, running-statistic updates and
// num_batches_tracked, all against values computed by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "nn/batchnorm.h"
#include "nn_test_util.h"

namespace dl::nn {
namespace {

using testing::expect_values;

// x [N=2, C=2, H=1, W=2]:
//   channel 0 holds {1, 2, 3, 6}:  mean 3, biased var 14/4 = 3.5, unbiased 14/3
//   channel 1 holds {0, 4, 2, -2}: mean 1, biased var 20/4 = 5,   unbiased 20/3
Tensor batch() {
  return Tensor::from_vector(std::vector<double>{1, 2, 0, 4, 3, 6, 2, -2}, {2, 2, 1, 2});
}

/// A layer in float64 with weight [2, 0.5] and bias [0, 1].
void set_affine(BatchNorm2d& bn) {
  bn.to(DType::Float64);
  bn.weight().data().copy_(Tensor::of({2.0, 0.5}));
  bn.bias().data().copy_(Tensor::of({0.0, 1.0}));
}

constexpr double kEps = 1e-5;

TEST(BatchNorm2d, InitialStateMatchesPyTorch) {
  BatchNorm2d bn(3);
  const StateDict s = bn.state_dict();
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s[0].first, "weight");
  EXPECT_EQ(s[1].first, "bias");
  EXPECT_EQ(s[2].first, "running_mean");
  EXPECT_EQ(s[3].first, "running_var");
  EXPECT_EQ(s[4].first, "num_batches_tracked");
  expect_values(s[0].second, {1, 1, 1});
  expect_values(s[1].second, {0, 0, 0});
  expect_values(s[2].second, {0, 0, 0});
  expect_values(s[3].second, {1, 1, 1});
  EXPECT_EQ(s[4].second.dtype(), DType::Int64);
  EXPECT_EQ(s[4].second.dim(), 0);
  EXPECT_EQ(bn.num_batches_tracked(), 0);
}

TEST(BatchNorm2d, TrainingNormalisesWithBatchStatistics) {
  BatchNorm2d bn(2);
  set_affine(bn);
  const ag::Variable y = bn(ag::Variable(batch()));
  const double s0 = 2.0 / std::sqrt(3.5 + kEps), s1 = 0.5 / std::sqrt(5.0 + kEps);
  expect_values(y.data(), {(1 - 3) * s0, (2 - 3) * s0, (0 - 1) * s1 + 1, (4 - 1) * s1 + 1,
                           (3 - 3) * s0, (6 - 3) * s0, (2 - 1) * s1 + 1, (-2 - 1) * s1 + 1},
                1e-12);
}

TEST(BatchNorm2d, TrainingUpdatesRunningStatsWithMomentumAndUnbiasedVariance) {
  BatchNorm2d bn(2);
  set_affine(bn);
  bn(ag::Variable(batch()));
  // running = 0.9 * running + 0.1 * batch statistic (the variance unbiased).
  expect_values(bn.running_mean(), {0.1 * 3, 0.1 * 1}, 1e-12);
  expect_values(bn.running_var(), {0.9 + 0.1 * 14.0 / 3, 0.9 + 0.1 * 20.0 / 3}, 1e-12);
  EXPECT_EQ(bn.num_batches_tracked(), 1);

  bn(ag::Variable(batch()));
  expect_values(bn.running_mean(), {0.9 * 0.3 + 0.3, 0.9 * 0.1 + 0.1}, 1e-12);
  expect_values(bn.running_var(),
                {0.9 * (0.9 + 1.4 / 3 * 1) + 1.4 / 3 * 1, 0.9 * (0.9 + 2.0 / 3) + 2.0 / 3},
                1e-12);
  EXPECT_EQ(bn.num_batches_tracked(), 2);
}

TEST(BatchNorm2d, EvalUsesRunningStatsAndChangesNothing) {
  BatchNorm2d bn(2);
  set_affine(bn);
  bn.running_mean().copy_(Tensor::of({0.5, -1.0}));
  bn.running_var().copy_(Tensor::of({4.0, 0.25}));
  bn.eval();
  const ag::Variable y = bn(ag::Variable(batch()));
  const double s0 = 2.0 / std::sqrt(4.0 + kEps), s1 = 0.5 / std::sqrt(0.25 + kEps);
  expect_values(y.data(),
                {(1 - 0.5) * s0, (2 - 0.5) * s0, (0 + 1) * s1 + 1, (4 + 1) * s1 + 1,
                 (3 - 0.5) * s0, (6 - 0.5) * s0, (2 + 1) * s1 + 1, (-2 + 1) * s1 + 1},
                1e-12);
  expect_values(bn.running_mean(), {0.5, -1.0}, 0);
  expect_values(bn.running_var(), {4.0, 0.25}, 0);
  EXPECT_EQ(bn.num_batches_tracked(), 0);
}

TEST(BatchNorm2d, AcceptsTwoDimensionalInput) {
  // [N, C] with the same per-channel values as batch(): same statistics.
  BatchNorm2d bn(2);
  bn.to(DType::Float64);
  const Tensor x = Tensor::from_vector(std::vector<double>{1, 0, 2, 4, 3, 2, 6, -2}, {4, 2});
  const ag::Variable y = bn(ag::Variable(x));
  EXPECT_EQ(y.shape(), (Shape{4, 2}));
  EXPECT_NEAR(y.data().at({0, 0}), (1 - 3) / std::sqrt(3.5 + kEps), 1e-12);
  EXPECT_NEAR(y.data().at({3, 1}), (-2 - 1) / std::sqrt(5.0 + kEps), 1e-12);
  expect_values(bn.running_mean(), {0.3, 0.1}, 1e-12);
}

TEST(BatchNorm2d, NonAffineHasBuffersOnly) {
  BatchNorm2d bn(2, 1e-5, 0.1, /*affine=*/false);
  EXPECT_TRUE(bn.named_parameters().empty());
  EXPECT_FALSE(bn.weight().defined());
  EXPECT_EQ(bn.state_dict().size(), 3u);
  bn.to(DType::Float64);
  const ag::Variable y = bn(ag::Variable(batch()));
  EXPECT_NEAR(y.data().at({0, 0, 0, 0}), -2 / std::sqrt(3.5 + kEps), 1e-12);
}

TEST(BatchNorm2d, ConversionKeepsTheCountInt64AndUpdatesTheNewBuffers) {
  // Module::to replaces the buffer tensors; forward must use the new ones.
  BatchNorm2d bn(2);
  bn.to(DType::Float64);
  EXPECT_EQ(bn.running_mean().dtype(), DType::Float64);
  EXPECT_EQ(bn.state_dict()[4].second.dtype(), DType::Int64);
  bn(ag::Variable(batch()));
  expect_values(bn.state_dict()[2].second, {0.3, 0.1}, 1e-12);
  EXPECT_EQ(bn.num_batches_tracked(), 1);
}

TEST(BatchNorm2d, RejectsWrongChannelCount) {
  BatchNorm2d bn(3);
  EXPECT_THROW(bn(ag::Variable(Tensor::zeros({2, 2, 1, 2}))), std::invalid_argument);
  EXPECT_THROW(bn(ag::Variable(Tensor::zeros({2, 3, 4}))), std::invalid_argument);
  EXPECT_EQ(bn.num_batches_tracked(), 0);
}

TEST(BatchNorm2d, ResetRestoresInitialState) {
  BatchNorm2d bn(2);
  set_affine(bn);
  bn(ag::Variable(batch()));
  bn.reset_parameters();
  expect_values(bn.weight().data(), {1, 1}, 0);
  expect_values(bn.bias().data(), {0, 0}, 0);
  expect_values(bn.running_mean(), {0, 0}, 0);
  expect_values(bn.running_var(), {1, 1}, 0);
  EXPECT_EQ(bn.num_batches_tracked(), 0);
}

}  // namespace
}  // namespace dl::nn
