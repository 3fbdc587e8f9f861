// test_factories.cpp — every way to make a tensor: empty/zeros/ones/full/scalar, arange,
// from_vector, of/of2d, and the seeded random factories (tutorial chapter 1).
#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"

namespace dl {
namespace {

using test::expect_tensor_eq;

TEST(Factories, EmptyHasShapeDtypeAndContiguousStrides) {
  Tensor t = Tensor::empty({2, 3, 4}, DType::Float64);
  EXPECT_TRUE(t.defined());
  EXPECT_EQ(t.dtype(), DType::Float64);
  EXPECT_EQ(t.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(t.strides(), (Shape{12, 4, 1}));
  EXPECT_EQ(t.offset(), 0);
  EXPECT_EQ(t.dim(), 3);
  EXPECT_EQ(t.numel(), 24);
  EXPECT_TRUE(t.is_contiguous());
}

TEST(Factories, StorageIs64ByteAligned) {
  Tensor t = Tensor::empty({3}, DType::Float32);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % 64, 0u);
  EXPECT_GE(t.storage()->nbytes(), 12u);
}

TEST(Factories, DefaultConstructedTensorIsUndefined) {
  Tensor t;
  EXPECT_FALSE(t.defined());
  EXPECT_EQ(t.str(), "tensor(undefined)");
}

TEST(Factories, ZerosOnesFull) {
  expect_tensor_eq(Tensor::zeros({2, 2}), {2, 2}, {0, 0, 0, 0});
  expect_tensor_eq(Tensor::ones({3}, DType::Float64), {3}, {1, 1, 1});
  expect_tensor_eq(Tensor::full({2}, 2.5), {2}, {2.5, 2.5});
  EXPECT_EQ(Tensor::full({2}, 7.9, DType::Int64).to_vector(), (std::vector<double>{7, 7}));
}

TEST(Factories, FactoriesKeepTheDtype) {
  EXPECT_EQ(Tensor::zeros({1}).dtype(), DType::Float32);  // float32 is the default
  EXPECT_EQ(Tensor::zeros({1}, DType::Int64).dtype(), DType::Int64);
  EXPECT_EQ(Tensor::ones({1}, DType::Float64).dtype(), DType::Float64);
}

TEST(Factories, ScalarIsZeroDimensional) {
  Tensor s = Tensor::scalar(3.5, DType::Float64);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.shape(), Shape{});
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.item(), 3.5);
  EXPECT_TRUE(s.is_contiguous());
}

TEST(Factories, ZeroSizedDimsAreAllowed) {
  Tensor t = Tensor::zeros({2, 0, 3});
  EXPECT_EQ(t.numel(), 0);
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_TRUE(t.to_vector().empty());
}

TEST(Factories, ArangeOfN) {
  expect_tensor_eq(Tensor::arange(5), {5}, {0, 1, 2, 3, 4});
  EXPECT_EQ(Tensor::arange(0).numel(), 0);
  EXPECT_EQ(Tensor::arange(3, DType::Int64).dtype(), DType::Int64);
}

TEST(Factories, ArangeStartEndStep) {
  expect_tensor_eq(Tensor::arange(1.0, 2.0, 0.25, DType::Float64), {4}, {1, 1.25, 1.5, 1.75});
  // The end is exclusive even when a step lands on it.
  expect_tensor_eq(Tensor::arange(0.0, 6.0, 2.0), {3}, {0, 2, 4});
  // A step that does not divide the range still stops before end.
  expect_tensor_eq(Tensor::arange(0.0, 7.0, 2.0), {4}, {0, 2, 4, 6});
  // Negative steps count down while > end.
  expect_tensor_eq(Tensor::arange(3.0, 0.0, -1.0), {3}, {3, 2, 1});
  // A range that goes the wrong way is empty, not an error.
  EXPECT_EQ(Tensor::arange(3.0, 0.0, 1.0).numel(), 0);
}

