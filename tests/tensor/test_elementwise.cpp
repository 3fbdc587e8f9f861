// test_elementwise.cpp — unary and binary elementwise ops with NumPy broadcasting, in float32
// and float64, on contiguous and strided inputs (tutorial chapter 1).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "test_util.h"

namespace dl {
namespace {

using test::expect_tensor_eq;
using test::expect_tensor_near;

/// Every test in this fixture runs once for float32 and once for float64.
class Elementwise : public ::testing::TestWithParam<DType> {
 protected:
  DType dt() const { return GetParam(); }
  Tensor of(std::initializer_list<double> v) const { return Tensor::of(v, dt()); }
  Tensor of2d(std::initializer_list<std::initializer_list<double>> r) const {
    return Tensor::of2d(r, dt());
  }
  double tol() const { return dt() == DType::Float32 ? 1e-6 : 1e-15; }
};

INSTANTIATE_TEST_SUITE_P(Dtypes, Elementwise,
                         ::testing::Values(DType::Float32, DType::Float64),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

TEST_P(Elementwise, ResultKeepsTheDtype) {
  EXPECT_EQ(add(of({1}), of({2})).dtype(), dt());
  EXPECT_EQ(exp(of({1})).dtype(), dt());
  EXPECT_EQ(lt(of({1}), of({2})).dtype(), dt());
}

TEST_P(Elementwise, AddSameShape) {
  expect_tensor_eq(add(of({1, 2, 3}), of({10, 20, 30})), {3}, {11, 22, 33});
}

TEST_P(Elementwise, AddBroadcastsARowOverAMatrix) {
  // [2, 3] + [3]: the row is added to each row.
  expect_tensor_eq(add(of2d({{1, 2, 3}, {4, 5, 6}}), of({10, 20, 30})), {2, 3},
                   {11, 22, 33, 14, 25, 36});
}

TEST_P(Elementwise, SubBroadcastsAColumnAgainstARow) {
  // [2, 1] - [3] -> [2, 3]: an outer difference.
  Tensor col = of({10, 20}).view({2, 1});
  expect_tensor_eq(sub(col, of({1, 2, 3})), {2, 3}, {9, 8, 7, 19, 18, 17});
}

TEST_P(Elementwise, MulByAZeroDimScalar) {
  expect_tensor_eq(mul(of2d({{1, 2}, {3, 4}}), Tensor::scalar(3, dt())), {2, 2}, {3, 6, 9, 12});
  expect_tensor_eq(mul(Tensor::scalar(3, dt()), of({1, 2})), {2}, {3, 6});
}

TEST_P(Elementwise, DivIncludingByZero) {
  Tensor q = div(of({1, -1, 0, 6}), of({4, 0, 0, 3}));
  const std::vector<double> v = q.to_vector();
  EXPECT_EQ(v[0], 0.25);
  EXPECT_EQ(v[1], -INFINITY);
  EXPECT_TRUE(std::isnan(v[2]));
  EXPECT_EQ(v[3], 2.0);
}

TEST_P(Elementwise, TwoScalarsGiveAScalar) {
  Tensor s = add(Tensor::scalar(1, dt()), Tensor::scalar(2, dt()));
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.item(), 3.0);
}

TEST_P(Elementwise, BroadcastingAZeroSizedDim) {
  EXPECT_EQ(add(Tensor::zeros({0, 3}, dt()), of({1, 2, 3})).shape(), (Shape{0, 3}));
  EXPECT_EQ(add(Tensor::zeros({2, 1}, dt()), Tensor::zeros({0}, dt())).shape(), (Shape{2, 0}));
}

TEST_P(Elementwise, NegAbsRelu) {
  Tensor x = of({-2, -0.5, 0, 3});
  expect_tensor_eq(neg(x), {4}, {2, 0.5, 0, -3});
  expect_tensor_eq(abs(x), {4}, {2, 0.5, 0, 3});
  expect_tensor_eq(relu(x), {4}, {0, 0, 0, 3});
}

TEST_P(Elementwise, AbsOfNegativeZeroIsPositiveZero) {
  EXPECT_FALSE(std::signbit(abs(of({-0.0})).item()));
}

TEST_P(Elementwise, ExpLogSqrt) {
  expect_tensor_near(exp(of({0, 1, -1})), {3}, {1, std::exp(1.0), std::exp(-1.0)}, 1e-6);
  expect_tensor_near(log(of({1, std::exp(2.0)})), {2}, {0, 2}, 1e-6);
  expect_tensor_eq(sqrt(of({4, 9, 0.25})), {3}, {2, 3, 0.5});
  EXPECT_EQ(log(of({0})).item(), -INFINITY);
  EXPECT_TRUE(std::isnan(sqrt(of({-1})).item()));
}

TEST_P(Elementwise, PowTensorAndScalarExponent) {
  expect_tensor_eq(pow(of({2, 3, 4}), of({3, 2, 0.5})), {3}, {8, 9, 2});
  expect_tensor_eq(pow(of({1, 2, 3}), 2.0), {3}, {1, 4, 9});
  expect_tensor_eq(pow(of2d({{1, 2}, {3, 4}}), of({1, 2})), {2, 2}, {1, 4, 3, 16});
}

TEST_P(Elementwise, MaximumMinimum) {
  Tensor a = of({1, 5, -2}), b = of({3, 4, -2});
  expect_tensor_eq(maximum(a, b), {3}, {3, 5, -2});
  expect_tensor_eq(minimum(a, b), {3}, {1, 4, -2});
  expect_tensor_eq(maximum(of2d({{-1, 2}, {3, -4}}), Tensor::scalar(0, dt())), {2, 2}, {0, 2, 3, 0});
}

TEST_P(Elementwise, NanPropagatesThroughMaximumMinimumAndRelu) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(std::isnan(maximum(of({nan}), of({1})).item()));
  EXPECT_TRUE(std::isnan(maximum(of({1}), of({nan})).item()));
  EXPECT_TRUE(std::isnan(minimum(of({nan}), of({1})).item()));
  EXPECT_TRUE(std::isnan(minimum(of({1}), of({nan})).item()));
  EXPECT_TRUE(std::isnan(relu(of({nan})).item()));
}

TEST_P(Elementwise, ComparisonsGiveZeroOneMasks) {
  Tensor a = of({1, 2, 3}), b = of({2, 2, 2});
  expect_tensor_eq(eq(a, b), {3}, {0, 1, 0});
  expect_tensor_eq(ne(a, b), {3}, {1, 0, 1});
  expect_tensor_eq(lt(a, b), {3}, {1, 0, 0});
  expect_tensor_eq(le(a, b), {3}, {1, 1, 0});
  expect_tensor_eq(gt(a, b), {3}, {0, 0, 1});
  expect_tensor_eq(ge(a, b), {3}, {0, 1, 1});
}

TEST_P(Elementwise, ComparisonsBroadcast) {
  expect_tensor_eq(gt(of({1, 2, 3}).view({3, 1}), of({1, 2})), {3, 2}, {0, 0, 1, 0, 1, 1});
}

TEST_P(Elementwise, WhereSelectsByMask) {
  Tensor mask = of({1, 0, 1});
  expect_tensor_eq(where(mask, of({1, 2, 3}), of({-1, -2, -3})), {3}, {1, -2, 3});
}

TEST_P(Elementwise, WhereBroadcastsAllThree) {
  Tensor mask = of({1, 0}).view({2, 1});  // picks rows
  Tensor out = where(mask, of({1, 2, 3}), Tensor::scalar(0, dt()));
  expect_tensor_eq(out, {2, 3}, {1, 2, 3, 0, 0, 0});
}

TEST_P(Elementwise, WhereKeepsInfinitiesAndTakesAnyMaskDtype) {
  Tensor mask = Tensor::of({0, 2}, DType::Int64);  // nonzero counts as true
  Tensor out = where(mask, of({INFINITY, -INFINITY}), of({-INFINITY, 7}));
  expect_tensor_eq(out, {2}, {-INFINITY, -INFINITY});
}

TEST_P(Elementwise, Affine) {
  expect_tensor_eq(affine(of({1, 2}), 3, 0.5), {2}, {3.5, 6.5});
}

TEST_P(Elementwise, Operators) {
  Tensor a = of({2, 4}), b = of({1, 2});
  expect_tensor_eq(a + b, {2}, {3, 6});
  expect_tensor_eq(a - b, {2}, {1, 2});
  expect_tensor_eq(a * b, {2}, {2, 8});
  expect_tensor_eq(a / b, {2}, {2, 2});
  expect_tensor_eq(-a, {2}, {-2, -4});
  expect_tensor_eq(a + 1.0, {2}, {3, 5});
  expect_tensor_eq(a - 1.0, {2}, {1, 3});
  expect_tensor_eq(a * 0.5, {2}, {1, 2});
  expect_tensor_eq(0.5 * a, {2}, {1, 2});
  expect_tensor_eq(a / 4.0, {2}, {0.5, 1});
  EXPECT_EQ((a * 0.5).dtype(), dt());
}

TEST_P(Elementwise, NonContiguousInputsGiveTheSameResult) {
  Tensor x = Tensor::arange(24, dt()).view({2, 3, 4});
  Tensor y = affine(Tensor::arange(24, dt()), -0.5, 3).view({4, 3, 2});
  Tensor xt = x.permute({2, 1, 0});  // [4, 3, 2], strided
  Tensor ys = y.slice(0, 0, 4, 2);   // [2, 3, 2], stepped
  EXPECT_EQ(add(xt, y).to_vector(), add(xt.contiguous(), y).to_vector());
  EXPECT_EQ(mul(xt.slice(0, 1, 4, 2), ys).to_vector(),
            mul(xt.slice(0, 1, 4, 2).contiguous(), ys.contiguous()).to_vector());
  EXPECT_EQ(exp(xt * 0.1).to_vector(), exp(xt.contiguous() * 0.1).to_vector());
  // Output is always a fresh contiguous tensor.
  EXPECT_TRUE(add(xt, y).is_contiguous());
  EXPECT_FALSE(add(xt, y).shares_storage(x));
}

TEST_P(Elementwise, ExpandedInputsAreRead) {
  Tensor row = of({1, 2, 3});
  expect_tensor_eq(add(row.expand({2, 3}), of2d({{0, 0, 0}, {1, 1, 1}})), {2, 3}, {1, 2, 3, 2, 3, 4});
}

// Property test: for every pair of shapes drawn from a small set, add() and mul() agree with a
// loop that maps each output index to the input indices by hand (size-1 and missing dims read
// index 0).
TEST_P(Elementwise, BroadcastingMatchesAHandWrittenIndexMap) {
  const std::vector<Shape> shapes = {{},     {1},    {3},       {2, 1},    {1, 3},
                                     {2, 3}, {4, 1, 1}, {4, 1, 3}, {4, 2, 3}, {1, 2, 1}};
  for (const Shape& sa : shapes) {
    for (const Shape& sb : shapes) {
      // Expected output shape: align right, each dim is the non-1 size (or 1).
      const size_t n = std::max(sa.size(), sb.size());
      Shape out(n);
      bool ok = true;
      for (size_t i = 0; i < n; ++i) {
        const int64_t da = i + sa.size() < n ? 1 : sa[i + sa.size() - n];
        const int64_t db = i + sb.size() < n ? 1 : sb[i + sb.size() - n];
        ok = ok && (da == db || da == 1 || db == 1);
        out[i] = std::max(da, db);
      }
      Tensor a = affine(Tensor::arange(shape_numel(sa), dt()), 1, 1).view(sa);
      Tensor b = affine(Tensor::arange(shape_numel(sb), dt()), 0.5, -2).view(sb);
      if (!ok) {
        EXPECT_THROW(add(a, b), std::invalid_argument) << shape_str(sa) << " " << shape_str(sb);
        continue;
      }
      Tensor s = add(a, b), p = mul(a, b);
      ASSERT_EQ(s.shape(), out) << shape_str(sa) << " + " << shape_str(sb);
      auto project = [&](const Shape& idx, const Shape& from) {
        std::vector<int64_t> r;
        for (size_t i = n - from.size(); i < n; ++i) r.push_back(from[i - (n - from.size())] == 1 ? 0 : idx[i]);
        return r;
      };
      test::for_each_index(out, [&](const Shape& idx) {
        const double x = a.at(project(idx, sa)), y = b.at(project(idx, sb));
        EXPECT_EQ(s.at(idx), x + y);
        EXPECT_EQ(p.at(idx), x * y);
      });
    }
  }
}

// ---- int64 ----------------------------------------------------------------------------------

TEST(ElementwiseInt64, ArithmeticAndComparisonsWork) {
  Tensor a = Tensor::of({7, -3, 4}, DType::Int64), b = Tensor::of({2, 2, 2}, DType::Int64);
  EXPECT_EQ(add(a, b).dtype(), DType::Int64);
  expect_tensor_eq(add(a, b), {3}, {9, -1, 6});
  expect_tensor_eq(div(a, b), {3}, {3, -1, 2});  // truncating, as in C++
  expect_tensor_eq(abs(a), {3}, {7, 3, 4});
  expect_tensor_eq(neg(a), {3}, {-7, 3, -4});
  expect_tensor_eq(maximum(a, b), {3}, {7, 2, 4});
  expect_tensor_eq(eq(a, Tensor::scalar(4, DType::Int64)), {3}, {0, 0, 1});
}

TEST(ElementwiseInt64, LargeValuesStayExact) {
  const int64_t big = (int64_t(1) << 60) + 1;
  Tensor a = Tensor::from_vector(std::vector<int64_t>{big}, {1});
  Tensor s = add(a, Tensor::from_vector(std::vector<int64_t>{1}, {1}));
  EXPECT_EQ(s.data<int64_t>()[0], big + 1);
}

TEST(ElementwiseInt64, IntegerDivisionByZeroThrowsInsteadOfCrashing) {
  Tensor a = Tensor::of({1, 2}, DType::Int64), z = Tensor::of({1, 0}, DType::Int64);
  EXPECT_EQ(test::error_of([&] { div(a, z); }), "div: integer division by zero");
}

// ---- threads --------------------------------------------------------------------------------

TEST(ElementwiseThreads, OneAndTwoThreadsGiveIdenticalResults) {
  Generator g(17);
  Tensor x = Tensor::randn({64, 3, 40, 40}, g);  // 307200 elements: above the parallel grain
  Tensor y = Tensor::randn({3, 1, 40}, g);
  auto run = [&](int threads) {
    test::ThreadCount tc(threads);
    Tensor r = add(exp(mul(x, y)), x.permute({0, 2, 3, 1}).contiguous().permute({0, 3, 1, 2}));
    r = maximum(r, sqrt(abs(x)));
    Tensor z = x.clone();
    z.transpose(1, 3).add_(y.transpose(0, 2), 0.5);  // in place through a strided view
    return std::make_pair(r.to_vector(), z.to_vector());
  };
  const auto one = run(1), two = run(2);
  EXPECT_EQ(one.first, two.first);
  EXPECT_EQ(one.second, two.second);
}

TEST(ElementwiseThreads, ASingleLongRowIsComputedCorrectly) {
  // A contiguous tensor coalesces into one row; the threads then split inside that row.
  test::ThreadCount tc(2);
  const int64_t n = 100003;
  Tensor x = Tensor::arange(n, DType::Float64);
  Tensor y = add(x, x);
  const double* p = y.data<double>();
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(p[i], 2.0 * double(i));
}

}  // namespace
}  // namespace dl
