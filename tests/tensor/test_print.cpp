// test_print.cpp — Tensor::str() prints like PyTorch (same number styles, alignment, nesting,
// wrapping and "..." summaries) and always adds the dtype and shape. Each expected string is
// what PyTorch prints for the same tensor, with our ", dtype=..., shape=[...]" suffix.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "test_util.h"

namespace dl {
namespace {

TEST(Print, MatrixOfWholeNumbers) {
  EXPECT_EQ(Tensor::of2d({{1, 2}, {3, 4}}).str(),
            "tensor([[1., 2.],\n"
            "        [3., 4.]], dtype=float32, shape=[2, 2])");
}

TEST(Print, VectorOfWholeNumbers) {
  EXPECT_EQ(Tensor::of({0, 1, 2}).str(), "tensor([0., 1., 2.], dtype=float32, shape=[3])");
}

TEST(Print, FractionsGetFourDecimals) {
  EXPECT_EQ(Tensor::of({1.5, 2}).str(), "tensor([1.5000, 2.0000], dtype=float32, shape=[2])");
}

TEST(Print, NumbersAreRightAligned) {
  EXPECT_EQ(Tensor::of({-1.5, 2.25, 10}, DType::Float64).str(),
            "tensor([-1.5000,  2.2500, 10.0000], dtype=float64, shape=[3])");
  EXPECT_EQ(Tensor::of({1, 10, 100}).str(), "tensor([  1.,  10., 100.], dtype=float32, shape=[3])");
}

TEST(Print, WideRangesSwitchToScientific) {
  EXPECT_EQ(Tensor::of({1e-5, 1}, DType::Float64).str(),
            "tensor([1.0000e-05, 1.0000e+00], dtype=float64, shape=[2])");
  EXPECT_EQ(Tensor::of({1, 10000}).str(),
            "tensor([1.0000e+00, 1.0000e+04], dtype=float32, shape=[2])");
  EXPECT_EQ(Tensor::of({2e9}).str(), "tensor([2.0000e+09], dtype=float32, shape=[1])");
}

TEST(Print, ZerosDoNotCountTowardsTheRange) {
  EXPECT_EQ(Tensor::of({0, 0.5, 100}).str(),
            "tensor([  0.0000,   0.5000, 100.0000], dtype=float32, shape=[3])");
  EXPECT_EQ(Tensor::zeros({2}).str(), "tensor([0., 0.], dtype=float32, shape=[2])");
}

TEST(Print, NegativeZeroKeepsItsSign) {
  // Zeros do not set the column width, so "-0." is one wider than "1." here (PyTorch agrees).
  EXPECT_EQ(Tensor::of({-0.0, 1}).str(), "tensor([-0., 1.], dtype=float32, shape=[2])");
}

TEST(Print, NanAndInfinity) {
  EXPECT_EQ(Tensor::of({NAN, 1.5}).str(), "tensor([   nan, 1.5000], dtype=float32, shape=[2])");
  EXPECT_EQ(Tensor::of({INFINITY, -INFINITY, 1}).str(),
            "tensor([inf, -inf, 1.], dtype=float32, shape=[3])");
  EXPECT_EQ(Tensor::of({-NAN}).str(), "tensor([nan], dtype=float32, shape=[1])");
}

TEST(Print, Int64HasNoDecimalPoint) {
  EXPECT_EQ(Tensor::of({1, -20, 300}, DType::Int64).str(),
            "tensor([  1, -20, 300], dtype=int64, shape=[3])");
}

TEST(Print, Int64BeyondDoublePrecisionIsExact) {
  Tensor t = Tensor::from_vector(std::vector<int64_t>{(int64_t(1) << 60) + 1}, {1});
  EXPECT_EQ(t.str(), "tensor([1152921504606846977], dtype=int64, shape=[1])");
}

TEST(Print, ZeroDimTensor) {
  EXPECT_EQ(Tensor::scalar(3).str(), "tensor(3., dtype=float32, shape=[])");
  EXPECT_EQ(Tensor::scalar(0.5, DType::Float64).str(), "tensor(0.5000, dtype=float64, shape=[])");
}

TEST(Print, EmptyTensor) {
  EXPECT_EQ(Tensor::zeros({0}).str(), "tensor([], dtype=float32, shape=[0])");
  EXPECT_EQ(Tensor::zeros({2, 0}, DType::Int64).str(), "tensor([], dtype=int64, shape=[2, 0])");
}

TEST(Print, ThreeDimsSeparateBlocksWithABlankLine) {
  EXPECT_EQ(Tensor::arange(8).view({2, 2, 2}).str(),
            "tensor([[[0., 1.],\n"
            "         [2., 3.]],\n"
            "\n"
            "        [[4., 5.],\n"
            "         [6., 7.]]], dtype=float32, shape=[2, 2, 2])");
}

TEST(Print, StridedViewsPrintInLogicalOrder) {
  EXPECT_EQ(Tensor::of2d({{1, 2}, {3, 4}}).transpose(0, 1).str(),
            "tensor([[1., 3.],\n"
            "        [2., 4.]], dtype=float32, shape=[2, 2])");
  EXPECT_EQ(Tensor::arange(10).slice(0, 1, 10, 4).str(), "tensor([1., 5., 9.], dtype=float32, shape=[3])");
}

TEST(Print, LongRowsWrapAtEightyColumns) {
  EXPECT_EQ(Tensor::arange(30).str(),
            "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n"
            "        14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27.,\n"
            "        28., 29.], dtype=float32, shape=[30])");
}

TEST(Print, SuffixMovesToANewLineWhenTooLong) {
  EXPECT_EQ(Tensor::arange(14).str(),
            "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.],\n"
            "       dtype=float32, shape=[14])");
}

TEST(Print, LargeVectorsAreSummarised) {
  EXPECT_EQ(Tensor::arange(2000, DType::Int64).str(),
            "tensor([   0,    1,    2,  ..., 1997, 1998, 1999], dtype=int64, shape=[2000])");
  // The number format is chosen from the shown values only (0..2 and 1997..1999 span > 1000x).
  EXPECT_EQ(Tensor::arange(2000).str(),
            "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n"
            "        1.9990e+03], dtype=float32, shape=[2000])");
}

TEST(Print, LargeMatricesAreSummarisedInBothDims) {
  EXPECT_EQ(Tensor::zeros({100, 100}).str(),
            "tensor([[0., 0., 0.,  ..., 0., 0., 0.],\n"
            "        [0., 0., 0.,  ..., 0., 0., 0.],\n"
            "        [0., 0., 0.,  ..., 0., 0., 0.],\n"
            "        ...,\n"
            "        [0., 0., 0.,  ..., 0., 0., 0.],\n"
            "        [0., 0., 0.,  ..., 0., 0., 0.],\n"
            "        [0., 0., 0.,  ..., 0., 0., 0.]], dtype=float32, shape=[100, 100])");
}

TEST(Print, AThousandElementsAreNotSummarised) {
  const std::string s = Tensor::zeros({1000}).str();
  EXPECT_EQ(s.find("..."), std::string::npos);
  EXPECT_NE(Tensor::zeros({1001}).str().find("..."), std::string::npos);
}

TEST(Print, StreamOperatorMatchesStr) {
  Tensor t = Tensor::of({1, 2});
  std::ostringstream os;
  os << t;
  EXPECT_EQ(os.str(), t.str());
}

TEST(Print, UndefinedTensor) { EXPECT_EQ(Tensor().str(), "tensor(undefined)"); }

}  // namespace
}  // namespace dl
