// test_gradcheck_reduce.cpp — finite-difference checks of the reductions
// (autograd/ops/reduce.cpp) over all dims and over dim subsets, with keepdim true and false.
#include "gradcheck_cases.h"

using namespace dl;
using namespace dl::ag;
using namespace dl::ag::test;

GRADCHECK_CASE(sum, AllElements) {
  return {[](const Vars& v) { return sum(v[0]); }, {randn({2, 3, 4}, 1)}};
}

GRADCHECK_CASE(sum, DimsZeroAndTwo) {
  return {[](const Vars& v) { return sum(v[0], {0, 2}); }, {randn({2, 3, 4}, 2)}};
}

GRADCHECK_CASE(sum, LastDimKeepdim) {
  return {[](const Vars& v) { return sum(v[0], {-1}, /*keepdim=*/true); }, {randn({2, 3, 4}, 3)}};
}

GRADCHECK_CASE(mean, AllElements) {
  return {[](const Vars& v) { return mean(v[0]); }, {randn({2, 3, 4}, 4)}};
}

GRADCHECK_CASE(mean, DimsZeroAndTwoKeepdim) {
  return {[](const Vars& v) { return mean(v[0], {0, 2}, /*keepdim=*/true); },
          {randn({2, 3, 4}, 5)}};
}

GRADCHECK_CASE(mean, DimOne) {
  return {[](const Vars& v) { return mean(v[0], {1}); }, {randn({2, 3, 4}, 6)}};
}

// max needs distinct values: a tie would split the gradient, and the finite difference would
// see only the element that moved.
GRADCHECK_CASE(max, AllElements) {
  return {[](const Vars& v) { return max(v[0]); }, {distinct({2, 3, 4}, 7)}};
}

GRADCHECK_CASE(max, DimOne) {
  return {[](const Vars& v) { return max(v[0], {1}); }, {distinct({2, 3, 4}, 8)}};
}

GRADCHECK_CASE(max, DimsZeroAndTwoKeepdim) {
  return {[](const Vars& v) { return max(v[0], {0, 2}, /*keepdim=*/true); },
          {distinct({2, 3, 4}, 9)}};
}

GRADCHECK_CASE(var, UnbiasedDimOne) {
  return {[](const Vars& v) { return var(v[0], {1}); }, {randn({2, 3, 4}, 10)}};
}

GRADCHECK_CASE(var, BiasedDimsZeroAndTwoKeepdim) {
  return {[](const Vars& v) { return var(v[0], {0, 2}, /*unbiased=*/false, /*keepdim=*/true); },
          {randn({2, 3, 4}, 11)}};
}

GRADCHECK_CASE(var, AllElements) {
  return {[](const Vars& v) { return var(v[0]); }, {randn({3, 4}, 12)}};
}
