// gemm_avx512.cpp — single-precision GEMM on AVX-512 registers (tutorial chapter 5), the float
// backend of gemm() on CPUs with AVX-512F. Compiled with -mavx512f here only and called only
// when use_avx512(). Why our own: on cores with full-width AVX-512 units (AMD Zen 5: 466
// against 216 GFLOP/s FMA peak on 2 cores) 16-float vectors double the work per instruction,
// and the OpenBLAS a system provides may be built or pinned (OPENBLAS_CORETYPE) to AVX2
// kernels. The structure is the classic blocked GEMM (Goto & van de Geijn 2008), with only B
// packed:
//   for each KC-deep slice of K: pack op(B)[KC x N] into strips of NR = 32 columns,
//     for each MC-row block of op(A), for each strip, for each 12-row panel of the block:
//       the 12x32 micro-kernel, C (+)= panel · strip, reading the panel of A in place.
// A packed strip (KC x 32 floats = 32 KB) stays in L1 while the panels of the A block (in L2)
// stream past it; packing also turns both transpose cases of B into the same contiguous
// layout and zero-pads the last strip (the stores are masked). Packing A as well cost more
// than it saved: at batch 1 a convolution's weights are used by few columns.
// Single-threaded: gemm() splits large products across OpenMP threads before calling it.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "tensor/kernels/gemm_avx512.h"
#include "tensor/kernels/workspace.h"

