// test_gradcheck_pool.cpp — finite-difference checks of the pooling ops (autograd/ops/pool.cpp).
// Max pooling gets all-distinct inputs, so no window has a tie for its maximum.
#include "gradcheck_cases.h"

using namespace dl;
using namespace dl::ag;
using namespace dl::ag::test;

GRADCHECK_CASE(max_pool2d, Kernel3Stride2Pad1) {
  return {[](const Vars& v) { return max_pool2d(v[0], 3, 2, 1); }, {distinct({2, 2, 5, 5}, 1)}};
}

GRADCHECK_CASE(max_pool2d, Kernel2Stride2) {
  return {[](const Vars& v) { return max_pool2d(v[0], 2, 2); }, {distinct({1, 3, 4, 6}, 2)}};
}

GRADCHECK_CASE(max_pool2d, OverlappingWindowsShareWinners) {
  // Stride 1 < kernel 3: one input can win several windows; its gradients add up.
  return {[](const Vars& v) { return max_pool2d(v[0], 3, 1); }, {distinct({1, 2, 5, 5}, 3)}};
}

GRADCHECK_CASE(avg_pool2d, Kernel3Stride2Pad1) {
  return {[](const Vars& v) { return avg_pool2d(v[0], 3, 2, 1); }, {randn({2, 2, 5, 5}, 4)}};
}

GRADCHECK_CASE(avg_pool2d, Kernel2Stride2) {
  return {[](const Vars& v) { return avg_pool2d(v[0], 2, 2); }, {randn({1, 3, 4, 6}, 5)}};
}

GRADCHECK_CASE(adaptive_avg_pool2d, OverlappingWindows) {
  // 5x7 -> 3x2: rows [0,2) [1,4) [3,5), columns [0,4) [3,7) overlap.
  return {[](const Vars& v) { return adaptive_avg_pool2d(v[0], 3, 2); },
          {randn({2, 2, 5, 7}, 6)}};
}

GRADCHECK_CASE(adaptive_avg_pool2d, ToOneByOne) {
  return {[](const Vars& v) { return adaptive_avg_pool2d(v[0], 1, 1); },
          {randn({2, 3, 3, 4}, 7)}};
}

GRADCHECK_CASE(global_avg_pool2d, SmallBatch) {
  return {[](const Vars& v) { return global_avg_pool2d(v[0]); }, {randn({2, 3, 4, 5}, 8)}};
}
