// test_errors.cpp — every error the tensor layer throws, with its exact message. Messages name
// the op and the shapes involved ("op: problem"); bad arguments and shapes throw
// std::invalid_argument, bad dims and indices std::out_of_range.
#include <gtest/gtest.h>

#include "test_util.h"

namespace dl {
namespace {

using test::error_of;
using OutOfRange = std::out_of_range;

const Tensor kUndefined;

// ---- factories --------------------------------------------------------------------------------

TEST(Errors, NegativeDimensionInAFactory) {
  EXPECT_EQ(error_of([] { Tensor::zeros({2, -1}); }), "empty: negative dimension in shape [2, -1]");
  EXPECT_EQ(error_of([] { Tensor::from_vector(std::vector<float>{1, 2}, {-1, -2}); }),
            "from_vector: negative dimension in shape [-1, -2]");
}

TEST(Errors, ArangeWithZeroStep) {
  EXPECT_EQ(error_of([] { Tensor::arange(0.0, 1.0, 0.0); }), "arange: step must be non-zero");
}

TEST(Errors, FromVectorWithTheWrongCount) {
  EXPECT_EQ(error_of([] { Tensor::from_vector(std::vector<double>{1, 2, 3}, {2, 2}); }),
            "from_vector: 3 values cannot fill shape [2, 2] (4 elements)");
}

TEST(Errors, Of2dWithRaggedRows) {
  EXPECT_EQ(error_of([] { Tensor::of2d({{1, 2}, {3, 4, 5}}); }),
            "of2d: rows have different lengths (2 vs 3)");
}

TEST(Errors, UniformWithLowAboveHigh) {
  Generator g(0);
  EXPECT_EQ(error_of([&] { Tensor::uniform({2}, 1.0, 0.5, g); }),
            "uniform: low (1) must not exceed high (0.5)");
}

TEST(Errors, RandintOfZero) {
  Generator g(0);
  EXPECT_EQ(error_of([&] { g.randint(0); }), "randint: n must be positive, got 0");
}

// ---- metadata and element access --------------------------------------------------------------

TEST(Errors, SizeAndStrideOfAMissingDim) {
  Tensor x = Tensor::zeros({2, 3});
  EXPECT_EQ(error_of<OutOfRange>([&] { x.size(2); }),
            "size: dim 2 is out of range for a tensor with 2 dims");
  EXPECT_EQ(error_of<OutOfRange>([&] { x.stride(-3); }),
            "stride: dim -3 is out of range for a tensor with 2 dims");
}

TEST(Errors, DataWithTheWrongType) {
  Tensor x = Tensor::zeros({2});
  EXPECT_EQ(error_of([&] { x.data<double>(); }), "data: tensor is float32, requested float64");
  EXPECT_EQ(error_of([&] { Tensor::zeros({1}, DType::Int64).data<float>(); }),
            "data: tensor is int64, requested float32");
}

TEST(Errors, UndefinedTensor) {
  EXPECT_EQ(error_of([] { kUndefined.raw_data(); }), "raw_data: tensor is undefined");
  EXPECT_EQ(error_of([] { kUndefined.item(); }), "item: tensor is undefined");
  EXPECT_EQ(error_of([] { kUndefined.view({1}); }), "view: tensor is undefined");
  EXPECT_EQ(error_of([] { kUndefined.contiguous(); }), "contiguous: tensor is undefined");
  EXPECT_EQ(error_of([] { kUndefined.to_vector(); }), "to_vector: tensor is undefined");
  EXPECT_EQ(error_of([] { add(kUndefined, Tensor::zeros({1})); }), "add: tensor is undefined");
  EXPECT_EQ(error_of([] { exp(kUndefined); }), "exp: tensor is undefined");
  EXPECT_EQ(error_of([] { sum(kUndefined); }), "sum: tensor is undefined");
  EXPECT_EQ(error_of([] { matmul(kUndefined, kUndefined); }), "matmul: tensor is undefined");
  EXPECT_EQ(error_of([] { where(kUndefined, Tensor::zeros({1}), Tensor::zeros({1})); }),
            "where: tensor is undefined");
  EXPECT_EQ(error_of([] { sum_to(kUndefined, {1}); }), "sum_to: tensor is undefined");
  EXPECT_EQ(error_of([] { concat({kUndefined}, 0); }), "concat: tensor is undefined");
  EXPECT_EQ(error_of([] { pad(kUndefined, {}); }), "pad: tensor is undefined");
  Tensor x = Tensor::zeros({1});
  EXPECT_EQ(error_of([&] { x.add_(kUndefined); }), "add_: tensor is undefined");
}

TEST(Errors, ItemOfSeveralElements) {
  EXPECT_EQ(error_of([] { Tensor::zeros({2}).item(); }),
            "item: tensor of shape [2] has 2 elements, expected 1");
}

TEST(Errors, AtWithAWrongIndex) {
  Tensor x = Tensor::zeros({2, 3});
  EXPECT_EQ(error_of<OutOfRange>([&] { x.at({1}); }),
            "at: index has 1 entries but the tensor of shape [2, 3] has 2 dims");
  EXPECT_EQ(error_of<OutOfRange>([&] { x.at({2, 0}); }), "at: index [2, 0] is out of range for shape [2, 3]");
  EXPECT_EQ(error_of<OutOfRange>([&] { x.at({0, -4}); }), "at: index [0, -4] is out of range for shape [2, 3]");
  EXPECT_EQ(error_of<OutOfRange>([&] { x.set({0, 3}, 1.0); }), "set: index [0, 3] is out of range for shape [2, 3]");
}

// ---- views ------------------------------------------------------------------------------------

TEST(Errors, ViewWithAWrongElementCount) {
  Tensor x = Tensor::zeros({2, 3});
  EXPECT_EQ(error_of([&] { x.view({4, 2}); }),
            "view: shape [4, 2] is invalid for a tensor of shape [2, 3] (6 elements)");
  EXPECT_EQ(error_of([&] { x.view({4, -1}); }),
            "view: shape [4, -1] is invalid for a tensor of shape [2, 3] (6 elements)");
  EXPECT_EQ(error_of([&] { x.reshape({5}); }),
            "reshape: shape [5] is invalid for a tensor of shape [2, 3] (6 elements)");
}

TEST(Errors, ViewWithBadMinusOnes) {
  Tensor x = Tensor::zeros({2, 3});
  EXPECT_EQ(error_of([&] { x.view({-1, -1}); }), "view: only one dim can be -1");
  EXPECT_EQ(error_of([&] { x.view({-2, -3}); }), "view: invalid shape [-2, -3]");
  EXPECT_EQ(error_of([&] { Tensor::zeros({0}).view({-1, 0}); }),
            "view: shape [-1, 0] is invalid for a tensor of shape [0] (0 elements)");
}

TEST(Errors, ViewThatNeedsACopy) {
  Tensor t = Tensor::zeros({2, 3}).transpose(0, 1);
  EXPECT_EQ(error_of([&] { t.view({6}); }),
            "view: cannot view a tensor of shape [3, 2] with strides [1, 3] as [6] without "
            "copying; use reshape()");
}

TEST(Errors, PermuteWithBadDims) {
  Tensor x = Tensor::zeros({2, 3, 4});
  EXPECT_EQ(error_of([&] { x.permute({0, 1}); }), "permute: 2 dims given for a tensor of shape [2, 3, 4]");
  EXPECT_EQ(error_of([&] { x.permute({0, 2, -3}); }), "permute: dim 0 repeated");
  EXPECT_EQ(error_of<OutOfRange>([&] { x.permute({0, 1, 3}); }),
            "permute: dim 3 is out of range for a tensor with 3 dims");
  EXPECT_EQ(error_of<OutOfRange>([&] { x.transpose(0, 3); }),
            "transpose: dim 3 is out of range for a tensor with 3 dims");
}

TEST(Errors, SliceNarrowSelect) {
  Tensor x = Tensor::zeros({4});
  EXPECT_EQ(error_of([&] { x.slice(0, 0, 4, 0); }), "slice: step must be positive, got 0");
  EXPECT_EQ(error_of([&] { x.slice(0, 4, 0, -1); }), "slice: step must be positive, got -1");
  EXPECT_EQ(error_of<OutOfRange>([&] { x.slice(1, 0, 1); }),
            "slice: dim 1 is out of range for a tensor with 1 dims");
  EXPECT_EQ(error_of<OutOfRange>([&] { x.narrow(0, 2, 3); }),
            "narrow: range [2, 5) is out of bounds for dim 0 of shape [4]");
  EXPECT_EQ(error_of<OutOfRange>([&] { x.narrow(0, -1, 1); }),
            "narrow: range [-1, 0) is out of bounds for dim 0 of shape [4]");
  EXPECT_EQ(error_of<OutOfRange>([&] { x.select(0, 4); }),
            "select: index 4 is out of range for dim 0 of shape [4]");
  EXPECT_EQ(error_of<OutOfRange>([&] { x.select(0, -5); }),
            "select: index -5 is out of range for dim 0 of shape [4]");
}

TEST(Errors, Expand) {
  Tensor x = Tensor::zeros({2, 3});
  EXPECT_EQ(error_of([&] { x.expand({3}); }), "expand: cannot expand shape [2, 3] to [3] (fewer dims)");
  EXPECT_EQ(error_of([&] { x.expand({4, 3}); }), "expand: cannot expand shape [2, 3] to [4, 3]");
  EXPECT_EQ(error_of([&] { x.expand({-1, 2, 3}); }), "expand: -1 is not allowed for new leading dims");
  EXPECT_EQ(error_of([&] { Tensor::zeros({1}).expand({-2}); }), "expand: invalid size -2 in [-2]");
}

TEST(Errors, SqueezeUnsqueezeFlatten) {
  Tensor x = Tensor::zeros({2, 3});
  EXPECT_EQ(error_of<OutOfRange>([&] { x.squeeze(2); }),
            "squeeze: dim 2 is out of range for a tensor with 2 dims");
  EXPECT_EQ(error_of<OutOfRange>([&] { x.unsqueeze(3); }),
            "unsqueeze: dim 3 is out of range for a tensor with 2 dims (expected -3..2)");
  EXPECT_EQ(error_of<OutOfRange>([&] { x.unsqueeze(-4); }),
            "unsqueeze: dim -4 is out of range for a tensor with 2 dims (expected -3..2)");
  EXPECT_EQ(error_of([&] { x.flatten(1, 0); }), "flatten: start dim 1 is after end dim 0");
}

// ---- in-place ---------------------------------------------------------------------------------

TEST(Errors, InPlaceSourceThatDoesNotBroadcast) {
  Tensor x = Tensor::zeros({2});
  EXPECT_EQ(error_of([&] { x.copy_(Tensor::zeros({3})); }),
            "copy_: shapes [3] and [2] are not broadcastable");
  EXPECT_EQ(error_of([&] { x.add_(Tensor::zeros({3, 2})); }),
            "add_: shape [3, 2] cannot be broadcast to [2]");
  EXPECT_EQ(error_of([&] { x.mul_(Tensor::zeros({4})); }),
            "mul_: shapes [4] and [2] are not broadcastable");
}

TEST(Errors, InPlaceIntoAnExpandedView) {
  Tensor e = Tensor::zeros({3}).expand({2, 3});
  EXPECT_EQ(error_of([&] { e.add_(1.0); }),
            "add_: cannot write into an expanded tensor (shape [2, 3], strides [0, 1]) whose "
            "elements share memory; clone() it first");
  EXPECT_EQ(error_of([&] { e.fill_(0); }).substr(0, 45), "copy_: cannot write into an expanded tensor (");
}

// ---- elementwise ------------------------------------------------------------------------------

TEST(Errors, BinaryOpsThatDoNotBroadcast) {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4});
  EXPECT_EQ(error_of([&] { add(a, b); }), "add: shapes [2, 3] and [4] are not broadcastable");
  EXPECT_EQ(error_of([&] { sub(a, b); }), "sub: shapes [2, 3] and [4] are not broadcastable");
  EXPECT_EQ(error_of([&] { mul(a, b); }), "mul: shapes [2, 3] and [4] are not broadcastable");
  EXPECT_EQ(error_of([&] { div(a, b); }), "div: shapes [2, 3] and [4] are not broadcastable");
  EXPECT_EQ(error_of([&] { maximum(a, b); }), "maximum: shapes [2, 3] and [4] are not broadcastable");
  EXPECT_EQ(error_of([&] { pow(a, b); }), "pow: shapes [2, 3] and [4] are not broadcastable");
  EXPECT_EQ(error_of([&] { lt(a, b); }), "lt: shapes [2, 3] and [4] are not broadcastable");
  EXPECT_EQ(error_of([&] { a + b; }), "add: shapes [2, 3] and [4] are not broadcastable");
  EXPECT_EQ(error_of([&] { where(Tensor::zeros({5}), a, a); }),
            "where: shapes [5] and [2, 3] are not broadcastable");
}

