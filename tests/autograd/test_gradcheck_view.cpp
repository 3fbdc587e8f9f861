// test_gradcheck_view.cpp — finite-difference checks of the view ops (autograd/ops/view.cpp).
// Each backward is the adjoint view; a random upstream gradient catches any element that the
// backward puts in the wrong place.
#include "gradcheck_cases.h"

using namespace dl;
using namespace dl::ag;
using namespace dl::ag::test;

GRADCHECK_CASE(reshape, MergeAndSplitDims) {
  return {[](const Vars& v) { return reshape(v[0], {4, -1}); }, {randn({2, 3, 4}, 1)}};
}

GRADCHECK_CASE(reshape, OfTransposedInput) {
  // A transposed view cannot be reshaped in place: the forward copies, the backward must not care.
  return {[](const Vars& v) { return reshape(transpose(v[0], 0, 1), {6}); }, {randn({2, 3}, 2)}};
}

GRADCHECK_CASE(permute, ThreeDims) {
  return {[](const Vars& v) { return permute(v[0], {2, 0, 1}); }, {randn({2, 3, 4}, 3)}};
}

GRADCHECK_CASE(transpose, FirstAndLastDims) {
  return {[](const Vars& v) { return transpose(v[0], 0, -1); }, {randn({2, 3, 4}, 4)}};
}

GRADCHECK_CASE(slice, EveryOtherRow) {
  return {[](const Vars& v) { return slice(v[0], 0, 1, 5, 2); }, {randn({5, 3}, 5)}};
}

GRADCHECK_CASE(slice, NegativeStartOnLastDim) {
  return {[](const Vars& v) { return slice(v[0], -1, -2, 4); }, {randn({3, 4}, 6)}};
}

GRADCHECK_CASE(expand, ColumnToBatchOfMatrices) {
  // [3,1] -> [2,3,4]: a new leading dim and a stretched one; the backward sums over both.
  return {[](const Vars& v) { return expand(v[0], {2, 3, 4}); }, {randn({3, 1}, 7)}};
}

GRADCHECK_CASE(squeeze, MiddleDim) {
  return {[](const Vars& v) { return squeeze(v[0], 1); }, {randn({2, 1, 3}, 8)}};
}

GRADCHECK_CASE(unsqueeze, LastDim) {
  return {[](const Vars& v) { return unsqueeze(v[0], -1); }, {randn({2, 3}, 9)}};
}

GRADCHECK_CASE(flatten, ChannelAndSpatialDims) {
  return {[](const Vars& v) { return flatten(v[0], 1); }, {randn({2, 3, 2, 2}, 10)}};
}
