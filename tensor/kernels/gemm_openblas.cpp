// gemm_openblas.cpp — gemm() on top of OpenBLAS's cblas_sgemm / cblas_dgemm (tutorial chapter 5).
// Built only with DL_WITH_OPENBLAS; no cblas type or header leaks past this file.
// Threads: OpenBLAS's pthread pool and our OpenMP pool fight over the cores when both are
// active — each busy-waits for a while after its own work. Measured (2 cores, sgemm 512³
// right after a run of OpenMP regions): 2 BLAS threads took 3.6-4.2 ms, 1 BLAS thread
// 2.0-2.2 ms. So with OpenMP, gemm() keeps BLAS single-threaded and splits a large product
// across OpenMP threads itself (by output rows or columns); inside a parallel region it is a
// plain single call. The BLAS pool size (set_blas_num_threads) matters only without OpenMP.
#include <cblas.h>

#include "tensor/kernels/cpu.h"
#include "tensor/kernels/gemm.h"
#include "tensor/kernels/gemm_simd.h"
#include "tensor/kernels/workspace.h"

namespace dl::kernels {
namespace {

// C = beta * C for the degenerate K = 0 product (beta = 0 overwrites, NaNs included).
template <class T>
void scale_c(int64_t M, int64_t N, T beta, T* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == T(0) ? T(0) : beta * C[i * ldc + j];
}

// cblas rejects a leading dimension smaller than the stored row width (even when that width is
// never read, e.g. K = 1 with lda = 0); clamp to the legal minimum, which addresses the same data.
inline int64_t ld_at_least(int64_t ld, int64_t width) { return ld < width ? width : ld; }

// Float products run on our AVX-512 kernel where it may (see gemm.h), else on cblas_sgemm.
inline void blas(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                 int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
#ifdef DL_WITH_AVX512
  if (use_avx512()) return sgemm_avx512(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#endif
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              (blasint)M, (blasint)N, (blasint)K, alpha, A, (blasint)ld_at_least(lda, ta ? M : K),
              B, (blasint)ld_at_least(ldb, tb ? K : N), beta, C, (blasint)ld_at_least(ldc, N));
}

inline void blas(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha,
                 const double* A, int64_t lda, const double* B, int64_t ldb, double beta,
                 double* C, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              (blasint)M, (blasint)N, (blasint)K, alpha, A, (blasint)ld_at_least(lda, ta ? M : K),
              B, (blasint)ld_at_least(ldb, tb ? K : N), beta, C, (blasint)ld_at_least(ldc, N));
}

template <class T>
void gemm_impl(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
               int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) return scale_c(M, N, beta, C, ldc);
  auto call = [&](bool a_t, bool b_t, int64_t m, int64_t n, int64_t k, const T* a, const T* b,
                  T* c) { blas(a_t, b_t, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); };
#ifdef DL_WITH_OPENMP
  if (detail::max_threads() > 1) {  // outside a parallel region: OpenMP splits, BLAS serial
    BlasSingleThreadScope single;
    return detail::split_gemm(ta, tb, M, N, K, A, lda, B, ldb, C, ldc, call);
  }
#endif
  call(ta, tb, M, N, K, A, B, C);
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
          int64_t ldc) {
  gemm_impl<float>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
          const double* A, int64_t lda, const double* B, int64_t ldb, double beta, double* C,
          int64_t ldc) {
  gemm_impl<double>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

int blas_num_threads() { return openblas_get_num_threads(); }

void set_blas_num_threads(int n) { openblas_set_num_threads(n < 1 ? 1 : n); }

const char* gemm_backend() { return "openblas"; }

const char* blas_core() { return openblas_get_corename(); }

}  // namespace dl::kernels