TEST(Errors, BinaryOpsWithDifferentDtypes) {
  Tensor f = Tensor::zeros({2}), d = Tensor::zeros({2}, DType::Float64);
  EXPECT_EQ(error_of([&] { add(f, d); }), "add: dtypes differ (float32 [2] vs float64 [2])");
  EXPECT_EQ(error_of([&] { where(f, f, d); }), "where: dtypes differ (float32 [2] vs float64 [2])");
}

TEST(Errors, FloatOnlyOpsOnInt64) {
  Tensor i = Tensor::zeros({2}, DType::Int64);
  EXPECT_EQ(error_of([&] { exp(i); }), "exp: expected a float tensor, got int64");
  EXPECT_EQ(error_of([&] { relu(i); }), "relu: expected a float tensor, got int64");
  EXPECT_EQ(error_of([&] { mean(i); }), "mean: expected a float32 or float64 tensor, got int64");
  EXPECT_EQ(error_of([&] { var(i); }), "var: expected a float32 or float64 tensor, got int64");
  EXPECT_EQ(error_of([&] { matmul(i, i); }), "matmul: expected a float32 or float64 tensor, got int64");
}

TEST(Errors, IntegerDivisionByZero) {
  Tensor i = Tensor::ones({2}, DType::Int64);
  EXPECT_EQ(error_of([&] { div(i, Tensor::zeros({1}, DType::Int64)); }), "div: integer division by zero");
}

