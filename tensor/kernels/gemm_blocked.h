// gemm_blocked.h — our single-precision GEMM and the forward convolution built on its packed
// form (tutorial chapter 5), written once over a vector ISA. Included only by gemm_avx2.cpp
// (8-float vectors, 6x16 register tile) and gemm_avx512.cpp (16-float vectors, 12x32), each
// compiled with its own -m flags; they supply the traits type V (below) and the entry points.
// Everything here sits in an anonymous namespace on purpose: each of the two translation units
// gets its own internal copy of every function and type, so the linker can never hand the
// AVX-512 build of a helper to the AVX2 path (inline functions of external linkage are merged).
//
// Why our own GEMM: OpenBLAS packs both operands and pre-scales C on every call, which at
// batch 1 (a convolution's weights used by few columns) costs about a fifth of the multiply
// itself (ResNet-50 batch 1, Zen 3: sgemm_kernel 60% of the cycles, copies and beta 14%), and
// the OpenBLAS a system provides may be built or pinned (OPENBLAS_CORETYPE) to narrower
// kernels than the CPU has. The structure is the classic blocked GEMM (Goto & van de Geijn
// 2008) with only B packed:
//   for each KC-deep slice of K: pack op(B)[KC x N] into strips of NR = 2 vectors of columns,
//     for each MC-row block of op(A), for each strip, for each MR-row panel of the block:
//       the MR x NR micro-kernel, C (+)= panel · strip, reading the panel of A in place.
// A packed strip slice (KC x NR floats: 16 KB with AVX2, 32 KB with AVX-512) stays in L1 while
// the panels of the A block (in L2) stream past it; packing also turns both transpose cases of
// B into the same contiguous layout and zero-pads the last strip (its stores are masked).
// Packing A as well cost more than it saved. The convolution packs its strips straight from
// the image instead of from an im2col matrix (conv2d_forward_image below).
//
// V, the ISA's traits: Vec (a float vector), kLanes (floats in a Vec), kRows (MR, rows of the
// register tile: 2*kRows accumulators + 2 B vectors + 1 broadcast fit the register file),
// zero(), set1(x), load(p), store(p, v), load_n(p, n) / store_n(p, v, n) (the first n lanes,
// n <= 0 none; lanes past n load as 0 and are never touched in memory), fmadd(a, b, c) = a*b+c,
// mul, add, sub, relu (dl::relu's rule: NaN passes, -0 becomes +0), sum (of the lanes), and
// even(lo, hi) (lanes 0, 2, 4, ... of the concatenation lo:hi).
#pragma once

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <cstdint>
#include <memory>
#include <vector>

#include "tensor/kernels/conv.h"
#include "tensor/kernels/conv_taps.h"
#include "tensor/kernels/gemm_simd.h"
#include "tensor/kernels/workspace.h"

// Inlines a lambda or function whatever the compiler's size heuristics say (GCC and Clang).
#define DL_ALWAYS_INLINE __attribute__((always_inline))

