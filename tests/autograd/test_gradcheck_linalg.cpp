// test_gradcheck_linalg.cpp — finite-difference checks of matmul, linear, concat and pad
// (autograd/ops/linalg.cpp), including matmul's 1-d and broadcast-batch cases.
#include "gradcheck_cases.h"

using namespace dl;
using namespace dl::ag;
using namespace dl::ag::test;

namespace {
GradcheckFn matmul_fn() {
  return [](const Vars& v) { return matmul(v[0], v[1]); };
}
}  // namespace

GRADCHECK_CASE(matmul, Matrices) { return {matmul_fn(), {randn({3, 4}, 1), randn({4, 2}, 2)}}; }

GRADCHECK_CASE(matmul, BatchedWithBroadcast) {
  // [2,1,3,4]·[3,4,2] -> [2,3,3,2]: b's gradient sums over the broadcast leading dim.
  return {matmul_fn(), {randn({2, 1, 3, 4}, 3), randn({3, 4, 2}, 4)}};
}

GRADCHECK_CASE(matmul, VectorTimesMatrix) {
  return {matmul_fn(), {randn({4}, 5), randn({4, 3}, 6)}};
}

GRADCHECK_CASE(matmul, MatrixTimesVector) {
  return {matmul_fn(), {randn({3, 4}, 7), randn({4}, 8)}};
}

GRADCHECK_CASE(matmul, DotProduct) { return {matmul_fn(), {randn({5}, 9), randn({5}, 10)}}; }

GRADCHECK_CASE(matmul, BatchTimesVector) {
  return {matmul_fn(), {randn({2, 3, 4}, 11), randn({4}, 12)}};
}

GRADCHECK_CASE(linear, WithBias) {
  return {[](const Vars& v) { return linear(v[0], v[1], v[2]); },
          {randn({5, 4}, 13), randn({3, 4}, 14), randn({3}, 15)}};
}

GRADCHECK_CASE(linear, WithoutBias) {
  return {[](const Vars& v) { return linear(v[0], v[1], Variable()); },
          {randn({5, 4}, 16), randn({3, 4}, 17)}};
}

GRADCHECK_CASE(linear, BatchOfSequences) {
  return {[](const Vars& v) { return linear(v[0], v[1], v[2]); },
          {randn({2, 3, 4}, 18), randn({3, 4}, 19), randn({3}, 20)}};
}

GRADCHECK_CASE(concat, ThreeInputsAlongDimOne) {
  return {[](const Vars& v) { return concat({v[0], v[1], v[2]}, 1); },
          {randn({2, 1, 3}, 21), randn({2, 3, 3}, 22), randn({2, 2, 3}, 23)}};
}

GRADCHECK_CASE(pad, LeadingDims) {
  return {[](const Vars& v) { return pad(v[0], {1, 0, 2, 1}); }, {randn({2, 3}, 24)}};
}

GRADCHECK_CASE(pad, SpatialDimsOfImage) {
  return {[](const Vars& v) { return pad(v[0], {0, 0, 0, 0, 1, 1, 2, 0}); },
          {randn({1, 2, 3, 3}, 25)}};
}
