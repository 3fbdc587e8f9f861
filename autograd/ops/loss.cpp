// loss.cpp — differentiable log_softmax and cross-entropy (tutorial chapter 4).
// log_softmax saves its output (softmax = exp of it). cross_entropy is one fused node rather
// than log_softmax + gather + mean: its gradient (softmax - target) / N is simpler and more
// accurate than the chain of three backward functions.
#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/softmax.h"

namespace dl::ag {

Variable log_softmax(const Variable& x, int64_t dim) {
  const Tensor y = log_softmax_forward(x.data(), dim);
  return record("LogSoftmaxBackward", {&x}, y,
                [y, dim](const Tensor& g, const NeedsGrad&) -> std::vector<Tensor> {
                  return {log_softmax_backward(g, y, dim)};
                });
}

Variable cross_entropy(const Variable& logits, const Tensor& labels, double label_smoothing) {
  CrossEntropyResult r = cross_entropy_forward(logits.data(), labels, label_smoothing);
  // A private copy of the labels: a data loader may refill its label buffer for the next
  // batch before this backward runs.
  return record("CrossEntropyBackward", {&logits}, r.loss,
                [log_probs = r.log_probs, labels = labels.clone(), label_smoothing](
                    const Tensor& g, const NeedsGrad&) -> std::vector<Tensor> {
                  return {cross_entropy_backward(g.item(), log_probs, labels, label_smoothing)};
                });
}

}  // namespace dl::ag
