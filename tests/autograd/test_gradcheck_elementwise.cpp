// test_gradcheck_elementwise.cpp — finite-difference checks of the elementwise ops
// (autograd/ops/elementwise.cpp). Binary ops are checked with broadcasting, where the backward
// pass must sum the gradient over the broadcast dims. Inputs stay off kinks and poles.
#include "gradcheck_cases.h"

using namespace dl;
using namespace dl::ag;
using namespace dl::ag::test;

GRADCHECK_CASE(add, SameShape) {
  return {[](const Vars& v) { return add(v[0], v[1]); }, {randn({2, 3}, 1), randn({2, 3}, 2)}};
}

GRADCHECK_CASE(add, BroadcastColumnAgainstRow) {
  // [2,3,1] + [4] -> [2,3,4]: a's grad sums over the last dim, b's over the first two.
  return {[](const Vars& v) { return add(v[0], v[1]); }, {randn({2, 3, 1}, 3), randn({4}, 4)}};
}

GRADCHECK_CASE(sub, Broadcast) {
  return {[](const Vars& v) { return sub(v[0], v[1]); }, {randn({4}, 5), randn({2, 3, 1}, 6)}};
}

GRADCHECK_CASE(mul, Broadcast) {
  return {[](const Vars& v) { return mul(v[0], v[1]); }, {randn({2, 3, 1}, 7), randn({4}, 8)}};
}

GRADCHECK_CASE(div, BroadcastPositiveDenominator) {
  return {[](const Vars& v) { return div(v[0], v[1]); },
          {randn({2, 3, 1}, 9), uniform({4}, 0.5, 2.0, 10)}};
}

// Values on a 0.01 grid, shifted by 0.005 for b: a and b never tie.
GRADCHECK_CASE(maximum, BroadcastWithoutTies) {
  return {[](const Vars& v) { return maximum(v[0], v[1]); },
          {distinct({2, 3, 1}, 11), affine(distinct({4}, 12), 1.0, 0.005)}};
}

GRADCHECK_CASE(minimum, BroadcastWithoutTies) {
  return {[](const Vars& v) { return minimum(v[0], v[1]); },
          {distinct({2, 3, 1}, 13), affine(distinct({4}, 14), 1.0, 0.005)}};
}

GRADCHECK_CASE(neg, Matrix) {
  return {[](const Vars& v) { return neg(v[0]); }, {randn({2, 3}, 15)}};
}

GRADCHECK_CASE(exp, Matrix) {
  return {[](const Vars& v) { return exp(v[0]); }, {randn({2, 3}, 16)}};
}

GRADCHECK_CASE(log, PositiveInputs) {
  return {[](const Vars& v) { return log(v[0]); }, {uniform({2, 3}, 0.5, 3.0, 17)}};
}

GRADCHECK_CASE(sqrt, PositiveInputs) {
  return {[](const Vars& v) { return sqrt(v[0]); }, {uniform({2, 3}, 0.5, 3.0, 18)}};
}

GRADCHECK_CASE(abs, InputsAwayFromZero) {
  return {[](const Vars& v) { return abs(v[0]); }, {away_from_zero({2, 3}, 19)}};
}

GRADCHECK_CASE(pow, FractionalExponentPositiveBase) {
  return {[](const Vars& v) { return pow(v[0], 2.5); }, {uniform({2, 3}, 0.5, 2.0, 20)}};
}

GRADCHECK_CASE(pow, CubeOfSignedBase) {
  return {[](const Vars& v) { return pow(v[0], 3.0); }, {away_from_zero({2, 3}, 21)}};
}

GRADCHECK_CASE(relu, InputsAwayFromZero) {
  return {[](const Vars& v) { return relu(v[0]); }, {away_from_zero({3, 4}, 22)}};
}

GRADCHECK_CASE(add_relu, SumsAwayFromZero) {
  // a is at least 0.2 from zero and |b| < 0.1, so a + b stays clear of the kink and both
  // signs occur: the gradient passes where a + b > 0 and is zero elsewhere, for a and b.
  return {[](const Vars& v) { return add_relu(v[0], v[1]); },
          {away_from_zero({3, 4}, 24, 0.2), uniform({3, 4}, -0.1, 0.1, 25)}};
}

GRADCHECK_CASE(add_relu, BroadcastRowAgainstMatrix) {
  return {[](const Vars& v) { return add_relu(v[0], v[1]); },
          {away_from_zero({2, 3, 4}, 26, 0.2), uniform({4}, -0.1, 0.1, 27)}};
}

GRADCHECK_CASE(add_scalar, Matrix) {
  return {[](const Vars& v) { return add_scalar(v[0], 1.5); }, {randn({2, 3}, 23)}};
}

GRADCHECK_CASE(mul_scalar, Matrix) {
  return {[](const Vars& v) { return mul_scalar(v[0], -2.5); }, {randn({2, 3}, 24)}};
}
