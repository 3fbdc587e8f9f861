// test_errors.cpp — bad use of the differentiable ops throws a message that names the op and
// the shapes (or the offending value), and never crashes.
#include <gtest/gtest.h>

#include <string>

#include "autograd/ops.h"
#include "tensor/ops.h"

using namespace dl;
using namespace dl::ag;

namespace {
/// The message of the std::invalid_argument that @p f throws ("" if it throws none).
template <class F>
std::string invalid_argument_message(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

Variable f64(const Shape& shape, bool requires_grad = false) {
  return Variable(Tensor::ones(shape, DType::Float64), requires_grad);
}
}  // namespace

TEST(Errors, Conv2dChannelMismatchNamesBothShapes) {
  const Variable x(Tensor::zeros({8, 3, 32, 32}));
  const Variable w(Tensor::zeros({16, 4, 3, 3}));
  EXPECT_EQ(invalid_argument_message([&] { conv2d(x, w, Variable(), Conv2dArgs::square(1, 1)); }),
            "conv2d: input [8, 3, 32, 32] has 3 channels but weight [16, 4, 3, 3] expects 4");
}

TEST(Errors, Conv2dBiasOfWrongLengthIsRejected) {
  const std::string msg = invalid_argument_message(
      [] { conv2d(f64({1, 2, 4, 4}), f64({3, 2, 3, 3}), f64({2}), Conv2dArgs()); });
  EXPECT_NE(msg.find("bias [2] must be [3]"), std::string::npos) << msg;
}

TEST(Errors, MatmulInnerDimMismatchNamesBothShapes) {
  const std::string msg = invalid_argument_message([] { matmul(f64({2, 3}), f64({4, 5})); });
  EXPECT_NE(msg.find("matmul: shapes [2, 3] and [4, 5]"), std::string::npos) << msg;
}

TEST(Errors, LinearWeightMismatchNamesBothShapes) {
  const std::string msg =
      invalid_argument_message([] { linear(f64({5, 4}), f64({3, 2}), Variable()); });
  EXPECT_NE(msg.find("linear: input [5, 4] and weight [3, 2]"), std::string::npos) << msg;
}

TEST(Errors, BatchNormWeightOfWrongLengthIsRejected) {
  Tensor running_mean, running_var;
  const std::string msg = invalid_argument_message([&] {
    batch_norm(f64({2, 3, 2, 2}), f64({4}), Variable(), running_mean, running_var, true);
  });
  EXPECT_NE(msg.find("batch_norm: weight [4] must be [3]"), std::string::npos) << msg;
}

TEST(Errors, MaxPoolPaddingLargerThanHalfTheKernelIsRejected) {
  const std::string msg = invalid_argument_message([] { max_pool2d(f64({1, 1, 4, 4}), 2, 2, 2); });
  EXPECT_NE(msg.find("max_pool2d: pad 2 must be at most half the kernel 2"), std::string::npos)
      << msg;
}

TEST(Errors, ShortcutCannotDropChannels) {
  EXPECT_THROW(shortcut_a(f64({1, 4, 2, 2}), 2, 2), std::invalid_argument);
}

TEST(Errors, CrossEntropyLabelOutOfRangeNamesLabelAndPosition) {
  const Tensor labels = Tensor::from_vector(std::vector<int64_t>{1, 12, 0}, {3});
  const std::string msg = invalid_argument_message([&] { cross_entropy(f64({3, 10}), labels); });
  EXPECT_NE(msg.find("label 12 at position 1 is outside [0, 10)"), std::string::npos) << msg;
}

TEST(Errors, CrossEntropyNegativeLabelIsRejected) {
  const Tensor labels = Tensor::from_vector(std::vector<int64_t>{-1, 0}, {2});
  EXPECT_THROW(cross_entropy(f64({2, 3}), labels), std::invalid_argument);
}

TEST(Errors, CrossEntropyLabelsMustBeInt64) {
  const std::string msg = invalid_argument_message(
      [] { cross_entropy(f64({2, 3}), Tensor::of({0, 1}, DType::Float64)); });
  EXPECT_NE(msg.find("labels must be int64"), std::string::npos) << msg;
}

TEST(Errors, BackwardThroughFreedGraphThrowsWithAdvice) {
  const Variable x = f64({1, 1, 3, 3}, true), w = f64({1, 1, 2, 2}, true);
  const Variable loss = sum(conv2d(x, w, Variable(), Conv2dArgs()));
  loss.backward();
  try {
    loss.backward();
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("already freed"), std::string::npos) << msg;
    EXPECT_NE(msg.find("retain_graph"), std::string::npos) << msg;
  }
}

TEST(Errors, GradOutputOfWrongShapeIsRejected) {
  const Variable y = max_pool2d(f64({1, 1, 4, 4}, true), 2, 2);  // [1, 1, 2, 2]
  const std::string msg =
      invalid_argument_message([&] { y.backward(Tensor::ones({1, 1, 4, 4}, DType::Float64)); });
  EXPECT_NE(msg.find("does not match output [1, 1, 2, 2]"), std::string::npos) << msg;
}
