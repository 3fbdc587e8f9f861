// test_tape.cpp — the tape itself: recording, backward, accumulation, freeing, errors.
// Each test is one idea; step through them in a debugger to watch backpropagation.
#include <gtest/gtest.h>

#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "tensor/ops.h"

using namespace dl;
using namespace dl::ag;

TEST(Tape, ProductRuleGivesOtherOperand) {
  Variable a(Tensor::of({1, 2, 3}, DType::Float64), true);
  Variable b(Tensor::of({4, 5, 6}, DType::Float64), true);
  sum(mul(a, b)).backward();
  EXPECT_EQ(a.grad().to_vector(), (std::vector<double>{4, 5, 6}));
  EXPECT_EQ(b.grad().to_vector(), (std::vector<double>{1, 2, 3}));
}

TEST(Tape, OneValueFeedingTwoOpsGetsTheSumOfBothGradients) {
  // y = x*x + x: the residual pattern, x used twice. dy/dx = 2x + 1.
  Variable x(Tensor::of({3}, DType::Float64), true);
  Variable y = add(mul(x, x), x);
  sum(y).backward();
  EXPECT_DOUBLE_EQ(x.grad().item(), 7.0);
}

TEST(Tape, GradientsAccumulateAcrossBackwardCalls) {
  Variable x(Tensor::of({2}, DType::Float64), true);
  sum(mul(x, x)).backward();
  sum(mul(x, x)).backward();
  EXPECT_DOUBLE_EQ(x.grad().item(), 8.0);  // 4 + 4
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
}

TEST(Tape, NodesAreListedInRecordedOrder) {
  Variable x(Tensor::of({1, 2}, DType::Float64), true);
  Variable y = sum(relu(mul(x, x)));
  const auto tape = tape_of(y);
  ASSERT_EQ(tape.size(), 3u);
  EXPECT_EQ(tape[0]->name, "MulBackward");
  EXPECT_EQ(tape[1]->name, "ReluBackward");
  EXPECT_EQ(tape[2]->name, "SumBackward");
  EXPECT_NE(format_tape(y).find("#"), std::string::npos);
  EXPECT_NE(to_dot(y).find("digraph"), std::string::npos);
}

TEST(Tape, NoGradGuardRecordsNothing) {
  Variable x(Tensor::of({1, 2}, DType::Float64), true);
  NoGradGuard guard;
  Variable y = mul(x, x);
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(y.grad_fn(), nullptr);
}

TEST(Tape, SecondBackwardThroughFreedGraphThrows) {
  Variable x(Tensor::of({1, 2}, DType::Float64), true);
  Variable y = sum(mul(x, x));
  y.backward();
  EXPECT_THROW(y.backward(), std::runtime_error);
}

TEST(Tape, RetainGraphAllowsSecondBackward) {
  Variable x(Tensor::of({1, 2}, DType::Float64), true);
  Variable y = sum(mul(x, x));
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{4, 8}));
}

TEST(Tape, BackwardOnVariableWithoutGradThrows) {
  Variable x(Tensor::of({1, 2}, DType::Float64));
  try {
    sum(x).backward();
    FAIL() << "expected a throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("does not require grad"), std::string::npos);
  }
}

TEST(Tape, NonScalarBackwardNeedsExplicitGradientOfMatchingShape) {
  Variable x(Tensor::of({1, 2}, DType::Float64), true);
  Variable y = mul(x, x);
  EXPECT_THROW(y.backward(), std::invalid_argument);
  EXPECT_THROW(y.backward(Tensor::ones({3}, DType::Float64)), std::invalid_argument);
  y.backward(Tensor::of({1, 1}, DType::Float64));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{2, 4}));
}

TEST(Tape, InputsThatNeedNoGradGetNone) {
  Variable a(Tensor::of({1, 2}, DType::Float64), true);
  Variable b(Tensor::of({3, 4}, DType::Float64), false);
  sum(mul(a, b)).backward();
  EXPECT_TRUE(a.grad().defined());
  EXPECT_FALSE(b.grad().defined());
}
