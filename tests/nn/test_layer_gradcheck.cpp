// test_layer_gradcheck.cpp — every layer's input and parameter gradients, through the module,
// against central differences in float64 (default tolerance 1e-6, random upstream gradient).
#include <gtest/gtest.h>

#include <memory>

#include "nn/activation.h"
#include "nn/batchnorm.h"
#include "nn/conv2d.h"
#include "nn/dropout.h"
#include "nn/flatten.h"
#include "nn/linear.h"
#include "nn/loss.h"
#include "nn/pooling.h"
#include "nn_test_util.h"

namespace dl::nn {
namespace {

using testing::gradcheck_module;
using testing::Open;
using testing::randn_off_zero;

Tensor randn64(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return Tensor::randn(shape, gen, DType::Float64);
}

#define EXPECT_GRADCHECK(result)                                  \
  do {                                                            \
    const ag::GradcheckResult r_ = (result);                      \
    EXPECT_TRUE(r_.ok) << r_.report << " (max rel error " << r_.max_rel_error << ")"; \
  } while (0)

TEST(LayerGradcheck, Conv2dStridePaddingBias) {
  Open<Conv2d> conv(2, 3, 3, /*stride=*/2, /*padding=*/1, /*bias=*/true);
  conv.to(DType::Float64);
  EXPECT_GRADCHECK(gradcheck_module(conv, randn64({2, 2, 5, 5}, 1), {"weight", "bias"}));
}

TEST(LayerGradcheck, Conv2dDilatedWithoutBias) {
  Open<Conv2d> conv(2, 2, 3, /*stride=*/1, /*padding=*/2, /*bias=*/false, /*dilation=*/2);
  conv.to(DType::Float64);
  EXPECT_GRADCHECK(gradcheck_module(conv, randn64({1, 2, 5, 4}, 2), {"weight"}));
}

TEST(LayerGradcheck, Linear) {
  Open<Linear> fc(5, 3);
  fc.to(DType::Float64);
  EXPECT_GRADCHECK(gradcheck_module(fc, randn64({4, 5}, 3), {"weight", "bias"}));
}

TEST(LayerGradcheck, BatchNorm2dTraining) {
  // Batch statistics couple the samples: every output depends on every input of its channel.
  Open<BatchNorm2d> bn(3);
  bn.to(DType::Float64);
  bn.param("weight").data().copy_(Tensor::of({1.5, -0.7, 0.3}));
  bn.param("bias").data().copy_(Tensor::of({0.1, 0.2, -0.3}));
  EXPECT_GRADCHECK(gradcheck_module(bn, randn64({3, 3, 2, 3}, 4), {"weight", "bias"}));
}

TEST(LayerGradcheck, BatchNorm2dEval) {
  Open<BatchNorm2d> bn(3);
  bn.to(DType::Float64);
  bn.param("weight").data().copy_(Tensor::of({1.5, -0.7, 0.3}));
  bn.running_mean().copy_(Tensor::of({0.2, -0.1, 0.4}));
  bn.running_var().copy_(Tensor::of({0.5, 2.0, 1.3}));
  bn.eval();
  EXPECT_GRADCHECK(gradcheck_module(bn, randn64({2, 3, 2, 2}, 5), {"weight", "bias"}));
}

TEST(LayerGradcheck, BatchNorm2dTrainingOnTwoDimensionalInput) {
  Open<BatchNorm2d> bn(4);
  bn.to(DType::Float64);
  EXPECT_GRADCHECK(gradcheck_module(bn, randn64({5, 4}, 6), {"weight", "bias"}));
}

TEST(LayerGradcheck, ReLU) {
  Open<ReLU> relu;
  EXPECT_GRADCHECK(gradcheck_module(relu, randn_off_zero({2, 3, 4}, 7), {}));
}

TEST(LayerGradcheck, MaxPool2dWithPadding) {
  // Normal draws are distinct almost surely, so no window has a tie.
  Open<MaxPool2d> pool(3, 2, 1);
  EXPECT_GRADCHECK(gradcheck_module(pool, randn64({2, 2, 5, 5}, 8), {}));
}

TEST(LayerGradcheck, AvgPool2dWithPadding) {
  Open<AvgPool2d> pool(3, 2, 1);
  EXPECT_GRADCHECK(gradcheck_module(pool, randn64({2, 2, 5, 5}, 9), {}));
}

TEST(LayerGradcheck, AdaptiveAvgPool2dOverlappingWindows) {
  Open<AdaptiveAvgPool2d> pool(2, 3);
  EXPECT_GRADCHECK(gradcheck_module(pool, randn64({2, 2, 5, 4}, 10), {}));
}

TEST(LayerGradcheck, Flatten) {
  Open<Flatten> flat(1);
  EXPECT_GRADCHECK(gradcheck_module(flat, randn64({2, 3, 2, 2}, 11), {}));
}

TEST(LayerGradcheck, DropoutWithAFixedMask) {
  // Reseeding before every evaluation makes each call draw the same mask, so the layer is
  // a fixed function of x for the finite differences.
  Open<Dropout> drop(0.4, 0);
  EXPECT_GRADCHECK(gradcheck_module(drop, randn64({3, 7}, 12), {},
                                    [&drop] { drop.generator() = Generator(99); }));
}

TEST(LayerGradcheck, SequentialStackInputGradient) {
  // conv -> BN (training) -> ReLU -> pool -> flatten -> linear, checked end to end.
  Open<Sequential> net;
  net.push_back(std::make_shared<Conv2d>(2, 3, 3, 1, 1, false));
  net.push_back(std::make_shared<BatchNorm2d>(3));
  net.push_back(std::make_shared<ReLU>());
  net.push_back(std::make_shared<AdaptiveAvgPool2d>(1));
  net.push_back(std::make_shared<Flatten>());
  net.push_back(std::make_shared<Linear>(3, 2));
  net.to(DType::Float64);
  EXPECT_GRADCHECK(gradcheck_module(net, randn64({3, 2, 4, 4}, 13), {}));
}

TEST(LayerGradcheck, CrossEntropyLossWithLabelSmoothing) {
  const Tensor labels = Tensor::from_vector(std::vector<int64_t>{2, 0, 3}, {3});
  auto fn = [&labels](const std::vector<ag::Variable>& v) {
    return cross_entropy_loss(v[0], labels, 0.1);
  };
  EXPECT_GRADCHECK(ag::gradcheck(fn, {randn64({3, 4}, 14)}));
}

}  // namespace
}  // namespace dl::nn
