// gemm_simd.h — private declarations of our own float GEMM and the forward convolution built on
// its packed form (gemm_blocked.h): gemm() runs on the GEMM on the AVX-512 path, the im2col
// forward on the convolution on the AVX-512 and AVX2 paths; the portable path keeps OpenBLAS
// (or the plain loops). Upper layers call gemm() and conv2d_forward(), never these.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/kernels/conv.h"

namespace dl::kernels {

/// Depth of K one pass of the micro-kernels multiplies: a packed strip slice (256 x 16 or 32
/// floats, 16 or 32 KB) then stays in L1.
constexpr int64_t kSimdSliceDepth = 256;

/// True when the im2col forward of a layer with geometry @p g runs conv2d_forward_image_simd:
/// packing straight from the image, with no col buffer, no pre-scaling of y and one OpenMP
/// team per layer, saves passes over memory. Always on the AVX-512 path. On AVX2 only for
/// layers of at least 512 output pixels per image, where each weight is used often enough to
/// hide reading the weights in place (OpenBLAS packs them): batch 1, 2 threads, Zen 3, ms
/// ours / OpenBLAS: 7x7 stem 3.0 / 3.8, 64->256 1x1 at 56x56 0.89 / 1.20, 64->128 3x3 s2
/// 1.40 / 1.50; but 256->256 3x3 at 14x14 2.37 / 2.06, 512->512 3x3 at 7x7 3.01 / 2.69,
/// 1024->256 1x1 at 14x14 1.00 / 0.82.
bool use_simd_conv_forward(const ConvGeom& g);

/// Forward convolution of image @p n: x[C,H,W] into y[OC,OH,OW] (+ bias b, may be null) as
/// im2col + GEMM with the im2col strips packed straight from x, never unfolded into a col
/// buffer. @p pointwise: 1x1, stride 1, no padding. With @p parallel the OpenMP threads share
/// the image; without, the calling thread does it all (one image per thread). Each thread
/// applies @p epilogue (may be null) to its share of y as soon as its GEMM has finished it.
/// Only call when use_simd_conv_forward(); runs the AVX-512 build where use_avx512(), else
/// the AVX2 one.
void conv2d_forward_image_simd(const ConvGeom& g, bool pointwise, const float* x,
                               const float* w, const float* b, float* y, bool parallel,
                               int64_t n = 0, const ConvEpilogue<float>* epilogue = nullptr);

// The per-ISA instantiations of gemm_blocked.h.
#ifdef DL_WITH_AVX2
void conv2d_forward_image_avx2(const ConvGeom& g, bool pointwise, const float* x,
                               const float* w, const float* b, float* y, bool parallel,
                               int64_t n, const ConvEpilogue<float>* epilogue);
#endif
#ifdef DL_WITH_AVX512
/// Same contract as gemm() for float (row-major, op = transpose when set, beta = 0 ignores C),
/// single-threaded; M, N, K > 0. gemm() runs on it where use_avx512(). On AVX2 gemm() stays on
/// OpenBLAS: its kernels are as fast on the GEMMs themselves (Zen 3, 1 thread: 55-72 GFLOP/s
/// both) and pack a transposed B (the weight gradients) much faster than our element-by-element
/// copy, so the AVX2 build of this GEMM is not instantiated.
void sgemm_avx512(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                  const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                  int64_t ldc);
void conv2d_forward_image_avx512(const ConvGeom& g, bool pointwise, const float* x,
                                 const float* w, const float* b, float* y, bool parallel,
                                 int64_t n, const ConvEpilogue<float>* epilogue);
#endif

namespace detail {
/// The buffers of the SIMD GEMM (rows of A, strips of B, the packed image, a partial sum):
/// per thread and slot, at least @p n floats, reused.
/// Defined in gemm_simd.cpp, built without ISA flags, so that no std::vector code is compiled
/// (and possibly merged by the linker) inside the AVX2 or AVX-512 translation units.
enum SimdScratch { kSimdScratchA, kSimdScratchB, kSimdScratchImage, kSimdScratchSum };
float* simd_scratch(SimdScratch slot, size_t n);
}  // namespace detail

}  // namespace dl::kernels
