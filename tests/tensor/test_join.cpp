// test_join.cpp — concat and pad: each allocates the result once and copies its inputs into
// views of it, so strided inputs and every dim must work (tutorial chapter 7 uses pad for the
// option-A shortcut).
#include <gtest/gtest.h>

#include "test_util.h"

namespace dl {
namespace {

using test::expect_tensor_eq;

TEST(Concat, AlongDimZero) {
  Tensor a = Tensor::of2d({{1, 2}}), b = Tensor::of2d({{3, 4}, {5, 6}});
  expect_tensor_eq(concat({a, b}, 0), {3, 2}, {1, 2, 3, 4, 5, 6});
}

TEST(Concat, AlongAnInnerDim) {
  Tensor a = Tensor::of2d({{1, 2}, {3, 4}}), b = Tensor::of2d({{9}, {8}});
  expect_tensor_eq(concat({a, b}, 1), {2, 3}, {1, 2, 9, 3, 4, 8});
  expect_tensor_eq(concat({b, a}, -1), {2, 3}, {9, 1, 2, 8, 3, 4});
}

TEST(Concat, ChannelsOfNchw) {
  Tensor x = Tensor::zeros({2, 1, 2, 2}), y = Tensor::ones({2, 3, 2, 2});
  Tensor c = concat({x, y}, 1);
  EXPECT_EQ(c.shape(), (Shape{2, 4, 2, 2}));
  EXPECT_EQ(sum(c.narrow(1, 0, 1)).item(), 0.0);
  EXPECT_EQ(sum(c.narrow(1, 1, 3)).item(), 24.0);
}

TEST(Concat, ReadsStridedInputsAndReturnsAFreshTensor) {
  Tensor m = Tensor::of2d({{1, 2}, {3, 4}});
  Tensor c = concat({m.transpose(0, 1), m}, 0);
  expect_tensor_eq(c, {4, 2}, {1, 3, 2, 4, 1, 2, 3, 4});
  EXPECT_FALSE(c.shares_storage(m));
  expect_tensor_eq(concat({m}, 1), {2, 2}, {1, 2, 3, 4});  // one input: still a copy
  EXPECT_FALSE(concat({m}, 1).shares_storage(m));
}

TEST(Concat, EmptyPiecesAreSkipped) {
  Tensor a = Tensor::of({1, 2}), e = Tensor::zeros({0});
  expect_tensor_eq(concat({e, a, e}, 0), {2}, {1, 2});
}

TEST(Concat, KeepsTheDtype) {
  Tensor a = Tensor::of({1}, DType::Int64);
  EXPECT_EQ(concat({a, a}, 0).dtype(), DType::Int64);
}

TEST(Pad, LeadingDimOnly) {
  expect_tensor_eq(pad(Tensor::of({1, 2}), {1, 2}), {5}, {0, 1, 2, 0, 0});
}

TEST(Pad, TwoDimsWithAValue) {
  Tensor x = Tensor::of2d({{1, 2}, {3, 4}});
  expect_tensor_eq(pad(x, {1, 0, 0, 1}, -1), {3, 3}, {-1, -1, -1, 1, 2, -1, 3, 4, -1});
}

TEST(Pad, PadsApplyToTheLeadingDims) {
  // Option-A shortcut: [N, C, H, W] -> [N, C + 2p, H, W] with zeros in the new channels.
  Tensor x = Tensor::ones({2, 3, 2, 2});
  Tensor p = pad(x, {0, 0, 2, 2});
  EXPECT_EQ(p.shape(), (Shape{2, 7, 2, 2}));
  EXPECT_EQ(sum(p).item(), 24.0);
  EXPECT_EQ(sum(p.narrow(1, 2, 3)).item(), 24.0);
  EXPECT_EQ(sum(p.narrow(1, 0, 2)).item(), 0.0);
}

TEST(Pad, NoPadsIsACopy) {
  Tensor x = Tensor::of({1, 2});
  Tensor p = pad(x, {});
  expect_tensor_eq(p, {2}, {1, 2});
  EXPECT_FALSE(p.shares_storage(x));
}

TEST(Pad, StridedInput) {
  Tensor x = Tensor::of2d({{1, 2}, {3, 4}}).transpose(0, 1);
  expect_tensor_eq(pad(x, {0, 1}), {3, 2}, {1, 3, 2, 4, 0, 0});
}

}  // namespace
}  // namespace dl
