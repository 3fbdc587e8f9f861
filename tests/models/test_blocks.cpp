// Tests for models/blocks: shapes and child names of every unit, the three shortcut options,
// plain units, and gradient checks (float64) of v1 and v2 units through input and parameters.
#include "models/blocks.h"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>

#include "models_test_util.h"

namespace {

using dl::DType;
using dl::Shape;
using dl::Tensor;
using dl::ag::Variable;
using namespace dl::models;
using dl::models::testing::gradcheck_input;
using dl::models::testing::keys_of;
using dl::models::testing::param_grad_error;
using dl::models::testing::randn64;

Shape out_shape(dl::nn::Module& m, const Shape& in) {
  return m(Variable(Tensor::zeros(in))).shape();
}

TEST(Blocks, OutputShapes) {
  BasicBlock basic(16, 32, 2, Shortcut::A);
  EXPECT_EQ(out_shape(basic, {2, 16, 8, 8}), (Shape{2, 32, 4, 4}));
  Bottleneck bottleneck(64, 32, 2, Shortcut::B);
  EXPECT_EQ(out_shape(bottleneck, {2, 64, 8, 8}), (Shape{2, 128, 4, 4}));
  PreActBasicBlock preact(8, 8, 1, Shortcut::B);
  EXPECT_EQ(out_shape(preact, {2, 8, 5, 5}), (Shape{2, 8, 5, 5}));
  PreActBottleneck preact_bottleneck(16, 16, 2, Shortcut::B);
  EXPECT_EQ(out_shape(preact_bottleneck, {1, 16, 7, 7}), (Shape{1, 64, 4, 4}));
  PlainBasicBlock plain(8, 16, 2);
  EXPECT_EQ(out_shape(plain, {2, 8, 6, 6}), (Shape{2, 16, 3, 3}));
}

TEST(Blocks, TorchvisionChildNamesAndKeyOrder) {
  Bottleneck b(64, 64, 1, Shortcut::B);  // 64 -> 256: projection even at stride 1
  const std::vector<std::string> expected = {
      "conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
      "bn1.num_batches_tracked", "conv2.weight", "bn2.weight", "bn2.bias", "bn2.running_mean",
      "bn2.running_var", "bn2.num_batches_tracked", "conv3.weight", "bn3.weight", "bn3.bias",
      "bn3.running_mean", "bn3.running_var", "bn3.num_batches_tracked",
      "downsample.0.weight", "downsample.1.weight", "downsample.1.bias",
      "downsample.1.running_mean", "downsample.1.running_var",
      "downsample.1.num_batches_tracked"};
  EXPECT_EQ(keys_of(b.state_dict()), expected);
}

TEST(Blocks, BottleneckStrideSitsOnThe3x3) {
  // torchvision v1.5: conv1 (1x1) keeps the resolution, conv2 (3x3) carries the stride.
  Bottleneck b(64, 16, 2, Shortcut::B);
  auto& conv1 = dynamic_cast<dl::nn::Conv2d&>(b.child("conv1"));
  auto& conv2 = dynamic_cast<dl::nn::Conv2d&>(b.child("conv2"));
  EXPECT_EQ(conv1.stride(), 1);
  EXPECT_EQ(conv2.stride(), 2);
  EXPECT_EQ(conv2.kernel_size(), 3);
}

TEST(Blocks, ConvolutionsHaveNoBias) {
  for (auto block : {std::shared_ptr<ResidualBlock>(std::make_shared<BasicBlock>(4, 8, 2)),
                     std::shared_ptr<ResidualBlock>(std::make_shared<PreActBottleneck>(4, 2, 2))})
    for (auto& [name, m] : block->named_modules()) {
      if (auto* conv = dynamic_cast<dl::nn::Conv2d*>(m)) {
        EXPECT_FALSE(conv->bias().defined()) << name;
      }
    }
}

// Parameter counts of one 16 -> 32, stride-2 BasicBlock under each option: residual branch
// 16·32·9 + 32·32·9 + 2·(2·32) = 13,952; a projection adds 16·32 + 2·32 = 576.
TEST(Blocks, ShortcutOptionsAtAShapeChange) {
  EXPECT_EQ(BasicBlock(16, 32, 2, Shortcut::A).num_parameters(), 13952);
  EXPECT_EQ(BasicBlock(16, 32, 2, Shortcut::AAppend).num_parameters(), 13952);
  EXPECT_EQ(BasicBlock(16, 32, 2, Shortcut::B).num_parameters(), 13952 + 576);
  EXPECT_EQ(BasicBlock(16, 32, 2, Shortcut::C).num_parameters(), 13952 + 576);
  EXPECT_EQ(PlainBasicBlock(16, 32, 2).num_parameters(), 13952);
}

// Where the shape is unchanged only option C projects (32·32 + 2·32 = 1,088 more).
TEST(Blocks, ShortcutOptionsWithoutShapeChange) {
  const int64_t branch = 2 * 32 * 32 * 9 + 2 * 2 * 32;
  EXPECT_EQ(BasicBlock(32, 32, 1, Shortcut::A).num_parameters(), branch);
  EXPECT_EQ(BasicBlock(32, 32, 1, Shortcut::B).num_parameters(), branch);
  EXPECT_FALSE(BasicBlock(32, 32, 1, Shortcut::B).has_projection());
  EXPECT_EQ(BasicBlock(32, 32, 1, Shortcut::C).num_parameters(), branch + 1088);
  // Pre-activation projections are a bare 1x1 conv (their input is already normalised).
  EXPECT_EQ(PreActBasicBlock(32, 32, 1, Shortcut::C).num_parameters(), branch + 1024);
}

TEST(Blocks, OptionAIsIdentityPlusZeroChannels) {
  // With the residual branch silenced (bn2 gamma = beta = 0), the block computes
  // ReLU(shortcut(x)): the subsampled x in the middle channels (symmetric) or the first ones
  // (append), zeros elsewhere.
  for (Shortcut s : {Shortcut::A, Shortcut::AAppend}) {
    BasicBlock b(2, 4, 2, s);
    b.last_bn().weight().data().zero_();
    b.eval();
    const Tensor x = Tensor::arange(2 * 4 * 4).reshape({1, 2, 4, 4});  // non-negative
    const Tensor y = b(Variable(x)).data();
    const int64_t first = s == Shortcut::A ? 1 : 0;
    for (int64_t c = 0; c < 4; ++c)
      for (int64_t i = 0; i < 2; ++i)
        for (int64_t j = 0; j < 2; ++j) {
          const bool real = c >= first && c < first + 2;
          const double want = real ? x.at({0, c - first, 2 * i, 2 * j}) : 0.0;
          EXPECT_DOUBLE_EQ(y.at({0, c, i, j}), want) << shortcut_name(s) << " c=" << c;
        }
  }
}

TEST(Blocks, PlainBlockHasNoShortcut) {
  // Silencing the branch of a plain block leaves nothing: ReLU(0) = 0.
  PlainBasicBlock b(4, 4, 1);
  b.last_bn().weight().data().zero_();
  b.eval();
  const Tensor y = b(Variable(Tensor::ones({1, 4, 3, 3}))).data();
  for (double v : y.to_vector()) EXPECT_EQ(v, 0.0);
  EXPECT_EQ(b.type_name(), "PlainBasicBlock");
}

TEST(Blocks, PreActIdentityPathIsClean) {
  // x_{l+1} = x_l + F(x_l): with conv2 zeroed the unit is exactly the identity, negative
  // values included (a v1 unit would clip them with its final ReLU).
  PreActBasicBlock b(3, 3, 1, Shortcut::B);
  dynamic_cast<dl::nn::Conv2d&>(b.child("conv2")).weight().data().zero_();
  const Tensor x = randn64({2, 3, 4, 4}, 5).to(DType::Float32);
  const Tensor y = b(Variable(x)).data();
  EXPECT_EQ(y.to_vector(), x.to_vector());
}

TEST(Blocks, ParseShortcut) {
  EXPECT_EQ(parse_shortcut("A"), Shortcut::A);
  EXPECT_EQ(parse_shortcut("a-append"), Shortcut::AAppend);
  EXPECT_EQ(parse_shortcut("b"), Shortcut::B);
  EXPECT_EQ(parse_shortcut("C"), Shortcut::C);
  for (Shortcut s : {Shortcut::A, Shortcut::AAppend, Shortcut::B, Shortcut::C, Shortcut::None})
    EXPECT_EQ(parse_shortcut(shortcut_name(s)), s);
  EXPECT_THROW(parse_shortcut("D"), std::invalid_argument);
  EXPECT_THROW(BasicBlock(8, 4, 1, Shortcut::A), std::invalid_argument);  // A cannot drop channels
}

// ---- gradient checks in float64, BN in training mode (batch statistics couple the samples)

struct GradCase {
  const char* name;
  std::shared_ptr<ResidualBlock> block;
  Shape input;
};

class BlockGradcheck : public ::testing::TestWithParam<int> {};

std::vector<GradCase> grad_cases() {
  return {
      {"BasicBlock identity", std::make_shared<BasicBlock>(3, 3, 1, Shortcut::B), {2, 3, 4, 4}},
      {"BasicBlock option A", std::make_shared<BasicBlock>(2, 4, 2, Shortcut::A), {2, 2, 5, 5}},
      {"BasicBlock option B", std::make_shared<BasicBlock>(2, 4, 2, Shortcut::B), {2, 2, 5, 5}},
      {"Bottleneck option B", std::make_shared<Bottleneck>(4, 2, 2, Shortcut::B), {2, 4, 4, 4}},
      {"PreActBasicBlock identity", std::make_shared<PreActBasicBlock>(3, 3, 1), {2, 3, 4, 4}},
      {"PreActBasicBlock option B", std::make_shared<PreActBasicBlock>(2, 4, 2), {2, 2, 5, 5}},
      {"PreActBottleneck option C", std::make_shared<PreActBottleneck>(4, 1, 1, Shortcut::C),
       {2, 4, 4, 4}},
      {"PlainBasicBlock", std::make_shared<PlainBasicBlock>(2, 3, 2), {2, 2, 4, 4}},
  };
}

TEST_P(BlockGradcheck, InputAndParameters) {
  GradCase c = grad_cases()[GetParam()];
  c.block->to(DType::Float64);
  // Random BN affine parameters, so that gamma and beta are not at their special values.
  uint64_t seed = 10;
  for (auto& [name, p] : c.block->named_parameters())
    if (p.dim() == 1) p.data().copy_(randn64(p.shape(), ++seed));
  const Tensor x = randn64(c.input, 7);
  // A block chains up to ten ops, BN's mean and variance among them, so L(x ± h) carries
  // forward rounding of ~1e-15; with h = 1e-6 that is ~1e-9 in the difference quotient, too
  // close to the 1e-6 tolerance. h = 1e-5 balances it against the O(h²) truncation error
  // (the optimal step for central differences is near ε^(1/3) ≈ 6e-6).
  dl::ag::GradcheckOptions opt;
  opt.eps = 1e-5;
  const dl::ag::GradcheckResult r = gradcheck_input(*c.block, x, opt);
  EXPECT_TRUE(r.ok) << c.name << ": " << r.report;
  std::string where;
  EXPECT_LT(param_grad_error(*c.block, x, &where, 6, 1e-5), 1e-6) << c.name << ": " << where;
}

INSTANTIATE_TEST_SUITE_P(Units, BlockGradcheck, ::testing::Range(0, 8));

}  // namespace
