// gemm_ref.cpp — the reference matrix multiply (tutorial chapter 5): a plain triple loop that
// accumulates in double. It is the oracle for the gemm tests and, in builds without OpenBLAS,
// the implementation behind gemm() itself (with BLAS thread control reduced to no-ops).
#include <type_traits>

#include "tensor/kernels/cpu.h"
#include "tensor/kernels/gemm.h"
#include "tensor/kernels/gemm_simd.h"
#include "tensor/kernels/workspace.h"

namespace dl::kernels {

template <class T>
void gemm_ref(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
              int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  // op(A)[i][p] lives at A[i*lda + p] (no transpose) or A[p*lda + i] (transposed); same for B.
  const int64_t a_row = trans_a ? 1 : lda, a_col = trans_a ? lda : 1;
  const int64_t b_row = trans_b ? 1 : ldb, b_col = trans_b ? ldb : 1;
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0.0;
      for (int64_t p = 0; p < K; ++p)
        acc += double(A[i * a_row + p * a_col]) * double(B[p * b_row + j * b_col]);
      T& c = C[i * ldc + j];
      // beta = 0 must ignore C entirely (it may hold NaN from uninitialised memory).
      c = beta == T(0) ? T(double(alpha) * acc) : T(double(alpha) * acc + double(beta) * double(c));
    }
  }
}

template void gemm_ref<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                              const float*, int64_t, float, float*, int64_t);
template void gemm_ref<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*,
                               int64_t, const double*, int64_t, double, double*, int64_t);

BlasSingleThreadScope::BlasSingleThreadScope() : saved_(blas_num_threads()) {
  if (saved_ != 1) set_blas_num_threads(1);
}

BlasSingleThreadScope::~BlasSingleThreadScope() {
  if (saved_ != 1) set_blas_num_threads(saved_);
}

#ifndef DL_WITH_OPENBLAS
namespace {

// The portable backend: the same product as gemm_ref, but with loops ordered so the innermost
// one walks contiguous memory (the compiler vectorises it), accumulating in T. Not a tuned GEMM;
// it keeps builds without OpenBLAS usable for small models and tests.
template <class T>
void gemm_portable(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
                   const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    T* c = C + i * ldc;
    if (trans_b) {
      // C[i][j] is a dot product of row i of op(A) and row j of B: contiguous when A is not
      // transposed; otherwise the reference loop is as good as anything simple.
      for (int64_t j = 0; j < N; ++j) {
        T acc = T(0);
        const T* b = B + j * ldb;
        if (!trans_a) {
          const T* a = A + i * lda;
          for (int64_t p = 0; p < K; ++p) acc += a[p] * b[p];
        } else {
          for (int64_t p = 0; p < K; ++p) acc += A[p * lda + i] * b[p];
        }
        c[j] = beta == T(0) ? alpha * acc : alpha * acc + beta * c[j];
      }
      continue;
    }
    // Row i of C is a combination of rows of B: C[i][:] += alpha*op(A)[i][p] * B[p][:].
    if (beta == T(0)) {
      for (int64_t j = 0; j < N; ++j) c[j] = T(0);
    } else if (beta != T(1)) {
      for (int64_t j = 0; j < N; ++j) c[j] *= beta;
    }
    for (int64_t p = 0; p < K; ++p) {
      const T a = alpha * (trans_a ? A[p * lda + i] : A[i * lda + p]);
      const T* b = B + p * ldb;
      for (int64_t j = 0; j < N; ++j) c[j] += a * b[j];
    }
  }
}

template <class T>
void gemm_split(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
                const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  detail::split_gemm(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc,
                     [&](bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a,
                         const T* b, T* c) {
#ifdef DL_WITH_AVX512
                       if constexpr (std::is_same_v<T, float>) {
                         if (use_avx512() && k > 0)  // (the portable loops handle K = 0)
                           return sgemm_avx512(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c,
                                               ldc);
                       }
#endif
                       gemm_portable<T>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
                     });
}

}  // namespace

// Without OpenBLAS the portable loops (split across OpenMP threads when large) are the whole
// GEMM backend, except for float products on the AVX-512 path.
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
          int64_t ldc) {
  gemm_split<float>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
          const double* A, int64_t lda, const double* B, int64_t ldb, double beta, double* C,
          int64_t ldc) {
  gemm_split<double>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
int blas_num_threads() { return 1; }
void set_blas_num_threads(int) {}
const char* gemm_backend() { return "reference"; }

const char* blas_core() { return "reference"; }
#endif

}  // namespace dl::kernels
