// pool.h — 2-D pooling on NCHW Tensors, forward and backward (tutorial chapter 4).
// Max pooling keeps the index of each window's winner so the backward pass can route the
// gradient there; average pooling spreads it evenly over the window. No autograd here;
// autograd/ops/pool.cpp wraps these. float32 or float64; inputs are copied if not contiguous.
#pragma once

#include <cstdint>

#include "tensor/tensor.h"

namespace dl {

/// Output of max_pool2d_forward.
struct MaxPool2dResult {
  Tensor values;   ///< [N, C, OH, OW], the window maxima
  Tensor indices;  ///< [N, C, OH, OW] int64: argmax as h*W + w within its input plane
};

/// Max over kernel x kernel windows of x [N,C,H,W], padding counting as -inf.
/// OH = (H + 2*pad - kernel) / stride + 1 (floor), likewise OW. Ties go to the first maximum
/// in row-major window order. Without @p with_indices (inference: no backward will run) the
/// indices stay undefined and are not written.
/// @throws std::invalid_argument if x is not 4-d, kernel or stride < 1, pad < 0,
///         pad > kernel/2 (a window could then lie wholly in padding), or the output is empty.
MaxPool2dResult max_pool2d_forward(const Tensor& x, int64_t kernel, int64_t stride,
                                   int64_t pad = 0, bool with_indices = true);

/// grad_x [x_shape] from grad_y [N,C,OH,OW]: each output gradient is added at its argmax.
/// @throws std::invalid_argument if grad_y and indices differ in shape or do not match x_shape.
Tensor max_pool2d_backward(const Tensor& grad_y, const Tensor& indices, const Shape& x_shape);

/// Mean over kernel x kernel windows; padded zeros count towards the divisor (PyTorch's
/// count_include_pad=true), so the divisor is always kernel². Shapes as max_pool2d_forward.
Tensor avg_pool2d_forward(const Tensor& x, int64_t kernel, int64_t stride, int64_t pad = 0);

/// grad_x [x_shape]: each output gradient / kernel² added to every in-bounds window element.
Tensor avg_pool2d_backward(const Tensor& grad_y, const Shape& x_shape, int64_t kernel,
                           int64_t stride, int64_t pad = 0);

/// Adaptive average pooling of x [N,C,H,W] to [N,C,out_h,out_w]. Output row i averages input
/// rows [floor(i*H/out_h), ceil((i+1)*H/out_h)) (PyTorch's rule; windows may overlap), and
/// likewise for columns.
/// @throws std::invalid_argument if x is not 4-d or out_h/out_w < 1.
Tensor adaptive_avg_pool2d_forward(const Tensor& x, int64_t out_h, int64_t out_w);

/// grad_x [x_shape] from grad_y [N,C,out_h,out_w], the adjoint of the forward windows.
Tensor adaptive_avg_pool2d_backward(const Tensor& grad_y, const Shape& x_shape);

/// Mean over H and W: x [N,C,H,W] -> [N,C] (accumulated in double).
Tensor global_avg_pool2d_forward(const Tensor& x);

/// grad_x [N,C,H,W] = grad_y [N,C] / (H*W), broadcast over each plane.
Tensor global_avg_pool2d_backward(const Tensor& grad_y, const Shape& x_shape);

}  // namespace dl
