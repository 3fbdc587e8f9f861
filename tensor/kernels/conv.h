// conv.h — 2-D convolution kernels on raw NCHW buffers (tutorial chapters 5 and 6).
// Legend: N batch, C input channels, H/W input size, OC output channels, KH/KW kernel size,
// OH/OW output size. Weights are OIHW [OC, C, KH, KW]. All buffers contiguous.
// Kernels assume valid arguments (the Tensor layer validates) and never throw.
// Three algorithms: direct loops (reference, any dtype), im2col + GEMM (any shape),
// Winograd F(2x2,3x3) / F(4x4,3x3) (float, 3x3, stride 1, dilation 1).
#pragma once

#include <cstdint>

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
template <class T>
void conv2d_forward_im2col(const ConvGeom& g, const T* x, const T* w, const T* b, T* y);
template <class T>
void conv2d_backward_input_im2col(const ConvGeom& g, const T* dy, const T* w, T* dx);
template <class T>
void conv2d_backward_weight_im2col(const ConvGeom& g, const T* dy, const T* x, T* dw);

// ---- Winograd (float only; AVX2/FMA variant chosen at run time, portable otherwise) ------------
/// tile_m = 2 for F(2x2,3x3), 4 for F(4x4,3x3). Requires winograd_applicable(g).
void conv2d_forward_winograd(const ConvGeom& g, const float* x, const float* w, const float* b,
                             float* y, int tile_m);
/// Backward-data as a Winograd convolution of dy with the rotated, transposed kernel.
void conv2d_backward_input_winograd(const ConvGeom& g, const float* dy, const float* w,
                                    float* dx, int tile_m);
/// Weight gradient by the transposed Winograd algorithm (overwrites dw):
/// dw = Σ_tiles Gᵀ[(A dY Aᵀ) ⊙ (Bᵀ d B)]G, summed over tiles in the transformed domain.
/// Per-thread partial sums are reduced in a fixed order (deterministic for a thread count).
void conv2d_backward_weight_winograd(const ConvGeom& g, const float* dy, const float* x,
                                     float* dw, int tile_m);

// ---- dispatch: what the Tensor layer calls -------------------------------------------------------
/// Forward with @p algo (Auto = the project's choice for this shape and dtype).
template <class T>
void conv2d_forward(const ConvGeom& g, const T* x, const T* w, const T* b, T* y,
                    ConvAlgo algo = ConvAlgo::Auto);
template <class T>
void conv2d_backward_input(const ConvGeom& g, const T* dy, const T* w, T* dx,
                           ConvAlgo algo = ConvAlgo::Auto);
template <class T>
void conv2d_backward_weight(const ConvGeom& g, const T* dy, const T* x, T* dw,
                            ConvAlgo algo = ConvAlgo::Auto);

}  // namespace dl::kernels
