// winograd3x3_ref.cpp — portable Winograd F(2x2,3x3) and F(4x4,3x3) forward convolution
// (tutorial chapter 6). For an m x m output tile and a 3x3 filter g, with input tile d of
// α x α = (m+2) x (m+2):   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A      (Lavin & Gray 2016, eq. 8).
// Organised as in shared WINOGRAD.md:
//   1. filter transform   U[ξν][oc][c] = (G g[oc][c] Gᵀ)[ξ][ν]
//   2. input transform    V[ξν][c][t]  = (Bᵀ d[c][t] B)[ξ][ν]   for a block of tiles t
//   3. α² GEMMs           M[ξν] (OC x tiles) = U[ξν] (OC x C) · V[ξν] (C x tiles)
//   4. output transform   y tile = Aᵀ M[oc][t] A (+ bias), cropped at the right/bottom edges.
// Scalar transforms written straight from the matrices: this is the readable version and the
// fallback; winograd3x3_avx2.cpp is the fast one.
#include <cstring>

#include "tensor/kernels/gemm.h"
#include "tensor/kernels/winograd3x3.h"
#include "tensor/kernels/workspace.h"

namespace dl::kernels {
namespace {

// The matrices of shared WINOGRAD.md, verified there against direct correlation.
// F(2x2,3x3), α = 4.
constexpr float kBt2[4][4] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
constexpr float kG2[4][3] = {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}};
constexpr float kAt2[2][4] = {{1, 1, 1, 0}, {0, 1, -1, -1}};
// F(4x4,3x3), α = 6, interpolation points 0, ±1, ±2, ∞.
constexpr float kBt4[6][6] = {{4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
                              {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
constexpr float kG4[6][3] = {{1.0f / 4, 0, 0},
                             {-1.0f / 6, -1.0f / 6, -1.0f / 6},
                             {-1.0f / 6, 1.0f / 6, -1.0f / 6},
                             {1.0f / 24, 1.0f / 12, 1.0f / 6},
                             {1.0f / 24, -1.0f / 12, 1.0f / 6},
                             {0, 0, 1}};
constexpr float kAt4[4][6] = {
    {1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};

// Tiles per block: the block's V and M (α² x C x kBlock floats each) should stay in L2.
constexpr int64_t kBlock = 64;

// The whole algorithm for one tile size; Bt is α x α, G is α x 3, At is m x α.
template <int m>
struct Winograd {
  static constexpr int a = m + 2;  // α
  const float (&Bt)[a][a];
  const float (&G)[a][3];
  const float (&At)[m][a];

  // u[ξ][ν] = (G g Gᵀ)[ξ][ν] for one 3x3 filter g.
  void filter(const float* g, float u[a][a]) const {
    float t[a][3];  // G g
    for (int i = 0; i < a; ++i)
      for (int j = 0; j < 3; ++j)
        t[i][j] = G[i][0] * g[0 * 3 + j] + G[i][1] * g[1 * 3 + j] + G[i][2] * g[2 * 3 + j];
    for (int i = 0; i < a; ++i)
      for (int j = 0; j < a; ++j) u[i][j] = t[i][0] * G[j][0] + t[i][1] * G[j][1] + t[i][2] * G[j][2];
  }

  // v = Bᵀ d B for one α x α input tile d.
  void input(const float d[a][a], float v[a][a]) const {
    float t[a][a];  // Bᵀ d
    for (int i = 0; i < a; ++i)
      for (int j = 0; j < a; ++j) {
        float s = 0;
        for (int k = 0; k < a; ++k) s += Bt[i][k] * d[k][j];
        t[i][j] = s;
      }
    for (int i = 0; i < a; ++i)
      for (int j = 0; j < a; ++j) {
        float s = 0;
        for (int k = 0; k < a; ++k) s += t[i][k] * Bt[j][k];  // (Bᵀ)ᵀ = B
        v[i][j] = s;
      }
  }

  // y = Aᵀ M A for one α x α transformed product.
  void output(const float mm[a][a], float yt[m][m]) const {
    float t[m][a];  // Aᵀ M
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < a; ++j) {
        float s = 0;
        for (int k = 0; k < a; ++k) s += At[i][k] * mm[k][j];
        t[i][j] = s;
      }
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < m; ++j) {
        float s = 0;
        for (int k = 0; k < a; ++k) s += t[i][k] * At[j][k];
        yt[i][j] = s;
      }
  }

  // e = A dy Aᵀ (α x α) for one m x m output-gradient tile; A = (Aᵀ)ᵀ.
  void grad_output(const float dy[m][m], float e[a][a]) const {
    float t[a][m];  // A dy
    for (int i = 0; i < a; ++i)
      for (int j = 0; j < m; ++j) {
        float s = 0;
        for (int k = 0; k < m; ++k) s += At[k][i] * dy[k][j];
        t[i][j] = s;
      }
    for (int i = 0; i < a; ++i)
      for (int j = 0; j < a; ++j) {
        float s = 0;
        for (int k = 0; k < m; ++k) s += t[i][k] * At[k][j];
        e[i][j] = s;
      }
  }

  // dg = Gᵀ du G (3 x 3) for one α x α transformed gradient du.
  void grad_filter(const float du[a][a], float dg[3][3]) const {
    float t[3][a];  // Gᵀ du
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < a; ++j) {
        float s = 0;
        for (int k = 0; k < a; ++k) s += G[k][i] * du[k][j];
        t[i][j] = s;
      }
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) {
        float s = 0;
        for (int k = 0; k < a; ++k) s += t[i][k] * G[k][j];
        dg[i][j] = s;
      }
  }

  // Gathers the α x α input tile at (ih0, iw0) of plane xc, zeros outside the image.
  static void gather(const float* xc, int64_t H, int64_t W, int64_t ih0, int64_t iw0,
                     float d[a][a]) {
    for (int i = 0; i < a; ++i)
      for (int j = 0; j < a; ++j) {
        const int64_t ih = ih0 + i, iw = iw0 + j;
        d[i][j] = (ih >= 0 && ih < H && iw >= 0 && iw < W) ? xc[ih * W + iw] : 0.0f;
      }
  }

  // Weight gradient (WINOGRAD.md "Backward"): dU[ξν][oc][c] = Σ_t E[ξν][oc][t] V[ξν][c][t] with
  // E = A dY Aᵀ of each output-gradient tile (zero where a tail tile leaves the output) and
  // V = Bᵀ d B of the matching input tile; then dw[oc][c] = Gᵀ dU[·][oc][c] G. Serial: the
  // portable path is the oracle and fallback, not the fast path.
  void backward_weight(const ConvGeom& g, const float* dy, const float* x, float* dw) const {
    constexpr int a2 = a * a;
    const int64_t C = g.C, OC = g.OC, H = g.H, W = g.W;
    const int64_t OH = g.out_h(), OW = g.out_w();
    const int64_t TH = (OH + m - 1) / m, TW = (OW + m - 1) / m;
    const int64_t tiles = g.N * TH * TW;
    float* dU = detail::thread_scratch<float, 2>(size_t(a2 * OC * C));
    float* V = detail::thread_scratch<float, 0>(size_t(a2 * C * kBlock));
    float* E = detail::thread_scratch<float, 1>(size_t(a2 * OC * kBlock));
    for (int64_t t0 = 0; t0 < tiles; t0 += kBlock) {
      const int64_t nb = t0 + kBlock <= tiles ? kBlock : tiles - t0;
      for (int64_t j = 0; j < nb; ++j) {
        const int64_t t = t0 + j, n = t / (TH * TW), ty = (t / TW) % TH, tx = t % TW;
        for (int64_t c = 0; c < C; ++c) {
          float d[a][a], v[a][a];
          gather(x + (n * C + c) * H * W, H, W, ty * m - g.pad_h, tx * m - g.pad_w, d);
          input(d, v);
          for (int k = 0; k < a2; ++k) V[(k * C + c) * kBlock + j] = v[k / a][k % a];
        }
        for (int64_t oc = 0; oc < OC; ++oc) {
          const float* dyo = dy + (n * OC + oc) * OH * OW;
          float dt[m][m], e[a][a];
          for (int i = 0; i < m; ++i)
            for (int jj = 0; jj < m; ++jj) {
              const int64_t oh = ty * m + i, ow = tx * m + jj;
              dt[i][jj] = (oh < OH && ow < OW) ? dyo[oh * OW + ow] : 0.0f;
            }
          grad_output(dt, e);
          for (int k = 0; k < a2; ++k) E[(k * OC + oc) * kBlock + j] = e[k / a][k % a];
        }
      }
      for (int k = 0; k < a2; ++k)
        gemm(false, true, OC, C, nb, 1.0f, E + k * OC * kBlock, kBlock, V + k * C * kBlock,
             kBlock, t0 == 0 ? 0.0f : 1.0f, dU + k * OC * C, C);
    }
    for (int64_t oc = 0; oc < OC; ++oc)
      for (int64_t c = 0; c < C; ++c) {
        float du[a][a], dg[3][3];
        for (int k = 0; k < a2; ++k) du[k / a][k % a] = dU[(k * OC + oc) * C + c];
        grad_filter(du, dg);
        for (int i = 0; i < 3; ++i)
          for (int j = 0; j < 3; ++j) dw[((oc * C + c) * 3 + i) * 3 + j] = dg[i][j];
      }
  }

  // 1. Filter transform U[ξν][oc][c] (a² x OC x C floats).
  void filters(const ConvGeom& g, const float* w, float* U) const {
    constexpr int a2 = a * a;
    const int64_t C = g.C, OC = g.OC;
    for (int64_t oc = 0; oc < OC; ++oc)
      for (int64_t c = 0; c < C; ++c) {
        float u[a][a];
        filter(w + (oc * C + c) * 9, u);
        for (int k = 0; k < a2; ++k) U[(k * OC + oc) * C + c] = u[k / a][k % a];
      }
  }

  // Steps 2-4 with the filters transformed by filters(), or transforms w first when U is null.
  void forward(const ConvGeom& g, const float* x, const float* w, const float* b, float* y,
               const float* U) const {
    constexpr int a2 = a * a;
    const int64_t C = g.C, OC = g.OC, H = g.H, W = g.W;
    const int64_t OH = g.out_h(), OW = g.out_w();
    const int64_t TH = (OH + m - 1) / m, TW = (OW + m - 1) / m;  // tiles per column / row
    const int64_t tiles = g.N * TH * TW;

    if (U == nullptr) {  // into the caller thread's scratch; read by all threads
      float* scratch = detail::thread_scratch<float, 2>(size_t(a2 * OC * C));
      filters(g, w, scratch);
      U = scratch;
    }

    const int64_t nblocks = (tiles + kBlock - 1) / kBlock;
    auto block = [&](int64_t blk) {
      const int64_t t0 = blk * kBlock;
      const int64_t nb = t0 + kBlock <= tiles ? kBlock : tiles - t0;
      float* V = detail::thread_scratch<float, 0>(size_t(a2 * C * kBlock));
      float* M = detail::thread_scratch<float, 1>(size_t(a2 * OC * kBlock));
      // 2. Gather each tile (zeros outside the image: padding and tail tiles), transform it.
      for (int64_t j = 0; j < nb; ++j) {
        const int64_t t = t0 + j, n = t / (TH * TW), ty = (t / TW) % TH, tx = t % TW;
        const int64_t ih0 = ty * m - g.pad_h, iw0 = tx * m - g.pad_w;
        for (int64_t c = 0; c < C; ++c) {
          float d[a][a], v[a][a];
          gather(x + (n * C + c) * H * W, H, W, ih0, iw0, d);
          input(d, v);
          for (int k = 0; k < a2; ++k) V[(k * C + c) * kBlock + j] = v[k / a][k % a];
        }
      }
      // 3. α² independent GEMMs: M[ξν] = U[ξν] · V[ξν].
      for (int k = 0; k < a2; ++k)
        gemm(false, false, OC, nb, C, 1.0f, U + k * OC * C, C, V + k * C * kBlock, kBlock, 0.0f,
             M + k * OC * kBlock, kBlock);
      // 4. Inverse transform, bias, crop the parts of tail tiles that fall outside the output.
      for (int64_t j = 0; j < nb; ++j) {
        const int64_t t = t0 + j, n = t / (TH * TW), ty = (t / TW) % TH, tx = t % TW;
        for (int64_t oc = 0; oc < OC; ++oc) {
          float mm[a][a], yt[m][m];
          for (int k = 0; k < a2; ++k) mm[k / a][k % a] = M[(k * OC + oc) * kBlock + j];
          output(mm, yt);
          const float bias = b != nullptr ? b[oc] : 0.0f;
          float* yo = y + (n * OC + oc) * OH * OW;
          for (int i = 0; i < m && ty * m + i < OH; ++i)
            for (int jj = 0; jj < m && tx * m + jj < OW; ++jj)
              yo[(ty * m + i) * OW + tx * m + jj] = yt[i][jj] + bias;
        }
      }
    };

    if (detail::max_threads() > 1 && nblocks > 1) {
      BlasSingleThreadScope single;
#ifdef DL_WITH_OPENMP
#pragma omp parallel for schedule(static)
#endif
      for (int64_t blk = 0; blk < nblocks; ++blk) block(blk);
    } else {
      for (int64_t blk = 0; blk < nblocks; ++blk) block(blk);
    }
  }
};

}  // namespace

