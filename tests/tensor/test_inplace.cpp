// test_inplace.cpp — add_, mul_, copy_, fill_, zero_ write through views, contiguous or not,
// broadcast and convert their source, and cope with a source that overlaps the destination.
#include <gtest/gtest.h>

#include "test_util.h"

namespace dl {
namespace {

using test::expect_tensor_eq;

Tensor iota(const Shape& shape, DType dt = DType::Float64) {
  return Tensor::arange(shape_numel(shape), dt).view(shape);
}

TEST(InPlace, AddTensor) {
  Tensor x = iota({3});
  Tensor& r = x.add_(Tensor::of({10, 20, 30}, DType::Float64));
  EXPECT_EQ(&r, &x);  // returns *this for chaining
  expect_tensor_eq(x, {3}, {10, 21, 32});
}

TEST(InPlace, AddWithAlpha) {
  Tensor x = Tensor::ones({2});
  x.add_(Tensor::of({1, 2}), -0.5);
  expect_tensor_eq(x, {2}, {0.5, 0});
}

TEST(InPlace, AddAndMulScalars) {
  Tensor x = iota({3});
  x.add_(1.0).mul_(2.0);
  expect_tensor_eq(x, {3}, {2, 4, 6});
}

TEST(InPlace, MulTensorBroadcast) {
  Tensor x = iota({2, 3});
  x.mul_(Tensor::of({1, 10, 100}, DType::Float64));
  expect_tensor_eq(x, {2, 3}, {0, 10, 200, 3, 40, 500});
}

TEST(InPlace, FillAndZero) {
  Tensor x = Tensor::empty({2, 2});
  x.fill_(3.25);
  expect_tensor_eq(x, {2, 2}, {3.25, 3.25, 3.25, 3.25});
  x.zero_();
  expect_tensor_eq(x, {2, 2}, {0, 0, 0, 0});
}

TEST(InPlace, FillThroughAColumnView) {
  Tensor x = Tensor::zeros({3, 4});
  x.select(1, 2).fill_(7);
  expect_tensor_eq(x, {3, 4}, {0, 0, 7, 0, 0, 0, 7, 0, 0, 0, 7, 0});
}

TEST(InPlace, AddThroughATransposedView) {
  Tensor x = Tensor::zeros({2, 3}, DType::Float64);
  // t is [3, 2] with strides [1, 3]; adding a row of t's shape touches x column by column.
  x.transpose(0, 1).add_(Tensor::of({1, 2}, DType::Float64));
  expect_tensor_eq(x, {2, 3}, {1, 1, 1, 2, 2, 2});
}

TEST(InPlace, MulThroughAStepSlice) {
  Tensor x = iota({8});
  x.slice(0, 1, 8, 3).mul_(-1);  // elements 1, 4, 7
  expect_tensor_eq(x, {8}, {0, -1, 2, 3, -4, 5, 6, -7});
}

TEST(InPlace, ZeroThroughANarrowOfAPermute) {
  Tensor x = Tensor::ones({2, 3, 4});
  x.permute({2, 0, 1}).narrow(0, 1, 2).zero_();  // x[:, :, 1:3] = 0
  EXPECT_EQ(sum(x).item(), 12.0);
  EXPECT_EQ(x.at({1, 2, 1}), 0.0);
  EXPECT_EQ(x.at({1, 2, 3}), 1.0);
}

TEST(InPlace, CopyBroadcastsAndConvertsTheSource) {
  Tensor x = Tensor::zeros({2, 3}, DType::Float32);
  x.copy_(Tensor::of({1.5, 2.5, 3.5}, DType::Float64));
  expect_tensor_eq(x, {2, 3}, {1.5, 2.5, 3.5, 1.5, 2.5, 3.5});
  EXPECT_EQ(x.dtype(), DType::Float32);
  Tensor i = Tensor::zeros({2}, DType::Int64);
  i.copy_(Tensor::of({2.9, -2.9}));
  expect_tensor_eq(i, {2}, {2, -2});  // truncation toward zero, as static_cast does
}

TEST(InPlace, CopyIntoANonContiguousView) {
  Tensor x = Tensor::zeros({3, 3}, DType::Float64);
  x.transpose(0, 1).copy_(iota({3, 3}));
  expect_tensor_eq(x, {3, 3}, {0, 3, 6, 1, 4, 7, 2, 5, 8});
}

TEST(InPlace, CopyFromAStridedSource) {
  Tensor x = Tensor::zeros({3}, DType::Float64);
  x.copy_(iota({3, 3}).select(1, 1));
  expect_tensor_eq(x, {3}, {1, 4, 7});
}

TEST(InPlace, WorksOnAZeroDimTensor) {
  Tensor s = Tensor::scalar(2.0, DType::Float64);
  s.add_(3.0);
  EXPECT_EQ(s.item(), 5.0);
}

TEST(InPlace, WorksOnAnEmptyTensor) {
  Tensor e = Tensor::zeros({0, 3});
  e.fill_(1);
  e.add_(Tensor::ones({3}));
  EXPECT_EQ(e.numel(), 0);
}

TEST(InPlace, AddOfItselfDoubles) {
  Tensor x = iota({4});
  x.add_(x);
  expect_tensor_eq(x, {4}, {0, 2, 4, 6});
  x.mul_(x);
  expect_tensor_eq(x, {4}, {0, 4, 16, 36});
}

TEST(InPlace, OverlappingShiftedSourceIsReadBeforeWriting) {
  // x[1:] = x[:-1] must shift every element by one, not smear x[0] over the whole tensor.
  Tensor x = iota({6});
  x.slice(0, 1, 6).copy_(x.slice(0, 0, 5));
  expect_tensor_eq(x, {6}, {0, 0, 1, 2, 3, 4});
}

TEST(InPlace, BroadcastOfOwnRowIsReadBeforeWriting) {
  // Adding row 0 to every row must use row 0's old values, including for row 0 itself.
  Tensor x = iota({3, 2});
  x.add_(x.select(0, 0));
  expect_tensor_eq(x, {3, 2}, {0, 2, 2, 4, 4, 6});
}

TEST(InPlace, TransposeOfItselfIsReadBeforeWriting) {
  Tensor x = iota({2, 2});
  x.copy_(x.transpose(0, 1));
  expect_tensor_eq(x, {2, 2}, {0, 2, 1, 3});
}

TEST(InPlace, LargeStridedWriteIsCorrectWithThreads) {
  test::ThreadCount tc(2);
  Tensor x = Tensor::zeros({300, 400}, DType::Float64);
  Tensor src = iota({400, 300});
  x.transpose(0, 1).copy_(src);  // 120000 elements: the threaded path
  for (int64_t i : {0, 17, 299})
    for (int64_t j : {0, 5, 399}) ASSERT_EQ(x.at({i, j}), src.at({j, i}));
}

}  // namespace
}  // namespace dl