namespace dl::kernels {
namespace {

constexpr int64_t KC = kSimdSliceDepth;  // depth of one packed slice of B
constexpr int64_t MC = 144;   // rows per block of A: MC*KC*4 = 144 KB (L2); a multiple of 6 and 12
constexpr int64_t NC = 2048;  // columns per packed B slice: KC*NC*4 = 2 MB at most
// Floats of image strips the convolution's strips split packs at a time (256 KB, in L2).
constexpr int64_t kChunkFloats = 64 * 1024;

// Packs op(B)[k0.., j0..] (kc rows, nc columns) as strips of NR columns, each kc rows of NR
// floats; columns past nc are zero. op(B)[k][j] is B[k*ldb + j], or B[j*ldb + k] when tb.
template <class V>
void pack_b(bool tb, const float* B, int64_t ldb, int64_t kc, int64_t nc, float* out) {
  constexpr int64_t L = V::kLanes, NR = 2 * L;
  for (int64_t j = 0; j < nc; j += NR, out += kc * NR) {
    const int64_t w = std::min(NR, nc - j);
    if (!tb) {
      for (int64_t k = 0; k < kc; ++k) {
        const float* src = B + k * ldb + j;
        V::store(out + k * NR, V::load_n(src, w));
        V::store(out + k * NR + L, V::load_n(src + L, w - L));
      }
    } else {
      if (w < NR) std::fill(out, out + kc * NR, 0.0f);
      for (int64_t jj = 0; jj < w; ++jj) {  // row j+jj of B is column jj of the strip
        const float* src = B + (j + jj) * ldb;
        for (int64_t k = 0; k < kc; ++k) out[k * NR + jj] = src[k];
      }
    }
  }
}

// ConvEpilogue (conv.h) for a block of C that a gemm_packed call finishes, applied to each
// value in registers before it is stored: row r of the block gets
// v = (v - mean[r])·scale[r] + shift[r] (when mean is set), then v + residual[r*ldr + column]
// (when residual is set), then relu(v). The same float operations, in the same order, as
// ConvEpilogue::apply and the separate BatchNorm and add_relu ops: the same bits.
struct BlockEpilogue {
  const float* mean = nullptr;
  const float* scale = nullptr;
  const float* shift = nullptr;
  const float* residual = nullptr;
  int64_t ldr = 0;
  bool relu = false;
  // The same epilogue for the sub-block from row i, column j.
  BlockEpilogue at(int64_t i, int64_t j) const {
    BlockEpilogue e = *this;
    if (mean != nullptr) e.mean += i, e.scale += i, e.shift += i;
    if (residual != nullptr) e.residual += i * ldr + j;
    return e;
  }
  // v, lanes [col, col + n) of row r, as it is about to be stored. The product passes through
  // an empty asm statement so that the compiler cannot fuse it with the add into one FMA,
  // which rounds once where the separate BatchNorm op rounds twice.
  template <class V>
  DL_ALWAYS_INLINE typename V::Vec finish(typename V::Vec v, int64_t r, int64_t col,
                                          int64_t n) const {
    if (mean != nullptr) {
      typename V::Vec p = V::mul(V::sub(v, V::set1(mean[r])), V::set1(scale[r]));
      asm("" : "+v"(p));
      v = V::add(p, V::set1(shift[r]));
    }
    if (residual != nullptr) v = V::add(v, V::load_n(residual + r * ldr + col, n));
    return relu ? V::relu(v) : v;
  }
};

// C[R][w] = alpha * op(A)·b + beta * C over kc steps, b a packed strip (kc x NR), w <= NR the
// columns that exist (NV = 1 when w <= one vector); op(A)[r][k] is A[r*lda + k], or A[k*lda +
// r] when TransA. beta = 0 never reads C. Then @p ep (may be null; moved to this tile). Named
// accumulators: GCC keeps arrays of vectors in memory (see the Winograd micro-kernel).
template <class V, int R, int NV, bool TransA>
void micro(int64_t kc, const float* A, int64_t lda, const float* b, float* C, int64_t ldc,
           float alpha, float beta, int64_t w, const BlockEpilogue* ep) {
  static_assert(R >= 1 && R <= V::kRows && R <= 12 && (NV == 1 || NV == 2),
                "up to 12 rows (the ISA's tile height), 1 or 2 vectors");
  using Vec = typename V::Vec;
  constexpr int64_t L = V::kLanes, NR = 2 * L;
  // The residual the epilogue will add comes from memory: ask for its lines now, so that they
  // arrive while the tile is being multiplied instead of stalling the stores.
  if (ep != nullptr && ep->residual != nullptr)
    for (int r = 0; r < R; ++r)
      for (int64_t col = 0; col < w; col += 64 / int64_t(sizeof(float)))
        __builtin_prefetch(ep->residual + r * ep->ldr + col);
  const Vec z = V::zero();
  Vec c0_0 = z, c0_1 = z, c1_0 = z, c1_1 = z, c2_0 = z, c2_1 = z, c3_0 = z, c3_1 = z;
  Vec c4_0 = z, c4_1 = z, c5_0 = z, c5_1 = z, c6_0 = z, c6_1 = z, c7_0 = z, c7_1 = z;
  Vec c8_0 = z, c8_1 = z, c9_0 = z, c9_1 = z, c10_0 = z, c10_1 = z, c11_0 = z, c11_1 = z;
#define DL_ROW(i)                                                     \
  if constexpr (R > i) {                                              \
    const Vec ai = V::set1(TransA ? A[i] : A[i * lda]);               \
    c##i##_0 = V::fmadd(ai, b0, c##i##_0);                            \
    if constexpr (NV == 2) c##i##_1 = V::fmadd(ai, b1, c##i##_1);     \
  }
  for (int64_t k = 0; k < kc; ++k, A += TransA ? lda : 1, b += NR) {
    const Vec b0 = V::load(b);
    const Vec b1 = NV == 2 ? V::load(b + L) : z;
    DL_ROW(0) DL_ROW(1) DL_ROW(2) DL_ROW(3) DL_ROW(4) DL_ROW(5)
    DL_ROW(6) DL_ROW(7) DL_ROW(8) DL_ROW(9) DL_ROW(10) DL_ROW(11)
  }
#undef DL_ROW
  const Vec va = V::set1(alpha), vb = V::set1(beta);
  // Value (r, col .. col + n) of the tile: alpha * acc + beta * C. (GCC does not inline these
  // 24-call lambdas by itself in a kernel this size: an out-of-line store cost 8% of ResNet-50's
  // batch-1 cycles.)
  const auto result = [&](int64_t r, int64_t col, int64_t n, Vec acc) DL_ALWAYS_INLINE {
    const Vec old = beta == 0.0f ? z : V::mul(vb, V::load_n(C + r * ldc + col, n));
    return V::fmadd(va, acc, old);
  };
#define DL_STORE(i)                                          \
  if constexpr (R > i) {                                     \
    update(i, 0, w, c##i##_0);                               \
    if constexpr (NV == 2) update(i, L, w - L, c##i##_1);    \
  }
#define DL_STORE_ALL                                                     \
  DL_STORE(0) DL_STORE(1) DL_STORE(2) DL_STORE(3) DL_STORE(4) DL_STORE(5) \
  DL_STORE(6) DL_STORE(7) DL_STORE(8) DL_STORE(9) DL_STORE(10) DL_STORE(11)
  // Two copies of the stores: the common one tests nothing per value.
  if (ep == nullptr) {
    const auto update = [&](int64_t r, int64_t col, int64_t n, Vec acc) DL_ALWAYS_INLINE {
      V::store_n(C + r * ldc + col, result(r, col, n, acc), n);
    };
    DL_STORE_ALL
  } else {
    const auto update = [&](int64_t r, int64_t col, int64_t n, Vec acc) DL_ALWAYS_INLINE {
      V::store_n(C + r * ldc + col, ep->finish<V>(result(r, col, n, acc), r, col, n), n);
    };
    DL_STORE_ALL
  }
#undef DL_STORE_ALL
#undef DL_STORE
}

// micro<V, rows, ...> for a run-time row count 1 <= rows <= R.
template <class V, int NV, bool TransA, int R = V::kRows>
void micro_rows(int64_t rows, int64_t kc, const float* A, int64_t lda, const float* b,
                float* C, int64_t ldc, float alpha, float beta, int64_t w,
                const BlockEpilogue* ep) {
  if constexpr (R > 1) {
    if (rows < R) return micro_rows<V, NV, TransA, R - 1>(rows, kc, A, lda, b, C, ldc, alpha,
                                                          beta, w, ep);
  }
  micro<V, R, NV, TransA>(kc, A, lda, b, C, ldc, alpha, beta, w, ep);
}

// op(A)[M x kc] times one packed B slice (kc x nc; strip s at bp + s * strip_stride) into C.
// With a narrow slice (at most kNarrow columns, e.g. the 7x7 layers at batch 1) the whole
// slice stays in L2 and each row panel of A is read once, against every strip in turn;
// otherwise blocks of MC rows of A stay in L2 while each strip (in L1) meets all their panels.
// Against 4 strips or more, the rows of A (not transposed) are first copied one after another
// with a stride of kc + one vector: read in place, a convolution's weights have rows 1024 or
// 2048 floats apart, which all fall in the same sets of the L1 cache and evict each other
// between strips (batch 1, 1 thread, 1024->256 1x1 at 14x14: 0.83 -> 0.62 ms; 2 threads,
// ResNet-50: 3% less time). With fewer strips the copy is not repaid.
template <class V, bool TransA>
void slice(int64_t M, int64_t nc, int64_t kc, const float* A, int64_t lda, const float* bp,
           int64_t strip_stride, float* C, int64_t ldc, float alpha, float beta,
           const BlockEpilogue* ep) {
  constexpr int64_t L = V::kLanes, NR = 2 * L, MR = V::kRows, kNarrow = 512;
  const int64_t mc = nc <= kNarrow ? MR : MC;
  const int64_t ldp = kc + L;
  const bool copy_a = !TransA && nc > 3 * NR;
  float* ap = copy_a ? detail::simd_scratch(detail::kSimdScratchA, size_t(MC * ldp)) : nullptr;
  for (int64_t i0 = 0; i0 < M; i0 += mc) {
    const int64_t i1 = std::min(M, i0 + mc);
    const float* Ab = A;
    int64_t lda_b = lda;
    if (copy_a) {
      for (int64_t i = i0; i < i1; ++i) {
        const float* src = A + i * lda;
        float* dst = ap + (i - i0) * ldp;
        for (int64_t k = 0; k < kc; k += L)
          V::store_n(dst + k, V::load_n(src + k, kc - k), kc - k);
      }
      Ab = ap - i0 * ldp;
      lda_b = ldp;
    }
    // The next panel's weights come from memory at batch 1: ask for them (into L2) while this
    // panel is multiplied by its strips.
    if (!TransA && mc == MR)
      for (int64_t i = i1; i < std::min(M, i1 + MR); ++i)
        for (int64_t k = 0; k < kc; k += 64 / int64_t(sizeof(float)))
          __builtin_prefetch(A + i * lda + k, 0, 2);
    for (int64_t j = 0; j < nc; j += NR) {
      const int64_t w = std::min(NR, nc - j);
      const float* strip = bp + (j / NR) * strip_stride;
      for (int64_t i = i0; i < i1; i += MR) {
        const int64_t rows = std::min(MR, i1 - i);
        const float* Ai = TransA ? A + i : Ab + i * lda_b;
        float* c = C + i * ldc + j;
        const BlockEpilogue tile = ep != nullptr ? ep->at(i, j) : BlockEpilogue();
        const BlockEpilogue* te = ep != nullptr ? &tile : nullptr;
        if (w > L) {
          micro_rows<V, 2, TransA>(rows, kc, Ai, lda_b, strip, c, ldc, alpha, beta, w, te);
        } else {
          micro_rows<V, 1, TransA>(rows, kc, Ai, lda_b, strip, c, ldc, alpha, beta, w, te);
        }
      }
    }
  }
}

/// C[M][nc] = alpha * op(A)[M][kc] · Bp + beta * C, Bp being ceil(nc / NR) packed strips of kc
/// rows (strip s at bp + s * strip_stride, columns past nc zero), kc <= KC; then @p ep (may be
/// null) on every value of C stored.
template <class V>
void gemm_packed(bool trans_a, int64_t M, int64_t nc, int64_t kc, const float* A, int64_t lda,
                 const float* bp, int64_t strip_stride, float* C, int64_t ldc, float alpha,
                 float beta, const BlockEpilogue* ep = nullptr) {
  if (trans_a)
    return slice<V, true>(M, nc, kc, A, lda, bp, strip_stride, C, ldc, alpha, beta, ep);
  slice<V, false>(M, nc, kc, A, lda, bp, strip_stride, C, ldc, alpha, beta, ep);
}

// Few rows of C against a transposed B, as in a Linear layer at batch 1 (y = x·Wᵀ): every C
// element is the dot product of two contiguous rows, so each row of B is read once, in place,
// where packing would transpose all of it into strips one float at a time.
template <class V>
void dot_rows(int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
              const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  constexpr int64_t L = V::kLanes;
  for (int64_t j = 0; j < N; ++j) {
    const float* b = B + j * ldb;
    for (int64_t i = 0; i < M; ++i) {
      const float* a = A + i * lda;
      typename V::Vec acc = V::zero();
      for (int64_t k = 0; k < K; k += L)
        acc = V::fmadd(V::load_n(a + k, K - k), V::load_n(b + k, K - k), acc);
      float& c = C[i * ldc + j];
      c = alpha * V::sum(acc) + (beta == 0.0f ? 0.0f : beta * c);
    }
  }
}

/// gemm()'s contract for float, single-threaded, M, N, K > 0.
template <class V>
void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
           const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
           int64_t ldc) {
  constexpr int64_t NR = 2 * V::kLanes;
  if (trans_b && !trans_a && M <= 4)
    return dot_rows<V>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  const int64_t n_pad = std::min(NC, (N + NR - 1) / NR * NR);
  float* bp = detail::simd_scratch(detail::kSimdScratchB, size_t(std::min(KC, K) * n_pad));
  for (int64_t j0 = 0; j0 < N; j0 += NC) {
    const int64_t nc = std::min(NC, N - j0);
    for (int64_t k0 = 0; k0 < K; k0 += KC) {
      const int64_t kc = std::min(KC, K - k0);
      pack_b<V>(trans_b, trans_b ? B + j0 * ldb + k0 : B + k0 * ldb + j0, ldb, kc, nc, bp);
      const float b_eff = k0 == 0 ? beta : 1.0f;  // later slices add onto the first's result
      const float* Ak = trans_a ? A + k0 * lda : A + k0;
      gemm_packed<V>(trans_a, M, nc, kc, Ak, lda, bp, kc * NR, C + j0, ldc, alpha, b_eff);
    }
  }
}

// ---- the forward convolution of one image without the col buffer --------------------------
// The GEMM multiplies B in packed strips of NR columns; here the strips are packed straight
// from the image — strip s holds, for output pixels NR*s .. NR*s + NR-1, every row (c, kh, kw)
// of the im2col matrix — so each input value is copied once instead of twice (unfold, then
// pack), and one OpenMP team packs and multiplies, with one barrier in between, where the
// plain path opens a region for im2col and another for the GEMM.

// One contiguous piece of a strip row: n values from the channel plane, starting at src and
// `stride` apart, into row columns dst .. dst + n. The same for every channel.
struct Piece {
  int64_t src, dst, n;
};
// The pieces of one tap's row: [begin, end) in the strip's list.
struct TapPieces {
  int64_t begin, end;
};

// row[0..n) = src[0], src[s], ... for s = 1 or 2 (vector loads; even() picks every other
// element for s = 2), else one by one. n <= NR; the partial loads keep every read in range.
template <class V>
void copy_piece(const float* src, int64_t n, int64_t s, float* row) {
  constexpr int64_t L = V::kLanes;
  if (s == 1) {
    for (int64_t i = 0; i < n; i += L) V::store_n(row + i, V::load_n(src + i, n - i), n - i);
  } else if (s == 2) {
    for (int64_t i = 0; i < n; i += L) {
      const int64_t k = std::min(L, n - i), span = 2 * k - 1;  // floats read
      const auto lo = V::load_n(src + 2 * i, span);
      const auto hi = V::load_n(src + 2 * i + L, span - L);
      V::store_n(row + i, V::even(lo, hi), k);
    }
  } else {
    for (int64_t i = 0; i < n; ++i) row[i] = src[i * s];
  }
}

// Strip of output pixels [p0, p0 + w): rows of NR floats, row (c, kh, kw) holding the input
// value each pixel's tap multiplies (0 in the padding and past w), for the channels [c0, c1)
// only, channel c0's first row at @p strip.
template <class V>
void pack_strip(const ConvGeom& g, bool pointwise, const float* x, int64_t p0, int64_t w,
                float* strip, int64_t c0, int64_t c1) {
  constexpr int64_t L = V::kLanes, NR = 2 * L;
  const int64_t HW = g.H * g.W, OW = g.out_w(), taps = g.KH * g.KW;
  if (pointwise) {  // row c is x[c][p0 .. p0 + w), zero-filled past w
    for (int64_t c = c0; c < c1; ++c, strip += NR) {
      const float* src = x + c * HW + p0;
      V::store(strip, V::load_n(src, w));
      V::store(strip + L, V::load_n(src + L, w - L));
    }
    return;
  }
  // The pieces of each tap's row, worked out once for all channels: the strip's pixels run
  // along output rows (oh, columns [ow0, ow1) at strip column at); a tap's row takes, from
  // each run that falls inside the image vertically, the columns whose tap is inside it.
  thread_local std::vector<Piece> pieces;
  thread_local std::vector<TapPieces> of_tap;
  pieces.clear();
  of_tap.resize(size_t(taps));
  for (int64_t kh = 0; kh < g.KH; ++kh)
    for (int64_t kw = 0; kw < g.KW; ++kw) {
      const int64_t off_w = kw * g.dil_w - g.pad_w;
      int64_t lo, hi;  // output columns whose tap lies inside the row
      tap_range(off_w, g.stride_w, g.W, OW, lo, hi);
      TapPieces& t = of_tap[size_t(kh * g.KW + kw)];
      t.begin = int64_t(pieces.size());
      for (int64_t p = p0; p < p0 + w;) {
        const int64_t oh = p / OW, ow0 = p % OW, ow1 = std::min(OW, ow0 + (p0 + w - p));
        const int64_t ih = oh * g.stride_h - g.pad_h + kh * g.dil_h;
        const int64_t a = std::max(lo, ow0), e = std::min(hi, ow1);
        if (ih >= 0 && ih < g.H && e > a)
          pieces.push_back({ih * g.W + a * g.stride_w + off_w, p - p0 + a - ow0, e - a});
        p += ow1 - ow0;
      }
      t.end = int64_t(pieces.size());
    }
  for (int64_t c = c0; c < c1; ++c) {
    const float* xc = x + c * HW;
    for (int64_t t = 0; t < taps; ++t, strip += NR) {
      V::store(strip, V::zero());
      V::store(strip + L, V::zero());
      for (int64_t i = of_tap[size_t(t)].begin; i < of_tap[size_t(t)].end; ++i) {
        const Piece& pc = pieces[size_t(i)];
        copy_piece<V>(xc + pc.src, pc.n, g.stride_w, strip + pc.dst);
      }
    }
  }
}

/// Forward convolution of image n, x[C,H,W] into y[OC,OH,OW] (+ bias b, may be null, then
/// the epilogue, may be null): see conv2d_forward_image_simd in gemm_simd.h.
///
/// The threads share the image one of three ways, whichever costs the busiest thread least:
/// - rows: thread t computes whole MR-row panels of y over all pixels. The strips are packed
///   by all threads together (one barrier), and every thread reads all of them.
/// - strips: thread t computes all rows over its strips of pixels and reads all of w. It packs
///   its strips itself, kChunkFloats at a time into a buffer of its own, each chunk multiplied
///   while it is in L2 (batch 1, ResNet-50's 7x7 stem: 2.2 -> 1.4 ms in the model).
/// - depth: thread t multiplies its input channels' part of w and of the image (which it
///   packs itself, one slice of K at a time, each multiplied while it is in L2) for all of y,
///   into y for thread 0 and into a scratch buffer for the others; after one barrier the
///   threads add the partial sums up, row blocks each. Each thread reads half of w and half
///   of the image; at batch 1 this is what the deep layers want: 256->256 3x3 at 14x14 has
///   2.4 MB of weights and 2 MB of packed image, and split by rows each thread also read the
///   half of the strips the other core had packed.
/// The cost counts, per thread, multiply-adds (partial strips rounded up to whole vectors)
/// and kReadCost for each float of w, of the packed image and of a partial sum it reads or
/// writes. A float from memory takes about as long as 16 multiply-adds (Zen 3: 12.8 GB/s and
/// 45 GMAC/s per core). At batch 1 this splits 64 output channels at 56x56 by strips (by rows
/// they would be 36 + 30 with AVX2), and 512 channels at 7x7 (49 pixels, 9.4 MB of weights)
/// not by strips, where counting strips alone had both threads stream all the weights for 32
/// and 17 columns. In the rows and strips splits a thread that is done takes panels or strips
/// from the back of the other threads' shares (detail::SharedLoop), in the depth split rows of
/// the block of channels another thread is working on (detail::BlockLoop), so a core that runs
/// slower does less. The result depends on the thread count (the depth split adds partial sums
/// in another order), never on timing.
template <class V>
void conv2d_forward_image(const ConvGeom& g, bool pointwise, const float* x, const float* w,
                          const float* b, float* y, bool parallel, int64_t n,
                          const ConvEpilogue<float>* epilogue) {
  constexpr int64_t L = V::kLanes, NR = 2 * L, MR = V::kRows;  // MR: the unit of a row split
  const int64_t taps = g.KH * g.KW, K = g.C * taps, P = g.out_h() * g.out_w(), OC = g.OC;
  const int64_t strips = (P + NR - 1) / NR, strip_size = K * NR;
  const int nt = parallel ? detail::max_threads() : 1;
  // Thread t of a team of m: rows [r0, r1) of whole MR-row panels, strips [s0, s1), or input
  // channels [c0, c1).
  const int64_t panels = (OC + MR - 1) / MR;
  auto panels_of = [&](int t, int m, int64_t& p0, int64_t& p1) {
    p0 = t * panels / m;
    p1 = (t + 1) * panels / m;
  };
  auto panel_rows = [&](int64_t p0, int64_t p1, int64_t& r0, int64_t& r1) {
    r0 = std::min(OC, p0 * MR);
    r1 = std::min(OC, p1 * MR);
  };
  auto strips_of = [&](int t, int m, int64_t& s0, int64_t& s1) {
    s0 = t * strips / m;
    s1 = (t + 1) * strips / m;
  };
  auto channels_of = [&](int t, int m, int64_t& c0, int64_t& c1) {
    c0 = t * g.C / m;
    c1 = (t + 1) * g.C / m;
  };
  constexpr int64_t kReadCost = 16;
  const int64_t p_pad = (P + L - 1) / L * L;
  int64_t most_rows = 0, most_cols = 0, most_depth = 0;
  for (int t = 0; t < nt; ++t) {
    int64_t p0, p1, r0, r1, s0, s1, c0, c1;
    panels_of(t, nt, p0, p1);
    panel_rows(p0, p1, r0, r1);
    strips_of(t, nt, s0, s1);
    channels_of(t, nt, c0, c1);
    most_rows = std::max(most_rows, r1 - r0);
    const int64_t cols = std::max<int64_t>(0, std::min(P, s1 * NR) - s0 * NR);
    most_cols = std::max(most_cols, (cols + L - 1) / L * L);
    most_depth = std::max(most_depth, (c1 - c0) * taps);
  }
  enum class Split { Rows, Strips, Depth };
  const int64_t rows_cost = K * (most_rows * p_pad + kReadCost * (most_rows + P));
  const int64_t strips_cost = K * (OC * most_cols + kReadCost * (OC + most_cols));
  const int64_t depth_cost =
      most_depth * (OC * p_pad + kReadCost * (OC + P)) + kReadCost * 2 * OC * P;
  Split split = rows_cost <= strips_cost ? Split::Rows : Split::Strips;
  if (nt > 1 && g.C >= nt && depth_cost < std::min(rows_cost, strips_cost)) split = Split::Depth;
  // DL_CONV_SPLIT=rows | strips | depth overrides the choice (tests, learners, benchmarks).
  if (const char* e = std::getenv("DL_CONV_SPLIT")) {
    if (std::strcmp(e, "rows") == 0) split = Split::Rows;
    if (std::strcmp(e, "strips") == 0) split = Split::Strips;
    if (std::strcmp(e, "depth") == 0 && nt > 1 && g.C >= nt) split = Split::Depth;
  }

  // The packed image, shared by the team in the rows split: the calling thread's scratch,
  // taken before the region. (In the other splits each thread packs into its own.)
  float* bp = split == Split::Rows
                  ? detail::simd_scratch(detail::kSimdScratchImage, size_t(strips * strip_size))
                  : nullptr;
  // Strip s of the image, rows of channels [c0, c1), packed from dst on.
  auto pack = [&](int64_t s, float* dst, int64_t c0, int64_t c1) {
    pack_strip<V>(g, pointwise, x, s * NR, std::min(NR, P - s * NR), dst, c0, c1);
  };
  // The epilogue for the block of y from row r0, column j0, applied with the last slice of K.
  auto block_epilogue = [&](int64_t r0, int64_t j0) {
    BlockEpilogue ep;
    if (epilogue == nullptr) return ep;
    if (epilogue->mean != nullptr) {
      ep.mean = epilogue->mean + r0;
      ep.scale = epilogue->scale + r0;
      ep.shift = epilogue->shift + r0;
    }
    if (epilogue->residual != nullptr)
      ep.residual = epilogue->residual + (n * OC + r0) * P + j0;
    ep.ldr = P;
    ep.relu = epilogue->relu;
    return ep;
  };
  // out[r0:r1, 0:nc] (row stride P) = (or += when @p accumulate) w[r0:r1, k_lo:k_hi] · the
  // strips packed at @p packed (row k_lo of each; strip s at packed + s * stride), starting
  // from the bias (when given), the epilogue @p ep (may be null) with the last slice.
  auto multiply = [&](int64_t r0, int64_t r1, const float* packed, int64_t stride, int64_t nc,
                      int64_t k_lo, int64_t k_hi, const float* bias, bool accumulate,
                      float* out, const BlockEpilogue* ep) {
    if (bias != nullptr)
      for (int64_t oc = r0; oc < r1; ++oc) {
        float* row = out + (oc - r0) * P;
        std::fill(row, row + nc, bias[oc]);
      }
    for (int64_t k0 = k_lo; k0 < k_hi; k0 += KC) {
      const int64_t kc = std::min(KC, k_hi - k0);
      const float beta = (k0 == k_lo && bias == nullptr && !accumulate) ? 0.0f : 1.0f;
      gemm_packed<V>(false, r1 - r0, nc, kc, w + r0 * K + k0, K, packed + (k0 - k_lo) * NR,
                     stride, out, P, 1.0f, beta, k0 + KC >= k_hi ? ep : nullptr);
    }
  };
  // The depth split's nt parts: their sums (y for part 0, the others in the calling thread's
  // scratch), each part's packed block of channels, and its blocks' loop.
  std::vector<float*> partial(size_t(nt), y), own_image(size_t(nt), nullptr);
  const int64_t block_c = std::max<int64_t>(1, KC / taps);
  std::vector<std::unique_ptr<detail::BlockLoop>> blocks(static_cast<size_t>(nt));
  if (split == Split::Depth) {
    float* sums = detail::simd_scratch(detail::kSimdScratchSum, size_t((nt - 1) * OC * P));
    for (int u = 0; u < nt; ++u) {
      int64_t u0, u1;
      channels_of(u, nt, u0, u1);
      blocks[size_t(u)] =
          std::make_unique<detail::BlockLoop>((u1 - u0 + block_c - 1) / block_c, panels, panels);
      if (u > 0) partial[size_t(u)] = sums + (u - 1) * OC * P;
    }
  }
  // In the strips and rows splits (and in packing, and in adding up the depth split's parts)
  // each thread works through its share of the items and then helps with the others'
  // (detail::SharedLoop): a slower core does less. Every output value is computed the same
  // way whichever thread takes it.
  const int64_t chunk = std::max<int64_t>(1, kChunkFloats / strip_size);
  detail::SharedLoop work(nt, split == Split::Strips ? chunk : panels);
  detail::SharedLoop packing(nt, strips), adding(nt, panels);
  for (int u = 0; u < nt; ++u) {
    int64_t a0, a1, s0, s1;
    panels_of(u, nt, a0, a1);
    strips_of(u, nt, s0, s1);
    adding.set(u, a0, a1);
    packing.set(u, s0, s1);
    if (split == Split::Strips) work.set(u, s0, s1);
    if (split == Split::Rows) work.set(u, a0, a1);
  }
#ifdef DL_WITH_OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
  {
    const int t = detail::thread_id(), m = detail::team_size();
    if (split == Split::Depth) {
      // Thread t multiplies part t of the sum (input channels channels_of(t)) into partial[t]
      // (and parts t + m, ... if the team has fewer threads than asked for), one block of
      // block_c channels (one slice of K) at a time: it packs the block into a buffer of its
      // own and multiplies all rows of w by it while it is in L2 (packed whole, a part was
      // written out to memory and read back: 1 MB for 256->256 3x3 at 14x14). A thread whose
      // parts are done helps with the rows of the blocks still being worked on
      // (detail::BlockLoop). Then the threads add the parts up, sharing the rows.
      // Part u's block blk: input channels [cb, ce).
      auto block_of = [&](int u, int64_t blk, int64_t& cb, int64_t& ce) {
        int64_t u0, u1;
        channels_of(u, nt, u0, u1);
        cb = u0 + blk * block_c;
        ce = std::min(u1, cb + block_c);
      };
      // Rows [p0, p1) of part u's block blk, from its owner's packed block.
      auto part_rows = [&](int u, int64_t blk, int64_t p0, int64_t p1) {
        int64_t cb, ce, r0, r1;
        block_of(u, blk, cb, ce);
        panel_rows(p0, p1, r0, r1);
        multiply(r0, r1, own_image[size_t(u)], (ce - cb) * taps * NR, P, cb * taps, ce * taps,
                 u == 0 && blk == 0 ? b : nullptr, blk > 0, partial[size_t(u)] + r0 * P,
                 nullptr);
      };
      for (int u = t; u < nt; u += m) {
        int64_t c0, c1;
        channels_of(u, nt, c0, c1);
        own_image[size_t(u)] = detail::simd_scratch(
            detail::kSimdScratchImage, size_t(strips * std::min(block_c, c1 - c0) * taps * NR));
        blocks[size_t(u)]->run(
            [&](int64_t blk) {
              int64_t cb, ce;
              block_of(u, blk, cb, ce);
              for (int64_t s = 0; s < strips; ++s)
                pack(s, own_image[size_t(u)] + s * (ce - cb) * taps * NR, cb, ce);
            },
            [&](int64_t blk, int64_t p0, int64_t p1) { part_rows(u, blk, p0, p1); });
      }
      for (int i = 1; i < nt; ++i) {
        const int u = (t + i) % nt;
        blocks[size_t(u)]->help([&](int64_t blk, int64_t p0, int64_t p1) {
          part_rows(u, blk, p0, p1);
        });
      }
#ifdef DL_WITH_OPENMP
#pragma omp barrier
#endif
      const BlockEpilogue ep = block_epilogue(0, 0);
      adding.run(t, [&](int, int64_t p0, int64_t p1) {
        int64_t r0, r1;
        panel_rows(p0, p1, r0, r1);
        for (int64_t r = r0; r < r1; ++r)
          for (int64_t p = 0; p < P; p += L) {
            typename V::Vec v = V::load_n(y + r * P + p, P - p);
            for (int u = 1; u < nt; ++u)
              v = V::add(v, V::load_n(partial[size_t(u)] + r * P + p, P - p));
            if (epilogue != nullptr) v = ep.finish<V>(v, r, p, P - p);
            V::store_n(y + r * P + p, v, P - p);
          }
      });
    } else if (split == Split::Rows) {
      // All threads pack the strips together, then multiply row panels by all of them.
      packing.run(t, [&](int, int64_t s0, int64_t s1) {
        for (int64_t s = s0; s < s1; ++s)
          pack(s, bp + s * strip_size, 0, g.C);
      });
#ifdef DL_WITH_OPENMP
#pragma omp barrier
#endif
      work.run(t, [&](int, int64_t p0, int64_t p1) {
        int64_t r0, r1;
        panel_rows(p0, p1, r0, r1);
        const BlockEpilogue ep = block_epilogue(r0, 0);
        multiply(r0, r1, bp, strip_size, P, 0, K, b, false, y + r0 * P,
                 epilogue != nullptr ? &ep : nullptr);
      });
    } else {
      // Each thread packs the strips it takes, at most kChunkFloats at a time into its own
      // buffer, and multiplies every row by them while they are still in L2: packed whole,
      // the strips of the 7x7 stem at 224x224 take 7 MB, written out to memory and read back.
      float* own = detail::simd_scratch(detail::kSimdScratchImage, size_t(chunk * strip_size));
      work.run(t, [&](int, int64_t s0, int64_t s1) {
        const int64_t j0 = s0 * NR, nc = std::min(P, s1 * NR) - j0;
        for (int64_t s = s0; s < s1; ++s)
          pack(s, own + (s - s0) * strip_size, 0, g.C);
        const BlockEpilogue ep = block_epilogue(0, j0);
        multiply(0, OC, own, strip_size, nc, 0, K, b, false, y + j0,
                 epilogue != nullptr ? &ep : nullptr);
      });
    }
  }
}

}  // namespace
}  // namespace dl::kernels
