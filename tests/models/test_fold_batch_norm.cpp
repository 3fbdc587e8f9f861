// test_fold_batch_norm.cpp — at inference (no gradient recorded, eval mode) every model folds
// its BatchNorms, residual adds and ReLUs into the convolutions (nn/conv_bn.h); the outputs
// must equal, bit for bit, the same forward with the separate ops. The separate ops run with
// a CallObserver installed, which turns the fold off and leaves everything else as it is (with
// gradient recording on instead, the convolutions would not reuse prepared Winograd filters,
// and Auto may then pick another tile size). Running statistics and BN weights are randomised
// first, so that every BN does something.
#include <gtest/gtest.h>

#include <string>

#include "autograd/grad_mode.h"
#include "models/registry.h"
#include "nn/batchnorm.h"
#include "nn/conv_bn.h"
#include "tensor/random.h"

namespace dl::models {
namespace {

void randomise_batch_norms(nn::Module& model) {
  Generator gen(5);
  for (auto& [name, m] : model.named_modules()) {
    auto* bn = dynamic_cast<nn::BatchNorm2d*>(m);
    if (bn == nullptr) continue;
    const int64_t C = bn->num_features();
    Tensor mean = bn->running_mean(), var = bn->running_var();
    mean.copy_(Tensor::randn({C}, gen).mul_(0.1));
    var.copy_(Tensor::uniform({C}, 0.5, 1.5, gen));
    bn->weight().data().copy_(Tensor::uniform({C}, 0.5, 1.5, gen));
    bn->bias().data().copy_(Tensor::randn({C}, gen).mul_(0.1));
  }
}

// Watches nothing; its presence alone makes every module run by itself.
class NoOpObserver : public nn::CallObserver {
 public:
  void enter(nn::Module&, const Shape&) override {}
  void leave(nn::Module&, const Shape&, const Shape&) override {}
};

struct Case {
  const char* model;
  int64_t size;          // input height and width
  const char* shortcut;  // "" for the model's default
};

class FoldBatchNorm : public ::testing::TestWithParam<Case> {};

TEST_P(FoldBatchNorm, SameOutputAsSeparateOps) {
  const Case& c = GetParam();
  ModelOptions options;
  if (*c.shortcut) options.shortcut = parse_shortcut(c.shortcut);
  auto model = create_model(c.model, options);
  randomise_batch_norms(*model);
  model->eval();
  Generator gen(9);
  const Tensor x = Tensor::randn({2, 3, c.size, c.size}, gen);
  ag::NoGradGuard no_grad;
  const Tensor folded = (*model)(ag::Variable(x)).data();
  NoOpObserver observer;
  nn::CallObserver* previous = nn::set_call_observer(&observer);
  const Tensor separate = (*model)(ag::Variable(x)).data();
  nn::set_call_observer(previous);
  EXPECT_EQ(folded.to_vector(), separate.to_vector()) << c.model << " " << c.shortcut;
}

INSTANTIATE_TEST_SUITE_P(
    Models, FoldBatchNorm,
    ::testing::Values(Case{"resnet20", 32, ""}, Case{"resnet20", 32, "B"},
                      Case{"plain20", 32, ""}, Case{"preact_resnet164", 16, ""},
                      Case{"resnet18", 64, ""}, Case{"resnet50", 64, ""},
                      Case{"preact_resnet50", 64, ""}),
    [](const ::testing::TestParamInfo<Case>& info) {
      return std::string(info.param.model) + (*info.param.shortcut ? "_shortcut_" : "") +
             info.param.shortcut;
    });

// The fold is only for inference: while gradients are recorded, in training mode, or under a
// CallObserver (the summary), the modules run one by one.
TEST(FoldBatchNorm, OnlyWithoutRecordingInEvalMode) {
  nn::Conv2d conv(3, 4, 3, 1, 1, false);
  nn::BatchNorm2d bn(4);
  Generator gen(3);
  const ag::Variable x(Tensor::randn({1, 3, 5, 5}, gen));
  EXPECT_FALSE(nn::can_fold_batch_norm(bn));  // training mode, recording on
  bn.eval();
  EXPECT_FALSE(nn::can_fold_batch_norm(bn));  // recording on
  EXPECT_THROW(nn::conv_bn_inference(conv, bn, x, true), std::logic_error);
  ag::NoGradGuard no_grad;
  EXPECT_TRUE(nn::can_fold_batch_norm(bn));
  const Tensor y = nn::conv_bn_inference(conv, bn, x, true).data();
  EXPECT_EQ(y.to_vector(), bn.forward_relu(conv(x)).data().to_vector());
  nn::BatchNorm2d wrong(5);
  wrong.eval();
  EXPECT_THROW(nn::conv_bn_inference(conv, wrong, x, false), std::invalid_argument);
}

}  // namespace
}  // namespace dl::models
