// test_reduce.cpp — sum, mean, max, argmax, var and sum_to: hand-computed cases, then every
// subset of dims of a small 3-d tensor (with and without keepdim, contiguous and permuted)
// against naive loops, then the large/threaded paths of the reduction engine.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "test_util.h"

namespace dl {
namespace {

using test::expect_tensor_eq;
using test::expect_tensor_near;

// ---- hand-computed ---------------------------------------------------------------------------

TEST(Reduce, SumOverEachDimAndAll) {
  Tensor x = Tensor::of2d({{1, 2, 3}, {4, 5, 6}});
  expect_tensor_eq(sum(x, {0}), {3}, {5, 7, 9});
  expect_tensor_eq(sum(x, {1}), {2}, {6, 15});
  expect_tensor_eq(sum(x, {-1}), {2}, {6, 15});
  expect_tensor_eq(sum(x), {}, {21});
  expect_tensor_eq(sum(x, {0, 1}), {}, {21});
  EXPECT_EQ(sum(x).dtype(), DType::Float32);
}

TEST(Reduce, KeepdimLeavesSizeOneDims) {
  Tensor x = Tensor::of2d({{1, 2, 3}, {4, 5, 6}});
  expect_tensor_eq(sum(x, {0}, true), {1, 3}, {5, 7, 9});
  expect_tensor_eq(sum(x, {1}, true), {2, 1}, {6, 15});
  expect_tensor_eq(sum(x, {}, true), {1, 1}, {21});
}

TEST(Reduce, Mean) {
  Tensor x = Tensor::of2d({{1, 2, 3}, {4, 5, 6}}, DType::Float64);
  expect_tensor_eq(mean(x, {0}), {3}, {2.5, 3.5, 4.5});
  expect_tensor_eq(mean(x, {1}), {2}, {2, 5});
  expect_tensor_eq(mean(x), {}, {3.5});
}

TEST(Reduce, Max) {
  Tensor x = Tensor::of2d({{1, 7, 3}, {4, -5, 6}});
  expect_tensor_eq(max(x, {0}), {3}, {4, 7, 6});
  expect_tensor_eq(max(x, {1}), {2}, {7, 6});
  expect_tensor_eq(max(x), {}, {7});
  expect_tensor_eq(max(Tensor::of({-3, -1, -2})), {}, {-1});  // all negative
}

TEST(Reduce, ArgmaxPicksTheFirstMaximum) {
  Tensor x = Tensor::of2d({{1, 7, 7}, {9, 2, 9}});
  Tensor a = argmax(x, 1);
  EXPECT_EQ(a.dtype(), DType::Int64);
  expect_tensor_eq(a, {2}, {1, 0});
  expect_tensor_eq(argmax(x, 0), {3}, {1, 0, 1});
  expect_tensor_eq(argmax(x, -1, true), {2, 1}, {1, 0});
}

TEST(Reduce, VarBiasedAndUnbiased) {
  Tensor x = Tensor::of({1, 2, 3, 4}, DType::Float64);
  EXPECT_NEAR(var(x).item(), 5.0 / 3.0, 1e-15);             // divides by n - 1
  EXPECT_NEAR(var(x, {}, false).item(), 1.25, 1e-15);      // divides by n (BatchNorm)
  Tensor m = Tensor::of2d({{1, 3}, {2, 6}}, DType::Float64);
  expect_tensor_near(var(m, {0}, false), {2}, {0.25, 2.25}, 1e-15);
  expect_tensor_near(var(m, {1}, true, true), {2, 1}, {2, 8}, 1e-15);
}

TEST(Reduce, VarIsStableForALargeOffset) {
  // E[x²] - E[x]² would lose everything here; the two-pass form keeps it.
  Tensor x = Tensor::of({1e8 + 1, 1e8 + 2, 1e8 + 3}, DType::Float64);
  EXPECT_NEAR(var(x, {}, false).item(), 2.0 / 3.0, 1e-9);
}

TEST(Reduce, Int64SumIsExact) {
  const int64_t big = (int64_t(1) << 55) + 1;
  Tensor x = Tensor::from_vector(std::vector<int64_t>{big, 1, 1}, {3});
  Tensor s = sum(x);
  EXPECT_EQ(s.dtype(), DType::Int64);
  EXPECT_EQ(s.data<int64_t>()[0], big + 2);
  EXPECT_EQ(max(x).data<int64_t>()[0], big);
}

TEST(Reduce, EmptyReductions) {
  Tensor e = Tensor::zeros({0, 3});
  expect_tensor_eq(sum(e, {0}), {3}, {0, 0, 0});  // an empty sum is 0
  EXPECT_EQ(sum(e, {1}).shape(), (Shape{0}));
  EXPECT_TRUE(std::isnan(mean(e).item()));      // 0 / 0
  EXPECT_EQ(max(e, {1}).shape(), (Shape{0}));   // nothing to reduce, nothing to output
}

TEST(Reduce, ZeroDimTensor) {
  Tensor s = Tensor::scalar(4);
  expect_tensor_eq(sum(s), {}, {4});
  expect_tensor_eq(sum(s, {0}), {}, {4});  // dim 0 (or -1) is accepted, as in PyTorch
  expect_tensor_eq(max(s, {-1}), {}, {4});
}

TEST(Reduce, NanPropagatesThroughMaxAndWinsArgmax) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor x = Tensor::of({1, nan, 5, nan}, DType::Float64);
  EXPECT_TRUE(std::isnan(max(x).item()));
  EXPECT_EQ(argmax(x, 0).item(), 1.0);  // the first NaN
  EXPECT_TRUE(std::isnan(sum(x).item()));
}

TEST(Reduce, OneElementUnbiasedVarIsNan) {
  EXPECT_TRUE(std::isnan(var(Tensor::of({3})).item()));
}

// ---- every subset of dims against naive loops -------------------------------------------------

/// Naive reductions of a 3-d tensor: one pass over every input index, accumulating into the
/// output index it belongs to.
struct Naive {
  Shape out_shape;
  std::vector<double> sum, max, mean, var_biased, var_unbiased;
};

Naive naive_reduce(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
  std::vector<bool> red(size_t(x.dim()), dims_in.empty());
  for (int64_t d : dims_in) red[size_t(d)] = true;
  Naive r;
  Shape kept_shape;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (!red[size_t(d)]) kept_shape.push_back(x.size(d));
    if (!red[size_t(d)]) r.out_shape.push_back(x.size(d));
    else if (keepdim) r.out_shape.push_back(1);
  }
  const size_t n_out = size_t(shape_numel(kept_shape));
  int64_t count = 1;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (red[size_t(d)]) count *= x.size(d);
  r.sum.assign(n_out, 0.0);
  r.max.assign(n_out, -INFINITY);
  auto out_index = [&](const Shape& idx) {
    size_t o = 0;
    for (int64_t d = 0; d < x.dim(); ++d)
      if (!red[size_t(d)]) o = o * size_t(x.size(d)) + size_t(idx[size_t(d)]);
    return o;
  };
  test::for_each_index(x.shape(), [&](const Shape& idx) {
    const double v = x.at(idx);
    r.sum[out_index(idx)] += v;
    r.max[out_index(idx)] = std::max(r.max[out_index(idx)], v);
  });
  for (double s : r.sum) r.mean.push_back(s / double(count));
  std::vector<double> sq(n_out, 0.0);
  test::for_each_index(x.shape(), [&](const Shape& idx) {
    const double dev = x.at(idx) - r.mean[out_index(idx)];
    sq[out_index(idx)] += dev * dev;
  });
  for (double s : sq) {
    r.var_biased.push_back(s / double(count));
    r.var_unbiased.push_back(s / double(count - 1));
  }
  return r;
}

