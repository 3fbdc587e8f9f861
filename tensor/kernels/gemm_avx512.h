// gemm_avx512.h — private declarations of the AVX-512 float GEMM (gemm_avx512.cpp) that gemm()
// runs on when use_avx512(), and of the forward convolution built on its packed form
// (conv_im2col_avx512.cpp); upper layers call gemm() and conv2d_forward(), never these.
#pragma once

#include <cstdint>

#include "tensor/kernels/conv.h"

namespace dl::kernels {

/// Width of a packed B strip (two 16-float vectors), the depth of K one pass multiplies, and
/// the rows of C one micro-kernel call computes (the unit in which callers split rows).
constexpr int64_t kAvx512StripWidth = 32;
constexpr int64_t kAvx512SliceDepth = 256;
constexpr int64_t kAvx512PanelRows = 12;

/// Mask of the first n lanes of a 16-float vector (none for n <= 0, all for n >= 16): the
/// loads and stores of partial strips.
inline uint16_t avx512_lanes(int64_t n) {
  return uint16_t(n >= 16 ? 0xffff : n <= 0 ? 0 : (1u << n) - 1);
}

#ifdef DL_WITH_AVX512
/// Same contract as gemm() for float (row-major, op = transpose when set, beta = 0 ignores C),
/// single-threaded; M, N, K > 0. Only call when use_avx512().
void sgemm_avx512(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                  const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                  int64_t ldc);

/// The product on B that the caller packed itself (the convolution packs im2col strips
/// straight from the image): C[M][nc] = alpha * op(A)[M][kc] · Bp + beta * C, where Bp is
/// ceil(nc / 32) strips of kc rows of 32 floats (columns past nc zero), strip s starting at
/// bp + s * strip_stride. kc <= kAvx512SliceDepth keeps a strip slice in L1. Single-threaded.
void gemm_avx512_packed(bool trans_a, int64_t M, int64_t nc, int64_t kc, const float* A,
                        int64_t lda, const float* bp, int64_t strip_stride, float* C, int64_t ldc,
                        float alpha, float beta);

/// Forward convolution of one image x[C,H,W] into y[OC,OH,OW] (+ bias b, may be null) as
/// im2col + GEMM with the im2col strips packed straight from x (conv_im2col_avx512.cpp).
/// @p pointwise: 1x1, stride 1, no padding. With @p parallel the OpenMP threads share the
/// image; without, the calling thread does it all (one image per thread).
void conv2d_forward_image_avx512(const ConvGeom& g, bool pointwise, const float* x,
                                 const float* w, const float* b, float* y, bool parallel);
#endif

}  // namespace dl::kernels
