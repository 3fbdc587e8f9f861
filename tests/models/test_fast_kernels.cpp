// test_fast_kernels.cpp — whole networks on the fast convolution kernels against the direct
// reference convolution: one training step's logits, loss and every parameter gradient. The
// kernel tests check each layer shape alone; this checks that the dispatcher's choices
// (Winograd F(4x4) on 3x3 stride-1 layers where AVX2 is present, im2col + sgemm elsewhere)
// add up to the same training step through BN, ReLU and the shortcuts.
//
// Forward: the fast logits may be a few times further from the exact (float64) ones than the
// direct float32 logits are (F(4x4) rounds 4-5x more than a direct sum, which accumulates in
// double), no more.
// Backward: gradients are not continuous. A ReLU whose input lies within rounding of zero
// passes or blocks a whole gradient element depending on the last bit: in the ResNet-18 step
// below one of 4,096 outputs of layer4 flips sign between the fast and the float64 forward,
// and that one element moves every gradient by ~2e-2. So the fast backward is compared with
// the direct backward run on the same fast forward (Conv2dArgs::backward_algo), which sees
// the same ReLU masks: what differs is the backward kernels' rounding alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "autograd/ops.h"
#include "models/registry.h"
#include "nn/conv2d.h"
#include "tensor/ops.h"

namespace dl::models {
namespace {

using kernels::ConvAlgo;

/// Logits, loss and the gradients in parameter order, each with its name.
using Step = std::vector<std::pair<std::string, Tensor>>;

/// One training step (train-mode forward, cross-entropy, backward) of a fixed network and
/// batch, with the given convolution algorithms for the forward and the backward passes.
Step train_step(const std::string& model, const Shape& input, DType dtype, ConvAlgo forward,
                ConvAlgo backward) {
  ModelOptions options;
  options.seed = 11;
  auto net = create_model(model, options);
  net->to(dtype);
  net->apply([&](nn::Module& m) {
    if (auto* conv = dynamic_cast<nn::Conv2d*>(&m)) {
      conv->args().algo = forward;
      conv->args().backward_algo = backward;
    }
  });
  net->train();
  Generator gen(12);
  const Tensor x = Tensor::randn(input, gen, dtype);
  std::vector<int64_t> classes;
  for (int64_t i = 0; i < input[0]; ++i) classes.push_back((3 * i + 1) % 10);
  const ag::Variable logits = (*net)(ag::Variable(x));
  const ag::Variable loss = ag::cross_entropy(logits, Tensor::from_vector(classes, {input[0]}));
  loss.backward();
  Step s{{"logits", logits.data()}, {"loss", loss.data()}};
  for (const auto& [name, p] : net->named_parameters()) s.emplace_back(name, p.grad());
  return s;
}

/// ||a - b|| / ||b||, in double.
double rel_l2(const Tensor& a, const Tensor& b) {
  const Tensor b64 = b.to(DType::Float64), d = sub(a.to(DType::Float64), b64);
  return std::sqrt(sum(mul(d, d)).item() / std::max(sum(mul(b64, b64)).item(), 1e-300));
}

void expect_fast_matches_reference(const std::string& model, const Shape& input) {
  const Step exact = train_step(model, input, DType::Float64, ConvAlgo::Direct, ConvAlgo::Direct);
  const Step direct = train_step(model, input, DType::Float32, ConvAlgo::Direct, ConvAlgo::Direct);
  const Step fast = train_step(model, input, DType::Float32, ConvAlgo::Auto, ConvAlgo::Auto);
  const Step fast_fwd = train_step(model, input, DType::Float32, ConvAlgo::Auto, ConvAlgo::Direct);
  ASSERT_EQ(fast.size(), exact.size());

  // Forward: logits and loss against float64, with the direct float32 error as yardstick.
  for (size_t i = 0; i < 2; ++i) {
    const double e_fast = rel_l2(fast[i].second, exact[i].second);
    const double e_direct = rel_l2(direct[i].second, exact[i].second);
    EXPECT_LE(e_fast, std::max(1e-5, 10.0 * e_direct))
        << model << " " << fast[i].first << ": fast float32 is " << e_fast
        << " from float64, direct float32 " << e_direct;
    EXPECT_EQ(fast[i].second.to_vector(), fast_fwd[i].second.to_vector()) << "same forward";
  }
  // Backward: fast against direct kernels on the same forward, every parameter gradient.
  double worst = 0.0;
  for (size_t i = 2; i < fast.size(); ++i) {
    const double e = rel_l2(fast[i].second, fast_fwd[i].second);
    worst = std::max(worst, e);
    EXPECT_LE(e, 1e-4) << model << " gradient of " << fast[i].first;
  }
  EXPECT_GT(worst, 0.0) << "the direct backward must really have run other kernels";
  std::printf("[ FAST     ] %s %s: logits vs float64 %.1e (direct float32 %.1e); gradients "
              "vs direct backward: worst %.1e\n",
              model.c_str(), shape_str(input).c_str(), rel_l2(fast[0].second, exact[0].second),
              rel_l2(direct[0].second, exact[0].second), worst);
}

TEST(FastKernels, Resnet20TrainingStepMatchesTheDirectReference) {
  expect_fast_matches_reference("resnet20", {8, 3, 32, 32});
}

TEST(FastKernels, Resnet18TrainingStepMatchesTheDirectReference) {
  // 64x64 instead of 224x224 keeps the direct reference quick; every layer type is there
  // (7x7 stem, max pool, 64..512 channels, stride-2 projections) down to 2x2 maps.
  expect_fast_matches_reference("resnet18", {2, 3, 64, 64});
}

}  // namespace
}  // namespace dl::models
