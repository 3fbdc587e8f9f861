// winograd3x3.h — private declarations of the Winograd F(m x m, 3x3) kernels (tutorial
// chapter 6). Upper layers call conv2d_forward_winograd / conv2d_backward_input_winograd from
// conv.h; this header only connects the portable and AVX2 translation units to that entry.
// Matrices and identities: shared WINOGRAD.md (Lavin & Gray, arXiv:1509.09308).
#pragma once

#include "tensor/kernels/conv.h"

namespace dl::kernels {

/// Portable scalar Winograd forward, m = 2 or 4. Layout as WINOGRAD.md: U[α²][OC][C],
/// V[α²][C][tiles], α² GEMMs through kernels::gemm. @p U: the filters as
/// winograd3x3_filters_ref() transformed them, or null to transform w here.
void winograd3x3_forward_ref(const ConvGeom& g, const float* x, const float* w, const float* b,
                             float* y, int tile_m, const float* U);
/// Floats in the portable forward's transformed filters U[α²][OC][C].
int64_t winograd3x3_filters_size_ref(const ConvGeom& g, int tile_m);
/// U = G w Gᵀ for every filter, in the portable forward's layout.
void winograd3x3_filters_ref(const ConvGeom& g, const float* w, int tile_m, float* U);

/// Portable Winograd weight gradient (dw overwritten), m = 2 or 4: per-tile products summed
/// in the transformed domain by α² GEMMs, then dw = Gᵀ dU G.
void winograd3x3_backward_weight_ref(const ConvGeom& g, const float* dy, const float* x,
                                     float* dw, int tile_m);

#ifdef DL_WITH_AVX2
/// AVX2+FMA Winograd forward (only call when use_avx2()); same contract as the _ref version,
/// with U in this kernel's own layout U[α²][Cp][OCp] (channels padded to multiples of 8).
void winograd3x3_forward_avx2(const ConvGeom& g, const float* x, const float* w, const float* b,
                              float* y, int tile_m, const float* U);
/// Size, then contents, of that layout's U (apart, so that the -mavx2 unit builds no vector).
int64_t winograd3x3_filters_size_avx2(const ConvGeom& g, int tile_m);
void winograd3x3_filters_avx2(const ConvGeom& g, const float* w, int tile_m, float* U);
/// AVX2+FMA Winograd weight gradient; same contract as the _ref version.
void winograd3x3_backward_weight_avx2(const ConvGeom& g, const float* dy, const float* x,
                                      float* dw, int tile_m);
#endif

#ifdef DL_WITH_AVX512
/// The AVX2 kernels' transformed-domain GEMM with AVX-512 registers (only call when
/// use_avx512()): C[rows][Nc] (+= when @p accumulate, else =) op(A)[rows][K] · B[K][Nc],
/// Nc a multiple of 8; op(A)[r][k] is A[r*lda + k], or A[k*lda + r] when @p trans_a.
void winograd_gemm_avx512(bool trans_a, bool accumulate, int64_t rows, int64_t Nc, int64_t K,
                          const float* A, int64_t lda, const float* B, int64_t ldb, float* C,
                          int64_t ldc);
#endif

}  // namespace dl::kernels
