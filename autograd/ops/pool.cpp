// pool.cpp — differentiable pooling (tutorial chapter 4). Max pooling sends each output's
// gradient to the one input that won its window (the forward pass saved the winners'
// indices); the average poolings spread it evenly over their windows, so they save nothing
// but the input's shape.
#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/pool.h"

namespace dl::ag {

Variable max_pool2d(const Variable& x, int64_t kernel, int64_t stride, int64_t pad) {
  MaxPool2dResult r = max_pool2d_forward(x.data(), kernel, stride, pad, will_record({&x}));
  return record("MaxPool2dBackward", {&x}, r.values,
                [indices = r.indices, in = x.shape()](const Tensor& g,
                                                      const NeedsGrad&) -> std::vector<Tensor> {
                  return {max_pool2d_backward(g, indices, in)};
                });
}

Variable avg_pool2d(const Variable& x, int64_t kernel, int64_t stride, int64_t pad) {
  return record("AvgPool2dBackward", {&x}, avg_pool2d_forward(x.data(), kernel, stride, pad),
                [in = x.shape(), kernel, stride, pad](const Tensor& g,
                                                      const NeedsGrad&) -> std::vector<Tensor> {
                  return {avg_pool2d_backward(g, in, kernel, stride, pad)};
                });
}

Variable adaptive_avg_pool2d(const Variable& x, int64_t out_h, int64_t out_w) {
  return record("AdaptiveAvgPool2dBackward", {&x},
                adaptive_avg_pool2d_forward(x.data(), out_h, out_w),
                [in = x.shape()](const Tensor& g, const NeedsGrad&) -> std::vector<Tensor> {
                  return {adaptive_avg_pool2d_backward(g, in)};
                });
}

Variable global_avg_pool2d(const Variable& x) {
  return record("GlobalAvgPool2dBackward", {&x}, global_avg_pool2d_forward(x.data()),
                [in = x.shape()](const Tensor& g, const NeedsGrad&) -> std::vector<Tensor> {
                  return {global_avg_pool2d_backward(g, in)};
                });
}

}  // namespace dl::ag