TEST(Errors, MaxRelErrorShapes) {
  EXPECT_EQ(error_of([] { max_rel_error(Tensor::zeros({2}), Tensor::zeros({3})); }),
            "max_rel_error: shapes [2] and [3] differ");
}

// ---- reductions -------------------------------------------------------------------------------

TEST(Errors, ReductionDims) {
  Tensor x = Tensor::zeros({2, 3});
  EXPECT_EQ(error_of<OutOfRange>([&] { sum(x, {2}); }), "sum: dim 2 is out of range for a tensor with 2 dims");
  EXPECT_EQ(error_of([&] { sum(x, {1, -1}); }), "sum: dim -1 repeated");
  EXPECT_EQ(error_of<OutOfRange>([&] { argmax(x, -3); }),
            "argmax: dim -3 is out of range for a tensor with 2 dims");
  EXPECT_EQ(error_of<OutOfRange>([&] { mean(x, {5}); }),
            "mean: dim 5 is out of range for a tensor with 2 dims");
}

TEST(Errors, MaxOfNothing) {
  EXPECT_EQ(error_of([] { max(Tensor::zeros({0})); }), "max: cannot reduce over an empty dim of shape [0]");
  EXPECT_EQ(error_of([] { argmax(Tensor::zeros({2, 0}), 1); }),
            "argmax: cannot reduce over an empty dim of shape [2, 0]");
}

