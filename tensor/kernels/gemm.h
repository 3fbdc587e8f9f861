// gemm.h — the one matrix-multiply interface every upper layer uses (tutorial chapter 5).
// Row-major C = alpha * op(A) * op(B) + beta * C, op = transpose when trans_* is set.
// OpenBLAS (cblas_sgemm / cblas_dgemm) backs it when built with DL_WITH_OPENBLAS; a plain
// reference loop otherwise. On the AVX-512 path (use_avx512()) float products run on our own
// blocked kernel instead (gemm_avx512.cpp, chapter 6), whatever kernel set OpenBLAS loaded.
// No cblas type leaves gemm_openblas.cpp.
#pragma once

#include <cstdint>

namespace dl::kernels {

/// C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C. lda/ldb/ldc are row strides of the
/// matrices as stored (before op). beta = 0 ignores C's old contents (NaNs included).
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
          int64_t ldc);
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
          const double* A, int64_t lda, const double* B, int64_t ldb, double beta, double* C,
          int64_t ldc);

/// The plain triple loop (accumulating in double): the oracle for tests and the fallback.
template <class T>
void gemm_ref(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
              int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

/// Number of threads the BLAS library itself uses (1 without OpenBLAS).
/// Threading of gemm() itself: with OpenMP, a call from outside a parallel region runs BLAS
/// single-threaded and splits products of >= 2^18 multiply-adds across the OpenMP threads
/// (omp_get_max_threads()); inside a parallel region it is one single-threaded call. The two
/// thread pools never run at once (each busy-waits after its work and slows the other), so
/// this count matters only in builds without OpenMP.
int blas_num_threads();
/// Sets the BLAS library's own thread count (no-op without OpenBLAS).
void set_blas_num_threads(int n);

/// While alive, BLAS runs single-threaded: use inside OpenMP parallel regions so the two
/// thread pools do not oversubscribe the cores (see shared PERF-NOTES). The setting is
/// process-wide: construct it on the thread that opens the parallel region, before the
/// region, not in each team member (their saves and restores would race).
class BlasSingleThreadScope {
 public:
  BlasSingleThreadScope();
  ~BlasSingleThreadScope();
  BlasSingleThreadScope(const BlasSingleThreadScope&) = delete;
  BlasSingleThreadScope& operator=(const BlasSingleThreadScope&) = delete;

 private:
  int saved_;
};

/// Name of the GEMM backend in use ("openblas" or "reference").
const char* gemm_backend();
/// The kernel set the backend runs: OpenBLAS's core name ("Haswell", "SkylakeX",
/// "Cooperlake", ...; chosen from the CPU when the library loads), or "reference".
const char* blas_core();

}  // namespace dl::kernels
