// conv2d.h — 2-D convolution on Tensors: shape checks around the raw kernels of
// tensor/kernels/conv.h (tutorial chapter 5). No gradients here; autograd/ops/conv.cpp pairs
// these functions into a differentiable op. Layout NCHW, weights OIHW, float32 or float64.
#pragma once

#include <cstdint>

#include "tensor/kernels/conv.h"
#include "tensor/tensor.h"

namespace dl {

/// Stride, padding and dilation of a 2-D convolution (groups = 1), and the algorithm to use.
struct Conv2dArgs {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dil_h = 1, dil_w = 1;
  /// Algorithm for forward and backward; Auto lets the kernel layer choose.
  kernels::ConvAlgo algo = kernels::ConvAlgo::Auto;
  /// Overrides @ref algo for the two backward convolutions (input and weight gradients) when
  /// not Auto. A fast forward with a Direct backward sees the very same ReLU masks as the all-
  /// fast step, so comparing the two isolates the backward kernels' rounding.
  kernels::ConvAlgo backward_algo = kernels::ConvAlgo::Auto;
  /// Keep the weights prepared for the forward algorithm (the Winograd-transformed filters)
  /// with the weight's storage and reuse them while its contents are unchanged
  /// (Storage::derived()). For weights read many times between updates: autograd's conv2d
  /// sets it when no gradient is recorded for the weight (inference, frozen layers).
  bool reuse_prepared_weights = false;
  /// The algorithm the backward convolutions run with.
  kernels::ConvAlgo algo_for_backward() const {
    return backward_algo != kernels::ConvAlgo::Auto ? backward_algo : algo;
  }
  /// The same stride, padding and dilation along H and W.
  static Conv2dArgs square(int64_t stride, int64_t pad, int64_t dilation = 1) {
    Conv2dArgs a;
    a.stride_h = a.stride_w = stride;
    a.pad_h = a.pad_w = pad;
    a.dil_h = a.dil_w = dilation;
    return a;
  }
};

/// Validates x [N,C,H,W] against w [OC,C,KH,KW] and @p args, and returns the kernel geometry.
/// @throws std::invalid_argument naming both shapes, e.g.
///   "conv2d: input [8, 3, 32, 32] has 3 channels but weight [16, 4, 3, 3] expects 4",
///   for ranks other than 4, differing dtypes, non-positive stride/dilation, negative padding,
///   or a kernel larger than the padded input.
kernels::ConvGeom conv2d_geom(const Tensor& x, const Tensor& w, const Conv2dArgs& args);

/// y [N,OC,OH,OW] = x [N,C,H,W] * w [OC,C,KH,KW] + b [OC] (b may be undefined),
/// with OH = (H + 2*pad_h - dil_h*(KH-1) - 1) / stride_h + 1 (likewise OW).
/// Non-contiguous inputs are copied first. The result is a fresh contiguous tensor.
/// @throws std::invalid_argument as conv2d_geom(), or if b is not [OC] of x's dtype.
Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dArgs& args);

/// What conv2d_forward applies to each output value as it stores it, for inference:
/// y = relu?((conv - mean)·scale + shift + residual) with an eval-mode BatchNorm's constants
/// (batch_norm_eval_affine), a residual block's shortcut and its ReLU. Each part is optional
/// (undefined tensors, relu false); the values equal the separate ops' bit for bit, without
/// their passes over the activations. See kernels::ConvEpilogue.
struct Conv2dEpilogue {
  Tensor mean, scale, shift;  ///< [OC] each, or all three undefined (no BatchNorm)
  Tensor residual;            ///< like the output [N,OC,OH,OW], or undefined
  bool relu = false;
};

/// conv2d_forward(x, w, b, args), then @p epilogue on every output value before it leaves the
/// cache. No gradient exists for it: autograd never records it (nn/conv_bn.h uses it only
/// when nothing is recorded).
/// @throws std::invalid_argument as conv2d_forward, or naming the shapes when mean, scale or
///         shift is not [OC] of x's dtype (or only some are defined), or residual is not the
///         output's shape and dtype.
Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dArgs& args,
                      const Conv2dEpilogue& epilogue);

/// Gradient with respect to the input: grad_x [N,C,H,W] from grad_y [N,OC,OH,OW] and w.
/// @param x_shape the shape of the forward input (it cannot be recovered from grad_y when the
///        stride drops rows).
/// @throws std::invalid_argument if grad_y is not the forward output shape.
Tensor conv2d_backward_input(const Tensor& grad_y, const Tensor& w, const Shape& x_shape,
                             const Conv2dArgs& args);

/// Gradient with respect to the weight: grad_w [OC,C,KH,KW] = Σ over N, OH, OW of
/// grad_y ⊗ (input patch).
/// @throws std::invalid_argument if grad_y is not the forward output shape.
Tensor conv2d_backward_weight(const Tensor& grad_y, const Tensor& x, const Shape& w_shape,
                              const Conv2dArgs& args);

/// Gradient with respect to the bias: grad_b [OC] = Σ over N, OH, OW of grad_y [N,OC,OH,OW]
/// (accumulated in double).
/// @throws std::invalid_argument if grad_y is not 4-d.
Tensor conv2d_backward_bias(const Tensor& grad_y);

}  // namespace dl
