// shortcut.cpp — ResNet's parameter-free option-A shortcut (tutorial chapter 7; He et al.
// 2015, Section 3.3 "(A) zero-padding for increasing dimensions"). Where a stage halves the
// resolution and adds channels, the identity path keeps every stride-th pixel
// (x[:, :, ::s, ::s]) and appends zero channels. One node instead of slice + slice + pad, so
// the tape shows the block as written; its backward picks the real channels out of the
// gradient and puts them back on the kept pixels.
#include <stdexcept>
#include <string>

#include "autograd/node.h"
#include "autograd/ops.h"

namespace dl::ag {

Variable shortcut_a(const Variable& x, int64_t out_channels, int64_t stride, bool symmetric) {
  const Tensor xd = x.data();
  if (xd.dim() != 4)
    throw std::invalid_argument("shortcut_a: input must be [N, C, H, W], got " +
                                shape_str(xd.shape()));
  const int64_t N = xd.size(0), C = xd.size(1), H = xd.size(2), W = xd.size(3);
  if (stride < 1 || out_channels < C)
    throw std::invalid_argument("shortcut_a: needs stride >= 1 and out_channels >= " +
                                std::to_string(C) + " for input " + shape_str(xd.shape()) +
                                ", got stride " + std::to_string(stride) + ", out_channels " +
                                std::to_string(out_channels));
  // symmetric: (out - C)/2 zero channels before the real ones, the rest after.
  const int64_t before = symmetric ? (out_channels - C) / 2 : 0;
  const int64_t OH = (H + stride - 1) / stride, OW = (W + stride - 1) / stride;

  Tensor y = Tensor::zeros({N, out_channels, OH, OW}, xd.dtype());
  y.narrow(1, before, C).copy_(xd.slice(2, 0, H, stride).slice(3, 0, W, stride));
  return record("ShortcutABackward", {&x}, y,
                [in = xd.shape(), before, stride](const Tensor& g,
                                                  const NeedsGrad&) -> std::vector<Tensor> {
                  // The zero channels are constants; the skipped pixels got no gradient.
                  Tensor grad = Tensor::zeros(in, g.dtype());
                  grad.slice(2, 0, in[2], stride)
                      .slice(3, 0, in[3], stride)
                      .copy_(g.narrow(1, before, in[1]));
                  return {grad};
                });
}

}  // namespace dl::ag
