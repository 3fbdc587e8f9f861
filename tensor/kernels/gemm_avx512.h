// gemm_avx512.h — private declaration of the AVX-512 float GEMM (gemm_avx512.cpp) that gemm()
// runs on when use_avx512(); upper layers call gemm() from gemm.h, never this.
#pragma once

#include <cstdint>

namespace dl::kernels {

#ifdef DL_WITH_AVX512
/// Same contract as gemm() for float (row-major, op = transpose when set, beta = 0 ignores C),
/// single-threaded. Only call when use_avx512().
void sgemm_avx512(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                  const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                  int64_t ldc);
#endif

}  // namespace dl::kernels
