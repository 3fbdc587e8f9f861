// join.cpp — concat and constant padding (used by ResNet's option-A shortcut, chapter 7).
// Both allocate the result once and copy each input into a view of it.
#include <stdexcept>

#include "tensor/ops.h"

namespace dl {

Tensor concat(const std::vector<Tensor>& tensors, int64_t dim) {
  if (tensors.empty()) throw std::invalid_argument("concat: no tensors given");
  for (const Tensor& t : tensors)
    if (!t.defined()) throw std::invalid_argument("concat: tensor is undefined");
  const Tensor& first = tensors[0];
  if (first.dim() == 0) throw std::invalid_argument("concat: cannot concatenate 0-d tensors");
  const int64_t d = wrap_dim(dim, first.dim(), "concat");
  Shape out_shape = first.shape();
  out_shape[d] = 0;
  for (const Tensor& t : tensors) {
    if (t.dtype() != first.dtype())
      throw std::invalid_argument(std::string("concat: dtypes differ (") +
                                  dtype_name(first.dtype()) + " vs " + dtype_name(t.dtype()) + ")");
    Shape expect = first.shape();
    expect[d] = t.dim() == first.dim() ? t.shape()[d] : -1;
    if (t.shape() != expect)
      throw std::invalid_argument("concat: shapes " + shape_str(first.shape()) + " and " +
                                  shape_str(t.shape()) + " differ outside dim " +
                                  std::to_string(d));
    out_shape[d] += t.shape()[d];
  }
  Tensor out = Tensor::empty(out_shape, first.dtype());
  int64_t at = 0;
  for (const Tensor& t : tensors) {
    out.narrow(d, at, t.shape()[d]).copy_(t);
    at += t.shape()[d];
  }
  return out;
}

Tensor pad(const Tensor& a, const std::vector<int64_t>& pads, double value) {
  if (!a.defined()) throw std::invalid_argument("pad: tensor is undefined");
  if (pads.size() % 2 != 0 || int64_t(pads.size()) > 2 * a.dim())
    throw std::invalid_argument("pad: expected an even number of pads, at most 2 per dim, for shape " +
                                shape_str(a.shape()) + "; got " + shape_str(pads));
  Shape out_shape = a.shape();
  for (size_t i = 0; i < pads.size() / 2; ++i) {
    if (pads[2 * i] < 0 || pads[2 * i + 1] < 0)
      throw std::invalid_argument("pad: negative padding " + shape_str(pads));
    out_shape[i] += pads[2 * i] + pads[2 * i + 1];
  }
  Tensor out = Tensor::full(out_shape, value, a.dtype());
  Tensor dst = out;
  for (size_t i = 0; i < pads.size() / 2; ++i) dst = dst.narrow(int64_t(i), pads[2 * i], a.shape()[i]);
  dst.copy_(a);
  return out;
}

}  // namespace dl
