// test_gradcheck_conv.cpp — finite-difference checks of conv2d (autograd/ops/conv.cpp):
// stride, padding and dilation together, no bias, rectangular settings, 1x1, the direct
// reference kernels, and a frozen input (only the parameters differentiated). Inputs have
// std 0.5 and weights std 1/sqrt(fan_in), as after initialisation (see conv_weight()).
#include "gradcheck_cases.h"

using namespace dl;
using namespace dl::ag;
using namespace dl::ag::test;

GRADCHECK_CASE(conv2d, StrideTwoPaddingDilationBias) {
  // [2,3,7,8] * [4,3,3,3], stride 2, pad 1, dilation 2 -> [2,4,3,3]
  const Conv2dArgs args = Conv2dArgs::square(/*stride=*/2, /*pad=*/1, /*dilation=*/2);
  return {[args](const Vars& v) { return conv2d(v[0], v[1], v[2], args); },
          {randn({2, 3, 7, 8}, 1, 0.5), conv_weight({4, 3, 3, 3}, 2), randn({4}, 3, 0.5)}};
}

GRADCHECK_CASE(conv2d, WithoutBias) {
  const Conv2dArgs args = Conv2dArgs::square(1, 1);
  return {[args](const Vars& v) { return conv2d(v[0], v[1], Variable(), args); },
          {randn({2, 2, 5, 5}, 4, 0.5), conv_weight({3, 2, 3, 3}, 5)}};
}

GRADCHECK_CASE(conv2d, RectangularKernelStridePaddingDilation) {
  Conv2dArgs args;
  args.stride_h = 2;
  args.stride_w = 1;
  args.pad_h = 0;
  args.pad_w = 1;
  args.dil_h = 1;
  args.dil_w = 2;
  return {[args](const Vars& v) { return conv2d(v[0], v[1], v[2], args); },
          {randn({1, 2, 6, 5}, 6, 0.5), conv_weight({3, 2, 2, 3}, 7), randn({3}, 8, 0.5)}};
}

GRADCHECK_CASE(conv2d, PointwiseOneByOne) {
  const Conv2dArgs args;
  return {[args](const Vars& v) { return conv2d(v[0], v[1], v[2], args); },
          {randn({2, 3, 4, 4}, 9, 0.5), conv_weight({5, 3, 1, 1}, 10), randn({5}, 11, 0.5)}};
}

GRADCHECK_CASE(conv2d, DirectReferenceKernels) {
  Conv2dArgs args = Conv2dArgs::square(2, 1);
  args.algo = kernels::ConvAlgo::Direct;
  return {[args](const Vars& v) { return conv2d(v[0], v[1], v[2], args); },
          {randn({2, 2, 5, 5}, 12, 0.5), conv_weight({3, 2, 3, 3}, 13), randn({3}, 14, 0.5)}};
}

GRADCHECK_CASE(conv2d, FrozenInputOnlyParametersNeedGrad) {
  // The first layer of a network: the image needs no gradient, so grad_x is never computed.
  const Conv2dArgs args = Conv2dArgs::square(1, 1);
  return {[args](const Vars& v) { return conv2d(v[0], v[1], v[2], args); },
          {randn({2, 3, 4, 4}, 15, 0.5), conv_weight({2, 3, 3, 3}, 16), randn({2}, 17, 0.5)},
          {false, true, true}};
}
