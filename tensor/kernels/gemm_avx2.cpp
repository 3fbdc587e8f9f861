// gemm_avx2.cpp — the image-packed forward convolution (gemm_blocked.h) on 8-float AVX2
// vectors with a 6x16 register tile (12 accumulators, 2 B vectors and a broadcast of the 16
// registers). Compiled with -mavx2 -mfma here only and called only when use_avx2() (and not
// use_avx512()). gemm() itself stays on OpenBLAS on this path (see sgemm_avx512()).
#include <immintrin.h>

#include "tensor/kernels/gemm_blocked.h"

namespace dl::kernels {
namespace {

struct Avx2 {
  using Vec = __m256;
  static constexpr int64_t kLanes = 8;
  static constexpr int kRows = 6;
  static __m256i lanes(int64_t n) {  // all-ones in lanes 0 .. n-1
    const int c = int(n < 0 ? 0 : n > 8 ? 8 : n);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(c), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static Vec zero() { return _mm256_setzero_ps(); }
  static Vec set1(float v) { return _mm256_set1_ps(v); }
  static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
  // Masked loads and stores never touch the lanes they leave out (no fault past an array).
  static Vec load_n(const float* p, int64_t n) {
    if (n >= 8) return _mm256_loadu_ps(p);
    return n <= 0 ? zero() : _mm256_maskload_ps(p, lanes(n));
  }
  // A partial store goes through a stack copy: AMD's Zen cores run vmaskmovps to memory as a
  // slow microcoded sequence.
  static void store_n(float* p, Vec v, int64_t n) {
    if (n >= 8) return _mm256_storeu_ps(p, v);
    alignas(32) float lane[8];
    _mm256_store_ps(lane, v);
    for (int64_t i = 0; i < n; ++i) p[i] = lane[i];
  }
  static Vec fmadd(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
  static Vec mul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
  static Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
  static Vec sub(Vec a, Vec b) { return _mm256_sub_ps(a, b); }
  // v where v > 0 or NaN (not v <= 0, unordered true), else +0: dl::relu's rule.
  static Vec relu(Vec v) { return _mm256_and_ps(v, _mm256_cmp_ps(v, zero(), _CMP_NLE_UQ)); }
  static float sum(Vec v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static Vec even(Vec lo, Vec hi) {
    // Per 128-bit half: lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6; then 64-bit pairs in order 0 2 1 3.
    const __m256 t = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(t), _MM_SHUFFLE(3, 1, 2, 0)));
  }
};

}  // namespace

void conv2d_forward_image_avx2(const ConvGeom& g, bool pointwise, const float* x,
                               const float* w, const float* b, float* y, bool parallel,
                               int64_t n, const ConvEpilogue<float>* epilogue) {
  conv2d_forward_image<Avx2>(g, pointwise, x, w, b, y, parallel, n, epilogue);
}

}  // namespace dl::kernels