void check_all_subsets(const Tensor& x, double tol) {
  for (const auto& dims : test::all_dim_subsets(x.dim())) {
    for (bool keepdim : {false, true}) {
      SCOPED_TRACE("dims " + shape_str(dims) + (keepdim ? " keepdim" : ""));
      const Naive n = naive_reduce(x, dims, keepdim);
      expect_tensor_near(sum(x, dims, keepdim), n.out_shape, n.sum, tol);
      expect_tensor_near(mean(x, dims, keepdim), n.out_shape, n.mean, tol);
      expect_tensor_eq(max(x, dims, keepdim), n.out_shape, n.max);  // max is exact
      expect_tensor_near(var(x, dims, false, keepdim), n.out_shape, n.var_biased, tol);
      expect_tensor_near(var(x, dims, true, keepdim), n.out_shape, n.var_unbiased, tol);
    }
  }
}

TEST(ReduceSubsets, ContiguousFloat64) { check_all_subsets(test::distinct_values({2, 3, 4}), 1e-12); }

TEST(ReduceSubsets, PermutedFloat64) {
  check_all_subsets(test::distinct_values({2, 3, 4}).permute({2, 0, 1}), 1e-12);
}

TEST(ReduceSubsets, SlicedAndExpandedFloat64) {
  Tensor x = test::distinct_values({4, 3, 6}).slice(2, 1, 6, 2).slice(0, 0, 4, 2);  // [2, 3, 3]
  check_all_subsets(x, 1e-12);
  check_all_subsets(test::distinct_values({3, 1, 4}).expand({3, 2, 4}), 1e-12);
}

