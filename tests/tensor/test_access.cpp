// test_access.cpp — reading and writing single elements (item, at, set), to_vector, typed data
// pointers, and the copies: clone, contiguous, to(dtype) (tutorial chapter 1).
#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"

namespace dl {
namespace {

using test::expect_tensor_eq;

TEST(Access, ItemOfOneElementTensors) {
  EXPECT_EQ(Tensor::scalar(2.5).item(), 2.5);
  EXPECT_EQ(Tensor::of({7}).item(), 7.0);
  EXPECT_EQ(Tensor::ones({1, 1, 1}).item(), 1.0);
  EXPECT_EQ(Tensor::of({-4}, DType::Int64).item(), -4.0);
}

TEST(Access, AtReadsAFullIndex) {
  Tensor x = Tensor::of2d({{1, 2, 3}, {4, 5, 6}});
  EXPECT_EQ(x.at({0, 0}), 1.0);
  EXPECT_EQ(x.at({1, 2}), 6.0);
}

TEST(Access, AtAcceptsNegativeIndices) {
  Tensor x = Tensor::of2d({{1, 2, 3}, {4, 5, 6}});
  EXPECT_EQ(x.at({-1, -1}), 6.0);
  EXPECT_EQ(x.at({-2, 1}), 2.0);
}

TEST(Access, AtFollowsStrides) {
  Tensor x = Tensor::of2d({{1, 2, 3}, {4, 5, 6}});
  EXPECT_EQ(x.transpose(0, 1).at({2, 0}), 3.0);
  EXPECT_EQ(x.slice(1, 1, 3).at({1, 0}), 5.0);
}

TEST(Access, SetWritesOneElement) {
  Tensor x = Tensor::zeros({2, 2});
  x.set({1, 0}, 3.5);
  expect_tensor_eq(x, {2, 2}, {0, 0, 3.5, 0});
  Tensor i = Tensor::zeros({2}, DType::Int64);
  i.set({1}, 9);
  EXPECT_EQ(i.data<int64_t>()[1], 9);
}

TEST(Access, ToVectorIsRowMajorForAnyView) {
  Tensor x = Tensor::of2d({{1, 2}, {3, 4}});
  EXPECT_EQ(x.to_vector(), (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(x.transpose(0, 1).to_vector(), (std::vector<double>{1, 3, 2, 4}));
  EXPECT_EQ(Tensor::scalar(5).to_vector(), (std::vector<double>{5}));
}

TEST(Access, DataPointsAtTheViewsFirstElement) {
  Tensor x = Tensor::arange(6, DType::Float64);
  Tensor s = x.slice(0, 2, 6);
  EXPECT_EQ(s.data<double>(), x.data<double>() + 2);
  EXPECT_EQ(s.data<double>()[0], 2.0);
  EXPECT_EQ(s.raw_data(), static_cast<void*>(x.data<double>() + 2));
}

TEST(Access, ShapeQueriesWithNegativeDims) {
  Tensor x = Tensor::zeros({2, 3, 4});
  EXPECT_EQ(x.size(0), 2);
  EXPECT_EQ(x.size(-1), 4);
  EXPECT_EQ(x.stride(-1), 1);
  EXPECT_EQ(x.stride(0), 12);
}

TEST(Copies, CloneIsADeepContiguousCopy) {
  Tensor x = Tensor::of2d({{1, 2}, {3, 4}});
  Tensor c = x.transpose(0, 1).clone();
  EXPECT_FALSE(c.shares_storage(x));
  EXPECT_TRUE(c.is_contiguous());
  expect_tensor_eq(c, {2, 2}, {1, 3, 2, 4});
  c.set({0, 0}, 9);
  EXPECT_EQ(x.at({0, 0}), 1.0);
}

TEST(Copies, CloneOfAnExpandedTensorMaterialisesIt) {
  Tensor c = Tensor::of({1, 2}).expand({3, 2}).clone();
  EXPECT_EQ(c.strides(), (Shape{2, 1}));
  expect_tensor_eq(c, {3, 2}, {1, 2, 1, 2, 1, 2});
}

TEST(Copies, ToConvertsBetweenDtypes) {
  Tensor x = Tensor::of({1.25, -2.75}, DType::Float64);
  Tensor f = x.to(DType::Float32);
  EXPECT_EQ(f.dtype(), DType::Float32);
  expect_tensor_eq(f, {2}, {1.25, -2.75});
  Tensor i = x.to(DType::Int64);
  expect_tensor_eq(i, {2}, {1, -2});
  expect_tensor_eq(i.to(DType::Float64), {2}, {1, -2});
  EXPECT_FALSE(f.shares_storage(x));
}

TEST(Copies, ToTheSameDtypeIsTheSameTensor) {
  Tensor x = Tensor::of({1});
  EXPECT_TRUE(x.to(DType::Float32).shares_storage(x));
}

TEST(Copies, ToOfAStridedViewKeepsTheLogicalOrder) {
  Tensor x = Tensor::of2d({{1, 2}, {3, 4}}, DType::Float64).transpose(0, 1);
  expect_tensor_eq(x.to(DType::Float32), {2, 2}, {1, 3, 2, 4});
}

TEST(Dtype, NamesAndSizes) {
  EXPECT_STREQ(dtype_name(DType::Float32), "float32");
  EXPECT_STREQ(dtype_name(DType::Float64), "float64");
  EXPECT_STREQ(dtype_name(DType::Int64), "int64");
  EXPECT_EQ(dtype_size(DType::Float32), 4u);
  EXPECT_EQ(dtype_size(DType::Float64), 8u);
  EXPECT_EQ(dtype_size(DType::Int64), 8u);
  EXPECT_TRUE(is_floating(DType::Float64));
  EXPECT_FALSE(is_floating(DType::Int64));
}

TEST(Shape, Helpers) {
  EXPECT_EQ(shape_str({}), "[]");
  EXPECT_EQ(shape_str({2, 3}), "[2, 3]");
  EXPECT_EQ(shape_numel({}), 1);
  EXPECT_EQ(shape_numel({2, 0, 3}), 0);
  EXPECT_EQ(contiguous_strides({2, 3, 4}), (Shape{12, 4, 1}));
  EXPECT_EQ(contiguous_strides({}), Shape{});
  EXPECT_EQ(wrap_dim(-1, 3, "op"), 2);
  EXPECT_EQ(broadcast_shapes({2, 1, 3}, {4, 1}, "op"), (Shape{2, 4, 3}));
  EXPECT_EQ(broadcast_shapes({}, {2}, "op"), (Shape{2}));
  EXPECT_EQ(broadcast_shapes({0}, {1}, "op"), (Shape{0}));
}

TEST(Allclose, ToleranceAndShape) {
  Tensor a = Tensor::of({1, 2}, DType::Float64);
  EXPECT_TRUE(allclose(a, Tensor::of({1 + 1e-9, 2}, DType::Float64)));
  EXPECT_FALSE(allclose(a, Tensor::of({1.1, 2}, DType::Float64)));
  EXPECT_FALSE(allclose(a, Tensor::of({1}, DType::Float64)));
  EXPECT_TRUE(allclose(a, Tensor::of({1.1, 2}, DType::Float64), 0.0, 0.2));
  EXPECT_DOUBLE_EQ(max_rel_error(Tensor::of({1.5}), Tensor::of({1})), 0.5);
  // A nan must never pass a comparison unnoticed; equal infinities do match.
  Tensor nan1 = Tensor::of({NAN, 1}, DType::Float64), one1 = Tensor::of({1, 1}, DType::Float64);
  EXPECT_FALSE(allclose(nan1, one1));
  EXPECT_EQ(max_rel_error(nan1, one1), INFINITY);
  EXPECT_EQ(max_rel_error(one1, nan1), INFINITY);
  EXPECT_EQ(max_rel_error(nan1, nan1), 0.0);
  Tensor inf = Tensor::of({INFINITY}, DType::Float64);
  EXPECT_TRUE(allclose(inf, inf));
  EXPECT_EQ(max_rel_error(inf, inf), 0.0);
  EXPECT_EQ(max_rel_error(inf, Tensor::of({-INFINITY}, DType::Float64)), INFINITY);
  // Near zero the error is measured against the floor instead of |b|.
  EXPECT_NEAR(max_rel_error(Tensor::of({1e-6}, DType::Float64), Tensor::of({0}, DType::Float64), 1e-3),
              1e-3, 1e-15);
}

}  // namespace
}  // namespace dl
