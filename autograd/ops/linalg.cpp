// linalg.cpp — differentiable matmul, linear, concat and pad (tutorial chapters 2 and 5).
// For C = A·B the chain rule gives grad_A = grad_C·Bᵀ and grad_B = Aᵀ·grad_C; the transposes
// are views, and dl::matmul hands them to BLAS as transposes without copying. Broadcast batch
// dims are summed away as in any broadcasting op. concat and pad are the adjoints of slicing.
#include <stdexcept>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/ops.h"

namespace dl::ag {

namespace {
/// The last two dims swapped (a view).
Tensor mT(const Tensor& t) { return t.transpose(-2, -1); }
}  // namespace

Variable matmul(const Variable& a, const Variable& b) {
  const Tensor x = a.data(), y = b.data();
  const Tensor out = dl::matmul(x, y);  // validates shapes
  return record("MatmulBackward", {&a, &b}, out,
                [x, y](const Tensor& g, const NeedsGrad& needs) -> std::vector<Tensor> {
                  // Work with the 1-d operands promoted as the forward did: a vector on the
                  // left is a row [1, K], on the right a column [K, 1]. The gradient gets
                  // the dims the forward squeezed away put back, so every product below is
                  // an ordinary (batched) matrix product.
                  const Tensor x2 = x.dim() == 1 ? x.unsqueeze(0) : x;
                  const Tensor y2 = y.dim() == 1 ? y.unsqueeze(1) : y;
                  Shape g_shape = broadcast_shapes(Shape(x2.shape().begin(), x2.shape().end() - 2),
                                                   Shape(y2.shape().begin(), y2.shape().end() - 2),
                                                   "matmul");
                  g_shape.push_back(x2.size(-2));
                  g_shape.push_back(y2.size(-1));
                  const Tensor g2 = g.reshape(g_shape);
                  Tensor ga, gb;
                  if (needs[0]) ga = sum_to(dl::matmul(g2, mT(y2)), x2.shape()).reshape(x.shape());
                  if (needs[1]) gb = sum_to(dl::matmul(mT(x2), g2), y2.shape()).reshape(y.shape());
                  return {ga, gb};
                });
}

// y = x·Wᵀ + b over the last dim of x: one node instead of transpose + matmul + add, so the
// tape reads like the layer.
Variable linear(const Variable& x, const Variable& weight, const Variable& bias) {
  const Tensor in = x.data(), w = weight.data();
  if (w.dim() != 2 || in.dim() < 1 || in.size(-1) != w.size(1))
    throw std::invalid_argument("linear: input " + shape_str(in.shape()) + " and weight " +
                                shape_str(w.shape()) +
                                " do not match; expected input [..., in] and weight [out, in]");
  if (bias.defined() && bias.shape() != Shape{w.size(0)})
    throw std::invalid_argument("linear: bias " + shape_str(bias.shape()) + " must be [" +
                                std::to_string(w.size(0)) + "] for weight " +
                                shape_str(w.shape()));
  Tensor out = dl::matmul(in, w.transpose(0, 1));
  if (bias.defined()) out.add_(bias.data());  // broadcast over the rows
  const bool has_bias = bias.defined();
  return record(
      "LinearBackward", {&x, &weight, &bias}, out,
      [in, w, has_bias](const Tensor& g, const NeedsGrad& needs) -> std::vector<Tensor> {
        // Leading dims of x are all "rows": view x and g as matrices [rows, in], [rows, out].
        const int64_t out_f = w.size(0), in_f = w.size(1);
        const Tensor g2 = g.reshape({-1, out_f});
        Tensor gx, gw, gb;
        if (needs[0]) gx = dl::matmul(g2, w).reshape(in.shape());                 // g·W
        if (needs[1]) gw = dl::matmul(g2.transpose(0, 1), in.reshape({-1, in_f}));  // gᵀ·x
        if (has_bias && needs[2]) gb = dl::sum(g2, {0});                            // Σ rows
        return {gx, gw, gb};
      });
}

// Each input's gradient is its own slab of the output gradient.
Variable concat(const std::vector<Variable>& xs, int64_t dim) {
  std::vector<Tensor> data;
  std::vector<const Variable*> inputs;
  std::vector<int64_t> sizes;
  for (const Variable& v : xs) {
    data.push_back(v.data());
    inputs.push_back(&v);
  }
  const Tensor out = dl::concat(data, dim);  // validates shapes
  const int64_t d = wrap_dim(dim, out.dim(), "concat");
  for (const Tensor& t : data) sizes.push_back(t.size(d));
  return record("ConcatBackward", inputs, out,
                [d, sizes](const Tensor& g, const NeedsGrad& needs) -> std::vector<Tensor> {
                  std::vector<Tensor> grads(sizes.size());
                  int64_t at = 0;
                  for (size_t i = 0; i < sizes.size(); ++i) {
                    if (needs[i]) grads[i] = g.narrow(d, at, sizes[i]);
                    at += sizes[i];
                  }
                  return grads;
                });
}

// The padding is constant, so only the interior window of the gradient flows back.
Variable pad(const Variable& a, const std::vector<int64_t>& pads) {
  const Shape in = a.shape();
  return record("PadBackward", {&a}, dl::pad(a.data(), pads),
                [in, pads](const Tensor& g, const NeedsGrad&) -> std::vector<Tensor> {
                  Tensor inner = g;
                  for (size_t i = 0; i < pads.size() / 2; ++i)
                    inner = inner.narrow(int64_t(i), pads[2 * i], in[i]);
                  return {inner};
                });
}

}  // namespace dl::ag