TEST(Errors, SumToAShapeThatDoesNotBroadcast) {
  Tensor x = Tensor::zeros({2, 3});
  EXPECT_EQ(error_of([&] { sum_to(x, {4}); }), "sum_to: shapes [2, 3] and [4] are not broadcastable");
  EXPECT_EQ(error_of([&] { sum_to(x, {2, 2, 3}); }), "sum_to: shape [2, 3] is not a broadcast of [2, 2, 3]");
  EXPECT_EQ(error_of([&] { sum_to(Tensor::zeros({1, 3}), {2, 3}); }),
            "sum_to: shape [1, 3] is not a broadcast of [2, 3]");
}

// ---- matmul -----------------------------------------------------------------------------------

TEST(Errors, MatmulShapes) {
  EXPECT_EQ(error_of([] { matmul(Tensor::zeros({2, 3}), Tensor::zeros({4, 5})); }),
            "matmul: shapes [2, 3] and [4, 5] do not match (k=3 vs 4)");
  EXPECT_EQ(error_of([] { matmul(Tensor::zeros({3}), Tensor::zeros({4})); }),
            "matmul: shapes [3] and [4] do not match (k=3 vs 4)");
  EXPECT_EQ(error_of([] { matmul(Tensor::scalar(1), Tensor::zeros({1})); }),
            "matmul: shapes [] and [1]: both need at least 1 dim");
  EXPECT_EQ(error_of([] { matmul(Tensor::zeros({2, 4, 5}), Tensor::zeros({3, 5, 6})); }),
            "matmul: batch dims of [2, 4, 5] and [3, 5, 6] are not broadcastable");
  EXPECT_EQ(error_of([] { matmul(Tensor::zeros({2}), Tensor::zeros({2}, DType::Float64)); }),
            "matmul: dtypes differ (float32 vs float64)");
}

