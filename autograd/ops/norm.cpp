// norm.cpp — differentiable batch normalisation and dropout (tutorial chapter 4).
// BatchNorm's node saves only the per-channel mean and inv_std beside x (which the input
// Variable holds anyway), as llm.c's layernorm keeps mean and rstd; the backward formula is in
// tensor/batch_norm.h. batch_norm_relu saves the same: its backward rebuilds the ReLU mask
// from x. Dropout saves its scaled mask: grad_x = grad_y ⊙ mask.
#include <stdexcept>
#include <string>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/batch_norm.h"
#include "tensor/ops.h"

namespace dl::ag {

namespace {

Variable batch_norm_impl(const Variable& x, const Variable& weight, const Variable& bias,
                         Tensor& running_mean, Tensor& running_var, bool training,
                         double momentum, double eps, bool relu) {
  const Tensor gamma = weight.defined() ? weight.data() : Tensor();
  const Tensor beta = bias.defined() ? bias.data() : Tensor();
  const BatchNormResult r =
      training ? batch_norm_train_forward(x.data(), gamma, beta, running_mean, running_var,
                                          momentum, eps, relu)
               : batch_norm_eval_forward(x.data(), gamma, beta, running_mean, running_var, eps,
                                         relu);
  // In training the statistics are functions of x, which couples the samples of the batch;
  // in eval they are constants and the op is a per-channel affine map.
  const char* name = relu ? (training ? "BatchNormReluBackward" : "BatchNormReluEvalBackward")
                          : (training ? "BatchNormBackward" : "BatchNormEvalBackward");
  return record(name, {&x, &weight, &bias}, r.y,
                [xd = x.data(), mean = r.mean, inv_std = r.inv_std, gamma, beta, training, relu](
                    const Tensor& g, const NeedsGrad& needs) -> std::vector<Tensor> {
                  BatchNormGrads grads =
                      batch_norm_backward(g, xd, mean, inv_std, gamma, training, needs[0],
                                          needs[1], needs[2], relu, beta);
                  return {grads.grad_x, grads.grad_gamma, grads.grad_beta};
                });
}

}  // namespace

Variable batch_norm(const Variable& x, const Variable& weight, const Variable& bias,
                    Tensor& running_mean, Tensor& running_var, bool training, double momentum,
                    double eps) {
  return batch_norm_impl(x, weight, bias, running_mean, running_var, training, momentum, eps,
                         /*relu=*/false);
}

Variable batch_norm_relu(const Variable& x, const Variable& weight, const Variable& bias,
                         Tensor& running_mean, Tensor& running_var, bool training,
                         double momentum, double eps) {
  return batch_norm_impl(x, weight, bias, running_mean, running_var, training, momentum, eps,
                         /*relu=*/true);
}

Variable dropout(const Variable& x, double p, bool training, Generator& gen) {
  if (!(p >= 0.0 && p <= 1.0))
    throw std::invalid_argument("dropout: probability must be in [0, 1], got " +
                                std::to_string(p));
  if (!training || p == 0.0) return x;  // identity: no node, no mask drawn
  const Tensor xd = x.data();
  // Inverted dropout: keep with probability 1-p and scale by 1/(1-p), so the expected value
  // of each output equals its input and eval mode needs no rescaling.
  Tensor mask = Tensor::uniform(xd.shape(), 0.0, 1.0, gen, xd.dtype());
  const double keep_scale = p < 1.0 ? 1.0 / (1.0 - p) : 0.0;
  dispatch_floating(xd.dtype(), "dropout", [&](auto tag) {
    using T = decltype(tag);
    T* m = mask.data<T>();
    const int64_t n = mask.numel();
    for (int64_t i = 0; i < n; ++i) m[i] = double(m[i]) >= p ? T(keep_scale) : T(0);
  });
  return record("DropoutBackward", {&x}, dl::mul(xd, mask),
                [mask](const Tensor& g, const NeedsGrad&) -> std::vector<Tensor> {
                  return {dl::mul(g, mask)};
                });
}

}  // namespace dl::ag
