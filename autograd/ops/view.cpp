// view.cpp — differentiable views (tutorial chapter 2). A view only re-reads the same numbers
// in another arrangement, so its backward is the adjoint view: put each gradient element back
// where its value came from. Reshapes reshape back, permute applies the inverse permutation,
// slice writes into a zero tensor, and expand (which reads one value many times) sums.
#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/ops.h"

namespace dl::ag {

namespace {
/// Backward of every op that only changes the shape: reshape the gradient back.
Variable reshape_like(const char* name, const Variable& a, Tensor out) {
  const Shape in = a.shape();
  return record(name, {&a}, std::move(out),
                [in](const Tensor& g, const NeedsGrad&) -> std::vector<Tensor> {
                  return {g.reshape(in)};
                });
}
}  // namespace

Variable reshape(const Variable& a, const Shape& shape) {
  return reshape_like("ReshapeBackward", a, a.data().reshape(shape));
}

Variable squeeze(const Variable& a, int64_t dim) {
  return reshape_like("SqueezeBackward", a, a.data().squeeze(dim));
}

Variable unsqueeze(const Variable& a, int64_t dim) {
  return reshape_like("UnsqueezeBackward", a, a.data().unsqueeze(dim));
}

Variable flatten(const Variable& a, int64_t start, int64_t end) {
  return reshape_like("FlattenBackward", a, a.data().flatten(start, end));
}

// out[i0, i1, ...] = a[i_dims...]: the inverse permutation sends each gradient dim home.
Variable permute(const Variable& a, const std::vector<int64_t>& dims) {
  const Tensor out = a.data().permute(dims);  // validates dims
  std::vector<int64_t> inverse(dims.size());
  for (size_t i = 0; i < dims.size(); ++i)
    inverse[size_t(wrap_dim(dims[i], int64_t(dims.size()), "permute"))] = int64_t(i);
  return record("PermuteBackward", {&a}, out,
                [inverse](const Tensor& g, const NeedsGrad&) -> std::vector<Tensor> {
                  return {g.permute(inverse)};
                });
}

// A transpose is its own inverse.
Variable transpose(const Variable& a, int64_t d0, int64_t d1) {
  return record("TransposeBackward", {&a}, a.data().transpose(d0, d1),
                [d0, d1](const Tensor& g, const NeedsGrad&) -> std::vector<Tensor> {
                  return {g.transpose(d0, d1)};
                });
}

// Elements the slice skipped had no effect on the output: their gradient is zero.
Variable slice(const Variable& a, int64_t dim, int64_t start, int64_t end, int64_t step) {
  const Shape in = a.shape();
  return record("SliceBackward", {&a}, a.data().slice(dim, start, end, step),
                [in, dim, start, end, step](const Tensor& g,
                                            const NeedsGrad&) -> std::vector<Tensor> {
                  Tensor grad = Tensor::zeros(in, g.dtype());
                  grad.slice(dim, start, end, step).copy_(g);
                  return {grad};
                });
}

// Broadcasting reads one element many times; its gradient is the sum over those reads.
Variable expand(const Variable& a, const Shape& shape) {
  const Shape in = a.shape();
  return record("ExpandBackward", {&a}, a.data().expand(shape),
                [in](const Tensor& g, const NeedsGrad&) -> std::vector<Tensor> {
                  return {sum_to(g, in)};
                });
}

}  // namespace dl::ag
