// loss.cpp — cross-entropy wrapper and top-k metrics (tutorial chapter 6).
#include "nn/loss.h"

#include <stdexcept>
#include <string>

#include "autograd/ops.h"

namespace dl::nn {

ag::Variable cross_entropy_loss(const ag::Variable& logits, const Tensor& labels,
                                double label_smoothing) {
  if (!(label_smoothing >= 0.0 && label_smoothing <= 1.0))
    throw std::invalid_argument("cross_entropy_loss: label_smoothing=" +
                                std::to_string(label_smoothing) + " is outside [0, 1]");
  return ag::cross_entropy(logits, labels, label_smoothing);
}

int64_t topk_correct(const Tensor& logits, const Tensor& labels, int k) {
  if (logits.dim() != 2 || !is_floating(logits.dtype()))
    throw std::invalid_argument("topk_correct: expected float logits [N, K], got " +
                                std::string(dtype_name(logits.dtype())) + " " +
                                shape_str(logits.shape()));
  if (labels.dim() != 1 || labels.dtype() != DType::Int64 || labels.size(0) != logits.size(0))
    throw std::invalid_argument("topk_correct: expected int64 labels [" +
                                std::to_string(logits.size(0)) + "] for logits " +
                                shape_str(logits.shape()) + ", got " +
                                dtype_name(labels.dtype()) + " " + shape_str(labels.shape()));
  const int64_t n = logits.size(0), classes = logits.size(1);
  if (k < 1 || k > classes)
    throw std::invalid_argument("topk_correct: k=" + std::to_string(k) + " is outside [1, " +
                                std::to_string(classes) + "]");
  // One contiguous double copy: exact for float32 inputs, and the loop below is O(N·K),
  // which for K = 10 or 100 is cheaper than sorting each row.
  const Tensor x = logits.to(DType::Float64).contiguous();
  const Tensor y = labels.contiguous();
  const double* px = x.data<double>();
  const int64_t* py = y.data<int64_t>();
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = py[i];
    if (label < 0 || label >= classes)
      throw std::invalid_argument("topk_correct: label " + std::to_string(label) +
                                  " at position " + std::to_string(i) + " is outside [0, " +
                                  std::to_string(classes) + ")");
    const double* row = px + i * classes;
    const double target = row[label];
    // rank = how many classes come before the label in a stable descending sort.
    int64_t rank = 0;
    for (int64_t c = 0; c < classes; ++c)
      if (row[c] > target || (row[c] == target && c < label)) ++rank;
    if (rank < k) ++correct;
  }
  return correct;
}

double topk_accuracy(const Tensor& logits, const Tensor& labels, int k) {
  const int64_t correct = topk_correct(logits, labels, k);
  const int64_t n = logits.size(0);
  return n == 0 ? 0.0 : static_cast<double>(correct) / static_cast<double>(n);
}

}  // namespace dl::nn
