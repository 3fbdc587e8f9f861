// reduce.cpp — differentiable reductions (tutorial chapter 2). Each backward spreads the
// output gradient back over the reduced dims: sum copies it (expand), mean also divides by
// the count, max routes it to the first maximum, var uses d var = 2 (x - mean) / (n - u).
#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/ops.h"

namespace dl::ag {

namespace {
/// Re-inserts reduced dims as size 1 so @p g broadcasts against the input shape.
Tensor keepdim_view(const Tensor& g, const Shape& in_shape, const std::vector<int64_t>& dims,
                    bool keepdim) {
  if (keepdim || dims.empty()) return g.reshape(keepdim ? g.shape() : Shape(in_shape.size(), 1));
  std::vector<bool> reduced(in_shape.size(), false);
  for (int64_t d : dims) reduced[wrap_dim(d, int64_t(in_shape.size()), "reduce")] = true;
  Shape s;
  int64_t k = 0;
  for (size_t d = 0; d < in_shape.size(); ++d) s.push_back(reduced[d] ? 1 : g.shape()[k++]);
  return g.reshape(s);
}

/// Number of elements folded into each output element.
double reduced_count(const Shape& in_shape, const std::vector<int64_t>& dims) {
  if (dims.empty()) return double(shape_numel(in_shape));
  double n = 1;
  for (int64_t d : dims) n *= double(in_shape[wrap_dim(d, int64_t(in_shape.size()), "reduce")]);
  return n;
}
}  // namespace

Variable sum(const Variable& a, const std::vector<int64_t>& dims, bool keepdim) {
  const Shape in = a.shape();
  return record("SumBackward", {&a}, dl::sum(a.data(), dims, keepdim),
                [in, dims, keepdim](const Tensor& g, const NeedsGrad&) -> std::vector<Tensor> {
                  return {keepdim_view(g, in, dims, keepdim).expand(in).contiguous()};
                });
}

Variable mean(const Variable& a, const std::vector<int64_t>& dims, bool keepdim) {
  const Shape in = a.shape();
  const double n = reduced_count(in, dims);
  return record("MeanBackward", {&a}, dl::mean(a.data(), dims, keepdim),
                [in, dims, keepdim, n](const Tensor& g, const NeedsGrad&) -> std::vector<Tensor> {
                  return {dl::affine(keepdim_view(g, in, dims, keepdim).expand(in), 1.0 / n, 0.0)};
                });
}

Variable max(const Variable& a, const std::vector<int64_t>& dims, bool keepdim) {
  const Tensor x = a.data();
  const Tensor y = dl::max(x, dims, keepdim);
  return record("MaxBackward", {&a}, y,
                [x, y, dims, keepdim](const Tensor& g, const NeedsGrad&) -> std::vector<Tensor> {
                  // Mask of elements equal to their group's maximum; ties share the gradient
                  // equally (inputs in tests are kept distinct, so this is the argmax).
                  const Tensor mask = dl::eq(x, keepdim_view(y, x.shape(), dims, keepdim));
                  const Tensor count = dl::sum(mask, dims, true);
                  return {dl::div(dl::mul(mask, keepdim_view(g, x.shape(), dims, keepdim)), count)};
                });
}

Variable var(const Variable& a, const std::vector<int64_t>& dims, bool unbiased, bool keepdim) {
  const Tensor x = a.data();
  const double denom = reduced_count(x.shape(), dims) - (unbiased ? 1.0 : 0.0);
  return record("VarBackward", {&a}, dl::var(x, dims, unbiased, keepdim),
                [x, dims, keepdim, denom](const Tensor& g, const NeedsGrad&) -> std::vector<Tensor> {
                  const Tensor centered = dl::sub(x, dl::mean(x, dims, true));
                  return {dl::mul(dl::affine(centered, 2.0 / denom, 0.0),
                                  keepdim_view(g, x.shape(), dims, keepdim))};
                });
}

}  // namespace dl::ag
