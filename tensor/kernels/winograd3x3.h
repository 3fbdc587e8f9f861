// winograd3x3.h — private declarations of the Winograd F(m x m, 3x3) kernels (tutorial
// chapter 6). Upper layers call conv2d_forward_winograd / conv2d_backward_input_winograd from
// conv.h; this header only connects the portable and AVX2 translation units to that entry.
// Matrices and identities: shared WINOGRAD.md (Lavin & Gray, arXiv:1509.09308).
#pragma once

#include "tensor/kernels/conv.h"

namespace dl::kernels {

/// Portable scalar Winograd forward, m = 2 or 4. Layout as WINOGRAD.md: U[α²][OC][C],
/// V[α²][C][tiles], α² GEMMs through kernels::gemm.
void winograd3x3_forward_ref(const ConvGeom& g, const float* x, const float* w, const float* b,
                             float* y, int tile_m);

/// Portable Winograd weight gradient (dw overwritten), m = 2 or 4: per-tile products summed
/// in the transformed domain by α² GEMMs, then dw = Gᵀ dU G.
void winograd3x3_backward_weight_ref(const ConvGeom& g, const float* dy, const float* x,
                                     float* dw, int tile_m);

#ifdef DL_WITH_AVX2
/// AVX2+FMA Winograd forward (only call when use_avx2()); same contract as the _ref version.
void winograd3x3_forward_avx2(const ConvGeom& g, const float* x, const float* w, const float* b,
                              float* y, int tile_m);
/// AVX2+FMA Winograd weight gradient; same contract as the _ref version.
void winograd3x3_backward_weight_avx2(const ConvGeom& g, const float* dy, const float* x,
                                      float* dw, int tile_m);
#endif

}  // namespace dl::kernels
