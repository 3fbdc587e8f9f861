// conv_dispatch.cpp — picks the convolution algorithm per layer (tutorial chapters 5 and 6).
// Auto: double -> im2col (exact, BLAS dgemm); float 3x3 stride-1 dilation-1 with the AVX2
// kernels available -> Winograd for forward, backward-input and weight gradient, where it was
// measured faster (see auto_winograd), F(4x4) unless the call has few tiles (auto_tile; the
// 256-channel layers: auto_eligible_algo); everything else (1x1, 7x7, stride 2, the 3-channel
// stem, 512-channel layers, 256-channel ones with AVX-512 and few tiles, no AVX2) -> im2col.
// DL_CONV_ALGO=direct | im2col | winograd2x2 | winograd4x4 replaces Auto (for learners and
// benchmarks); a request the shape or dtype cannot honour (Winograd on a strided layer, or in
// double) runs im2col.
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <vector>

#include "tensor/kernels/conv.h"
#include "tensor/kernels/cpu.h"
#include "tensor/kernels/winograd3x3.h"
#include "tensor/kernels/workspace.h"

namespace dl::kernels {
namespace {

// DL_CONV_ALGO, read once. Auto when unset or unrecognised.
ConvAlgo env_algo() {
  static const ConvAlgo algo = [] {
    const char* s = std::getenv("DL_CONV_ALGO");
    if (s == nullptr) return ConvAlgo::Auto;
    if (std::strcmp(s, "direct") == 0) return ConvAlgo::Direct;
    if (std::strcmp(s, "im2col") == 0) return ConvAlgo::Im2col;
    if (std::strcmp(s, "winograd2x2") == 0) return ConvAlgo::Winograd2x2;
    if (std::strcmp(s, "winograd4x4") == 0) return ConvAlgo::Winograd4x4;
    return ConvAlgo::Auto;
  }();
  return algo;
}

// Output tiles of F(m x m, 3x3) over the call (all images).
int64_t tile_count(const ConvGeom& g, int64_t m) {
  return g.N * ((g.out_h() + m - 1) / m) * ((g.out_w() + m - 1) / m);
}

// Tile size for an eligible float layer with g's geometry. F(4x4) does 4x fewer multiplies
// than direct against F(2x2)'s 2.25x and, with the AVX2 kernels, was faster on every CIFAR
// ResNet layer measured (batch 128, 2 threads: 16->16 32x32 2.3 vs 5.5 ms, 32->32 16x16 1.7 vs
// 2.9, 64->64 8x8 1.2 vs 2.4), at 4-5x F(2x2)'s rounding error (relative L2 ~1e-6 to 3e-6).
// With few tiles per call its 36 transformed filters per channel pair (against 16) cost more
// than its GEMMs save: at batch 1, 128->128 28x28 (49 F(4x4) tiles) ran 0.57 ms in F(4x4) and
// 0.47 in F(2x2), while 64->64 56x56 (196 tiles) ran 0.29 against 0.36.
// With the filters prepared in advance (inference reusing its weights) that cost is gone and
// F(4x4) pays from fewer tiles: batch 1, filters prepared, ms F(2x2) / F(4x4) over three runs:
// 128->128 28x28 (49 tiles) 0.98 / 0.81, 0.98 / 0.85, 0.82 / 0.53; 256->256 14x14 (16 tiles)
// 1.49 / 1.70, 1.16 / 1.51, 0.88 / 1.09.
int auto_tile(const ConvGeom& g, bool filters_prepared) {
  return tile_count(g, 4) < (filters_prepared ? 32 : 64) ? 2 : 4;
}

// Whether Auto may pick Winograd for a layer g with C inputs and OC outputs (forward view).
// Only the AVX2 kernels beat im2col + OpenBLAS sgemm; the portable scalar transforms lose to
// im2col on every ResNet layer. With fewer than 8 channels on either side (the 3-channel stem)
// the transforms dominate and im2col is as fast (measured: 3->16 32x32, batch 128). The
// transformed filters are 36 x C x OC floats (F(4x4); 16 for F(2x2)): 9.4 MB at 256 channels,
// 38 MB at 512, past L2. How far Winograd still pays depends on how fast the GEMMs of im2col
// are. With AVX-512 GEMMs (Zen 5) ImageNet's 256-channel 14x14 and 512-channel 7x7 layers ran
// 1.3-4x slower in Winograd than im2col at batch 1, so there it stops at 128 x 128 unless the
// call has many tiles: 256->256 at 14x14, 2 threads, ms im2col / F(2x2), forward,
// backward-input, weight: batch 16 (784 F(2x2) tiles) 16.3 / 10.0, 13.9 / 11.4, 16.6 / 11.8;
// batch 8 6.70 / 5.55, 5.56 / 5.52, 7.51 / 5.41; batch 4 3.16 / 3.25, 2.75 / 3.57, 3.61 / 3.24;
// 512->512 at 7x7, batch 8 (128 tiles) 8.06 / 13.3. With AVX2 only (Zen 3, 2 threads, ms
// im2col / Winograd) 256->256 at 14x14 gains: batch 1 forward 2.54 / 1.89 (F(2x2)),
// backward-input 2.20 / 2.24; batch 16 forward 35.1 / 14.9, backward-input 28.4 / 14.8
// (F(4x4)); 512->512 at 7x7 still loses (batch 1 forward 3.60 / 6.21).
bool auto_winograd(const ConvGeom& g, int64_t C, int64_t OC) {
  if (!use_avx2() || C < 8 || OC < 8) return false;
  if (!use_avx512()) return C * OC <= 256 * 256;
  return C * OC <= 128 * 128 || (C * OC <= 256 * 256 && tile_count(g, 2) >= 392);
}

// The Winograd weight gradient keeps one transformed C x OC partial sum per thread: 36 x 256 x
// 256 floats (9.4 MB) for F(4x4) at 256 channels, which thrashes L2, against 4.2 MB for F(2x2).
// Measured (AVX2, 2 threads, 256->256 at 14x14, ms): batch 16 im2col 28.8, F(2x2) 21.8, F(4x4)
// 31.8; batch 1 im2col 2.29, F(2x2) 3.55. So beyond 128 x 128 channels the weight gradient takes
// F(2x2) when the call has many tiles and im2col when it has few; otherwise auto_tile decides.
// With AVX-512 the 256-channel layers that take Winograd at all (many tiles) take F(2x2) in
// every pass: batch 16, 256->256 at 14x14, forward F(2x2) 10.0 ms against F(4x4) 12.9.
ConvAlgo auto_eligible_algo(const ConvGeom& g, bool weight_grad, bool filters_prepared) {
  const bool few_tiles = auto_tile(g, filters_prepared) == 2;
  if (weight_grad && g.C * g.OC > 128 * 128)
    return few_tiles ? ConvAlgo::Im2col : ConvAlgo::Winograd2x2;
  if (use_avx512() && g.C * g.OC > 128 * 128) return ConvAlgo::Winograd2x2;
  return few_tiles ? ConvAlgo::Winograd2x2 : ConvAlgo::Winograd4x4;
}

// Backward-data of a stride-1 3x3 convolution as a forward one needs pad 2 - p >= 0.
bool winograd_backward_applicable(const ConvGeom& g) {
  return winograd_applicable(g) && g.pad_h <= 2 && g.pad_w <= 2;
}

// The concrete algorithm for one call: explicit argument, else DL_CONV_ALGO, else the default
// (which for an eligible layer depends on whether the call is the weight gradient, and on
// whether a forward's filters are prepared in advance).
template <class T>
ConvAlgo resolve(ConvAlgo requested, bool winograd_ok, const ConvGeom& g, int64_t C, int64_t OC,
                 bool weight_grad = false, bool filters_prepared = false) {
  ConvAlgo a = requested != ConvAlgo::Auto ? requested : env_algo();
  const bool is_float = std::is_same_v<T, float>;
  if (a == ConvAlgo::Auto) {
    if (is_float && winograd_ok && auto_winograd(g, C, OC))
      return auto_eligible_algo(g, weight_grad, filters_prepared);
    return ConvAlgo::Im2col;
  }
  if ((a == ConvAlgo::Winograd2x2 || a == ConvAlgo::Winograd4x4) && !(is_float && winograd_ok))
    return ConvAlgo::Im2col;
  return a;
}

// The epilogue as a pass of its own over y, for the algorithms that do not apply it as they
// store (direct, Winograd), shared by the threads one output plane at a time.
template <class T>
void apply_epilogue_pass(const ConvGeom& g, const ConvEpilogue<T>& epilogue, T* y) {
  const int64_t P = g.out_h() * g.out_w(), planes = g.N * g.OC;
  const bool parallel = detail::max_threads() > 1 && planes > 1 && planes * P >= 32768;
  detail::for_each_index(planes, parallel, [&](int64_t i) {
    const int64_t n = i / g.OC, oc = i % g.OC;
    epilogue.apply(n, g.OC, P, oc, oc + 1, 0, P, y + n * g.OC * P);
  });
}

}  // namespace

// The operations of batch_norm_eval_forward (tensor/batch_norm.cpp) and add_relu, in their
// order and in T, each under its own test so that the compiler keeps the loops simple.
template <class T>
void ConvEpilogue<T>::apply(int64_t n, int64_t OC, int64_t P, int64_t oc0, int64_t oc1,
                            int64_t p0, int64_t p1, T* y_n) const {
  for (int64_t oc = oc0; oc < oc1; ++oc) {
    T* row = y_n + oc * P;
    if (mean != nullptr) {
      const T m = mean[oc], a = scale[oc], s = shift[oc];
      for (int64_t p = p0; p < p1; ++p) row[p] = (row[p] - m) * a + s;
    }
    if (residual != nullptr) {
      const T* r = residual + (n * OC + oc) * P;
      for (int64_t p = p0; p < p1; ++p) row[p] = row[p] + r[p];
    }
    if (relu)
      for (int64_t p = p0; p < p1; ++p) {
        const T v = row[p];
        row[p] = (v > T(0) || v != v) ? v : T(0);  // dl::relu's rule, NaN included
      }
  }
}
template struct ConvEpilogue<float>;
template struct ConvEpilogue<double>;

const char* conv_algo_name(ConvAlgo a) {
  switch (a) {
    case ConvAlgo::Auto: return "auto";
    case ConvAlgo::Direct: return "direct";
    case ConvAlgo::Im2col: return "im2col";
    case ConvAlgo::Winograd2x2: return "winograd2x2";
    case ConvAlgo::Winograd4x4: return "winograd4x4";
  }
  return "unknown";
}

bool winograd_applicable(const ConvGeom& g) {
  return g.KH == 3 && g.KW == 3 && g.stride_h == 1 && g.stride_w == 1 && g.dil_h == 1 &&
         g.dil_w == 1;
}

void conv2d_forward_winograd(const ConvGeom& g, const float* x, const float* w, const float* b,
                             float* y, int tile_m, const float* filters) {
#ifdef DL_WITH_AVX2
  if (use_avx2()) return winograd3x3_forward_avx2(g, x, w, b, y, tile_m, filters);
#endif
  winograd3x3_forward_ref(g, x, w, b, y, tile_m, filters);
}

const char* winograd_filters_layout() {
#ifdef DL_WITH_AVX2
  if (use_avx2()) return "avx2";
#endif
  return "portable";
}

std::vector<float> winograd_filters(const ConvGeom& g, const float* w, int tile_m) {
  std::vector<float> U;
#ifdef DL_WITH_AVX2
  if (use_avx2()) {
    U.resize(size_t(winograd3x3_filters_size_avx2(g, tile_m)));
    winograd3x3_filters_avx2(g, w, tile_m, U.data());
    return U;
  }
#endif
  U.resize(size_t(winograd3x3_filters_size_ref(g, tile_m)));
  winograd3x3_filters_ref(g, w, tile_m, U.data());
  return U;
}

// dx = conv(dy padded by 2 - p, w') with w'[c][k][i][j] = w[k][c][2-i][2-j] (WINOGRAD.md,
// "Backward"): the forward kernel, run on the output gradient with a flipped, transposed filter.
void conv2d_backward_input_winograd(const ConvGeom& g, const float* dy, const float* w,
                                    float* dx, int tile_m) {
  float* wr = detail::thread_scratch<float, 3>(size_t(g.C * g.OC * 9));
  for (int64_t k = 0; k < g.OC; ++k)
    for (int64_t c = 0; c < g.C; ++c)
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
          wr[((c * g.OC + k) * 3 + i) * 3 + j] = w[((k * g.C + c) * 3 + (2 - i)) * 3 + (2 - j)];
  ConvGeom gb = g;
  gb.C = g.OC;
  gb.OC = g.C;
  gb.H = g.out_h();
  gb.W = g.out_w();
  gb.pad_h = 2 - g.pad_h;
  gb.pad_w = 2 - g.pad_w;
  conv2d_forward_winograd(gb, dy, wr, nullptr, dx, tile_m);
}

void conv2d_backward_weight_winograd(const ConvGeom& g, const float* dy, const float* x,
                                     float* dw, int tile_m) {
#ifdef DL_WITH_AVX2
  if (use_avx2()) return winograd3x3_backward_weight_avx2(g, dy, x, dw, tile_m);
#endif
  winograd3x3_backward_weight_ref(g, dy, x, dw, tile_m);
}

template <class T>
ConvAlgo conv2d_forward_algo(const ConvGeom& g, ConvAlgo algo, bool filters_prepared) {
  return resolve<T>(algo, winograd_applicable(g), g, g.C, g.OC, false, filters_prepared);
}

PreparedFilters prepare_conv2d_filters(const ConvGeom& g, const float* w, ConvAlgo algo) {
  PreparedFilters p;
  p.algo = conv2d_forward_algo<float>(g, algo, /*filters_prepared=*/true);
  p.C = g.C;
  p.OC = g.OC;
  p.layout = winograd_filters_layout();
  if (p.algo == ConvAlgo::Winograd2x2 || p.algo == ConvAlgo::Winograd4x4)
    p.data = winograd_filters(g, w, p.algo == ConvAlgo::Winograd4x4 ? 4 : 2);
  return p;
}

template <class T>
void conv2d_forward(const ConvGeom& g, const T* x, const T* w, const T* b, T* y, ConvAlgo algo,
                    const PreparedFilters* prepared, const ConvEpilogue<T>* epilogue) {
  const ConvAlgo a = conv2d_forward_algo<T>(g, algo, prepared != nullptr);
  switch (a) {
    case ConvAlgo::Direct:
      conv2d_forward_direct(g, x, w, b, y);
      break;
    case ConvAlgo::Winograd2x2:
    case ConvAlgo::Winograd4x4:
      if constexpr (std::is_same_v<T, float>) {
        const bool usable = prepared != nullptr && prepared->algo == a && prepared->C == g.C &&
                            prepared->OC == g.OC && !prepared->data.empty() &&
                            std::strcmp(prepared->layout, winograd_filters_layout()) == 0;
        conv2d_forward_winograd(g, x, w, b, y, a == ConvAlgo::Winograd4x4 ? 4 : 2,
                                usable ? prepared->data.data() : nullptr);
        break;
      }
      [[fallthrough]];
    default: return conv2d_forward_im2col(g, x, w, b, y, epilogue);  // applies the epilogue
  }
  if (epilogue != nullptr) apply_epilogue_pass(g, *epilogue, y);
}

template <class T>
void conv2d_backward_input(const ConvGeom& g, const T* dy, const T* w, T* dx, ConvAlgo algo) {
  // The backward pass is a forward convolution from OC to C channels.
  const ConvAlgo a = resolve<T>(algo, winograd_backward_applicable(g), g, g.OC, g.C);
  switch (a) {
    case ConvAlgo::Direct: return conv2d_backward_input_direct(g, dy, w, dx);
    case ConvAlgo::Winograd2x2:
    case ConvAlgo::Winograd4x4:
      if constexpr (std::is_same_v<T, float>) {
        return conv2d_backward_input_winograd(g, dy, w, dx, a == ConvAlgo::Winograd4x4 ? 4 : 2);
      }
      [[fallthrough]];
    default: return conv2d_backward_input_im2col(g, dy, w, dx);
  }
}

template <class T>
void conv2d_backward_weight(const ConvGeom& g, const T* dy, const T* x, T* dw, ConvAlgo algo) {
  const ConvAlgo a = resolve<T>(algo, winograd_applicable(g), g, g.C, g.OC, /*weight_grad=*/true);
  switch (a) {
    case ConvAlgo::Direct: return conv2d_backward_weight_direct(g, dy, x, dw);
    case ConvAlgo::Winograd2x2:
    case ConvAlgo::Winograd4x4:
      if constexpr (std::is_same_v<T, float>) {
        return conv2d_backward_weight_winograd(g, dy, x, dw, a == ConvAlgo::Winograd4x4 ? 4 : 2);
      }
      [[fallthrough]];
    default: return conv2d_backward_weight_im2col(g, dy, x, dw);
  }
}

template ConvAlgo conv2d_forward_algo<float>(const ConvGeom&, ConvAlgo, bool);
template ConvAlgo conv2d_forward_algo<double>(const ConvGeom&, ConvAlgo, bool);
template void conv2d_forward<float>(const ConvGeom&, const float*, const float*, const float*,
                                    float*, ConvAlgo, const PreparedFilters*,
                                    const ConvEpilogue<float>*);
template void conv2d_forward<double>(const ConvGeom&, const double*, const double*,
                                     const double*, double*, ConvAlgo, const PreparedFilters*,
                                     const ConvEpilogue<double>*);
template void conv2d_backward_input<float>(const ConvGeom&, const float*, const float*, float*,
                                           ConvAlgo);
template void conv2d_backward_input<double>(const ConvGeom&, const double*, const double*,
                                            double*, ConvAlgo);
template void conv2d_backward_weight<float>(const ConvGeom&, const float*, const float*, float*,
                                            ConvAlgo);
template void conv2d_backward_weight<double>(const ConvGeom&, const double*, const double*,
                                             double*, ConvAlgo);

}  // namespace dl::kernels
