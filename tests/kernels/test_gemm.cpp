// test_gemm.cpp — gemm() (OpenBLAS, our AVX-512 kernel, or portable) against the
// double-accumulating gemm_ref, for every transpose combination, padded leading dimensions,
// alpha/beta, beta = 0 over NaN, and the AVX-512 kernel's blocking edges. Float cases run on
// every SIMD path the CPU has (AVX-512 float products do not go to OpenBLAS).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kernel_test_util.h"
#include "tensor/kernels/cpu.h"
#include "tensor/kernels/gemm.h"

namespace dl::kernels {
namespace {

using testing::random_vec;

template <class T>
void check_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, T beta, int pad,
                double tol) {
  // Stored shapes: A is [M,K] (or [K,M] transposed), B is [K,N] (or [N,K]); each row padded by
  // `pad` unused elements so lda > width is exercised.
  const int64_t a_rows = ta ? K : M, a_cols = ta ? M : K;
  const int64_t b_rows = tb ? N : K, b_cols = tb ? K : N;
  const int64_t lda = a_cols + pad, ldb = b_cols + pad, ldc = N + pad;
  auto A = random_vec<T>(size_t(a_rows * lda), 1);
  auto B = random_vec<T>(size_t(b_rows * ldb), 2);
  auto C0 = random_vec<T>(size_t(M * ldc), 3);
  if (beta == T(0))  // beta = 0 must ignore C, NaNs included
    for (auto& c : C0) c = std::numeric_limits<T>::quiet_NaN();
  auto C = C0, Cref = C0;
  gemm(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
  gemm_ref<T>(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, Cref.data(), ldc);
  double worst = 0;
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      const double got = C[i * ldc + j], want = Cref[i * ldc + j];
      ASSERT_TRUE(std::isfinite(got)) << "i=" << i << " j=" << j;
      worst = std::fmax(worst, std::fabs(got - want) / (1.0 + std::fabs(want)));
    }
    for (int64_t j = N; j < ldc; ++j)  // padding columns of C are never touched
      if (beta != T(0)) {
        ASSERT_EQ(C[i * ldc + j], C0[i * ldc + j]);
      }
  }
  EXPECT_LT(worst, tol) << "ta=" << ta << " tb=" << tb << " M=" << M << " N=" << N
                        << " K=" << K;
}

TEST(Gemm, FloatAllTransposesPaddedStrides) {
  for (testing::Simd simd : testing::available_simd()) {
    testing::SimdScope scope(simd);
    SCOPED_TRACE("simd " + testing::simd_name(simd));
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb) {
        check_gemm<float>(ta, tb, 17, 23, 31, 1.0f, 0.0f, 3, 1e-5);
        check_gemm<float>(ta, tb, 64, 40, 144, 0.5f, 1.0f, 0, 1e-5);
        check_gemm<float>(ta, tb, 5, 1, 7, -2.0f, 0.25f, 5, 1e-5);
        check_gemm<float>(ta, tb, 1, 9, 1, 1.0f, 0.0f, 1, 1e-6);
      }
  }
}

// The AVX-512 kernel works on 12-row panels, 32-column strips, 256-deep slices of K, 144-row
// blocks of A and 2048-column slices of B, reads narrow products (<= 512 columns) in another
// order, copies the rows of A it multiplies by 4 strips or more, and takes up to 4 rows against
// a transposed B as dot products (a Linear layer at batch 1): sizes one either side of each
// edge, on every path.
TEST(Gemm, FloatBlockingEdges) {
  struct Case { int64_t M, N, K; };
  const Case cases[] = {{13, 33, 257}, {12, 32, 256}, {11, 31, 255}, {145, 17, 40},
                        {1, 16, 513},  {7, 15, 1},    {25, 513, 30}, {3, 2049, 20},
                        {4, 40, 600},  {5, 40, 600},  {145, 130, 257}, {13, 96, 20},
                        {13, 97, 20}};
  for (testing::Simd simd : testing::available_simd()) {
    testing::SimdScope scope(simd);
    SCOPED_TRACE("simd " + testing::simd_name(simd));
    for (const Case& c : cases)
      for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb) {
          check_gemm<float>(ta, tb, c.M, c.N, c.K, 1.0f, 0.0f, 1, 1e-5);
          check_gemm<float>(ta, tb, c.M, c.N, c.K, -0.5f, 2.0f, 0, 1e-5);
        }
  }
}

