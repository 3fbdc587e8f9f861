// winograd3x3_avx2.cpp — AVX2+FMA Winograd F(2x2,3x3) and F(4x4,3x3) convolution, forward and
// weight gradient (tutorial chapter 6). Same algorithm as winograd3x3_ref.cpp (shared
// WINOGRAD.md, Lavin & Gray 2016), with every transform vectorised across 8 channels:
//   0. per image, x[C][H][W] is copied into a zero-padded, channel-blocked buffer
//      xp[C/8][Hp][Wp][8] (8x8 register transposes); padding and tail tiles then read zeros
//      and every tile element of 8 channels is one 256-bit load;
//   1. U[ξν][C][OC] = G g Gᵀ (vectors over 8 output channels), once per call;
//   2. for a block of tiles: V[ξν][tile][C] = Bᵀ d B (vectors over 8 input channels);
//   3. α² GEMMs M[ξν][tile][OC] = V[ξν] · U[ξν] with a 6x16 register-blocked micro-kernel —
//      the transposed form of WINOGRAD.md's U·V, so that channels stay the contiguous axis;
//   4. y tile = Aᵀ M A + bias (vectors over 8 output channels), transposed in registers into
//      NCHW rows; tail tiles and channel remainders take a scalar store that crops.
// The weight gradient reuses steps 0 and 2, transforms dY tiles with A (E = A dY Aᵀ), sums
// dU[ξν] += V[ξν]ᵀ E[ξν] over tiles with the same micro-kernel, and ends with Gᵀ dU G.
// Blocking: tiles are processed in blocks whose V and M stay in L2; small images are grouped
// so a block spans several of them. Threads take whole groups when there are enough, else
// share the blocks of one group. V, M and xp are thread-local scratch, reused across calls.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "tensor/kernels/cpu.h"
#include "tensor/kernels/winograd3x3.h"
#include "tensor/kernels/workspace.h"

