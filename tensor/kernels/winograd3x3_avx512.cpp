// winograd3x3_avx512.cpp — the transformed-domain GEMMs of the AVX2 Winograd kernels
// (winograd3x3_avx2.cpp, step 3) with AVX-512 registers (tutorial chapter 6). Compiled with
// -mavx512f here only and called only when use_avx512(). The transforms stay AVX2: they move
// data more than they multiply, while the GEMMs are most of the multiply-adds, and on cores
// with full-width AVX-512 units (AMD Zen 5: 466 against 216 GFLOP/s FMA peak on 2 cores)
// 16-float vectors double what each instruction does. The 32 vector registers also allow a
// 12x32 register tile instead of AVX2's 6x16, so each loaded B vector feeds twice the rows.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "tensor/kernels/winograd3x3.h"

namespace dl::kernels {
namespace {

// C[R][16*NV] (+)= op(A)[R][K] · B[K][16*NV]; the last of the NV vectors is masked by @p last
// (0x00ff when the panel is 8 columns short of a full vector). op(A)[r][k] is A[r*lda + k],
// or A[k*lda + r] when TransA. Named accumulators: GCC keeps arrays of vectors in memory
// (see the AVX2 micro-kernel).
template <int R, int NV, bool TransA, bool Acc>
void micro(int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb, float* C,
           int64_t ldc, __mmask16 last) {
  static_assert(R >= 1 && R <= 12 && (NV == 1 || NV == 2), "up to 12 rows, 1 or 2 vectors");
  const __mmask16 m0 = NV == 1 ? last : __mmask16(0xffff), m1 = last;
  const __m512 z = _mm512_setzero_ps();
  __m512 c0_0 = z, c0_1 = z, c1_0 = z, c1_1 = z, c2_0 = z, c2_1 = z, c3_0 = z, c3_1 = z;
  __m512 c4_0 = z, c4_1 = z, c5_0 = z, c5_1 = z, c6_0 = z, c6_1 = z, c7_0 = z, c7_1 = z;
  __m512 c8_0 = z, c8_1 = z, c9_0 = z, c9_1 = z, c10_0 = z, c10_1 = z, c11_0 = z, c11_1 = z;
  const int64_t rs = TransA ? 1 : lda;  // step between rows of op(A)
  const int64_t ks = TransA ? lda : 1;  // step along k
#define DL_ROW(i)                                                         \
  if constexpr (R > i) {                                                  \
    const __m512 a = _mm512_set1_ps(Ak[i * rs]);                          \
    c##i##_0 = _mm512_fmadd_ps(a, b0, c##i##_0);                          \
    if constexpr (NV == 2) c##i##_1 = _mm512_fmadd_ps(a, b1, c##i##_1);   \
  }
#define DL_LOAD(i)                                                               \
  if constexpr (R > i) {                                                         \
    c##i##_0 = _mm512_maskz_loadu_ps(m0, C + i * ldc);                           \
    if constexpr (NV == 2) c##i##_1 = _mm512_maskz_loadu_ps(m1, C + i * ldc + 16); \
  }
#define DL_STORE(i)                                                              \
  if constexpr (R > i) {                                                         \
    _mm512_mask_storeu_ps(C + i * ldc, m0, c##i##_0);                            \
    if constexpr (NV == 2) _mm512_mask_storeu_ps(C + i * ldc + 16, m1, c##i##_1); \
  }
  if constexpr (Acc) {
    DL_LOAD(0) DL_LOAD(1) DL_LOAD(2) DL_LOAD(3) DL_LOAD(4) DL_LOAD(5)
    DL_LOAD(6) DL_LOAD(7) DL_LOAD(8) DL_LOAD(9) DL_LOAD(10) DL_LOAD(11)
  }
  for (int64_t k = 0; k < K; ++k) {
    const __m512 b0 = _mm512_maskz_loadu_ps(m0, B + k * ldb);
    const __m512 b1 = NV == 2 ? _mm512_maskz_loadu_ps(m1, B + k * ldb + 16) : z;
    const float* Ak = A + k * ks;
    DL_ROW(0) DL_ROW(1) DL_ROW(2) DL_ROW(3) DL_ROW(4) DL_ROW(5)
    DL_ROW(6) DL_ROW(7) DL_ROW(8) DL_ROW(9) DL_ROW(10) DL_ROW(11)
  }
  DL_STORE(0) DL_STORE(1) DL_STORE(2) DL_STORE(3) DL_STORE(4) DL_STORE(5)
  DL_STORE(6) DL_STORE(7) DL_STORE(8) DL_STORE(9) DL_STORE(10) DL_STORE(11)
#undef DL_STORE
#undef DL_LOAD
#undef DL_ROW
}

template <int NV, bool TransA, bool Acc>
void micro_rows(int rows, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
                float* C, int64_t ldc, __mmask16 last) {
  switch (rows) {
    case 12: return micro<12, NV, TransA, Acc>(K, A, lda, B, ldb, C, ldc, last);
    case 11: return micro<11, NV, TransA, Acc>(K, A, lda, B, ldb, C, ldc, last);
    case 10: return micro<10, NV, TransA, Acc>(K, A, lda, B, ldb, C, ldc, last);
    case 9: return micro<9, NV, TransA, Acc>(K, A, lda, B, ldb, C, ldc, last);
    case 8: return micro<8, NV, TransA, Acc>(K, A, lda, B, ldb, C, ldc, last);
    case 7: return micro<7, NV, TransA, Acc>(K, A, lda, B, ldb, C, ldc, last);
    case 6: return micro<6, NV, TransA, Acc>(K, A, lda, B, ldb, C, ldc, last);
    case 5: return micro<5, NV, TransA, Acc>(K, A, lda, B, ldb, C, ldc, last);
    case 4: return micro<4, NV, TransA, Acc>(K, A, lda, B, ldb, C, ldc, last);
    case 3: return micro<3, NV, TransA, Acc>(K, A, lda, B, ldb, C, ldc, last);
    case 2: return micro<2, NV, TransA, Acc>(K, A, lda, B, ldb, C, ldc, last);
    default: return micro<1, NV, TransA, Acc>(K, A, lda, B, ldb, C, ldc, last);
  }
}

// Column panels of 32 outer, so a K x 32 panel of B stays in L1 while all rows stream past.
template <bool TransA, bool Acc>
void gemm(int64_t rows, int64_t Nc, int64_t K, const float* A, int64_t lda, const float* B,
          int64_t ldb, float* C, int64_t ldc) {
  for (int64_t j = 0; j < Nc; j += 32) {
    const int64_t width = std::min<int64_t>(32, Nc - j);  // a multiple of 8
    const __mmask16 last = width % 16 == 0 ? __mmask16(0xffff) : __mmask16(0x00ff);
    for (int64_t i = 0; i < rows; i += 12) {
      const int r = int(std::min<int64_t>(12, rows - i));
      const float* Ai = TransA ? A + i : A + i * lda;
      if (width > 16) {
        micro_rows<2, TransA, Acc>(r, K, Ai, lda, B + j, ldb, C + i * ldc + j, ldc, last);
      } else {
        micro_rows<1, TransA, Acc>(r, K, Ai, lda, B + j, ldb, C + i * ldc + j, ldc, last);
      }
    }
  }
}

}  // namespace

void winograd_gemm_avx512(bool trans_a, bool accumulate, int64_t rows, int64_t Nc, int64_t K,
                          const float* A, int64_t lda, const float* B, int64_t ldb, float* C,
                          int64_t ldc) {
  if (trans_a) {
    if (accumulate) return gemm<true, true>(rows, Nc, K, A, lda, B, ldb, C, ldc);
    return gemm<true, false>(rows, Nc, K, A, lda, B, ldb, C, ldc);
  }
  if (accumulate) return gemm<false, true>(rows, Nc, K, A, lda, B, ldb, C, ldc);
  return gemm<false, false>(rows, Nc, K, A, lda, B, ldb, C, ldc);
}

}  // namespace dl::kernels