TEST(Factories, FromVectorFloat32) {
  Tensor t = Tensor::from_vector(std::vector<float>{1.5f, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(t.dtype(), DType::Float32);
  expect_tensor_eq(t, {2, 3}, {1.5, 2, 3, 4, 5, 6});
  EXPECT_EQ(t.data<float>()[0], 1.5f);
}

TEST(Factories, FromVectorFloat64) {
  Tensor t = Tensor::from_vector(std::vector<double>{0.1, 0.2}, {2, 1});
  EXPECT_EQ(t.dtype(), DType::Float64);
  expect_tensor_eq(t, {2, 1}, {0.1, 0.2});  // exact: no float32 rounding
}

TEST(Factories, FromVectorInt64) {
  Tensor t = Tensor::from_vector(std::vector<int64_t>{-3, 9, int64_t(1) << 40}, {3});
  EXPECT_EQ(t.dtype(), DType::Int64);
  EXPECT_EQ(t.data<int64_t>()[2], int64_t(1) << 40);
}

TEST(Factories, FromVectorIntoZeroDimShape) {
  Tensor t = Tensor::from_vector(std::vector<double>{4.0}, {});
  EXPECT_EQ(t.dim(), 0);
  EXPECT_EQ(t.item(), 4.0);
}

TEST(Factories, FromVectorCopiesTheData) {
  std::vector<float> v{1, 2};
  Tensor t = Tensor::from_vector(v, {2});
  v[0] = 100;
  EXPECT_EQ(t.at({0}), 1.0);
}

TEST(Factories, OfMakesA1dTensor) {
  Tensor t = Tensor::of({1, 2.5, -3});
  EXPECT_EQ(t.dtype(), DType::Float32);
  expect_tensor_eq(t, {3}, {1, 2.5, -3});
  EXPECT_EQ(Tensor::of({1, 2}, DType::Int64).dtype(), DType::Int64);
}

TEST(Factories, Of2dMakesA2dTensor) {
  Tensor t = Tensor::of2d({{1, 2, 3}, {4, 5, 6}}, DType::Float64);
  EXPECT_EQ(t.dtype(), DType::Float64);
  expect_tensor_eq(t, {2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(t.at({1, 0}), 4.0);
}

TEST(Factories, UniformStaysInRangeAndIsReproducible) {
  Generator g1(42), g2(42);
  Tensor a = Tensor::uniform({1000}, -2.0, 3.0, g1);
  Tensor b = Tensor::uniform({1000}, -2.0, 3.0, g2);
  EXPECT_EQ(a.to_vector(), b.to_vector());
  for (double x : a.to_vector()) {
    EXPECT_GE(x, -2.0);
    EXPECT_LT(x, 3.0);
  }
}

TEST(Factories, UniformFloat32NeverReachesHigh) {
  // Doubles just below 1 round to 1.0f; the factory must keep the range half-open.
  Generator g(7);
  Tensor a = Tensor::uniform({200000}, 0.0, 1.0, g, DType::Float32);
  for (double x : a.to_vector()) ASSERT_LT(x, 1.0);
}

TEST(Factories, DifferentSeedsGiveDifferentNumbers) {
  Generator g1(1), g2(2);
  EXPECT_NE(Tensor::randn({8}, g1).to_vector(), Tensor::randn({8}, g2).to_vector());
}

TEST(Factories, GeneratorAdvancesBetweenCalls) {
  Generator g(5);
  Tensor a = Tensor::randn({4}, g);
  Tensor b = Tensor::randn({4}, g);
  EXPECT_NE(a.to_vector(), b.to_vector());
}

TEST(Factories, NormalHasTheRequestedMoments) {
  Generator g(3);
  Tensor x = Tensor::normal({100000}, 2.0, 0.5, g, DType::Float64);
  EXPECT_NEAR(mean(x).item(), 2.0, 0.01);
  EXPECT_NEAR(std::sqrt(var(x).item()), 0.5, 0.01);
}

TEST(Factories, RandnIsNormalWithMeanZeroStdOne) {
  Generator g1(9), g2(9);
  EXPECT_EQ(Tensor::randn({16}, g1, DType::Float64).to_vector(),
            Tensor::normal({16}, 0.0, 1.0, g2, DType::Float64).to_vector());
}

TEST(Factories, RandomFactoriesIgnoreTheThreadCount) {
  // Draws are sequential, so 1 and 2 OpenMP threads give the same tensor.
  auto draw = [](int threads) {
    test::ThreadCount tc(threads);
    Generator g(123);
    Tensor u = Tensor::uniform({50000}, 0, 1, g);
    Tensor n = Tensor::normal({50001}, 0, 1, g, DType::Float64);
    std::vector<double> v = u.to_vector(), w = n.to_vector();
    v.insert(v.end(), w.begin(), w.end());
    return v;
  };
  EXPECT_EQ(draw(1), draw(2));
}

TEST(Factories, Float32AndFloat64DrawsAgreeUpToRounding) {
  Generator g1(11), g2(11);
  std::vector<double> f = Tensor::randn({10}, g1, DType::Float32).to_vector();
  std::vector<double> d = Tensor::randn({10}, g2, DType::Float64).to_vector();
  for (size_t i = 0; i < f.size(); ++i) EXPECT_EQ(f[i], double(float(d[i])));
}

}  // namespace
}  // namespace dl
