// conv.h — 2-D convolution kernels on raw NCHW buffers (tutorial chapters 5 and 6).
// Legend: N batch, C input channels, H/W input size, OC output channels, KH/KW kernel size,
// OH/OW output size. Weights are OIHW [OC, C, KH, KW]. All buffers contiguous.
// Kernels assume valid arguments (the Tensor layer validates) and never throw.
// Three algorithms: direct loops (reference, any dtype), im2col + GEMM (any shape),
// Winograd F(2x2,3x3) / F(4x4,3x3) (float, 3x3, stride 1, dilation 1).
#pragma once

#include <cstdint>
#include <vector>

namespace dl::kernels {

/// Geometry of one convolution. out_h()/out_w() follow PyTorch's formula.
struct ConvGeom {
  int64_t N = 1, C = 1, H = 1, W = 1;
  int64_t OC = 1, KH = 1, KW = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dil_h = 1, dil_w = 1;
  int64_t out_h() const { return (H + 2 * pad_h - dil_h * (KH - 1) - 1) / stride_h + 1; }
  int64_t out_w() const { return (W + 2 * pad_w - dil_w * (KW - 1) - 1) / stride_w + 1; }
  /// Multiply-accumulates of the forward pass (direct-convolution count).
  int64_t macs() const { return N * OC * out_h() * out_w() * C * KH * KW; }
};

/// What a forward convolution applies to each output value as it stores it, for inference:
///   v = (y - mean[oc])·scale[oc] + shift[oc]   (an eval-mode BatchNorm, when mean is set),
///   v = v + residual[n][oc][p]                  (a residual block's add, when residual is set),
///   v = max(0, v)                               (when relu; NaN passes, as in dl::relu).
/// The same float operations in the same order as the separate ops, so the values are the
/// same bit for bit; what it saves is their passes over the activations (at batch 1 each
/// also a parallel region of its own). Pointers as the output's dtype; mean, scale and shift
/// are [OC], residual [N, OC, OH, OW] contiguous.
template <class T>
struct ConvEpilogue {
  const T* mean = nullptr;
  const T* scale = nullptr;
  const T* shift = nullptr;
  const T* residual = nullptr;
  bool relu = false;
  /// Applies it to rows [oc0, oc1), columns [p0, p1) of image n's output y_n [OC, P].
  void apply(int64_t n, int64_t OC, int64_t P, int64_t oc0, int64_t oc1, int64_t p0,
             int64_t p1, T* y_n) const;
};

/// Convolution algorithms; Auto picks per layer (Winograd for eligible float 3x3 s1).
enum class ConvAlgo { Auto, Direct, Im2col, Winograd2x2, Winograd4x4 };

/// Name for logs and `resnet bench` ("direct", "im2col", "winograd2x2", ...).
const char* conv_algo_name(ConvAlgo a);

/// True when Winograd applies: 3x3 kernel, stride 1, dilation 1.
bool winograd_applicable(const ConvGeom& g);

// ---- reference: direct loops, accumulate in double. The oracle for every fast kernel. ----------
/// y[N,OC,OH,OW] = conv(x, w) + b (b may be null).
template <class T>
void conv2d_forward_direct(const ConvGeom& g, const T* x, const T* w, const T* b, T* y);
/// dx[N,C,H,W] = gradient w.r.t. x (overwrites dx).
template <class T>
void conv2d_backward_input_direct(const ConvGeom& g, const T* dy, const T* w, T* dx);
/// dw[OC,C,KH,KW] = gradient w.r.t. w (overwrites dw).
template <class T>
void conv2d_backward_weight_direct(const ConvGeom& g, const T* dy, const T* x, T* dw);

// ---- im2col + GEMM ------------------------------------------------------------------------------
/// Unfolds one image x[C,H,W] into col[C*KH*KW, OH*OW] (zero where the window hits padding).
template <class T> void im2col(const ConvGeom& g, const T* x, T* col);
/// The adjoint of im2col: adds col[C*KH*KW, OH*OW] back into x[C,H,W] (x must be zeroed first).
template <class T> void col2im(const ConvGeom& g, const T* col, T* x);
/// @p epilogue, if not null, is applied to each image's output while it is still in cache.
template <class T>
void conv2d_forward_im2col(const ConvGeom& g, const T* x, const T* w, const T* b, T* y,
                           const ConvEpilogue<T>* epilogue = nullptr);
template <class T>
void conv2d_backward_input_im2col(const ConvGeom& g, const T* dy, const T* w, T* dx);
template <class T>
void conv2d_backward_weight_im2col(const ConvGeom& g, const T* dy, const T* x, T* dw);

// ---- Winograd (float only; AVX2/FMA variant chosen at run time, portable otherwise) ------------
/// tile_m = 2 for F(2x2,3x3), 4 for F(4x4,3x3). Requires winograd_applicable(g).
/// @p filters: winograd_filters(g, w, tile_m) computed earlier from these same weights, or
/// null to transform w in this call.
void conv2d_forward_winograd(const ConvGeom& g, const float* x, const float* w, const float* b,
                             float* y, int tile_m, const float* filters = nullptr);
/// The transformed filters U = G w Gᵀ of the Winograd forward, in the layout of the kernel set
/// in use (AVX2 or portable). They depend only on w, C, OC and tile_m, so a caller running
/// the same weights many times (inference) can keep them: at batch 1 the transform was about
/// a third of a 256-channel 14x14 layer's time (AVX2, 2 threads: 1.7 vs 1.1 ms).
std::vector<float> winograd_filters(const ConvGeom& g, const float* w, int tile_m);
/// Name of the layout winograd_filters() writes now: "avx2" or "portable" (tests and
/// learners can switch kernel sets at run time, and the layouts differ).
const char* winograd_filters_layout();
/// Backward-data as a Winograd convolution of dy with the rotated, transposed kernel.
void conv2d_backward_input_winograd(const ConvGeom& g, const float* dy, const float* w,
                                    float* dx, int tile_m);
/// Weight gradient by the transposed Winograd algorithm (overwrites dw):
/// dw = Σ_tiles Gᵀ[(A dY Aᵀ) ⊙ (Bᵀ d B)]G, summed over tiles in the transformed domain.
/// Per-thread partial sums are reduced in a fixed order (deterministic for a thread count).
void conv2d_backward_weight_winograd(const ConvGeom& g, const float* dy, const float* x,
                                     float* dw, int tile_m);

// ---- dispatch: what the Tensor layer calls -------------------------------------------------------
/// The algorithm conv2d_forward<T> runs for @p g when asked for @p algo: Auto and
/// DL_CONV_ALGO resolved, requests the shape or dtype cannot honour replaced by im2col.
/// @p filters_prepared: the call comes with prepared filters, which favours F(4x4) at fewer
/// tiles (no filter transform to pay in the call).
template <class T>
ConvAlgo conv2d_forward_algo(const ConvGeom& g, ConvAlgo algo = ConvAlgo::Auto,
                             bool filters_prepared = false);

/// Weights rearranged once for the forward algorithm that will multiply them (today the
/// Winograd-transformed filters; the other algorithms read w as it is and get none), so that
/// calls reusing unchanged weights skip that work. Immutable once prepared.
struct PreparedFilters {
  ConvAlgo algo = ConvAlgo::Im2col;  ///< the resolved algorithm they were prepared for
  int64_t C = 0, OC = 0;             ///< the channels of the layer they were prepared for
  const char* layout = "";           ///< winograd_filters_layout() when they were prepared
  std::vector<float> data;           ///< empty when @ref algo needs nothing prepared
};

/// Prepares float weights @p w of @p g for conv2d_forward_algo<float>(g, algo, true).
PreparedFilters prepare_conv2d_filters(const ConvGeom& g, const float* w,
                                       ConvAlgo algo = ConvAlgo::Auto);

/// Forward with @p algo (Auto = the project's choice for this shape and dtype). @p prepared,
/// if not null, must come from prepare_conv2d_filters() on these same weight values; Auto then
/// resolves as for prepared filters, and they are used when they were prepared for the
/// algorithm, channels and kernel set of this call, else ignored. @p epilogue, if not null,
/// is applied to every output value (inside the GEMM's parallel region on the SIMD im2col
/// path, as one more pass on the others).
template <class T>
void conv2d_forward(const ConvGeom& g, const T* x, const T* w, const T* b, T* y,
                    ConvAlgo algo = ConvAlgo::Auto, const PreparedFilters* prepared = nullptr,
                    const ConvEpilogue<T>* epilogue = nullptr);
template <class T>
void conv2d_backward_input(const ConvGeom& g, const T* dy, const T* w, T* dx,
                           ConvAlgo algo = ConvAlgo::Auto);
template <class T>
void conv2d_backward_weight(const ConvGeom& g, const T* dy, const T* x, T* dw,
                            ConvAlgo algo = ConvAlgo::Auto);

}  // namespace dl::kernels
