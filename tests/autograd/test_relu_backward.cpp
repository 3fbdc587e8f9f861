// test_relu_backward.cpp — ReLU's one-pass backward on tensors large enough to be threaded and
// with a non-contiguous upstream gradient: grad_x = g where x > 0, else 0.
#include <gtest/gtest.h>

#include "autograd/ops.h"
#include "tensor/ops.h"

using namespace dl;

TEST(ReluBackward, KeepsTheGradientWherePositiveOnLargeTensors) {
  Generator gen(11);
  const Shape shape{4, 8, 40, 40};  // 51200 elements: past the threading grain
  ag::Variable x(Tensor::randn(shape, gen), /*requires_grad=*/true);
  const Tensor g = Tensor::randn(shape, gen);
  ag::relu(x).backward(g);
  const Tensor expected = mul(g, gt(x.data(), Tensor::scalar(0.0)));
  EXPECT_TRUE(allclose(x.grad(), expected, 0.0, 0.0));
}

TEST(ReluBackward, AcceptsANonContiguousGradient) {
  Generator gen(12);
  ag::Variable x(Tensor::randn({3, 5}, gen, DType::Float64), /*requires_grad=*/true);
  const Tensor g = Tensor::randn({5, 3}, gen, DType::Float64).transpose(0, 1);  // strided view
  ag::relu(x).backward(g);
  const Tensor expected = mul(g, gt(x.data(), Tensor::scalar(0.0, DType::Float64)));
  EXPECT_TRUE(allclose(x.grad(), expected, 0.0, 0.0));
}