int64_t winograd3x3_filters_size_ref(const ConvGeom& g, int tile_m) {
  return (tile_m + 2) * (tile_m + 2) * g.OC * g.C;
}

void winograd3x3_filters_ref(const ConvGeom& g, const float* w, int tile_m, float* U) {
  if (tile_m == 4) {
    Winograd<4>{kBt4, kG4, kAt4}.filters(g, w, U);
  } else {
    Winograd<2>{kBt2, kG2, kAt2}.filters(g, w, U);
  }
}

void winograd3x3_forward_ref(const ConvGeom& g, const float* x, const float* w, const float* b,
                             float* y, int tile_m, const float* U) {
  if (tile_m == 4) {
    Winograd<4>{kBt4, kG4, kAt4}.forward(g, x, w, b, y, U);
  } else {
    Winograd<2>{kBt2, kG2, kAt2}.forward(g, x, w, b, y, U);
  }
}

void winograd3x3_backward_weight_ref(const ConvGeom& g, const float* dy, const float* x,
                                     float* dw, int tile_m) {
  if (tile_m == 4) {
    Winograd<4>{kBt4, kG4, kAt4}.backward_weight(g, dy, x, dw);
  } else {
    Winograd<2>{kBt2, kG2, kAt2}.backward_weight(g, dy, x, dw);
  }
}

}  // namespace dl::kernels