namespace dl::kernels {
namespace {

constexpr int64_t MR = kAvx512PanelRows;  // rows of C per call (broadcasts of A)
constexpr int64_t NR = kAvx512StripWidth;  // columns per call: two 16-float vectors of B
constexpr int64_t KC = kAvx512SliceDepth;  // a packed strip slice is KC*NR*4 = 32 KB (L1)
constexpr int64_t MC = 144;  // rows per block of A: MC*KC*4 = 144 KB (L2)
constexpr int64_t NC = 2048; // columns per packed B slice: KC*NC*4 = 2 MB at most

// Packs op(B)[k0.., j0..] (kc rows, nc columns) as strips of NR columns, each kc rows of NR
// floats; columns past nc are zero. op(B)[k][j] is B[k*ldb + j], or B[j*ldb + k] when tb.
void pack_b(bool tb, const float* B, int64_t ldb, int64_t kc, int64_t nc, float* out) {
  for (int64_t j = 0; j < nc; j += NR, out += kc * NR) {
    const int64_t w = std::min(NR, nc - j);
    if (!tb) {
      const __mmask16 m0 = avx512_lanes(w), m1 = avx512_lanes(w - 16);
      for (int64_t k = 0; k < kc; ++k) {
        const float* src = B + k * ldb + j;
        _mm512_storeu_ps(out + k * NR, _mm512_maskz_loadu_ps(m0, src));
        _mm512_storeu_ps(out + k * NR + 16, _mm512_maskz_loadu_ps(m1, src + 16));
      }
    } else {
      if (w < NR) std::memset(out, 0, sizeof(float) * size_t(kc * NR));
      for (int64_t jj = 0; jj < w; ++jj) {  // row j+jj of B is column jj of the strip
        const float* src = B + (j + jj) * ldb;
        for (int64_t k = 0; k < kc; ++k) out[k * NR + jj] = src[k];
      }
    }
  }
}

// C[R][16*NV] = alpha * op(A)·b + beta * C over kc steps, b a packed strip (kc x NR);
// op(A)[r][k] is A[r*lda + k], or A[k*lda + r] when TransA. beta = 0 never reads C. m0/m1
// mask the columns that exist. Named accumulators: GCC keeps arrays of vectors in memory (see
// the Winograd micro-kernel).
template <int R, int NV, bool TransA>
void micro(int64_t kc, const float* A, int64_t lda, const float* b, float* C, int64_t ldc,
           float alpha, float beta, __mmask16 m0, __mmask16 m1) {
  static_assert(R >= 1 && R <= MR && (NV == 1 || NV == 2), "up to 12 rows, 1 or 2 vectors");
  const __m512 z = _mm512_setzero_ps();
  __m512 c0_0 = z, c0_1 = z, c1_0 = z, c1_1 = z, c2_0 = z, c2_1 = z, c3_0 = z, c3_1 = z;
  __m512 c4_0 = z, c4_1 = z, c5_0 = z, c5_1 = z, c6_0 = z, c6_1 = z, c7_0 = z, c7_1 = z;
  __m512 c8_0 = z, c8_1 = z, c9_0 = z, c9_1 = z, c10_0 = z, c10_1 = z, c11_0 = z, c11_1 = z;
#define DL_ROW(i)                                                       \
  if constexpr (R > i) {                                                \
    const __m512 ai = _mm512_set1_ps(TransA ? A[i] : A[i * lda]);      \
    c##i##_0 = _mm512_fmadd_ps(ai, b0, c##i##_0);                       \
    if constexpr (NV == 2) c##i##_1 = _mm512_fmadd_ps(ai, b1, c##i##_1); \
  }
  for (int64_t k = 0; k < kc; ++k, A += TransA ? lda : 1, b += NR) {
    const __m512 b0 = _mm512_loadu_ps(b);
    const __m512 b1 = NV == 2 ? _mm512_loadu_ps(b + 16) : z;
    DL_ROW(0) DL_ROW(1) DL_ROW(2) DL_ROW(3) DL_ROW(4) DL_ROW(5)
    DL_ROW(6) DL_ROW(7) DL_ROW(8) DL_ROW(9) DL_ROW(10) DL_ROW(11)
  }
#undef DL_ROW
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  auto update = [&](float* c, __mmask16 m, __m512 acc) {
    const __m512 old = beta == 0.0f ? z : _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m, c));
    _mm512_mask_storeu_ps(c, m, _mm512_fmadd_ps(va, acc, old));
  };
#define DL_STORE(i)                                               \
  if constexpr (R > i) {                                          \
    update(C + i * ldc, m0, c##i##_0);                            \
    if constexpr (NV == 2) update(C + i * ldc + 16, m1, c##i##_1); \
  }
  DL_STORE(0) DL_STORE(1) DL_STORE(2) DL_STORE(3) DL_STORE(4) DL_STORE(5)
  DL_STORE(6) DL_STORE(7) DL_STORE(8) DL_STORE(9) DL_STORE(10) DL_STORE(11)
#undef DL_STORE
}

template <int NV, bool TransA>
void micro_rows(int64_t rows, int64_t kc, const float* A, int64_t lda, const float* b,
                float* C, int64_t ldc, float alpha, float beta, __mmask16 m0, __mmask16 m1) {
  switch (rows) {
    case 12: return micro<12, NV, TransA>(kc, A, lda, b, C, ldc, alpha, beta, m0, m1);
    case 11: return micro<11, NV, TransA>(kc, A, lda, b, C, ldc, alpha, beta, m0, m1);
    case 10: return micro<10, NV, TransA>(kc, A, lda, b, C, ldc, alpha, beta, m0, m1);
    case 9: return micro<9, NV, TransA>(kc, A, lda, b, C, ldc, alpha, beta, m0, m1);
    case 8: return micro<8, NV, TransA>(kc, A, lda, b, C, ldc, alpha, beta, m0, m1);
    case 7: return micro<7, NV, TransA>(kc, A, lda, b, C, ldc, alpha, beta, m0, m1);
    case 6: return micro<6, NV, TransA>(kc, A, lda, b, C, ldc, alpha, beta, m0, m1);
    case 5: return micro<5, NV, TransA>(kc, A, lda, b, C, ldc, alpha, beta, m0, m1);
    case 4: return micro<4, NV, TransA>(kc, A, lda, b, C, ldc, alpha, beta, m0, m1);
    case 3: return micro<3, NV, TransA>(kc, A, lda, b, C, ldc, alpha, beta, m0, m1);
    case 2: return micro<2, NV, TransA>(kc, A, lda, b, C, ldc, alpha, beta, m0, m1);
    default: return micro<1, NV, TransA>(kc, A, lda, b, C, ldc, alpha, beta, m0, m1);
  }
}

// op(A)[M x kc] times one packed B slice (kc x nc; strip s at bp + s * strip_stride) into C.
// With a narrow slice (at most kNarrow columns, e.g. the 7x7 layers at batch 1) the whole
// slice stays in L2 and each row panel of A is read once, against every strip in turn;
// otherwise blocks of MC rows of A stay in L2 while each strip (in L1) meets all their panels.
template <bool TransA>
void slice(int64_t M, int64_t nc, int64_t kc, const float* A, int64_t lda, const float* bp,
           int64_t strip_stride, float* C, int64_t ldc, float alpha, float beta) {
  constexpr int64_t kNarrow = 512;
  const int64_t mc = nc <= kNarrow ? MR : MC;
  for (int64_t i0 = 0; i0 < M; i0 += mc) {
    const int64_t i1 = std::min(M, i0 + mc);
    for (int64_t j = 0; j < nc; j += NR) {
      const int64_t w = std::min(NR, nc - j);
      const __mmask16 m0 = avx512_lanes(w), m1 = avx512_lanes(w - 16);
      const float* strip = bp + (j / NR) * strip_stride;
      for (int64_t i = i0; i < i1; i += MR) {
        const int64_t rows = std::min(MR, i1 - i);
        const float* Ai = TransA ? A + i : A + i * lda;
        float* c = C + i * ldc + j;
        if (w > 16) {
          micro_rows<2, TransA>(rows, kc, Ai, lda, strip, c, ldc, alpha, beta, m0, m1);
        } else {
          micro_rows<1, TransA>(rows, kc, Ai, lda, strip, c, ldc, alpha, beta, m0, m1);
        }
      }
    }
  }
}

// Few rows of C against a transposed B, as in a Linear layer at batch 1 (y = x·Wᵀ): every C
// element is the dot product of two contiguous rows, so each row of B is read once, in place,
// where packing would transpose all of it into strips one float at a time.
void dot_rows(int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
              const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  for (int64_t j = 0; j < N; ++j) {
    const float* b = B + j * ldb;
    for (int64_t i = 0; i < M; ++i) {
      const float* a = A + i * lda;
      __m512 acc = _mm512_setzero_ps();
      for (int64_t k = 0; k < K; k += 16) {
        const __mmask16 m = avx512_lanes(K - k);
        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + k), _mm512_maskz_loadu_ps(m, b + k),
                              acc);
      }
      alignas(64) float lane[16];  // (GCC 12 warns falsely inside _mm512_reduce_add_ps)
      _mm512_store_ps(lane, acc);
      float dot = 0.0f;
      for (float v : lane) dot += v;
      float& c = C[i * ldc + j];
      c = alpha * dot + (beta == 0.0f ? 0.0f : beta * c);
    }
  }
}

}  // namespace

