// test_matmul.cpp — matmul against a naive float64 triple loop: 2-d, 1-d cases, batched with
// broadcast batch dims, and operands that are transposed, sliced, offset or expanded views
// (tutorial chapter 5).
#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"

namespace dl {
namespace {

using test::expect_tensor_eq;

/// The naive reference: promote 1-d operands, broadcast the batch dims by hand, and run the
/// triple loop in double reading elements through at() (so strides are never assumed).
Tensor naive_matmul(const Tensor& a_in, const Tensor& b_in) {
  const Tensor a = a_in.dim() == 1 ? a_in.unsqueeze(0) : a_in;
  const Tensor b = b_in.dim() == 1 ? b_in.unsqueeze(1) : b_in;
  const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  const Shape ab(a.shape().begin(), a.shape().end() - 2), bb(b.shape().begin(), b.shape().end() - 2);
  const size_t nb = std::max(ab.size(), bb.size());
  Shape batch(nb);
  for (size_t i = 0; i < nb; ++i) {
    const int64_t da = i + ab.size() < nb ? 1 : ab[i + ab.size() - nb];
    const int64_t db = i + bb.size() < nb ? 1 : bb[i + bb.size() - nb];
    batch[i] = std::max(da, db);
  }
  Shape out_shape = batch;
  out_shape.insert(out_shape.end(), {M, N});
  Tensor out = Tensor::zeros(out_shape, DType::Float64);
  auto batch_index = [&](const Shape& idx, const Shape& own) {
    std::vector<int64_t> r;
    for (size_t i = nb - own.size(); i < nb; ++i) r.push_back(own[i - (nb - own.size())] == 1 ? 0 : idx[i]);
    return r;
  };
  test::for_each_index(batch, [&](const Shape& bi) {
    std::vector<int64_t> ia = batch_index(bi, ab), ib = batch_index(bi, bb), io = bi;
    ia.resize(ia.size() + 2);
    ib.resize(ib.size() + 2);
    io.resize(io.size() + 2);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double acc = 0;
        for (int64_t k = 0; k < K; ++k) {
          ia[ia.size() - 2] = i, ia[ia.size() - 1] = k;
          ib[ib.size() - 2] = k, ib[ib.size() - 1] = j;
          acc += a.at(ia) * b.at(ib);
        }
        io[io.size() - 2] = i, io[io.size() - 1] = j;
        out.set(io, acc);
      }
  });
  if (a_in.dim() == 1) out = out.squeeze(-2);
  if (b_in.dim() == 1) out = out.squeeze(-1);
  return out;
}

/// matmul(a, b) has the reference's shape and values (relative error below @p tol).
void expect_matches_naive(const Tensor& a, const Tensor& b, double tol) {
  const Tensor got = matmul(a, b), want = naive_matmul(a, b);
  ASSERT_EQ(got.shape(), want.shape()) << shape_str(a.shape()) << " @ " << shape_str(b.shape());
  EXPECT_EQ(got.dtype(), a.dtype());
  EXPECT_TRUE(got.is_contiguous());
  EXPECT_LE(max_rel_error(got, want, 1.0), tol)
      << shape_str(a.shape()) << " (strides " << shape_str(a.strides()) << ") @ "
      << shape_str(b.shape()) << " (strides " << shape_str(b.strides()) << ")";
}

Tensor randn(const Shape& s, uint64_t seed, DType dt = DType::Float64) {
  Generator g(seed);
  return Tensor::randn(s, g, dt);
}

// ---- hand-computed ---------------------------------------------------------------------------

TEST(Matmul, TwoByTwo) {
  Tensor a = Tensor::of2d({{1, 2}, {3, 4}}), b = Tensor::of2d({{5, 6}, {7, 8}});
  expect_tensor_eq(matmul(a, b), {2, 2}, {19, 22, 43, 50});
}

TEST(Matmul, RectangularShapes) {
  Tensor a = Tensor::of2d({{1, 0, 2}, {0, 1, 0}});       // [2, 3]
  Tensor b = Tensor::of2d({{1, 2}, {3, 4}, {5, 6}});     // [3, 2]
  expect_tensor_eq(matmul(a, b), {2, 2}, {11, 14, 3, 4});
  expect_tensor_eq(matmul(b, a), {3, 3}, {1, 2, 2, 3, 4, 6, 5, 6, 10});
}

TEST(Matmul, VectorDotVectorIsZeroDim) {
  Tensor d = matmul(Tensor::of({1, 2, 3}), Tensor::of({4, 5, 6}));
  EXPECT_EQ(d.dim(), 0);
  EXPECT_EQ(d.item(), 32.0);
}

TEST(Matmul, VectorTimesMatrixAndMatrixTimesVector) {
  Tensor m = Tensor::of2d({{1, 2}, {3, 4}, {5, 6}});  // [3, 2]
  expect_tensor_eq(matmul(Tensor::of({1, 1, 1}), m), {2}, {9, 12});
  expect_tensor_eq(matmul(m, Tensor::of({1, -1})), {3}, {-1, -1, -1});
}

TEST(Matmul, Float64Dtype) {
  Tensor a = Tensor::of2d({{0.1, 0.2}}, DType::Float64), b = Tensor::of2d({{3}, {4}}, DType::Float64);
  Tensor c = matmul(a, b);
  EXPECT_EQ(c.dtype(), DType::Float64);
  EXPECT_NEAR(c.item(), 0.1 * 3 + 0.2 * 4, 1e-15);
}

// ---- against the naive loop -------------------------------------------------------------------

TEST(MatmulNaive, PlainMatricesFloat64AndFloat32) {
  expect_matches_naive(randn({7, 5}, 1), randn({5, 9}, 2), 1e-13);
  expect_matches_naive(randn({33, 17}, 3, DType::Float32), randn({17, 20}, 4, DType::Float32), 1e-5);
}

TEST(MatmulNaive, TransposedOperands) {
  Tensor a = randn({5, 7}, 5), b = randn({9, 5}, 6);
  expect_matches_naive(a.transpose(0, 1), randn({5, 4}, 7), 1e-13);  // A^T B
  expect_matches_naive(randn({4, 5}, 8), b.transpose(0, 1), 1e-13);  // A B^T
  expect_matches_naive(a.transpose(0, 1), b.transpose(0, 1), 1e-13); // A^T B^T
}

TEST(MatmulNaive, ColumnSliceKeepsALeadingDimension) {
  // Columns 2..6 of a [6, 10] matrix: row stride 10 > 5 columns.
  Tensor big = randn({6, 10}, 9);
  expect_matches_naive(big.narrow(1, 2, 5), randn({5, 3}, 10), 1e-13);
  expect_matches_naive(randn({4, 6}, 11), big.narrow(1, 3, 4), 1e-13);
  expect_matches_naive(big.narrow(1, 2, 6).transpose(0, 1), randn({6, 2}, 12), 1e-13);
}

TEST(MatmulNaive, StepSlicesWithNoUnitStride) {
  // Every other column: neither stride is 1, so this operand has to be copied.
  Tensor big = randn({6, 10}, 13);
  expect_matches_naive(big.slice(1, 0, 10, 2), randn({5, 3}, 14), 1e-13);
  expect_matches_naive(randn({3, 6}, 15), big.slice(1, 1, 10, 3), 1e-13);
  expect_matches_naive(big.slice(0, 0, 6, 2).slice(1, 0, 10, 2), randn({5, 2}, 16), 1e-13);
}

TEST(MatmulNaive, OffsetSubBlocks) {
  Tensor big = randn({8, 8}, 17);
  expect_matches_naive(big.narrow(0, 3, 4).narrow(1, 2, 5), big.narrow(0, 1, 5).narrow(1, 4, 3), 1e-13);
}

TEST(MatmulNaive, ExpandedOperands) {
  // A row repeated by expand has row stride 0.
  expect_matches_naive(randn({1, 5}, 18).expand({4, 5}), randn({5, 3}, 19), 1e-13);
  expect_matches_naive(randn({4, 5}, 20), randn({5, 1}, 21).expand({5, 6}), 1e-13);
}

TEST(MatmulNaive, SizeOneDims) {
  expect_matches_naive(randn({1, 5}, 22), randn({5, 1}, 23), 1e-13);
  expect_matches_naive(randn({6, 1}, 24), randn({1, 4}, 25), 1e-13);  // outer product, K = 1
  expect_matches_naive(randn({6, 1}, 26).transpose(0, 1), randn({6, 3}, 27), 1e-13);
}

TEST(MatmulNaive, Batched) {
  expect_matches_naive(randn({3, 4, 5}, 28), randn({3, 5, 2}, 29), 1e-13);
}

TEST(MatmulNaive, BroadcastBatchDims) {
  expect_matches_naive(randn({2, 1, 4, 5}, 30), randn({3, 5, 2}, 31), 1e-13);  // -> [2, 3, 4, 2]
  expect_matches_naive(randn({4, 5}, 32), randn({3, 5, 2}, 33), 1e-13);        // shared left matrix
  expect_matches_naive(randn({3, 4, 5}, 34), randn({5, 2}, 35), 1e-13);        // shared right matrix
  expect_matches_naive(randn({1, 4, 5}, 36), randn({3, 5, 2}, 37), 1e-13);
}

TEST(MatmulNaive, BatchedWithVectors) {
  expect_matches_naive(randn({5}, 38), randn({3, 5, 2}, 39), 1e-13);  // -> [3, 2]
  expect_matches_naive(randn({3, 4, 5}, 40), randn({5}, 41), 1e-13);  // -> [3, 4]
}

TEST(MatmulNaive, BatchedTransposedAndPermuted) {
  Tensor a = randn({5, 3, 4}, 42).permute({1, 2, 0});  // [3, 4, 5], batch stride 20
  Tensor b = randn({3, 2, 5}, 43).transpose(1, 2);     // [3, 5, 2], each matrix transposed
  expect_matches_naive(a, b, 1e-13);
  Tensor c = randn({4, 3, 5}, 44).transpose(0, 1);     // [3, 4, 5], batch stride 5
  expect_matches_naive(c, b, 1e-13);
}

TEST(MatmulNaive, BatchedFloat32) {
  expect_matches_naive(randn({2, 16, 24}, 45, DType::Float32),
                       randn({2, 32, 24}, 46, DType::Float32).transpose(1, 2), 1e-5);
}

TEST(MatmulNaive, LargerThanOneBlasTile) {
  expect_matches_naive(randn({70, 130}, 47), randn({90, 130}, 48).transpose(0, 1), 1e-12);
}

// ---- edge cases ---------------------------------------------------------------------------------

TEST(Matmul, EmptyInnerDimensionGivesZeros) {
  Tensor c = matmul(Tensor::empty({2, 0}), Tensor::empty({0, 3}));
  expect_tensor_eq(c, {2, 3}, {0, 0, 0, 0, 0, 0});
}

TEST(Matmul, EmptyOuterDimensions) {
  EXPECT_EQ(matmul(Tensor::zeros({0, 4}), Tensor::zeros({4, 3})).shape(), (Shape{0, 3}));
  EXPECT_EQ(matmul(Tensor::zeros({2, 4}), Tensor::zeros({4, 0})).shape(), (Shape{2, 0}));
  EXPECT_EQ(matmul(Tensor::zeros({0, 2, 4}), Tensor::zeros({4, 3})).shape(), (Shape{0, 2, 3}));
}

TEST(Matmul, LeavesItsInputsAlone) {
  Tensor a = randn({3, 4}, 49), b = randn({4, 2}, 50);
  const std::vector<double> av = a.to_vector(), bv = b.to_vector();
  matmul(a.transpose(0, 1).transpose(0, 1), b);
  EXPECT_EQ(a.to_vector(), av);
  EXPECT_EQ(b.to_vector(), bv);
}

}  // namespace
}  // namespace dl