// ---- concat and pad ---------------------------------------------------------------------------

TEST(Errors, Concat) {
  Tensor a = Tensor::zeros({2, 3});
  EXPECT_EQ(error_of([] { concat({}, 0); }), "concat: no tensors given");
  EXPECT_EQ(error_of([&] { concat({a, Tensor::zeros({2, 4})}, 0); }),
            "concat: shapes [2, 3] and [2, 4] differ outside dim 0");
  EXPECT_EQ(error_of([&] { concat({a, Tensor::zeros({3})}, 0); }),
            "concat: shapes [2, 3] and [3] differ outside dim 0");
  EXPECT_EQ(error_of([&] { concat({a, Tensor::zeros({2, 3}, DType::Int64)}, 0); }),
            "concat: dtypes differ (float32 vs int64)");
  EXPECT_EQ(error_of([] { concat({Tensor::scalar(1)}, 0); }), "concat: cannot concatenate 0-d tensors");
  EXPECT_EQ(error_of<OutOfRange>([&] { concat({a}, 2); }),
            "concat: dim 2 is out of range for a tensor with 2 dims");
}

TEST(Errors, Pad) {
  Tensor a = Tensor::zeros({2});
  EXPECT_EQ(error_of([&] { pad(a, {1}); }),
            "pad: expected an even number of pads, at most 2 per dim, for shape [2]; got [1]");
  EXPECT_EQ(error_of([&] { pad(a, {1, 1, 1, 1}); }),
            "pad: expected an even number of pads, at most 2 per dim, for shape [2]; got [1, 1, 1, 1]");
  EXPECT_EQ(error_of([&] { pad(a, {-1, 0}); }), "pad: negative padding [-1, 0]");
}

}  // namespace
}  // namespace dl
