// test_loss.cpp — cross-entropy (with label smoothing) and top-k accuracy by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "nn/loss.h"
#include "nn_test_util.h"

namespace dl::nn {
namespace {

Tensor labels(const std::vector<int64_t>& v) {
  return Tensor::from_vector(v, {static_cast<int64_t>(v.size())});
}

// Row 0: logits [1, 2, 3], label 2; row 1: logits [0, 0, 0], label 0.
Tensor logits() { return Tensor::of2d({{1, 2, 3}, {0, 0, 0}}, DType::Float64); }

TEST(CrossEntropyLoss, MatchesHandComputedValue) {
  const double lse0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  const double expected = ((lse0 - 3.0) + std::log(3.0)) / 2;
  const ag::Variable loss = cross_entropy_loss(ag::Variable(logits()), labels({2, 0}));
  EXPECT_EQ(loss.dim(), 0);
  EXPECT_NEAR(loss.item(), expected, 1e-12);
}

TEST(CrossEntropyLoss, LabelSmoothingMixesInTheUniformTarget) {
  // (1-ε)·(-log p_label) + ε·mean_k(-log p_k); row 1 is uniform so both terms are log 3.
  const double eps = 0.1;
  const double lse0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  const double mean_nll0 = ((lse0 - 1) + (lse0 - 2) + (lse0 - 3)) / 3;
  const double row0 = (1 - eps) * (lse0 - 3) + eps * mean_nll0;
  const double expected = (row0 + std::log(3.0)) / 2;
  EXPECT_NEAR(cross_entropy_loss(ag::Variable(logits()), labels({2, 0}), eps).item(), expected,
              1e-12);
  EXPECT_THROW(cross_entropy_loss(ag::Variable(logits()), labels({2, 0}), 1.5),
               std::invalid_argument);
}

TEST(CrossEntropyLoss, GradientIsSoftmaxMinusOneHotOverN) {
  ag::Variable x(logits(), /*requires_grad=*/true);
  cross_entropy_loss(x, labels({2, 0})).backward();
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  testing::expect_values(x.grad(),
                         {std::exp(1.0) / z / 2, std::exp(2.0) / z / 2, (std::exp(3.0) / z - 1) / 2,
                          (1.0 / 3 - 1) / 2, 1.0 / 6, 1.0 / 6},
                         1e-12);
}

TEST(TopK, CountsLabelsAmongTheKLargestLogits) {
  const Tensor x = Tensor::of2d({{0.1, 0.5, 0.2, 0.9},    // order 3, 1, 2, 0
                                 {2.0, 1.0, 0.0, -1.0},   // order 0, 1, 2, 3
                                 {0.0, 0.0, 1.0, 0.0}});  // order 2, 0, 1, 3 (ties by index)
  const Tensor y = labels({1, 0, 3});
  EXPECT_EQ(topk_correct(x, y, 1), 1);  // only row 1
  EXPECT_EQ(topk_correct(x, y, 2), 2);  // + row 0
  EXPECT_EQ(topk_correct(x, y, 3), 2);  // row 2's label ranks 4th among the tied zeros
  EXPECT_EQ(topk_correct(x, y, 4), 3);
  EXPECT_DOUBLE_EQ(topk_accuracy(x, y, 1), 1.0 / 3);
  EXPECT_DOUBLE_EQ(topk_accuracy(x, y, 4), 1.0);
}

TEST(TopK, RejectsBadArguments) {
  const Tensor x = Tensor::zeros({2, 3});
  EXPECT_THROW(topk_correct(x, labels({0, 1}), 0), std::invalid_argument);
  EXPECT_THROW(topk_correct(x, labels({0, 1}), 4), std::invalid_argument);
  EXPECT_THROW(topk_correct(x, labels({0, 3}), 1), std::invalid_argument);
  EXPECT_THROW(topk_correct(x, labels({0}), 1), std::invalid_argument);
  EXPECT_THROW(topk_correct(x, Tensor::zeros({2}), 1), std::invalid_argument);
}

}  // namespace
}  // namespace dl::nn