namespace dl::kernels {
namespace {

inline __m256 splat(float v) { return _mm256_set1_ps(v); }

// ---- 1-D transforms on α vectors (each vector = 8 channels); 2-D = rows then columns. ------
// Coefficients are the rows of Bᵀ, G and Aᵀ in shared WINOGRAD.md, factored to share terms.
struct F2 {
  static constexpr int m = 2, a = 4;
  // Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
  static inline void bt(const __m256* d, __m256* r) {
    r[0] = _mm256_sub_ps(d[0], d[2]);
    r[1] = _mm256_add_ps(d[1], d[2]);
    r[2] = _mm256_sub_ps(d[2], d[1]);
    r[3] = _mm256_sub_ps(d[1], d[3]);
  }
  // G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
  static inline void g(const __m256* w, __m256* u) {
    const __m256 half = splat(0.5f);
    const __m256 s = _mm256_mul_ps(half, _mm256_add_ps(w[0], w[2]));
    const __m256 t = _mm256_mul_ps(half, w[1]);
    u[0] = w[0];
    u[1] = _mm256_add_ps(s, t);
    u[2] = _mm256_sub_ps(s, t);
    u[3] = w[2];
  }
  // Aᵀ = [1 1 1 0; 0 1 -1 -1]
  static inline void at(const __m256* v, __m256* y) {
    y[0] = _mm256_add_ps(_mm256_add_ps(v[0], v[1]), v[2]);
    y[1] = _mm256_sub_ps(_mm256_sub_ps(v[1], v[2]), v[3]);
  }
  // A = (Aᵀ)ᵀ, m -> α, for the weight gradient: rows [1 0], [1 1], [1 -1], [0 -1]
  static inline void a_(const __m256* y, __m256* v) {
    v[0] = y[0];
    v[1] = _mm256_add_ps(y[0], y[1]);
    v[2] = _mm256_sub_ps(y[0], y[1]);
    v[3] = _mm256_sub_ps(_mm256_setzero_ps(), y[1]);
  }
  // Gᵀ, α -> 3: rows [1 1/2 1/2 0], [0 1/2 -1/2 0], [0 1/2 1/2 1]
  static inline void gt(const __m256* v, __m256* o) {
    const __m256 s = _mm256_mul_ps(splat(0.5f), _mm256_add_ps(v[1], v[2]));
    o[0] = _mm256_add_ps(v[0], s);
    o[1] = _mm256_mul_ps(splat(0.5f), _mm256_sub_ps(v[1], v[2]));
    o[2] = _mm256_add_ps(s, v[3]);
  }
};

struct F4 {
  static constexpr int m = 4, a = 6;
  // Bᵀ rows: [4 0 -5 0 1 0], [0 -4 -4 1 1 0], [0 4 -4 -1 1 0], [0 -2 -1 2 1 0],
  //          [0 2 -1 -2 1 0], [0 4 0 -5 0 1]
  static inline void bt(const __m256* d, __m256* r) {
    const __m256 four = splat(4.0f), five = splat(5.0f), two = splat(2.0f);
    r[0] = _mm256_fmadd_ps(four, d[0], _mm256_fnmadd_ps(five, d[2], d[4]));
    const __m256 t1 = _mm256_fnmadd_ps(four, d[2], d[4]);  // d4 - 4 d2
    const __m256 t2 = _mm256_fnmadd_ps(four, d[1], d[3]);  // d3 - 4 d1
    r[1] = _mm256_add_ps(t1, t2);
    r[2] = _mm256_sub_ps(t1, t2);
    const __m256 t3 = _mm256_sub_ps(d[4], d[2]);                     // d4 - d2
    const __m256 t4 = _mm256_mul_ps(two, _mm256_sub_ps(d[3], d[1]));  // 2 (d3 - d1)
    r[3] = _mm256_add_ps(t3, t4);
    r[4] = _mm256_sub_ps(t3, t4);
    r[5] = _mm256_fmadd_ps(four, d[1], _mm256_fnmadd_ps(five, d[3], d[5]));
  }
  // G rows: [1/4 0 0], [-1/6 -1/6 -1/6], [-1/6 1/6 -1/6], [1/24 1/12 1/6], [1/24 -1/12 1/6],
  //         [0 0 1]
  static inline void g(const __m256* w, __m256* u) {
    const __m256 s = _mm256_add_ps(w[0], w[2]);
    u[0] = _mm256_mul_ps(splat(1.0f / 4), w[0]);
    u[1] = _mm256_mul_ps(splat(-1.0f / 6), _mm256_add_ps(s, w[1]));
    u[2] = _mm256_mul_ps(splat(-1.0f / 6), _mm256_sub_ps(s, w[1]));
    const __m256 p = _mm256_fmadd_ps(splat(1.0f / 24), w[0], _mm256_mul_ps(splat(1.0f / 6), w[2]));
    const __m256 q = _mm256_mul_ps(splat(1.0f / 12), w[1]);
    u[3] = _mm256_add_ps(p, q);
    u[4] = _mm256_sub_ps(p, q);
    u[5] = w[2];
  }
  // Aᵀ rows: [1 1 1 1 1 0], [0 1 -1 2 -2 0], [0 1 1 4 4 0], [0 1 -1 8 -8 1]
  static inline void at(const __m256* v, __m256* y) {
    const __m256 s12 = _mm256_add_ps(v[1], v[2]), d12 = _mm256_sub_ps(v[1], v[2]);
    const __m256 s34 = _mm256_add_ps(v[3], v[4]), d34 = _mm256_sub_ps(v[3], v[4]);
    y[0] = _mm256_add_ps(_mm256_add_ps(v[0], s12), s34);
    y[1] = _mm256_fmadd_ps(splat(2.0f), d34, d12);
    y[2] = _mm256_fmadd_ps(splat(4.0f), s34, s12);
    y[3] = _mm256_add_ps(_mm256_fmadd_ps(splat(8.0f), d34, d12), v[5]);
  }
  // A = (Aᵀ)ᵀ, m -> α: rows [1 0 0 0], [1 1 1 1], [1 -1 1 -1], [1 2 4 8], [1 -2 4 -8], [0 0 0 1]
  static inline void a_(const __m256* y, __m256* v) {
    const __m256 e = _mm256_add_ps(y[0], y[2]), o = _mm256_add_ps(y[1], y[3]);
    const __m256 e2 = _mm256_fmadd_ps(splat(4.0f), y[2], y[0]);
    const __m256 o2 = _mm256_fmadd_ps(splat(8.0f), y[3], _mm256_add_ps(y[1], y[1]));
    v[0] = y[0];
    v[1] = _mm256_add_ps(e, o);
    v[2] = _mm256_sub_ps(e, o);
    v[3] = _mm256_add_ps(e2, o2);
    v[4] = _mm256_sub_ps(e2, o2);
    v[5] = y[3];
  }
  // Gᵀ, α -> 3: rows [1/4 -1/6 -1/6 1/24 1/24 0], [0 -1/6 1/6 1/12 -1/12 0],
  //             [0 -1/6 -1/6 1/6 1/6 1]
  static inline void gt(const __m256* v, __m256* o) {
    const __m256 s12 = _mm256_add_ps(v[1], v[2]), d21 = _mm256_sub_ps(v[2], v[1]);
    const __m256 s34 = _mm256_add_ps(v[3], v[4]), d34 = _mm256_sub_ps(v[3], v[4]);
    const __m256 k6 = splat(1.0f / 6);
    o[0] = _mm256_fmadd_ps(splat(1.0f / 4), v[0],
                           _mm256_fmadd_ps(splat(1.0f / 24), s34, _mm256_mul_ps(splat(-1.0f / 6), s12)));
    o[1] = _mm256_fmadd_ps(k6, d21, _mm256_mul_ps(splat(1.0f / 12), d34));
    o[2] = _mm256_add_ps(_mm256_mul_ps(k6, _mm256_sub_ps(s34, s12)), v[5]);
  }
};

// In-register transpose of an 8x8 block of floats (r[i] = row i on entry, column i on exit).
inline void transpose8(__m256 r[8]) {
  __m256 t[8], s[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    s[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    s[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
    s[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    s[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x31);
  }
}

// ---- GEMM micro-kernel: C[R][8*NV] (+)= op(A)[R][K] · B[K][8*NV], accumulators in registers.
// op(A)[r][k] is A[r*lda + k], or A[k*lda + r] when TransA (the weight gradient's Vᵀ).
template <int R, int NV, bool TransA, bool Acc>
inline void micro(int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb, float* C,
                  int64_t ldc) {
  static_assert(R >= 1 && R <= 6 && (NV == 1 || NV == 2), "up to 6 rows, 1 or 2 vectors");
  // Named accumulators, not an array: GCC keeps an __m256 array in memory and stores every
  // accumulator back to the stack inside the k loop, doubling the memory operations.
  const __m256 z = _mm256_setzero_ps();
  __m256 c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z,
         c41 = z, c50 = z, c51 = z;
  const int64_t rs = TransA ? 1 : lda;  // step between rows of op(A)
  const int64_t ks = TransA ? lda : 1;  // step along k
#define DL_MICRO_ROW(i)                                                          \
  if constexpr (R > i) {                                                         \
    const __m256 a = _mm256_broadcast_ss(Ak + i * rs);                           \
    c##i##0 = _mm256_fmadd_ps(a, b0, c##i##0);                                   \
    if constexpr (NV == 2) c##i##1 = _mm256_fmadd_ps(a, b1, c##i##1);            \
  }
#define DL_MICRO_IO(i, OP)                      \
  if constexpr (R > i) {                        \
    OP(C + i * ldc, c##i##0);                   \
    if constexpr (NV == 2) OP(C + i * ldc + 8, c##i##1); \
  }
#define DL_MICRO_LOAD(p, c) c = _mm256_loadu_ps(p)
  if constexpr (Acc) {
    DL_MICRO_IO(0, DL_MICRO_LOAD) DL_MICRO_IO(1, DL_MICRO_LOAD) DL_MICRO_IO(2, DL_MICRO_LOAD)
    DL_MICRO_IO(3, DL_MICRO_LOAD) DL_MICRO_IO(4, DL_MICRO_LOAD) DL_MICRO_IO(5, DL_MICRO_LOAD)
  }
  for (int64_t k = 0; k < K; ++k) {
    const __m256 b0 = _mm256_loadu_ps(B + k * ldb);
    const __m256 b1 = NV == 2 ? _mm256_loadu_ps(B + k * ldb + 8) : z;
    const float* Ak = A + k * ks;
    DL_MICRO_ROW(0) DL_MICRO_ROW(1) DL_MICRO_ROW(2) DL_MICRO_ROW(3) DL_MICRO_ROW(4) DL_MICRO_ROW(5)
  }
  DL_MICRO_IO(0, _mm256_storeu_ps) DL_MICRO_IO(1, _mm256_storeu_ps)
  DL_MICRO_IO(2, _mm256_storeu_ps) DL_MICRO_IO(3, _mm256_storeu_ps)
  DL_MICRO_IO(4, _mm256_storeu_ps) DL_MICRO_IO(5, _mm256_storeu_ps)
#undef DL_MICRO_LOAD
#undef DL_MICRO_IO
#undef DL_MICRO_ROW
}

template <int NV, bool TransA, bool Acc>
inline void micro_rows(int rows, int64_t K, const float* A, int64_t lda, const float* B,
                       int64_t ldb, float* C, int64_t ldc) {
  switch (rows) {
    case 6: return micro<6, NV, TransA, Acc>(K, A, lda, B, ldb, C, ldc);
    case 5: return micro<5, NV, TransA, Acc>(K, A, lda, B, ldb, C, ldc);
    case 4: return micro<4, NV, TransA, Acc>(K, A, lda, B, ldb, C, ldc);
    case 3: return micro<3, NV, TransA, Acc>(K, A, lda, B, ldb, C, ldc);
    case 2: return micro<2, NV, TransA, Acc>(K, A, lda, B, ldb, C, ldc);
    default: return micro<1, NV, TransA, Acc>(K, A, lda, B, ldb, C, ldc);
  }
}

// C[rows][Nc] (+)= op(A)[rows][K] · B[K][Nc], Nc a multiple of 8. Column panels of 16 outer,
// so a K x 16 panel of B stays in L1 while all rows stream past it. CPUs with AVX-512 run
// the same product in winograd3x3_avx512.cpp.
template <bool TransA, bool Acc>
inline void gemm_avx2(int64_t rows, int64_t Nc, int64_t K, const float* A, int64_t lda,
                      const float* B, int64_t ldb, float* C, int64_t ldc) {
#ifdef DL_WITH_AVX512
  if (use_avx512())
    return winograd_gemm_avx512(TransA, Acc, rows, Nc, K, A, lda, B, ldb, C, ldc);
#endif
  for (int64_t j = 0; j < Nc; j += 16) {
    const bool wide = j + 16 <= Nc;
    for (int64_t i = 0; i < rows; i += 6) {
      const int r = int(std::min<int64_t>(6, rows - i));
      const float* Ai = TransA ? A + i : A + i * lda;
      if (wide) {
        micro_rows<2, TransA, Acc>(r, K, Ai, lda, B + j, ldb, C + i * ldc + j, ldc);
      } else {
        micro_rows<1, TransA, Acc>(r, K, Ai, lda, B + j, ldb, C + i * ldc + j, ldc);
      }
    }
  }
}

inline int64_t round8(int64_t v) { return (v + 7) / 8 * 8; }

// Copies planes src[Cn][H][W] into dst[Cnp/8][Hp][Wp][8] at offset (oy, ox): channel-blocked,
// 8 channels interleaved, zeros around and in the padded channels. 8x8 register transposes.
// With @p parallel (called outside a parallel region) the threads share the channel blocks.
inline void pack_blocked(const float* src, int64_t Cn, int64_t H, int64_t W, float* dst,
                         int64_t Cnp, int64_t Hp, int64_t Wp, int64_t oy, int64_t ox,
                         bool parallel) {
  const size_t row = sizeof(float) * size_t(Wp * 8);
  auto block = [&](int64_t cb) {
    const int64_t nc = std::min<int64_t>(8, Cn - cb * 8);  // real channels in this block
    float* plane = dst + cb * Hp * Wp * 8;
    // Zero only what the copy below leaves alone: the border rows and columns (all of the
    // plane when it holds padded channels, whose lanes the scalar copy skips).
    if (nc < 8) {
      std::memset(plane, 0, row * size_t(Hp));
    } else {
      std::memset(plane, 0, row * size_t(oy));
      std::memset(plane + (oy + H) * Wp * 8, 0, row * size_t(Hp - oy - H));
      for (int64_t h = oy; h < oy + H; ++h) {
        std::memset(plane + h * Wp * 8, 0, sizeof(float) * size_t(ox * 8));
        std::memset(plane + (h * Wp + ox + W) * 8, 0, sizeof(float) * size_t((Wp - ox - W) * 8));
      }
    }
    for (int64_t h = 0; h < H; ++h) {
      float* d = dst + ((cb * Hp + h + oy) * Wp + ox) * 8;
      const float* s = src + (cb * 8 * H + h) * W;  // channel cb*8, row h
      int64_t w0 = 0;
      if (nc == 8) {
        for (; w0 + 8 <= W; w0 += 8) {
          __m256 r[8];
          for (int l = 0; l < 8; ++l) r[l] = _mm256_loadu_ps(s + l * H * W + w0);
          transpose8(r);
          for (int l = 0; l < 8; ++l) _mm256_storeu_ps(d + (w0 + l) * 8, r[l]);
        }
      }
      for (; w0 < W; ++w0)
        for (int64_t l = 0; l < nc; ++l) d[w0 * 8 + l] = s[l * H * W + w0];
    }
  };
  detail::for_each_index(Cnp / 8, parallel && Cnp > 8, block);
}

// Geometry and blocking shared by the forward pass and the weight gradient, plus the input
// transform both use. C/OC are the convolution's in/out channels, padded to Cp/OCp (x8).
template <class F>
struct Plan {
  static constexpr int m = F::m, a = F::a, a2 = a * a;
  const ConvGeom& g;
  int64_t OH, OW, TH, TW, T, Hp, Wp, Cp, OCp;
  int64_t G, groups, nb, img_stride;  // images per group, groups, tiles per block, xp image size

  explicit Plan(const ConvGeom& geom) : g(geom) {
    OH = g.out_h();
    OW = g.out_w();
    TH = (OH + m - 1) / m;
    TW = (OW + m - 1) / m;
    T = TH * TW;
    Hp = TH * m + 2;
    Wp = TW * m + 2;
    Cp = round8(g.C);
    OCp = round8(g.OC);
    // Tiles per block: the block's two transformed buffers (α² x (Cp + OCp) floats per tile)
    // within ~384 KiB of L2, a multiple of the micro-kernel's 6 rows. Small images (few tiles
    // each) are grouped so one block spans several images and the GEMMs keep enough rows to
    // reuse each U[ξν] panel.
    const int64_t per_tile = a2 * (Cp + OCp) * int64_t(sizeof(float));
    int64_t budget = std::max<int64_t>(6, (384 * 1024 / per_tile) / 6 * 6);
    // With many channels a U[ξν] slice (Cp x OCp) outgrows L1 and every block re-reads all
    // α² slices from L2/L3; keep at least 48 tiles per block so each read feeds enough
    // multiply-adds, even though V and M then spill from L2 (512x512 channels at batch 16:
    // 2.2x faster than 6-tile blocks).
    if (Cp * OCp * int64_t(sizeof(float)) > 32 * 1024) budget = std::max<int64_t>(budget, 48);
    G = std::max<int64_t>(1, std::min<int64_t>(g.N, budget / T));
    groups = (g.N + G - 1) / G;
    nb = std::min<int64_t>(budget, (G * T + 5) / 6 * 6);
    // One group (e.g. batch 1) is shared block by block: make the block count a multiple of
    // the thread count with blocks of equal size, or one thread idles while another works
    // (49 tiles in blocks of 48 gave one thread 48 tiles and the other 1).
    const int64_t nt = detail::max_threads();
    if (groups == 1 && nt > 1) {
      const int64_t nblk = ((G * T + nb - 1) / nb + nt - 1) / nt * nt;
      nb = (G * T + nblk - 1) / nblk;
    }
    img_stride = Cp * Hp * Wp;
  }

  int64_t group_images(int64_t grp) const { return std::min(g.N, (grp + 1) * G) - grp * G; }

  // Packs the input images of group grp into consecutive xp slots; with @p shared (a group
  // packed before the team shares it: batch 1) the threads split each image's channels.
  void pack_group(const float* x, int64_t grp, float* xp, bool shared) const {
    const int64_t n0 = grp * G, cnt = group_images(grp);
    for (int64_t i = 0; i < cnt; ++i)
      pack_blocked(x + (n0 + i) * g.C * g.H * g.W, g.C, g.H, g.W, xp + i * img_stride, Cp, Hp,
                   Wp, g.pad_h, g.pad_w, shared && detail::max_threads() > 1);
  }

  // Tile t of a group: image t / T of the group, tile (ty, tx) in row-major order.
  void tile_pos(int64_t t, int64_t& gi, int64_t& ty, int64_t& tx) const {
    gi = t / T;
    ty = (t % T) / TW;
    tx = t % TW;
  }

  // V[ξν][j][c] = (Bᵀ d B)[ξ][ν] for tiles [t0, t0 + count) of a group, 8 channels at a time.
  void input_transform(const float* xp, int64_t t0, int64_t count, float* V) const {
    for (int64_t j = 0; j < count; ++j) {
      int64_t gi, ty, tx;
      tile_pos(t0 + j, gi, ty, tx);
      for (int64_t cb = 0; cb < Cp / 8; ++cb) {
        const float* base = xp + gi * img_stride + ((cb * Hp + ty * m) * Wp + tx * m) * 8;
        __m256 t[a][a];  // t = Bᵀ d, computed column by column
        for (int col = 0; col < a; ++col) {
          __m256 d[a], r[a];
          for (int i = 0; i < a; ++i) d[i] = _mm256_loadu_ps(base + (i * Wp + col) * 8);
          F::bt(d, r);
          for (int i = 0; i < a; ++i) t[i][col] = r[i];
        }
        for (int i = 0; i < a; ++i) {  // (Bᵀ d) B, row by row
          __m256 v[a];
          F::bt(t[i], v);
          for (int k = 0; k < a; ++k)
            _mm256_storeu_ps(V + ((i * a + k) * nb + j) * Cp + cb * 8, v[k]);
        }
      }
    }
  }

  // Runs body(grp, t0, count) over every block, in parallel. With at least as many groups as
  // threads each thread takes whole groups (packing into its own scratch); otherwise the
  // blocks of one group, packed once, are shared. @p balanced (the forward, whose blocks
  // write outputs of their own): a thread that is done takes groups or blocks from the back
  // of the others' shares (detail::SharedLoop), as a slower core then does less. Otherwise
  // (the weight gradient's per-thread partial sums) static schedules: the block-to-thread
  // assignment depends only on the thread count (deterministic reductions).
  template <class Pack, class Body>
  void for_each_block(Pack pack, Body body, bool balanced) const {
    const int nt = detail::max_threads();
    if (nt > 1 && groups >= nt) {
      for_each_item(groups, balanced, [&](int64_t grp) {
        pack(grp);
        const int64_t tiles = group_images(grp) * T;
        for (int64_t t0 = 0; t0 < tiles; t0 += nb) body(grp, t0, std::min(nb, tiles - t0));
      });
    } else {
      for (int64_t grp = 0; grp < groups; ++grp) {
        pack(grp);
        const int64_t tiles = group_images(grp) * T;
        for_each_item((tiles + nb - 1) / nb, balanced, [&](int64_t blk) {
          body(grp, blk * nb, std::min(nb, tiles - blk * nb));
        });
      }
    }
  }

  // fn(i) for i in [0, n) across the threads: with @p balanced detail::for_each_index, else
  // equal contiguous shares (an OpenMP static schedule: i's thread depends on nothing else).
  template <class Fn>
  static void for_each_item(int64_t n, bool balanced, const Fn& fn) {
    const bool parallel = detail::max_threads() > 1 && n > 1;
    if (balanced || !parallel) return detail::for_each_index(n, parallel, fn);
#ifdef DL_WITH_OPENMP
#pragma omp parallel for schedule(static)
#endif
    for (int64_t i = 0; i < n; ++i) fn(i);
  }
};

// ---- forward ------------------------------------------------------------------------------------
template <class F>
class ForwardAvx2 {
  static constexpr int m = F::m, a = F::a, a2 = a * a;

 public:
  /// With @p U from transform_filters(), step 1 is skipped; with U null, w is transformed here.
  ForwardAvx2(const ConvGeom& g, const float* x, const float* w, const float* b, float* y,
              const float* U)
      : p_(g), x_(x), b_(b), y_(y), U_(U) {
    if (U_ == nullptr) {
      float* scratch = detail::thread_scratch<float, 2>(size_t(filters_size(p_)));
      transform_filters(p_, w, scratch);
      U_ = scratch;
    }
  }

  static int64_t filters_size(const Plan<F>& p) { return a2 * p.Cp * p.OCp; }

  void run() {
    const size_t xp_size = size_t(p_.G * p_.img_stride);
    const bool shared = !(detail::max_threads() > 1 && p_.groups >= detail::max_threads());
    // Shared packing (few groups) happens on this thread into its scratch, before the team.
    float* xp_shared = shared ? detail::thread_scratch<float, 4>(xp_size) : nullptr;
    p_.for_each_block(
        [&](int64_t grp) {
          float* xp = shared ? xp_shared : detail::thread_scratch<float, 4>(xp_size);
          p_.pack_group(x_, grp, xp, shared);
        },
        [&](int64_t grp, int64_t t0, int64_t count) {
          block(grp, t0, count,
                shared ? xp_shared : detail::thread_scratch<float, 4>(xp_size));
        },
        /*balanced=*/true);
  }

  // U[ξν][c][oc] = (G w[oc][c] Gᵀ)[ξ][ν], vectorised over 8 output channels; zero for padded
  // channels so they contribute nothing.
  static void transform_filters(const Plan<F>& p, const float* w, float* U) {
    const int64_t C = p.g.C, OC = p.g.OC, Cp = p.Cp, OCp = p.OCp;
#ifdef DL_WITH_OPENMP
#pragma omp parallel for schedule(static) if (C * OC >= 4096 && detail::max_threads() > 1)
#endif
    for (int64_t c = 0; c < Cp; ++c) {
      for (int64_t ob = 0; ob < OCp; ob += 8) {
        alignas(32) float taps[9][8];
        for (int l = 0; l < 8; ++l)
          for (int t = 0; t < 9; ++t)
            taps[t][l] = (c < C && ob + l < OC) ? w[((ob + l) * C + c) * 9 + t] : 0.0f;
        __m256 col[a][3], u[a][a];
        // G g: transform each of the 3 columns of g, giving α rows of 3.
        for (int j = 0; j < 3; ++j) {
          __m256 in[3] = {_mm256_load_ps(taps[j]), _mm256_load_ps(taps[3 + j]),
                          _mm256_load_ps(taps[6 + j])};
          __m256 out[a];
          F::g(in, out);
          for (int i = 0; i < a; ++i) col[i][j] = out[i];
        }
        // (G g) Gᵀ: transform each of the α rows.
        for (int i = 0; i < a; ++i) F::g(col[i], u[i]);
        for (int i = 0; i < a; ++i)
          for (int j = 0; j < a; ++j)
            _mm256_storeu_ps(U + ((i * a + j) * Cp + c) * OCp + ob, u[i][j]);
      }
    }
  }

 private:
  // Steps 2-4 for tiles [t0, t0 + count) of group grp.
  void block(int64_t grp, int64_t t0, int64_t count, const float* xp) const {
    const int64_t Cp = p_.Cp, OCp = p_.OCp, nb = p_.nb;
    float* V = detail::thread_scratch<float, 0>(size_t(a2 * nb * Cp));
    float* M = detail::thread_scratch<float, 1>(size_t(a2 * nb * OCp));

    // 2. Input transform.
    p_.input_transform(xp, t0, count, V);

    // 3. α² GEMMs: M[ξν][tile][oc] = V[ξν][tile][c] · U[ξν][c][oc].
    for (int k = 0; k < a2; ++k)
      gemm_avx2<false, false>(count, OCp, Cp, V + k * nb * Cp, Cp, U_ + k * Cp * OCp, OCp,
                              M + k * nb * OCp, OCp);

    // 4. Output transform Aᵀ M A + bias, 8 output channels at a time, stored as NCHW.
    const int64_t OC = p_.g.OC, OH = p_.OH, OW = p_.OW;
    for (int64_t j = 0; j < count; ++j) {
      int64_t gi, ty, tx;
      p_.tile_pos(t0 + j, gi, ty, tx);
      float* yn = y_ + (grp * p_.G + gi) * OC * OH * OW;
      const int64_t oh0 = ty * m, ow0 = tx * m;
      const bool full_tile = oh0 + m <= OH && ow0 + m <= OW;
      for (int64_t ob = 0; ob < OCp; ob += 8) {
        __m256 s[m][a];  // s = Aᵀ M, column by column
        for (int col = 0; col < a; ++col) {
          __m256 v[a], r[m];
          for (int i = 0; i < a; ++i)
            v[i] = _mm256_loadu_ps(M + ((i * a + col) * nb + j) * OCp + ob);
          F::at(v, r);
          for (int i = 0; i < m; ++i) s[i][col] = r[i];
        }
        __m256 bias = _mm256_setzero_ps();
        if (b_ != nullptr) {
          alignas(32) float bb[8];
          for (int l = 0; l < 8; ++l) bb[l] = ob + l < OC ? b_[ob + l] : 0.0f;
          bias = _mm256_load_ps(bb);
        }
        __m256 yt[m][m];  // yt[r][c] = 8 output channels of pixel (oh0 + r, ow0 + c)
        for (int i = 0; i < m; ++i) {
          F::at(s[i], yt[i]);
          for (int k = 0; k < m; ++k) yt[i][k] = _mm256_add_ps(yt[i][k], bias);
        }
        float* yo = yn + (ob * OH + oh0) * OW + ow0;  // channel ob, pixel (oh0, ow0)
        if (full_tile && ob + 8 <= OC) {
          store_tile(yt, yo, OH * OW, OW);
        } else {
          alignas(32) float tmp[m][m][8];
          for (int i = 0; i < m; ++i)
            for (int k = 0; k < m; ++k) _mm256_store_ps(tmp[i][k], yt[i][k]);
          for (int64_t l = 0; l < 8 && ob + l < OC; ++l)
            for (int64_t i = 0; i < m && oh0 + i < OH; ++i)
              for (int64_t k = 0; k < m && ow0 + k < OW; ++k)
                yo[(l * OH + i) * OW + k] = tmp[i][k][l];
        }
      }
    }
  }

  // Writes yt[r][c] (8 channels each) to y[l][r][c] for l = 0..7: per row, a transpose of
  // m vectors of 8 channels into 8 runs of m pixels.
  static inline void store_tile(const __m256 (&yt)[m][m], float* yo, int64_t cs, int64_t rs) {
    for (int r = 0; r < m; ++r) {
      float* row = yo + r * rs;
      if constexpr (m == 4) {
        const __m256 t0 = _mm256_unpacklo_ps(yt[r][0], yt[r][1]);
        const __m256 t1 = _mm256_unpackhi_ps(yt[r][0], yt[r][1]);
        const __m256 t2 = _mm256_unpacklo_ps(yt[r][2], yt[r][3]);
        const __m256 t3 = _mm256_unpackhi_ps(yt[r][2], yt[r][3]);
        const __m256 c0 = _mm256_shuffle_ps(t0, t2, 0x44);  // channels 0 | 4
        const __m256 c1 = _mm256_shuffle_ps(t0, t2, 0xEE);  // channels 1 | 5
        const __m256 c2 = _mm256_shuffle_ps(t1, t3, 0x44);  // channels 2 | 6
        const __m256 c3 = _mm256_shuffle_ps(t1, t3, 0xEE);  // channels 3 | 7
        _mm_storeu_ps(row + 0 * cs, _mm256_castps256_ps128(c0));
        _mm_storeu_ps(row + 1 * cs, _mm256_castps256_ps128(c1));
        _mm_storeu_ps(row + 2 * cs, _mm256_castps256_ps128(c2));
        _mm_storeu_ps(row + 3 * cs, _mm256_castps256_ps128(c3));
        _mm_storeu_ps(row + 4 * cs, _mm256_extractf128_ps(c0, 1));
        _mm_storeu_ps(row + 5 * cs, _mm256_extractf128_ps(c1, 1));
        _mm_storeu_ps(row + 6 * cs, _mm256_extractf128_ps(c2, 1));
        _mm_storeu_ps(row + 7 * cs, _mm256_extractf128_ps(c3, 1));
      } else {
        const __m256 t0 = _mm256_unpacklo_ps(yt[r][0], yt[r][1]);  // ch 0,1 | 4,5 (pairs)
        const __m256 t1 = _mm256_unpackhi_ps(yt[r][0], yt[r][1]);  // ch 2,3 | 6,7
        const __m128 lo0 = _mm256_castps256_ps128(t0), hi0 = _mm256_extractf128_ps(t0, 1);
        const __m128 lo1 = _mm256_castps256_ps128(t1), hi1 = _mm256_extractf128_ps(t1, 1);
        _mm_storel_pi(reinterpret_cast<__m64*>(row + 0 * cs), lo0);
        _mm_storeh_pi(reinterpret_cast<__m64*>(row + 1 * cs), lo0);
        _mm_storel_pi(reinterpret_cast<__m64*>(row + 2 * cs), lo1);
        _mm_storeh_pi(reinterpret_cast<__m64*>(row + 3 * cs), lo1);
        _mm_storel_pi(reinterpret_cast<__m64*>(row + 4 * cs), hi0);
        _mm_storeh_pi(reinterpret_cast<__m64*>(row + 5 * cs), hi0);
        _mm_storel_pi(reinterpret_cast<__m64*>(row + 6 * cs), hi1);
        _mm_storeh_pi(reinterpret_cast<__m64*>(row + 7 * cs), hi1);
      }
    }
  }

  Plan<F> p_;
  const float* x_;
  const float* b_;
  float* y_;
  const float* U_;
};

// ---- weight gradient ----------------------------------------------------------------------------
// dw[oc][c] = Σ_tiles Gᵀ [ (A dY Aᵀ) ⊙ (Bᵀ d B) ] G  (WINOGRAD.md, "Backward"). The sum over
// tiles runs in the transformed domain as α² GEMMs dU[ξν][c][oc] += V[ξν]ᵀ · E[ξν] with
// E[ξν][tile][oc] = (A dY Aᵀ)[ξ][ν]; one Gᵀ·G transform per (oc, c) at the end. Each thread
// sums its blocks into its own dU partial; partials are added in thread order.
template <class F>
class WeightGradAvx2 {
  static constexpr int m = F::m, a = F::a, a2 = a * a;

 public:
  WeightGradAvx2(const ConvGeom& g, const float* dy, const float* x, float* dw)
      : p_(g), dy_(dy), x_(x), dw_(dw) {
    Hq_ = p_.TH * m;
    Wq_ = p_.TW * m;
    dy_stride_ = p_.OCp * Hq_ * Wq_;
  }

  void run() {
    const int nt = detail::max_threads();
    const int64_t dU_size = a2 * p_.Cp * p_.OCp;
    float* partial = detail::thread_scratch<float, 5>(size_t(nt * dU_size));
    std::memset(partial, 0, sizeof(float) * size_t(nt * dU_size));
    const size_t xp_size = size_t(p_.G * p_.img_stride), dyp_size = size_t(p_.G * dy_stride_);
    const bool shared = !(nt > 1 && p_.groups >= nt);
    float* xp_shared = shared ? detail::thread_scratch<float, 4>(xp_size) : nullptr;
    float* dyp_shared = shared ? detail::thread_scratch<float, 6>(dyp_size) : nullptr;
    p_.for_each_block(
        [&](int64_t grp) {
          float* xp = shared ? xp_shared : detail::thread_scratch<float, 4>(xp_size);
          float* dyp = shared ? dyp_shared : detail::thread_scratch<float, 6>(dyp_size);
          p_.pack_group(x_, grp, xp, shared);
          const int64_t n0 = grp * p_.G, cnt = p_.group_images(grp);
          for (int64_t i = 0; i < cnt; ++i)  // dy tiles, zero beyond OH x OW (cropped outputs)
            pack_blocked(dy_ + (n0 + i) * p_.g.OC * p_.OH * p_.OW, p_.g.OC, p_.OH, p_.OW,
                         dyp + i * dy_stride_, p_.OCp, Hq_, Wq_, 0, 0,
                         shared && nt > 1);
        },
        [&](int64_t, int64_t t0, int64_t count) {
          const float* xp = shared ? xp_shared : detail::thread_scratch<float, 4>(xp_size);
          const float* dyp = shared ? dyp_shared : detail::thread_scratch<float, 6>(dyp_size);
          block(t0, count, xp, dyp, partial + detail::thread_id() * dU_size);
        },
        /*balanced=*/false);
    // Fixed-order reduction of the partials into partial[0].
    for (int t = 1; t < nt; ++t) {
      const float* src = partial + t * dU_size;
      for (int64_t i = 0; i < dU_size; ++i) partial[i] += src[i];
    }
    output_transform(partial);
  }

 private:
  void block(int64_t t0, int64_t count, const float* xp, const float* dyp, float* dU) const {
    const int64_t Cp = p_.Cp, OCp = p_.OCp, nb = p_.nb;
    float* V = detail::thread_scratch<float, 0>(size_t(a2 * nb * Cp));
    float* E = detail::thread_scratch<float, 1>(size_t(a2 * nb * OCp));
    p_.input_transform(xp, t0, count, V);
    // E[ξν][j][oc] = (A dY Aᵀ)[ξ][ν] for the m x m output-gradient tile, 8 channels at a time.
    for (int64_t j = 0; j < count; ++j) {
      int64_t gi, ty, tx;
      p_.tile_pos(t0 + j, gi, ty, tx);
      for (int64_t ob = 0; ob < OCp; ob += 8) {
        const float* base = dyp + gi * dy_stride_ + (((ob / 8) * Hq_ + ty * m) * Wq_ + tx * m) * 8;
        __m256 t[a][m];  // A dY, column by column
        for (int col = 0; col < m; ++col) {
          __m256 d[m], r[a];
          for (int i = 0; i < m; ++i) d[i] = _mm256_loadu_ps(base + (i * Wq_ + col) * 8);
          F::a_(d, r);
          for (int i = 0; i < a; ++i) t[i][col] = r[i];
        }
        for (int i = 0; i < a; ++i) {  // (A dY) Aᵀ, row by row
          __m256 v[a];
          F::a_(t[i], v);
          for (int k = 0; k < a; ++k)
            _mm256_storeu_ps(E + ((i * a + k) * nb + j) * OCp + ob, v[k]);
        }
      }
    }
    // dU[ξν][c][oc] += Σ_j V[ξν][j][c] · E[ξν][j][oc]
    for (int k = 0; k < a2; ++k)
      gemm_avx2<true, true>(Cp, OCp, count, V + k * nb * Cp, Cp, E + k * nb * OCp, OCp,
                            dU + k * Cp * OCp, OCp);
  }

  // dw[oc][c] = Gᵀ dU[·][c][oc] G, 8 output channels at a time.
  void output_transform(const float* dU) const {
    const int64_t C = p_.g.C, OC = p_.g.OC, Cp = p_.Cp, OCp = p_.OCp;
    for (int64_t c = 0; c < C; ++c)
      for (int64_t ob = 0; ob < OCp; ob += 8) {
        __m256 t[3][a];  // Gᵀ dU, column by column
        for (int col = 0; col < a; ++col) {
          __m256 v[a], r[3];
          for (int i = 0; i < a; ++i) v[i] = _mm256_loadu_ps(dU + ((i * a + col) * Cp + c) * OCp + ob);
          F::gt(v, r);
          for (int i = 0; i < 3; ++i) t[i][col] = r[i];
        }
        alignas(32) float out[3][3][8];
        for (int i = 0; i < 3; ++i) {  // (Gᵀ dU) G, row by row
          __m256 r[3];
          F::gt(t[i], r);
          for (int j = 0; j < 3; ++j) _mm256_store_ps(out[i][j], r[j]);
        }
        for (int64_t l = 0; l < 8 && ob + l < OC; ++l)
          for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j) dw_[(((ob + l) * C + c) * 3 + i) * 3 + j] = out[i][j][l];
      }
  }

  Plan<F> p_;
  const float* dy_;
  const float* x_;
  float* dw_;
  int64_t Hq_, Wq_, dy_stride_;  // packed dy: [OCp/8][TH*m][TW*m][8] per image
};

}  // namespace

int64_t winograd3x3_filters_size_avx2(const ConvGeom& g, int tile_m) {
  if (tile_m == 4) return ForwardAvx2<F4>::filters_size(Plan<F4>(g));
  return ForwardAvx2<F2>::filters_size(Plan<F2>(g));
}

void winograd3x3_filters_avx2(const ConvGeom& g, const float* w, int tile_m, float* U) {
  if (tile_m == 4) {
    ForwardAvx2<F4>::transform_filters(Plan<F4>(g), w, U);
  } else {
    ForwardAvx2<F2>::transform_filters(Plan<F2>(g), w, U);
  }
}

void winograd3x3_forward_avx2(const ConvGeom& g, const float* x, const float* w, const float* b,
                              float* y, int tile_m, const float* U) {
  if (tile_m == 4) {
    ForwardAvx2<F4>(g, x, w, b, y, U).run();
  } else {
    ForwardAvx2<F2>(g, x, w, b, y, U).run();
  }
}

void winograd3x3_backward_weight_avx2(const ConvGeom& g, const float* dy, const float* x,
                                      float* dw, int tile_m) {
  if (tile_m == 4) {
    WeightGradAvx2<F4>(g, dy, x, dw).run();
  } else {
    WeightGradAvx2<F2>(g, dy, x, dw).run();
  }
}

}  // namespace dl::kernels