TEST(Gemm, DoubleAllTransposesPaddedStrides) {
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      check_gemm<double>(ta, tb, 17, 23, 31, 1.0, 0.0, 3, 1e-13);
      check_gemm<double>(ta, tb, 64, 40, 144, 0.5, 1.0, 0, 1e-13);
      check_gemm<double>(ta, tb, 5, 1, 7, -2.0, 0.25, 5, 1e-13);
    }
}

// Products large enough for gemm() to split them across threads, by columns (N >= M) and by
// rows (M > N), with sizes that are not multiples of the 16-wide slabs.
TEST(Gemm, LargeProductsSplitAcrossThreads) {
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      for (testing::Simd simd : testing::available_simd()) {
        testing::SimdScope scope(simd);
        SCOPED_TRACE("simd " + testing::simd_name(simd));
        check_gemm<float>(ta, tb, 37, 301, 70, 1.0f, 0.0f, 2, 1e-5);
        check_gemm<float>(ta, tb, 301, 37, 70, 1.0f, 0.5f, 3, 1e-5);
      }
      check_gemm<double>(ta, tb, 129, 131, 40, 2.0, 0.0, 1, 1e-13);
    }
}

TEST(Gemm, ZeroDepthScalesC) {
  std::vector<float> C = {1, 2, std::numeric_limits<float>::quiet_NaN(), 4};
  gemm(false, false, 2, 2, 0, 1.0f, nullptr, 1, nullptr, 2, 0.0f, C.data(), 2);
  for (float c : C) EXPECT_EQ(c, 0.0f);
  std::vector<double> D = {1, 2, 3, 4};
  gemm(false, false, 2, 2, 0, 1.0, nullptr, 1, nullptr, 2, 2.0, D.data(), 2);
  EXPECT_EQ(D[3], 8.0);
}

TEST(Gemm, BlasSingleThreadScopeRestoresCount) {
  const int before = blas_num_threads();
  {
    BlasSingleThreadScope single;
    EXPECT_EQ(blas_num_threads(), 1);
  }
  EXPECT_EQ(blas_num_threads(), before);
  EXPECT_TRUE(std::string(gemm_backend()) == "openblas" ||
              std::string(gemm_backend()) == "reference");
  // The kernel set is named ("reference" without OpenBLAS): bench reports print it.
  EXPECT_FALSE(std::string(blas_core()).empty());
  if (std::string(gemm_backend()) == "reference") {
    EXPECT_STREQ(blas_core(), "reference");
  }
}

TEST(Cpu, SetUseAvx2Toggles) {
  const bool orig = use_avx2();
  set_use_avx2(false);
  EXPECT_FALSE(use_avx2());
  set_use_avx2(true);  // honoured only where the CPU and the build support it
  const bool on = use_avx2();
  set_use_avx2(orig);
  EXPECT_EQ(use_avx2(), orig);
  if (orig) {
    EXPECT_TRUE(on);
  }
}

TEST(Cpu, Avx512NeedsAvx2AndToggles) {
  testing::SimdScope portable(testing::Simd::Portable);
  EXPECT_FALSE(use_avx512()) << "AVX-512 kernels run only inside the AVX2 ones";
  {
    testing::SimdScope avx2(testing::Simd::Avx2);
    EXPECT_FALSE(use_avx512());
  }
  EXPECT_FALSE(use_avx2());  // the scope restored the portable choice
}

}  // namespace
}  // namespace dl::kernels
