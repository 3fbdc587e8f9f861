// test_batchnorm_relu.cpp — BatchNorm2d::forward_relu: the fused BN+ReLU gives the values of
// relu(forward(x)); at inference it records nothing, with gradients on it records one node.
#include <gtest/gtest.h>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "nn/batchnorm.h"
#include "tensor/ops.h"

namespace dl::nn {
namespace {

/// A float32 layer with non-trivial weight, bias and running statistics for 3 channels.
std::shared_ptr<BatchNorm2d> trained_bn() {
  auto bn = std::make_shared<BatchNorm2d>(3);
  bn->weight().data().copy_(Tensor::of({1.5, -0.5, 2.0}));
  bn->bias().data().copy_(Tensor::of({0.1, 0.2, -0.3}));
  bn->running_mean().copy_(Tensor::of({0.2, -0.1, 0.05}));
  bn->running_var().copy_(Tensor::of({0.8, 1.7, 0.3}));
  bn->eval();
  return bn;
}

TEST(BatchNormRelu, FusedInferenceMatchesUnfusedValues) {
  auto bn = trained_bn();
  Generator gen(3);
  // 2*3*40*40 elements: above the threading grain, so the threaded loop runs too.
  const ag::Variable x(Tensor::randn({2, 3, 40, 40}, gen));
  ag::NoGradGuard no_grad;
  const Tensor fused = bn->forward_relu(x).data();
  const Tensor unfused = relu((*bn)(x).data());
  EXPECT_LE(max_rel_error(fused, unfused, 1e-6), 1e-6);
  EXPECT_EQ(max(neg(fused)).item(), 0.0);  // the ReLU did clip: the smallest value is 0
}

TEST(BatchNormRelu, FusedInferenceRecordsNoNode) {
  auto bn = trained_bn();
  Generator gen(4);
  const ag::Variable x(Tensor::randn({2, 3, 4, 4}, gen), /*requires_grad=*/true);
  ag::NoGradGuard no_grad;
  EXPECT_EQ(bn->forward_relu(x).grad_fn(), nullptr);
}

TEST(BatchNormRelu, WithGradientsItIsOneFusedNode) {
  auto bn = trained_bn();
  Generator gen(5);
  const ag::Variable x(Tensor::randn({2, 3, 4, 4}, gen), /*requires_grad=*/true);
  const ag::Variable y = bn->forward_relu(x);  // eval mode, but gradients are recorded
  ASSERT_NE(y.grad_fn(), nullptr);
  EXPECT_EQ(y.grad_fn()->name, "BatchNormReluEvalBackward");
  EXPECT_LE(max_rel_error(y.data(), relu((*bn)(x).data()), 1e-6), 1e-6);
}

TEST(BatchNormRelu, RejectsAWrongChannelCount) {
  auto bn = trained_bn();
  ag::NoGradGuard no_grad;
  EXPECT_THROW(bn->forward_relu(ag::Variable(Tensor::zeros({1, 4, 2, 2}))),
               std::invalid_argument);
}

}  // namespace
}  // namespace dl::nn
