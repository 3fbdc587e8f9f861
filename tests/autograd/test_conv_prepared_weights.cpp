// test_conv_prepared_weights.cpp — convolutions that keep their weights prepared (Winograd-
// transformed) between calls: the same numbers as transforming every call, recomputed after
// every write to the weights, and used only where no gradient is recorded for the weights
// (tutorial chapter 6).
#include <gtest/gtest.h>

#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "tensor/conv2d.h"
#include "tensor/random.h"

using namespace dl;
using namespace dl::ag;

namespace {

// 16 -> 16 channels, 3x3, stride 1, pad 1: Winograd applies on every kernel set.
struct Layer {
  Generator gen{7};
  Tensor x = Tensor::randn({2, 16, 9, 9}, gen);
  Tensor w = Tensor::randn({16, 16, 3, 3}, gen);
  Tensor b = Tensor::randn({16}, gen);
  Conv2dArgs args = [] {
    Conv2dArgs a = Conv2dArgs::square(1, 1);
    a.algo = kernels::ConvAlgo::Winograd2x2;
    return a;
  }();
};

std::vector<double> values(const Tensor& t) { return t.to_vector(); }

TEST(ConvPreparedWeights, SameOutputAsTransformingEachCall) {
  Layer l;
  Conv2dArgs reuse = l.args;
  reuse.reuse_prepared_weights = true;
  const Tensor fresh = conv2d_forward(l.x, l.w, l.b, l.args);
  EXPECT_EQ(values(conv2d_forward(l.x, l.w, l.b, reuse)), values(fresh));  // prepares
  EXPECT_EQ(values(conv2d_forward(l.x, l.w, l.b, reuse)), values(fresh));  // reuses
}

TEST(ConvPreparedWeights, AWriteToTheWeightsIsSeen) {
  Layer l;
  Conv2dArgs reuse = l.args;
  reuse.reuse_prepared_weights = true;
  (void)conv2d_forward(l.x, l.w, l.b, reuse);
  l.w.mul_(-0.5);  // an in-place op
  EXPECT_EQ(values(conv2d_forward(l.x, l.w, l.b, reuse)),
            values(conv2d_forward(l.x, l.w, l.b, l.args)));
  l.w.data<float>()[5] += 1.0f;  // a fresh writable pointer (as the SGD step takes one)
  EXPECT_EQ(values(conv2d_forward(l.x, l.w, l.b, reuse)),
            values(conv2d_forward(l.x, l.w, l.b, l.args)));
}

// Training: the weight gets a gradient, so the forward must read the weights as they are
// now; even a write through an old pointer (which the version counter cannot see) shows.
TEST(ConvPreparedWeights, TrainingForwardReadsTheWeightsEachCall) {
  Layer l;
  Variable x(l.x), w(l.w, /*requires_grad=*/true), b(l.b);
  float* old = w.data().data<float>();
  const std::vector<double> before = values(conv2d(x, w, b, l.args).data());
  old[0] += 1.0f;
  const std::vector<double> after = values(conv2d(x, w, b, l.args).data());
  EXPECT_NE(after, before);
  EXPECT_EQ(after, values(conv2d_forward(l.x, l.w, l.b, l.args)));
}

// Inference (no gradient recorded): the prepared filters are reused until the next counted
// write. A write through an old pointer is the documented blind spot (Storage::version()):
// asking for the pointer again makes the next forward see it.
TEST(ConvPreparedWeights, InferenceReusesThemUntilACountedWrite) {
  Layer l;
  Variable x(l.x), w(l.w, /*requires_grad=*/true), b(l.b);
  NoGradGuard no_grad;
  float* old = w.data().data<float>();
  const std::vector<double> before = values(conv2d(x, w, b, l.args).data());
  old[0] += 1.0f;
  EXPECT_EQ(values(conv2d(x, w, b, l.args).data()), before);  // prepared filters reused
  (void)w.data().raw_data();
  const std::vector<double> after = values(conv2d(x, w, b, l.args).data());
  EXPECT_NE(after, before);
  EXPECT_EQ(after, values(conv2d_forward(l.x, l.w, l.b, l.args)));
}

}  // namespace
