// conv.cpp — differentiable 2-D convolution (tutorial chapter 5). The three gradients are
// three different kernels: grad_x is a "transposed" convolution of grad_y with the weights,
// grad_w correlates grad_y with the input, grad_b sums grad_y. Each is computed only when
// that input asked for it: the first layer's input, an image, never does.
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/conv2d.h"

namespace dl::ag {

Variable conv2d(const Variable& x, const Variable& w, const Variable& b, const Conv2dArgs& args) {
  const Tensor xd = x.data(), wd = w.data();
  // Without a gradient for w nothing in this graph will update it: keep its prepared form.
  Conv2dArgs forward_args = args;
  forward_args.reuse_prepared_weights = !(is_grad_enabled() && w.requires_grad());
  const Tensor y = conv2d_forward(xd, wd, b.defined() ? b.data() : Tensor(), forward_args);
  // grad_x reads only w, grad_w only x: capture x just when w needs a gradient, so a frozen
  // layer does not keep its input alive.
  const Tensor saved_x = w.requires_grad() ? xd : Tensor();
  const Tensor saved_w = x.requires_grad() ? wd : Tensor();
  return record("Conv2dBackward", {&x, &w, &b}, y,
                [saved_x, saved_w, x_shape = xd.shape(), w_shape = wd.shape(), args](
                    const Tensor& g, const NeedsGrad& needs) -> std::vector<Tensor> {
                  Tensor gx, gw, gb;
                  if (needs[0]) gx = conv2d_backward_input(g, saved_w, x_shape, args);
                  if (needs[1]) gw = conv2d_backward_weight(g, saved_x, w_shape, args);
                  if (needs[2]) gb = conv2d_backward_bias(g);
                  return {gx, gw, gb};
                });
}

}  // namespace dl::ag