void sgemm_avx512(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                  const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                  int64_t ldc) {
  if (trans_b && !trans_a && M <= 4)
    return dot_rows(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  const int64_t n_pad = std::min(NC, (N + NR - 1) / NR * NR);
  float* bp = detail::thread_scratch<float, 7>(size_t(std::min(KC, K) * n_pad));
  for (int64_t j0 = 0; j0 < N; j0 += NC) {
    const int64_t nc = std::min(NC, N - j0);
    for (int64_t k0 = 0; k0 < K; k0 += KC) {
      const int64_t kc = std::min(KC, K - k0);
      pack_b(trans_b, trans_b ? B + j0 * ldb + k0 : B + k0 * ldb + j0, ldb, kc, nc, bp);
      const float b_eff = k0 == 0 ? beta : 1.0f;  // later slices add onto the first's result
      const float* Ak = trans_a ? A + k0 * lda : A + k0;
      gemm_avx512_packed(trans_a, M, nc, kc, Ak, lda, bp, kc * NR, C + j0, ldc, alpha, b_eff);
    }
  }
}

void gemm_avx512_packed(bool trans_a, int64_t M, int64_t nc, int64_t kc, const float* A,
                        int64_t lda, const float* bp, int64_t strip_stride, float* C, int64_t ldc,
                        float alpha, float beta) {
  if (trans_a) return slice<true>(M, nc, kc, A, lda, bp, strip_stride, C, ldc, alpha, beta);
  slice<false>(M, nc, kc, A, lda, bp, strip_stride, C, ldc, alpha, beta);
}

}  // namespace dl::kernels
