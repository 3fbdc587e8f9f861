// test_views.cpp — view ops only change (shape, strides, offset): every test checks that the
// result shares storage with its source and that writes go through both ways, so a view that
// silently copied would fail here. Also the view()/reshape() stride algorithm on tricky
// layouts (tutorial chapter 1).
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "test_util.h"

namespace dl {
namespace {

using test::expect_tensor_eq;

/// 0, 1, ..., n-1 in float64 with the given shape.
Tensor iota(const Shape& shape) {
  return Tensor::arange(shape_numel(shape), DType::Float64).view(shape);
}

/// A view that copied would break this: write through the view, read through the base.
void expect_writes_through(Tensor base, Tensor view, const std::vector<int64_t>& view_index,
                           const std::vector<int64_t>& base_index) {
  ASSERT_TRUE(view.shares_storage(base));
  view.set(view_index, -7.0);
  EXPECT_EQ(base.at(base_index), -7.0);
  base.set(base_index, -8.0);
  EXPECT_EQ(view.at(view_index), -8.0);
}

// ---- view -----------------------------------------------------------------------------------

TEST(View, ContiguousViewSharesStorage) {
  Tensor x = iota({2, 3});
  Tensor v = x.view({3, 2});
  expect_tensor_eq(v, {3, 2}, {0, 1, 2, 3, 4, 5});
  EXPECT_EQ(v.strides(), (Shape{2, 1}));
  expect_writes_through(x, v, {2, 1}, {1, 2});
}

TEST(View, MinusOneIsInferred) {
  Tensor x = iota({2, 3, 4});
  EXPECT_EQ(x.view({-1}).shape(), (Shape{24}));
  EXPECT_EQ(x.view({4, -1}).shape(), (Shape{4, 6}));
  EXPECT_EQ(x.view({-1, 2, 3}).shape(), (Shape{4, 2, 3}));
}

TEST(View, ImpossibleViewThrows) {
  Tensor t = iota({2, 3}).transpose(0, 1);  // [3, 2] with strides [1, 3]
  EXPECT_EQ(test::error_of([&] { t.view({6}); }),
            "view: cannot view a tensor of shape [3, 2] with strides [1, 3] as [6] without "
            "copying; use reshape()");
}

TEST(View, OfATransposeCanSplitOrAddOnes) {
  Tensor x = iota({2, 3});
  Tensor t = x.transpose(0, 1);  // [3, 2], strides [1, 3]
  Tensor v = t.view({3, 1, 2});
  EXPECT_EQ(v.to_vector(), t.contiguous().to_vector());
  EXPECT_EQ(v.stride(0), 1);
  EXPECT_EQ(v.stride(2), 3);
  expect_writes_through(x, v, {2, 0, 1}, {1, 2});
}

TEST(View, OfA3dTransposeSplitsTheUntouchedDim) {
  Tensor x = iota({2, 3, 4});
  Tensor t = x.transpose(0, 1);  // [3, 2, 4], strides [4, 12, 1]
  Tensor v = t.view({3, 2, 2, 2});
  EXPECT_EQ(v.strides(), (Shape{4, 12, 2, 1}));
  EXPECT_EQ(v.to_vector(), t.contiguous().to_vector());
  EXPECT_THROW(t.view({3, 8}), std::invalid_argument);  // would merge dims 1 and 2
  EXPECT_THROW(t.view({6, 4}), std::invalid_argument);  // would merge dims 0 and 1
}

TEST(View, OfAStepSliceSplitsItsDims) {
  Tensor x = iota({4, 7});
  Tensor s = x.slice(1, 0, 7, 2);  // [4, 4], strides [7, 2]
  Tensor v = s.view({2, 2, 4});
  EXPECT_EQ(v.strides(), (Shape{14, 7, 2}));
  EXPECT_EQ(v.to_vector(), s.contiguous().to_vector());
  expect_writes_through(x, v, {1, 1, 2}, {3, 4});
  // Rows are 7 apart but a row of 4 elements spans 8: the gaps are uneven, no single stride.
  EXPECT_THROW(s.view({16}), std::invalid_argument);
}

TEST(View, OfAStepSliceMergesWhenTheGapsLineUp) {
  // Every other column of [4, 6]: rows start 6 apart = 3 elements * step 2, so the elements sit
  // at 0, 2, 4, ... evenly and a 1-d view with stride 2 exists.
  Tensor x = iota({4, 6});
  Tensor v = x.slice(1, 0, 6, 2).view({12});
  EXPECT_EQ(v.strides(), (Shape{2}));
  expect_tensor_eq(v, {12}, {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22});
}

TEST(View, OfARowNarrowKeepsTheOffset) {
  Tensor x = iota({4, 6});
  Tensor rows = x.narrow(0, 1, 2);  // rows 1 and 2: contiguous, offset 6
  Tensor v = rows.view({12});
  EXPECT_EQ(v.offset(), 6);
  expect_tensor_eq(v, {12}, {6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17});
}

TEST(View, SizeOneDimsMayHaveAnyStride) {
  // A size-1 dim is never stepped along, so its stride does not constrain a view.
  Tensor base = iota({12});
  Tensor odd(base.storage(), DType::Float64, {3, 1, 4}, {4, 99, 1}, 0);
  EXPECT_TRUE(odd.is_contiguous());
  Tensor v = odd.view({12});
  EXPECT_EQ(v.strides(), (Shape{1}));
  EXPECT_EQ(v.to_vector(), base.to_vector());
  EXPECT_EQ(odd.view({1, 12, 1}).to_vector(), base.to_vector());
}

TEST(View, OfAZeroDimTensor) {
  Tensor s = Tensor::scalar(5.0, DType::Float64);
  EXPECT_EQ(s.view({1}).shape(), (Shape{1}));
  EXPECT_EQ(s.view({1, 1}).shape(), (Shape{1, 1}));
  EXPECT_EQ(s.view({-1}).shape(), (Shape{1}));
  Tensor back = s.view({1, 1}).view({});
  EXPECT_EQ(back.dim(), 0);
  expect_writes_through(s, s.view({1, 1}), {0, 0}, {});
}

TEST(View, OfAnEmptyTensor) {
  Tensor e = Tensor::zeros({0, 3});
  EXPECT_EQ(e.view({3, 0}).shape(), (Shape{3, 0}));
  EXPECT_EQ(e.view({-1}).shape(), (Shape{0}));
  EXPECT_EQ(e.view({2, -1, 3}).shape(), (Shape{2, 0, 3}));
  // -1 next to a 0 could be anything.
  EXPECT_THROW(e.view({-1, 0}), std::invalid_argument);
}

TEST(View, OfAnExpandedTensorKeepsStrideZero) {
  Tensor row = Tensor::of({1, 2, 3}, DType::Float64);
  Tensor e = row.expand({4, 3});  // strides [0, 1]
  Tensor v = e.view({2, 2, 3});
  EXPECT_EQ(v.strides(), (Shape{0, 0, 1}));
  EXPECT_EQ(v.to_vector(), e.contiguous().to_vector());
  EXPECT_THROW(e.view({12}), std::invalid_argument);
}

// Property test: a view exists exactly when the new shape's index -> memory map is affine.
// Build random strided tensors (permutes, step slices, expands of a small base), ask for every
// factorisation of their size, and check view() against a brute-force oracle.
TEST(View, AgreesWithABruteForceOracle) {
  Generator gen(2024);
  auto rnd = [&](int64_t n) { return int64_t(gen.randint(uint64_t(n))); };
  const std::vector<Shape> targets_12 = {{12}, {2, 6}, {6, 2}, {3, 4}, {4, 3}, {2, 2, 3},
                                         {2, 3, 2}, {3, 2, 2}, {1, 12}, {12, 1}, {2, 1, 6},
                                         {1, 3, 1, 4}, {2, 2, 3, 1}};
  int views = 0, refusals = 0;
  for (int trial = 0; trial < 300; ++trial) {
    // A [2, 3, 2] tensor as some view of a bigger base.
    Tensor base = iota({4, 6, 4});
    Tensor t = base.slice(0, rnd(2), 4, 1 + rnd(2)).slice(1, rnd(3), 6, 1 + rnd(2));
    t = t.narrow(0, 0, std::min<int64_t>(t.size(0), 2)).narrow(1, 0, std::min<int64_t>(t.size(1), 3));
    t = t.narrow(2, rnd(3), 2);
    if (t.numel() != 12) continue;
    if (rnd(4) == 0) t = t.narrow(1, 0, 1).expand({2, 3, 2});  // a stride-0 dim
    std::vector<int64_t> perm{0, 1, 2};
    for (int i = 2; i > 0; --i) std::swap(perm[i], perm[rnd(i + 1)]);
    t = t.permute(perm);
    // Memory offset of the element at row-major position p of t.
    std::vector<int64_t> offs;
    test::for_each_index(t.shape(), [&](const Shape& idx) {
      int64_t o = t.offset();
      for (size_t d = 0; d < idx.size(); ++d) o += idx[d] * t.strides()[d];
      offs.push_back(o);
    });
    for (const Shape& target : targets_12) {
      // Oracle: strides from unit steps, then check every index.
      Shape unit = contiguous_strides(target), want(target.size());
      for (size_t d = 0; d < target.size(); ++d)
        want[d] = target[d] > 1 ? offs[size_t(unit[d])] - offs[0] : 0;
      bool affine = true;
      int64_t p = 0;
      test::for_each_index(target, [&](const Shape& idx) {
        int64_t o = offs[0];
        for (size_t d = 0; d < idx.size(); ++d) o += idx[d] * want[d];
        affine = affine && o == offs[size_t(p++)];
      });
      if (affine) {
        Tensor v = t.view(target);
        ++views;
        EXPECT_TRUE(v.shares_storage(base));
        EXPECT_EQ(v.to_vector(), t.contiguous().to_vector());
        for (size_t d = 0; d < target.size(); ++d) {
          if (target[d] > 1) {
            EXPECT_EQ(v.strides()[d], want[d]);
          }
        }
      } else {
        ++refusals;
        EXPECT_THROW(t.view(target), std::invalid_argument)
            << "shape " << shape_str(t.shape()) << " strides " << shape_str(t.strides())
            << " as " << shape_str(target);
      }
    }
  }
  EXPECT_GT(views, 100);  // both outcomes were exercised
  EXPECT_GT(refusals, 100);
}

// ---- reshape --------------------------------------------------------------------------------

TEST(Reshape, IsAViewWhenTheStridesAllow) {
  Tensor x = iota({2, 3});
  Tensor r = x.reshape({3, 2});
  EXPECT_TRUE(r.shares_storage(x));
  expect_writes_through(x, r, {0, 1}, {0, 1});
}

TEST(Reshape, CopiesWhenNoViewExists) {
  Tensor x = iota({2, 3});
  Tensor r = x.transpose(0, 1).reshape({6});
  EXPECT_FALSE(r.shares_storage(x));
  expect_tensor_eq(r, {6}, {0, 3, 1, 4, 2, 5});
  EXPECT_TRUE(r.is_contiguous());
}

TEST(Reshape, AcceptsMinusOne) {
  EXPECT_EQ(iota({2, 3}).transpose(0, 1).reshape({-1, 3}).shape(), (Shape{2, 3}));
}

// ---- permute / transpose --------------------------------------------------------------------

TEST(Permute, ReordersShapeAndStrides) {
  Tensor x = iota({2, 3, 4});
  Tensor p = x.permute({2, 0, 1});
  EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(p.strides(), (Shape{1, 12, 4}));
  EXPECT_FALSE(p.is_contiguous());
  EXPECT_EQ(p.at({3, 1, 2}), x.at({1, 2, 3}));
  expect_writes_through(x, p, {3, 1, 2}, {1, 2, 3});
}

TEST(Permute, AcceptsNegativeDims) {
  EXPECT_EQ(iota({2, 3, 4}).permute({-1, 0, 1}).shape(), (Shape{4, 2, 3}));
}

TEST(Transpose, SwapsTwoDims) {
  Tensor x = iota({2, 3});
  Tensor t = x.transpose(0, 1);
  expect_tensor_eq(t, {3, 2}, {0, 3, 1, 4, 2, 5});
  EXPECT_EQ(t.strides(), (Shape{1, 3}));
  EXPECT_EQ(x.transpose(-1, -2).shape(), (Shape{3, 2}));
  expect_writes_through(x, t, {2, 0}, {0, 2});
}

TEST(Transpose, TwiceIsTheOriginalLayout) {
  Tensor x = iota({2, 3, 4});
  Tensor tt = x.transpose(0, 2).transpose(0, 2);
  EXPECT_EQ(tt.strides(), x.strides());
  EXPECT_TRUE(tt.is_contiguous());
}

// ---- NHWC ------------------------------------------------------------------------------------

TEST(ChannelsLast, IsAPermutedViewOfNchw) {
  Tensor x = iota({2, 3, 4, 5});  // N, C, H, W
  Tensor nhwc = x.permute({0, 2, 3, 1});
  EXPECT_EQ(nhwc.shape(), (Shape{2, 4, 5, 3}));
  EXPECT_EQ(nhwc.strides(), (Shape{60, 5, 1, 20}));
  EXPECT_TRUE(nhwc.shares_storage(x));
  EXPECT_EQ(nhwc.at({1, 2, 3, 1}), x.at({1, 1, 2, 3}));
}

TEST(ChannelsLast, ContiguousMaterialisesIt) {
  Tensor x = iota({2, 3, 4, 5});
  Tensor nhwc = x.permute({0, 2, 3, 1}).contiguous();
  EXPECT_FALSE(nhwc.shares_storage(x));
  EXPECT_TRUE(nhwc.is_contiguous());
  EXPECT_EQ(nhwc.strides(), (Shape{60, 15, 3, 1}));
  // In memory the 3 channels of one pixel are now adjacent.
  const double* p = nhwc.data<double>();
  EXPECT_EQ(p[0], x.at({0, 0, 0, 0}));
  EXPECT_EQ(p[1], x.at({0, 1, 0, 0}));
  EXPECT_EQ(p[2], x.at({0, 2, 0, 0}));
  EXPECT_EQ(p[3], x.at({0, 0, 0, 1}));
  // Permuting back gives NCHW indices over channels-last memory: equal values, not contiguous.
  Tensor back = nhwc.permute({0, 3, 1, 2});
  EXPECT_FALSE(back.is_contiguous());
  EXPECT_EQ(back.to_vector(), x.to_vector());
}

TEST(Contiguous, ReturnsTheSameTensorWhenAlreadyContiguous) {
  Tensor x = iota({2, 3});
  EXPECT_TRUE(x.contiguous().shares_storage(x));
  EXPECT_FALSE(x.transpose(0, 1).contiguous().shares_storage(x));
}

// ---- slice / narrow / select ----------------------------------------------------------------

TEST(Slice, BasicRange) {
  Tensor x = iota({10});
  Tensor s = x.slice(0, 2, 5);
  expect_tensor_eq(s, {3}, {2, 3, 4});
  EXPECT_EQ(s.offset(), 2);
  expect_writes_through(x, s, {0}, {2});
}

TEST(Slice, WithStep) {
  Tensor x = iota({10});
  Tensor s = x.slice(0, 1, 8, 3);
  expect_tensor_eq(s, {3}, {1, 4, 7});
  EXPECT_EQ(s.strides(), (Shape{3}));
  expect_writes_through(x, s, {2}, {7});
}

TEST(Slice, NegativeIndicesCountFromTheEnd) {
  Tensor x = iota({10});
  expect_tensor_eq(x.slice(0, -3, 10), {3}, {7, 8, 9});
  expect_tensor_eq(x.slice(0, 0, -8), {2}, {0, 1});
  expect_tensor_eq(x.slice(0, -4, -1, 2), {2}, {6, 8});
}

TEST(Slice, OutOfRangeBoundsAreClamped) {
  Tensor x = iota({5});
  expect_tensor_eq(x.slice(0, -100, 100), {5}, {0, 1, 2, 3, 4});
  EXPECT_EQ(x.slice(0, 4, 2).numel(), 0);  // end before start: empty
  EXPECT_EQ(x.slice(0, 7, 9).numel(), 0);
  expect_tensor_eq(x.slice(0, 0, 5, 20), {1}, {0});
}

TEST(Slice, AlongAnInnerDim) {
  Tensor x = iota({3, 4});
  Tensor s = x.slice(1, 1, 4, 2);  // columns 1 and 3
  expect_tensor_eq(s, {3, 2}, {1, 3, 5, 7, 9, 11});
  EXPECT_EQ(s.strides(), (Shape{4, 2}));
  expect_writes_through(x, s, {2, 1}, {2, 3});
}

TEST(Narrow, TakesLengthElementsFromStart) {
  Tensor x = iota({3, 4});
  Tensor n = x.narrow(1, 1, 2);
  expect_tensor_eq(n, {3, 2}, {1, 2, 5, 6, 9, 10});
  expect_writes_through(x, n, {1, 0}, {1, 1});
  EXPECT_EQ(x.narrow(0, 3, 0).numel(), 0);
}

TEST(Select, RemovesTheDim) {
  Tensor x = iota({3, 4});
  Tensor row = x.select(0, 1);
  expect_tensor_eq(row, {4}, {4, 5, 6, 7});
  Tensor col = x.select(1, -1);
  expect_tensor_eq(col, {3}, {3, 7, 11});
  EXPECT_EQ(col.strides(), (Shape{4}));
  expect_writes_through(x, col, {2}, {2, 3});
}

TEST(Select, OfA1dTensorIsZeroDim) {
  Tensor x = iota({3});
  Tensor e = x.select(0, 2);
  EXPECT_EQ(e.dim(), 0);
  EXPECT_EQ(e.item(), 2.0);
  expect_writes_through(x, e, {}, {2});
}

// ---- expand ---------------------------------------------------------------------------------

TEST(Expand, UsesStrideZero) {
  Tensor col = iota({3, 1});
  Tensor e = col.expand({3, 4});
  EXPECT_EQ(e.strides(), (Shape{1, 0}));
  expect_tensor_eq(e, {3, 4}, {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2});
  EXPECT_TRUE(e.shares_storage(col));
  col.set({1, 0}, 9);  // every expanded copy sees the one element
  EXPECT_EQ(e.at({1, 3}), 9.0);
}

TEST(Expand, AddsLeadingDimsAndKeepsMinusOne) {
  Tensor row = iota({3});
  Tensor e = row.expand({2, 2, -1});
  EXPECT_EQ(e.shape(), (Shape{2, 2, 3}));
  EXPECT_EQ(e.strides(), (Shape{0, 0, 1}));
  EXPECT_EQ(e.at({1, 1, 2}), 2.0);
}

TEST(Expand, SameSizeIsANoOpView) {
  Tensor x = iota({2, 3});
  Tensor e = x.expand({2, 3});
  EXPECT_EQ(e.strides(), x.strides());
  EXPECT_TRUE(e.shares_storage(x));
}

// ---- squeeze / unsqueeze / flatten ----------------------------------------------------------

TEST(Squeeze, RemovesAllSizeOneDims) {
  Tensor x = iota({1, 3, 1, 2});
  Tensor s = x.squeeze();
  EXPECT_EQ(s.shape(), (Shape{3, 2}));
  expect_writes_through(x, s, {2, 1}, {0, 2, 0, 1});
  EXPECT_EQ(iota({1, 1}).squeeze().dim(), 0);
}

TEST(Squeeze, OneDimOnlyIfItIsSizeOne) {
  Tensor x = iota({1, 3, 1});
  EXPECT_EQ(x.squeeze(0).shape(), (Shape{3, 1}));
  EXPECT_EQ(x.squeeze(-1).shape(), (Shape{1, 3}));
  EXPECT_EQ(x.squeeze(1).shape(), (Shape{1, 3, 1}));  // size 3: unchanged, like PyTorch
}

TEST(Unsqueeze, InsertsASizeOneDim) {
  Tensor x = iota({2, 3});
  EXPECT_EQ(x.unsqueeze(0).shape(), (Shape{1, 2, 3}));
  EXPECT_EQ(x.unsqueeze(1).shape(), (Shape{2, 1, 3}));
  EXPECT_EQ(x.unsqueeze(2).shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(x.unsqueeze(-1).shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(x.unsqueeze(-3).shape(), (Shape{1, 2, 3}));
  Tensor u = x.unsqueeze(1);
  EXPECT_TRUE(u.is_contiguous());
  expect_writes_through(x, u, {1, 0, 2}, {1, 2});
  EXPECT_EQ(Tensor::scalar(1).unsqueeze(0).shape(), (Shape{1}));
}

TEST(Unsqueeze, ThenSqueezeRoundTrips) {
  Tensor x = iota({2, 3}).transpose(0, 1);
  Tensor back = x.unsqueeze(1).squeeze(1);
  EXPECT_EQ(back.shape(), x.shape());
  EXPECT_EQ(back.strides(), x.strides());
}

TEST(Flatten, MergesARangeOfDims) {
  Tensor x = iota({2, 3, 4, 5});
  EXPECT_EQ(x.flatten().shape(), (Shape{120}));
  EXPECT_EQ(x.flatten(1).shape(), (Shape{2, 60}));
  EXPECT_EQ(x.flatten(1, 2).shape(), (Shape{2, 12, 5}));
  EXPECT_EQ(x.flatten(-2, -1).shape(), (Shape{2, 3, 20}));
  EXPECT_EQ(x.flatten(2, 2).shape(), x.shape());
  EXPECT_TRUE(x.flatten(1).shares_storage(x));
}

TEST(Flatten, CopiesANonContiguousTensorLikeReshape) {
  Tensor x = iota({2, 3});
  Tensor f = x.transpose(0, 1).flatten();
  EXPECT_FALSE(f.shares_storage(x));
  expect_tensor_eq(f, {6}, {0, 3, 1, 4, 2, 5});
}

TEST(Flatten, OfAZeroDimTensorIsOneElement) {
  EXPECT_EQ(Tensor::scalar(2).flatten().shape(), (Shape{1}));
}

// ---- chained views --------------------------------------------------------------------------

TEST(Views, ChainsOfViewsStillWriteThrough) {
  Tensor x = iota({4, 5, 6});
  Tensor v = x.permute({2, 0, 1}).slice(0, 1, 6, 2).select(1, 3).narrow(1, 1, 3).unsqueeze(0);
  // v[0, i, j] = x[3, 1 + j, 1 + 2 * i]
  EXPECT_EQ(v.shape(), (Shape{1, 3, 3}));
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 3; ++j) EXPECT_EQ(v.at({0, i, j}), x.at({3, 1 + j, 1 + 2 * i}));
  v.fill_(-1);
  EXPECT_EQ(x.at({3, 2, 5}), -1.0);
  EXPECT_EQ(sum(eq(x, Tensor::scalar(-1, DType::Float64))).item(), 9.0);
}

TEST(Views, OutliveTheirSource) {
  Tensor v;
  {
    Tensor x = iota({3, 3});
    v = x.select(0, 2);
  }  // the storage is reference-counted, so the view keeps it alive
  expect_tensor_eq(v, {3}, {6, 7, 8});
}

TEST(Views, CopyingATensorObjectCopiesTheViewNotTheData) {
  Tensor x = iota({3});
  Tensor y = x;  // like PyTorch: same storage
  y.set({0}, 5);
  EXPECT_EQ(x.at({0}), 5.0);
  Tensor z = x.clone();
  z.set({0}, 6);
  EXPECT_EQ(x.at({0}), 5.0);
  EXPECT_FALSE(z.shares_storage(x));
}

}  // namespace
}  // namespace dl