TEST(ReduceSubsets, Float32) {
  // Sums reach ~535; the float32 result itself is rounded to ~3e-5 there.
  check_all_subsets(test::distinct_values({3, 4, 5}, DType::Float32), 1e-4);
}

TEST(ReduceSubsets, ArgmaxOverEachDim) {
  // Values from a permutation so there are no ties; compare with a naive search per dim.
  Tensor x = Tensor::from_vector(
      std::vector<double>{5, 17, 2, 11, 23, 8, 0, 14, 20, 3, 9, 21, 1, 12, 18, 6, 22, 15, 4, 10, 19, 7, 16, 13},
      {2, 3, 4});
  for (const Tensor& t : {x, x.permute({1, 2, 0})}) {
    for (int64_t d = 0; d < 3; ++d) {
      Tensor a = argmax(t, d, true);
      test::for_each_index(a.shape(), [&](const Shape& idx) {
        Shape probe = idx;
        int64_t best = 0;
        for (int64_t i = 0; i < t.size(d); ++i) {
          probe[size_t(d)] = i;
          Shape b = idx;
          b[size_t(d)] = best;
          if (t.at(probe) > t.at(b)) best = i;
        }
        EXPECT_EQ(a.at(idx), double(best)) << "dim " << d;
      });
      EXPECT_EQ(argmax(t, d).to_vector(), a.to_vector());  // keepdim only changes the shape
    }
  }
}

// ---- the engine's large paths -----------------------------------------------------------------

double naive_sum(const Tensor& t) {
  double s = 0;
  for (double v : t.to_vector()) s += v;
  return s;
}

TEST(ReduceEngine, LongFullSumIsChunkedCorrectly) {
  // 300001 elements: several fixed-length chunks plus a ragged tail.
  Generator g(1);
  Tensor x = Tensor::randn({300001}, g, DType::Float64);
  EXPECT_NEAR(sum(x).item(), naive_sum(x), 1e-9);
  const std::vector<double> v = x.to_vector();
  EXPECT_EQ(max(x).item(), *std::max_element(v.begin(), v.end()));
}

TEST(ReduceEngine, ColumnSumOfATallMatrix) {
  // Sum over dim 0 of [N, C]: the innermost kept dim is the contiguous one.
  Generator g(2);
  Tensor x = Tensor::randn({50000, 3}, g, DType::Float64);
  Tensor s = sum(x, {0});
  for (int64_t c = 0; c < 3; ++c) EXPECT_NEAR(s.at({c}), naive_sum(x.select(1, c)), 1e-9);
  Tensor a = argmax(x, 0);
  for (int64_t c = 0; c < 3; ++c) {
    const std::vector<double> col = x.select(1, c).to_vector();
    EXPECT_EQ(a.at({c}), double(std::max_element(col.begin(), col.end()) - col.begin()));
  }
}

TEST(ReduceEngine, ArgmaxTiesAcrossChunksKeepTheFirst) {
  // Two equal maxima far apart land in different chunks of the long reduction; the partial
  // results must merge in order so the first one wins.
  Tensor x = Tensor::zeros({100000});
  x.set({40000}, 1);
  x.set({90000}, 1);
  EXPECT_EQ(argmax(x, 0).item(), 40000.0);
  Tensor cols = Tensor::zeros({100000, 2});
  cols.set({70000, 1}, 3);
  cols.set({99999, 1}, 3);
  cols.set({5, 0}, -1);
  expect_tensor_eq(argmax(cols, 0), {2}, {0, 70000});
}

TEST(ReduceEngine, WideColumnSumsSplitIntoBlocks) {
  // Sum over dim 0 with 1000 contiguous outputs per row: the engine handles them in blocks
  // (the last one ragged), and with 2 leading kept dims the blocks repeat per outer index.
  Generator g(8);
  Tensor x = Tensor::randn({2, 5, 1000}, g, DType::Float64);
  Tensor s = sum(x, {1});
  Tensor a = argmax(x, 1);
  for (int64_t i : {0, 1})
    for (int64_t k : {0, 255, 256, 511, 999}) {
      double want = 0, best = -INFINITY;
      int64_t best_j = 0;
      for (int64_t j = 0; j < 5; ++j) {
        want += x.at({i, j, k});
        if (x.at({i, j, k}) > best) best = x.at({i, j, k}), best_j = j;
      }
      EXPECT_NEAR(s.at({i, k}), want, 1e-12);
      EXPECT_EQ(a.at({i, k}), double(best_j));
    }
}

