// gemm_simd.cpp — run-time choice between the AVX-512 and AVX2 builds of our image-packed
// im2col forward (gemm_blocked.h), and the packing buffers. Built without ISA flags.
#include "tensor/kernels/gemm_simd.h"

#include "tensor/kernels/cpu.h"
#include "tensor/kernels/workspace.h"

namespace dl::kernels {

bool use_simd_conv_forward(const ConvGeom& g) {
  return use_avx512() || (use_avx2() && g.out_h() * g.out_w() >= 512);
}

void conv2d_forward_image_simd(const ConvGeom& g, bool pointwise, const float* x,
                               const float* w, const float* b, float* y, bool parallel,
                               int64_t n, const ConvEpilogue<float>* epilogue) {
#ifdef DL_WITH_AVX512
  if (use_avx512())
    return conv2d_forward_image_avx512(g, pointwise, x, w, b, y, parallel, n, epilogue);
#endif
#ifdef DL_WITH_AVX2
  conv2d_forward_image_avx2(g, pointwise, x, w, b, y, parallel, n, epilogue);
#endif
}

namespace detail {
float* simd_scratch(SimdScratch slot, size_t n) {
  switch (slot) {
    case kSimdScratchA: return thread_scratch<float, 6>(n);
    case kSimdScratchB: return thread_scratch<float, 7>(n);
    case kSimdScratchImage: return thread_scratch<float, 9>(n);
    default: return thread_scratch<float, 10>(n);
  }
}
}  // namespace detail

}  // namespace dl::kernels
