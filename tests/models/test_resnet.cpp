// Tests for models/resnet and the registry's model table: exact parameter counts against
// torchvision and the paper, MACs, output shapes of every family, and the initialisation.
#include "models/resnet.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "models/registry.h"
#include "models_test_util.h"
#include "nn/batchnorm.h"
#include "nn/conv2d.h"
#include "nn/summary.h"

namespace {

using dl::DType;
using dl::Shape;
using dl::Tensor;
using dl::ag::Variable;
using namespace dl::models;

int64_t params_of(const std::string& name, ModelOptions o = {}) {
  return create_model(name, o)->num_parameters();
}

// torchvision's numbers (sum(p.numel() for p in resnetN().parameters())).
TEST(ResNetParams, ImageNetMatchesTorchvision) {
  EXPECT_EQ(params_of("resnet18"), 11689512);
  EXPECT_EQ(params_of("resnet34"), 21797672);
  EXPECT_EQ(params_of("resnet50"), 25557032);
  EXPECT_EQ(params_of("resnet101"), 44549160);
  EXPECT_EQ(params_of("resnet152"), 60192808);
}

// The paper's CIFAR nets with option A (0.27M, 0.46M, 0.66M, 0.85M, 1.7M in its Table 6).
TEST(ResNetParams, CifarOptionA) {
  EXPECT_EQ(params_of("resnet20"), 269722);
  EXPECT_EQ(params_of("resnet32"), 464154);
  EXPECT_EQ(params_of("resnet44"), 658586);
  EXPECT_EQ(params_of("resnet56"), 853018);
  EXPECT_EQ(params_of("resnet110"), 1727962);
}

// Option B adds a 1x1 conv + BN where the shape changes: layer2.0 16->32 (512 + 64) and
// layer3.0 32->64 (2048 + 128). Option C projects in all nine blocks: three 16->16
// (3 x 288), layer2.0 (576), two 32->32 (2 x 1088), layer3.0 (2176), two 64->64 (2 x 4224).
TEST(ResNetParams, Resnet20ShortcutOptions) {
  ModelOptions b, c, a_append;
  b.shortcut = Shortcut::B;
  c.shortcut = Shortcut::C;
  a_append.shortcut = Shortcut::AAppend;
  EXPECT_EQ(params_of("resnet20", a_append), 269722);
  EXPECT_EQ(params_of("resnet20", b), 269722 + 576 + 2176);
  EXPECT_EQ(params_of("resnet20", c), 269722 + 3 * 288 + 576 + 2 * 1088 + 2176 + 2 * 4224);
}

// Plain nets have exactly the parameters of option-A ResNets (the paper's point: shortcuts
// are free), and plain18/34 those of torchvision's nets minus the three projections
// (64->128: 8192 + 256, 128->256: 32768 + 512, 256->512: 131072 + 1024).
TEST(ResNetParams, PlainNets) {
  EXPECT_EQ(params_of("plain20"), 269722);
  EXPECT_EQ(params_of("plain56"), 853018);
  EXPECT_EQ(params_of("plain18"), 11689512 - (8192 + 256) - (32768 + 512) - (131072 + 1024));
  EXPECT_EQ(params_of("plain34"), 21797672 - (8192 + 256) - (32768 + 512) - (131072 + 1024));
}

// Pre-activation bottleneck nets (9n+2 layers; the paper rounds them to 1.7M and 10.2M).
// Per block of width p with 4p channels in: convs 4p² + 9p² + 4p² = 17p², BNs 2·(4p + p + p).
// Stage entries take fewer input channels (16, 64, 128 instead of 64, 128, 256: 11,488 fewer),
// their option-B projections are 1x1 convs 16->64, 64->128, 128->256 (41,984), and conv1
// (432), bn_final (512) and fc (2,570) complete the count.
TEST(ResNetParams, PreActCifar) {
  auto count = [](int64_t n) {
    const int64_t per_block = 17 * 16 * 16 + 12 * 16 + 17 * 32 * 32 + 12 * 32 +
                              17 * 64 * 64 + 12 * 64;
    return n * per_block - 11488 + 41984 + 432 + 512 + 2570;
  };
  EXPECT_EQ(params_of("preact_resnet164"), count(18));
  EXPECT_EQ(count(18), 1703258);
  EXPECT_EQ(params_of("preact_resnet1001"), count(111));
  // Basic units: resnet110's count, minus the stem BN (32) and the smaller bn1 of layer2.0 and
  // layer3.0 (32 + 64), plus bn_final (128) and two bare 1x1 projections (512 + 2,048).
  EXPECT_EQ(params_of("preact_resnet110"), 1727962 - 32 - 96 + 128 + 2560);
}

TEST(ResNetParams, NumClassesChangesOnlyTheClassifier) {
  ModelOptions o;
  o.num_classes = 100;
  EXPECT_EQ(params_of("resnet20", o), 269722 + 90 * 65);
}

// ---- MACs (conv and linear multiply-accumulates, as the paper and torchinfo count them)

int64_t macs_at(const std::string& name, const Shape& input) {
  auto m = create_model(name);
  return dl::nn::summarize(*m, input).total_macs;
}

TEST(ResNetMacs, Resnet20) {
  EXPECT_NEAR(macs_at("resnet20", {1, 3, 32, 32}) / 40.55e6, 1.0, 0.01);
}

// At a 32x32 input every ImageNet feature map is exactly 1/7 of its 224x224 size per side
// (112->16, 56->8, 28->4, 14->2, 7->1, the paddings divide out), so every conv does 1/49 of
// its work while fc is unchanged: MACs(224) = 49 · (MACs(32) - fc) + fc. ResNet-18 checks the
// rule against a real 224x224 pass; ResNet-50 then uses it instead of a 4-GMAC forward.
TEST(ResNetMacs, Resnet18AtNativeInput) {
  auto m = create_model("resnet18");
  const dl::nn::Summary s = dl::nn::summarize(*m, native_input_shape("resnet18"));
  EXPECT_NEAR(s.total_macs / 1.814e9, 1.0, 0.01);
  EXPECT_EQ(s.rows.front().output, (Shape{1, 1000}));
  EXPECT_EQ(s.total_params, 11689512);
  const int64_t fc = 512 * 1000;
  EXPECT_EQ(49 * (dl::nn::summarize(*m, {1, 3, 32, 32}).total_macs - fc) + fc, s.total_macs);
}

TEST(ResNetMacs, Resnet50ByExactScaling) {
  auto m = create_model("resnet50");
  const dl::nn::Summary s = dl::nn::summarize(*m, {1, 3, 32, 32});
  const int64_t fc = 2048 * 1000;
  EXPECT_NEAR((49 * (s.total_macs - fc) + fc) / 4.089e9, 1.0, 0.01);
  EXPECT_EQ(s.rows.front().output, (Shape{1, 1000}));
}

// ---- output shapes of every family

class CifarModelShape : public ::testing::TestWithParam<std::string> {};

TEST_P(CifarModelShape, TwoImages) {
  auto m = create_model(GetParam());
  dl::Generator gen(3);
  const Variable y = (*m)(Variable(Tensor::randn({2, 3, 32, 32}, gen)));
  EXPECT_EQ(y.shape(), (Shape{2, 10}));
  for (double v : y.data().to_vector()) EXPECT_TRUE(std::isfinite(v));
}

// One of each CIFAR kind (the deepest nets are left to the parameter tests).
INSTANTIATE_TEST_SUITE_P(Families, CifarModelShape,
                         ::testing::Values("resnet20", "resnet56", "plain20", "plain32",
                                           "preact_resnet110", "preact_resnet164"));

TEST(ImageNetModelShape, SmallInputThroughEveryFamily) {
  // v1 nets run in the MACs tests. The adaptive pool accepts any input that survives the
  // strides; 32x32 (a 1x1 final map) keeps this fast.
  for (const char* name : {"preact_resnet18", "preact_resnet50", "plain18"}) {
    auto m = create_model(name);
    m->eval();
    dl::ag::NoGradGuard no_grad;
    const Variable y = (*m)(Variable(Tensor::zeros({1, 3, 32, 32})));
    EXPECT_EQ(y.shape(), (Shape{1, 1000})) << name;
  }
}

TEST(ResNetLayout, CifarStagesAndImageNetStem) {
  // resnet20: 32x32x16 -> 16x16x32 -> 8x8x64 (paper §4.2), recorded by the summary.
  auto cifar = create_model("resnet20");
  const dl::nn::Summary s = dl::nn::summarize(*cifar, {1, 3, 32, 32});
  auto output_of = [&s](const std::string& name) {
    for (const auto& r : s.rows)
      if (r.name == name) return r.output;
    return Shape{};
  };
  EXPECT_EQ(output_of("layer1"), (Shape{1, 16, 32, 32}));
  EXPECT_EQ(output_of("layer2"), (Shape{1, 32, 16, 16}));
  EXPECT_EQ(output_of("layer3"), (Shape{1, 64, 8, 8}));
  EXPECT_EQ(output_of("layer2.0"), (Shape{1, 32, 16, 16}));
  // ImageNet: 224 -> 112 (conv1) -> 56 (maxpool), then 56/28/14/7 (Table 1), at 1/7 scale.
  auto imagenet = create_model("resnet18");
  const dl::nn::Summary t = dl::nn::summarize(*imagenet, {1, 3, 32, 32});
  EXPECT_EQ(t.rows[1].name, "conv1");
  EXPECT_EQ(t.rows[1].output, (Shape{1, 64, 16, 16}));
  EXPECT_EQ(t.rows[4].name, "maxpool");
  EXPECT_EQ(t.rows[4].output, (Shape{1, 64, 8, 8}));
}

TEST(ResNetLayout, PreActHasFinalBnAndNoCifarStemBn) {
  auto m = create_model("preact_resnet110");
  const auto keys = dl::models::testing::keys_of(m->state_dict());
  auto has = [&keys](const std::string& k) {
    return std::find(keys.begin(), keys.end(), k) != keys.end();
  };
  EXPECT_TRUE(has("bn_final.weight"));
  EXPECT_FALSE(has("bn1.weight"));
  EXPECT_TRUE(has("layer1.0.bn1.weight"));
  EXPECT_TRUE(has("layer2.0.downsample.0.weight"));
  EXPECT_FALSE(has("layer2.0.downsample.1.weight"));  // v2 projections have no BN
  EXPECT_EQ(m->type_name(), "PreActResNet");
}

// ---- initialisation

TEST(ResNetInit, MsraFanOutStandardDeviation) {
  // layer3.0.conv2 of resnet20: [64, 64, 3, 3], fan_out 576, std sqrt(2/576) ≈ 0.0589.
  auto m = create_model("resnet20");
  const auto& conv = dynamic_cast<dl::nn::Conv2d&>(m->child("layer3").child("1").child("conv2"));
  const std::vector<double> w = conv.weight().data().to_vector();
  double ss = 0;
  for (double v : w) ss += v * v;
  EXPECT_NEAR(std::sqrt(ss / w.size()) / std::sqrt(2.0 / 576), 1.0, 0.03);
}

TEST(ResNetInit, BnStartsAtOneAndZero) {
  auto m = create_model("resnet20");
  for (auto& [name, mod] : m->named_modules())
    if (auto* bn = dynamic_cast<dl::nn::BatchNorm2d*>(mod)) {
      for (double v : bn->weight().data().to_vector()) ASSERT_EQ(v, 1.0) << name;
      for (double v : bn->bias().data().to_vector()) ASSERT_EQ(v, 0.0) << name;
    }
}

TEST(ResNetInit, SeedMakesWeightsReproducible) {
  ModelOptions a, b;
  a.seed = b.seed = 42;
  const auto sa = create_model("resnet20", a)->state_dict();
  const auto sb = create_model("resnet20", b)->state_dict();
  for (size_t i = 0; i < sa.size(); ++i)
    ASSERT_EQ(sa[i].second.to_vector(), sb[i].second.to_vector()) << sa[i].first;
  b.seed = 43;
  const auto sc = create_model("resnet20", b)->state_dict();
  EXPECT_NE(sa[0].second.to_vector(), sc[0].second.to_vector());
}

TEST(ResNetInit, ZeroInitResidualZeroesTheLastBnOfEachBranch) {
  ModelOptions o;
  o.zero_init_residual = true;
  auto m = create_model("resnet20", o);
  int64_t zeroed = 0;
  for (auto& [name, mod] : m->named_modules())
    if (auto* block = dynamic_cast<BasicBlock*>(mod)) {
      for (double v : block->last_bn().weight().data().to_vector()) ASSERT_EQ(v, 0.0) << name;
      for (double v : dynamic_cast<dl::nn::BatchNorm2d&>(block->child("bn1"))
                          .weight().data().to_vector())
        ASSERT_EQ(v, 1.0) << name;
      ++zeroed;
    }
  EXPECT_EQ(zeroed, 9);
  // Bottlenecks: bn3 (a small v1-bottleneck CIFAR net keeps this quick).
  ResNetConfig c;
  c.block = BlockType::Bottleneck;
  c.stem = Stem::Cifar;
  c.blocks = {1, 2};
  c.widths = {4, 8};
  c.zero_init_residual = true;
  ResNet net(c);
  EXPECT_EQ(zero_init_residual(net), 3);
  for (const char* block : {"0", "1"}) {
    auto& b = dynamic_cast<Bottleneck&>(net.child("layer2").child(block));
    for (double v : b.last_bn().weight().data().to_vector())
      ASSERT_EQ(v, 0.0);
  }
}

}  // namespace
