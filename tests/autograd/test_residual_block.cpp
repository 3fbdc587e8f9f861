// test_residual_block.cpp — backpropagation through a ResNet basic block (tutorial chapter 7):
//   out = relu(bn2(conv2(relu(bn1(conv1(x))))) + x)
// x feeds two consumers (conv1 and the identity shortcut), so its gradient is the sum of
// both paths. Batch norm runs in training mode, which couples the samples of the batch.
#include "autograd/tape.h"
#include "gradcheck_cases.h"

using namespace dl;
using namespace dl::ag;
using namespace dl::ag::test;

namespace {

/// A 2-channel basic block on v = {x, w1, gamma1, beta1, w2, gamma2, beta2}.
struct BasicBlock {
  Tensor running_mean1 = Tensor::zeros({2}, DType::Float64);
  Tensor running_var1 = Tensor::ones({2}, DType::Float64);
  Tensor running_mean2 = Tensor::zeros({2}, DType::Float64);
  Tensor running_var2 = Tensor::ones({2}, DType::Float64);

  /// The residual branch F(x): conv-bn-relu-conv-bn.
  Variable branch(const Vars& v) {
    const Conv2dArgs same = Conv2dArgs::square(/*stride=*/1, /*pad=*/1);
    Variable h = conv2d(v[0], v[1], Variable(), same);
    h = relu(batch_norm(h, v[2], v[3], running_mean1, running_var1, /*training=*/true));
    h = conv2d(h, v[4], Variable(), same);
    return batch_norm(h, v[5], v[6], running_mean2, running_var2, /*training=*/true);
  }

  /// relu(F(x) + x).
  Variable forward(const Vars& v) { return relu(add(branch(v), v[0])); }
};

/// x [2,2,4,4], then conv1, bn1, conv2, bn2 parameters at the scale of a fresh network.
/// (Seeds 71-77: with these inputs the check passes with 5x margin for every upstream
/// gradient tried, DL_GRADCHECK_SEED=1001..1010; rounding noise in a deep composition is
/// within an order of magnitude of gradcheck's 1e-6.)
std::vector<Tensor> block_inputs() {
  return {randn({2, 2, 4, 4}, 71, 0.5),
          conv_weight({2, 2, 3, 3}, 72), uniform({2}, 0.5, 1.5, 73), randn({2}, 74, 0.1),
          conv_weight({2, 2, 3, 3}, 75), uniform({2}, 0.5, 1.5, 76), randn({2}, 77, 0.1)};
}

}  // namespace

TEST(ResidualBlock, GradientsOfEveryInputMatchFiniteDifferences) {
  auto block = std::make_shared<BasicBlock>();
  expect_gradcheck({[block](const Vars& v) { return block->forward(v); }, block_inputs()});
}

TEST(ResidualBlock, ShortcutAddsTheUpstreamGradientToTheBranchGradient) {
  // Without the final relu, out = F(x) + x, so grad_x = (dF/dx)ᵀ·u + u.
  BasicBlock block;
  std::vector<Tensor> in = block_inputs();
  const Tensor u = randn({2, 2, 4, 4}, 78);

  Variable x1(in[0], true);
  Vars v1{x1, Variable(in[1]), Variable(in[2]), Variable(in[3]),
          Variable(in[4]), Variable(in[5]), Variable(in[6])};
  add(block.branch(v1), x1).backward(u);

  Variable x2(in[0], true);
  Vars v2 = v1;
  v2[0] = x2;
  block.branch(v2).backward(u);

  EXPECT_TRUE(allclose(x1.grad(), add(x2.grad(), u), 1e-12, 1e-12));
}

TEST(ResidualBlock, TapeReadsLikeTheForwardCode) {
  BasicBlock block;
  std::vector<Tensor> in = block_inputs();
  Vars v;
  for (const Tensor& t : in) v.emplace_back(t, true);
  const auto tape = tape_of(block.forward(v));
  std::vector<std::string> names;
  for (const auto& node : tape) names.push_back(node->name);
  EXPECT_EQ(names, (std::vector<std::string>{"Conv2dBackward", "BatchNormBackward",
                                             "ReluBackward", "Conv2dBackward",
                                             "BatchNormBackward", "AddBackward",
                                             "ReluBackward"}));
}