TEST(ReduceEngine, VarOfTallColumns) {
  Generator g(5);
  Tensor x = Tensor::normal({40000, 4}, 3.0, 2.0, g, DType::Float64);
  Tensor v = var(x, {0});
  for (int64_t c = 0; c < 4; ++c) {
    const std::vector<double> col = x.select(1, c).to_vector();
    double m = 0, ss = 0;
    for (double e : col) m += e;
    m /= double(col.size());
    for (double e : col) ss += (e - m) * (e - m);
    EXPECT_NEAR(v.at({c}), ss / double(col.size() - 1), 1e-10);
  }
}

TEST(ReduceEngine, BatchNormStyleSumOverNHW) {
  Generator g(3);
  Tensor x = Tensor::randn({16, 5, 20, 20}, g, DType::Float64);
  Tensor s = sum(x, {0, 2, 3});
  for (int64_t c = 0; c < 5; ++c) EXPECT_NEAR(s.at({c}), naive_sum(x.select(1, c)), 1e-9);
  Tensor v = var(x, {0, 2, 3}, false, true);
  EXPECT_EQ(v.shape(), (Shape{1, 5, 1, 1}));
  EXPECT_NEAR(v.at({0, 2, 0, 0}), 1.0, 0.1);
}

TEST(ReduceEngine, ResultsAreIdenticalForOneAndTwoThreads) {
  Generator g(4);
  Tensor x = Tensor::randn({32, 8, 24, 24}, g);  // float32, 147456 elements
  auto run = [&](int threads) {
    test::ThreadCount tc(threads);
    std::vector<double> out;
    for (const std::vector<int64_t>& dims :
         std::vector<std::vector<int64_t>>{{}, {0}, {1}, {3}, {0, 2, 3}, {1, 2}}) {
      for (const Tensor& r : {sum(x, dims), mean(x, dims), max(x, dims), var(x, dims)}) {
        const std::vector<double> v = r.to_vector();
        out.insert(out.end(), v.begin(), v.end());
      }
    }
    const std::vector<double> a = argmax(x.permute({0, 2, 3, 1}), 0).to_vector();
    out.insert(out.end(), a.begin(), a.end());
    return out;
  };
  EXPECT_EQ(run(1), run(2));
}

TEST(ReduceEngine, Float32SumAccumulatesInDouble) {
  // 2^24 + 2 ones: a float accumulator gets stuck at 2^24 (adding 1 rounds back down).
  const int64_t n = (int64_t(1) << 24) + 2;
  EXPECT_EQ(sum(Tensor::ones({n})).item(), double(n));
  // The mean of many 0.1f is exactly 0.1f, not a drifted float sum divided by n.
  EXPECT_EQ(mean(Tensor::full({3000000}, 0.1f)).item(), double(0.1f));
}

// ---- sum_to -----------------------------------------------------------------------------------

TEST(SumTo, UndoesEachKindOfBroadcast) {
  Tensor x = Tensor::of2d({{1, 2, 3}, {4, 5, 6}});
  expect_tensor_eq(sum_to(x, {3}), {3}, {5, 7, 9});       // dropped leading dim
  expect_tensor_eq(sum_to(x, {1, 3}), {1, 3}, {5, 7, 9}); // stretched size-1 dim
  expect_tensor_eq(sum_to(x, {2, 1}), {2, 1}, {6, 15});
  expect_tensor_eq(sum_to(x, {1, 1}), {1, 1}, {21});
  expect_tensor_eq(sum_to(x, {}), {}, {21});
}

TEST(SumTo, ThreeDimensions) {
  Tensor x = Tensor::ones({4, 2, 3});
  expect_tensor_eq(sum_to(x, {2, 1}), {2, 1}, {12, 12});
  expect_tensor_eq(sum_to(x, {1, 3}), {1, 3}, {8, 8, 8});
}

TEST(SumTo, SameShapeReturnsTheInputItself) {
  Tensor x = Tensor::ones({2, 3});
  EXPECT_TRUE(sum_to(x, {2, 3}).shares_storage(x));
}

TEST(SumTo, IsTheAdjointOfExpand) {
  // <expand(a), g> == <a, sum_to(g)>: the identity autograd relies on.
  Generator gen(6);
  Tensor a = Tensor::randn({3, 1}, gen, DType::Float64);
  Tensor g = Tensor::randn({2, 3, 4}, gen, DType::Float64);
  const double lhs = sum(mul(a.expand({2, 3, 4}), g)).item();
  const double rhs = sum(mul(a, sum_to(g, {3, 1}))).item();
  EXPECT_NEAR(lhs, rhs, 1e-12);
}

}  // namespace
}  // namespace dl
