// conv_im2col_avx512.cpp — the im2col + GEMM forward convolution of one image on the AVX-512
// path, without the col buffer (tutorial chapter 5). The AVX-512 GEMM multiplies B in packed
// strips of 32 columns; here the strips are packed straight from the image — strip s holds,
// for output pixels 32s .. 32s+31, every row (c, kh, kw) of the im2col matrix — so each input
// value is copied once instead of twice (unfold, then pack), and one OpenMP team packs and
// multiplies, with one barrier in between, where the plain path opens a region for im2col and
// another for the GEMM. Compiled with -mavx512f here only; called only when use_avx512().
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "tensor/kernels/conv_taps.h"
#include "tensor/kernels/gemm_avx512.h"
#include "tensor/kernels/workspace.h"

namespace dl::kernels {
namespace {

constexpr int64_t NR = kAvx512StripWidth;
constexpr int64_t MR = kAvx512PanelRows;  // the unit of a row split

// One contiguous piece of a strip row: n values from the channel plane, starting at src and
// `stride` apart, into row columns dst .. dst + n. The same for every channel.
struct Piece {
  int64_t src, dst, n;
};

// row[0..n) = src[0], src[s], ... for s = 1 or 2 (two masked loads, and a permute that picks
// the even elements for s = 2), else one by one. n <= 32; masks keep every read in range.
inline void copy_piece(const float* src, int64_t n, int64_t s, float* row) {
  if (s == 1) {
    _mm512_mask_storeu_ps(row, avx512_lanes(n), _mm512_maskz_loadu_ps(avx512_lanes(n), src));
    if (n > 16) {
      const __mmask16 m = avx512_lanes(n - 16);
      _mm512_mask_storeu_ps(row + 16, m, _mm512_maskz_loadu_ps(m, src + 16));
    }
  } else if (s == 2) {
    const __m512i even =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    for (int64_t i = 0; i < n; i += 16) {
      const int64_t k = std::min<int64_t>(16, n - i), span = 2 * k - 1;  // floats read
      const __m512 lo = _mm512_maskz_loadu_ps(avx512_lanes(span), src + 2 * i);
      const __m512 hi = _mm512_maskz_loadu_ps(avx512_lanes(span - 16), src + 2 * i + 16);
      _mm512_mask_storeu_ps(row + i, avx512_lanes(k), _mm512_permutex2var_ps(lo, even, hi));
    }
  } else {
    for (int64_t i = 0; i < n; ++i) row[i] = src[i * s];
  }
}

// Strip of output pixels [p0, p0 + w): K rows of NR floats, row (c, kh, kw) holding the input
// value each pixel's tap multiplies (0 in the padding and past w).
void pack_strip(const ConvGeom& g, bool pointwise, const float* x, int64_t p0, int64_t w,
                float* strip) {
  const int64_t HW = g.H * g.W, OW = g.out_w(), taps = g.KH * g.KW;
  if (pointwise) {  // row c is x[c][p0 .. p0 + w), zero-filled by the masked loads
    const __mmask16 m0 = avx512_lanes(w), m1 = avx512_lanes(w - 16);
    for (int64_t c = 0; c < g.C; ++c, strip += NR) {
      const float* src = x + c * HW + p0;
      _mm512_storeu_ps(strip, _mm512_maskz_loadu_ps(m0, src));
      _mm512_storeu_ps(strip + 16, _mm512_maskz_loadu_ps(m1, src + 16));
    }
    return;
  }
  // The pieces of each tap's row, worked out once for all channels: the strip's pixels run
  // along output rows (oh, columns [ow0, ow1) at strip column at); a tap's row takes, from
  // each run that falls inside the image vertically, the columns whose tap is inside it.
  thread_local std::vector<Piece> pieces;
  thread_local std::vector<int64_t> first;  // pieces of tap t: [first[t], first[t + 1])
  pieces.clear();
  first.assign(size_t(taps + 1), 0);
  for (int64_t kh = 0; kh < g.KH; ++kh)
    for (int64_t kw = 0; kw < g.KW; ++kw) {
      const int64_t off_w = kw * g.dil_w - g.pad_w;
      int64_t lo, hi;  // output columns whose tap lies inside the row
      tap_range(off_w, g.stride_w, g.W, OW, lo, hi);
      for (int64_t p = p0; p < p0 + w;) {
        const int64_t oh = p / OW, ow0 = p % OW, ow1 = std::min(OW, ow0 + (p0 + w - p));
        const int64_t ih = oh * g.stride_h - g.pad_h + kh * g.dil_h;
        const int64_t a = std::max(lo, ow0), e = std::min(hi, ow1);
        if (ih >= 0 && ih < g.H && e > a)
          pieces.push_back({ih * g.W + a * g.stride_w + off_w, p - p0 + a - ow0, e - a});
        p += ow1 - ow0;
      }
      first[size_t(kh * g.KW + kw + 1)] = int64_t(pieces.size());
    }
  for (int64_t c = 0; c < g.C; ++c) {
    const float* xc = x + c * HW;
    for (int64_t t = 0; t < taps; ++t, strip += NR) {
      _mm512_storeu_ps(strip, _mm512_setzero_ps());
      _mm512_storeu_ps(strip + 16, _mm512_setzero_ps());
      for (int64_t i = first[size_t(t)]; i < first[size_t(t + 1)]; ++i) {
        const Piece& pc = pieces[size_t(i)];
        copy_piece(xc + pc.src, pc.n, g.stride_w, strip + pc.dst);
      }
    }
  }
}

}  // namespace

void conv2d_forward_image_avx512(const ConvGeom& g, bool pointwise, const float* x,
                                 const float* w, const float* b, float* y, bool parallel) {
  const int64_t K = g.C * g.KH * g.KW, P = g.out_h() * g.out_w(), OC = g.OC;
  const int64_t strips = (P + NR - 1) / NR, strip_size = K * NR;
  // The packed image, shared by the team: the calling thread's scratch, taken before the region.
  float* bp = detail::thread_scratch<float, 9>(size_t(strips * strip_size));
  const int nt = parallel ? detail::max_threads() : 1;
  // Each thread's share of y: whole 12-row panels or whole strips, whichever leaves the
  // busiest thread less to do (rows on a tie: each thread then reads only its part of w).
  // 64 output channels over 2 threads are 36 + 28 rows, 98 strips are 49 + 49.
  const int64_t panels = (OC + MR - 1) / MR;
  const int64_t most_rows = std::min(OC, (panels + nt - 1) / nt * MR);
  const int64_t most_strips = (strips + nt - 1) / nt;
  const bool by_rows = most_rows * strips <= most_strips * OC;
#ifdef DL_WITH_OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
  {
#ifdef DL_WITH_OPENMP
#pragma omp for schedule(static)
#endif
    for (int64_t s = 0; s < strips; ++s)
      pack_strip(g, pointwise, x, s * NR, std::min(NR, P - s * NR), bp + s * strip_size);
    // (the loop's implicit barrier: every strip is packed before any is read)
#ifdef DL_WITH_OPENMP
#pragma omp for schedule(static)
#endif
    for (int t = 0; t < nt; ++t) {
      const int64_t r0 = by_rows ? std::min(OC, t * panels / nt * MR) : 0;
      const int64_t r1 = by_rows ? std::min(OC, (t + 1) * panels / nt * MR) : OC;
      const int64_t s0 = by_rows ? 0 : t * strips / nt;
      const int64_t s1 = by_rows ? strips : (t + 1) * strips / nt;
      const int64_t j0 = s0 * NR, nc = std::min(P, s1 * NR) - j0;
      if (r1 <= r0 || nc <= 0) continue;
      float* yt = y + r0 * P + j0;
      if (b != nullptr)
        for (int64_t oc = r0; oc < r1; ++oc) {
          float* row = yt + (oc - r0) * P;
          std::fill(row, row + nc, b[oc]);
        }
      for (int64_t k0 = 0; k0 < K; k0 += kAvx512SliceDepth) {
        const int64_t kc = std::min(kAvx512SliceDepth, K - k0);
        const float beta = (k0 == 0 && b == nullptr) ? 0.0f : 1.0f;
        gemm_avx512_packed(false, r1 - r0, nc, kc, w + r0 * K + k0, K,
                           bp + s0 * strip_size + k0 * NR, strip_size, yt, P, 1.0f, beta);
      }
    }
  }
}

}  // namespace dl::kernels
