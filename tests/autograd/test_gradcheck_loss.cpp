// test_gradcheck_loss.cpp — finite-difference checks of log_softmax and cross_entropy
// (autograd/ops/loss.cpp), with and without label smoothing.
#include "gradcheck_cases.h"

using namespace dl;
using namespace dl::ag;
using namespace dl::ag::test;

namespace {
Tensor labels(const std::vector<int64_t>& values) {
  return Tensor::from_vector(values, {int64_t(values.size())});
}
}  // namespace

GRADCHECK_CASE(log_softmax, LastDim) {
  return {[](const Vars& v) { return log_softmax(v[0], -1); }, {randn({3, 5}, 1)}};
}

GRADCHECK_CASE(log_softmax, MiddleDim) {
  // dim 1 of [2,4,3]: each softmax runs over 4 values spaced 3 apart in memory.
  return {[](const Vars& v) { return log_softmax(v[0], 1); }, {randn({2, 4, 3}, 2)}};
}

GRADCHECK_CASE(cross_entropy, MeanOverBatch) {
  const Tensor y = labels({0, 3, 4, 1});
  return {[y](const Vars& v) { return cross_entropy(v[0], y); }, {randn({4, 5}, 3)}};
}

GRADCHECK_CASE(cross_entropy, LabelSmoothing) {
  const Tensor y = labels({2, 2, 0});
  return {[y](const Vars& v) { return cross_entropy(v[0], y, /*label_smoothing=*/0.1); },
          {randn({3, 4}, 4)}};
}
