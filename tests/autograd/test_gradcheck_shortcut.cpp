// test_gradcheck_shortcut.cpp — the option-A ResNet shortcut (autograd/ops/shortcut.cpp):
// finite-difference checks for both channel layouts, and its forward layout on small numbers.
#include "gradcheck_cases.h"

using namespace dl;
using namespace dl::ag;
using namespace dl::ag::test;

GRADCHECK_CASE(shortcut_a, SymmetricStrideTwoOddHeight) {
  // [2,4,5,6] -> [2,8,3,3]: rows 0,2,4 and columns 0,2,4 kept; 2 zero channels each side.
  return {[](const Vars& v) { return shortcut_a(v[0], 8, 2); }, {randn({2, 4, 5, 6}, 1)}};
}

GRADCHECK_CASE(shortcut_a, SymmetricOddChannelDifference) {
  return {[](const Vars& v) { return shortcut_a(v[0], 6, 2); }, {randn({1, 3, 4, 4}, 2)}};
}

GRADCHECK_CASE(shortcut_a, AppendedZeroChannels) {
  return {[](const Vars& v) { return shortcut_a(v[0], 7, 2, /*symmetric=*/false); },
          {randn({1, 3, 4, 4}, 3)}};
}

GRADCHECK_CASE(shortcut_a, StrideOneOnlyPadsChannels) {
  return {[](const Vars& v) { return shortcut_a(v[0], 4, 1); }, {randn({2, 2, 3, 3}, 4)}};
}

TEST(ShortcutA, SymmetricLayoutPutsHalfTheZerosBeforeTheInput) {
  // One channel holding 0..15 in a 4x4 plane; stride 2 keeps 0, 2, 8, 10.
  const Tensor x = Tensor::arange(16, DType::Float64).reshape({1, 1, 4, 4});
  const Variable y = shortcut_a(Variable(x), /*out_channels=*/4, /*stride=*/2);
  ASSERT_EQ(y.shape(), (Shape{1, 4, 2, 2}));
  // (4 - 1) / 2 = 1 zero channel before, 2 after.
  EXPECT_EQ(y.data().to_vector(), (std::vector<double>{0, 0, 0, 0,     // zero channel
                                                       0, 2, 8, 10,    // x[:, :, ::2, ::2]
                                                       0, 0, 0, 0,     // zero channel
                                                       0, 0, 0, 0}));  // zero channel
}

TEST(ShortcutA, AppendLayoutPutsAllZerosAfterTheInput) {
  const Tensor x = Tensor::arange(16, DType::Float64).reshape({1, 1, 4, 4});
  const Variable y = shortcut_a(Variable(x), 2, 2, /*symmetric=*/false);
  EXPECT_EQ(y.data().to_vector(), (std::vector<double>{0, 2, 8, 10, 0, 0, 0, 0}));
}
