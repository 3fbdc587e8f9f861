// test_summary.cpp — the layer table of a small Sequential, with hand-computed totals.
#include <gtest/gtest.h>

#include <memory>

#include "nn/activation.h"
#include "nn/batchnorm.h"
#include "nn/conv2d.h"
#include "nn/flatten.h"
#include "nn/linear.h"
#include "nn/pooling.h"
#include "nn/summary.h"
#include "nn_test_util.h"

namespace dl::nn {
namespace {

/// conv(3->4, 3x3, pad 1, no bias) -> BN(4) -> ReLU -> global pool -> flatten -> fc(4->10).
std::shared_ptr<Sequential> small_net() {
  auto net = std::make_shared<Sequential>();
  net->push_back("conv", std::make_shared<Conv2d>(3, 4, 3, 1, 1, false));
  net->push_back("bn", std::make_shared<BatchNorm2d>(4));
  net->push_back("relu", std::make_shared<ReLU>());
  auto head = std::make_shared<Sequential>();
  head->push_back("pool", std::make_shared<AdaptiveAvgPool2d>(1));
  head->push_back("flatten", std::make_shared<Flatten>());
  head->push_back("fc", std::make_shared<Linear>(4, 10));
  net->push_back("head", head);
  return net;
}

TEST(Summary, EndsWithHandComputedParamsAndMacs) {
  // params: conv 4·3·3·3 = 108, bn 4 + 4 = 8, fc 4·10 + 10 = 50 -> 166.
  // MACs at [1,3,8,8]: conv 1·4·8·8 · 3·3·3 = 6912, fc 1·4·10 = 40 -> 6952.
  auto net = small_net();
  const Summary s = summarize(*net, {1, 3, 8, 8});
  EXPECT_EQ(s.total_params, 166);
  EXPECT_EQ(s.trainable_params, 166);
  EXPECT_EQ(s.total_macs, 6952);
  const std::string text = s.format();
  const std::string last = text.substr(text.rfind('\n') + 1);
  EXPECT_EQ(last, "params 166 macs 6952");
}

TEST(Summary, RecordsEveryCallInOrderWithDepthAndShape) {
  auto net = small_net();
  const Summary s = summarize(*net, {1, 3, 8, 8});
  ASSERT_EQ(s.rows.size(), 8u);
  const std::vector<std::string> names{"",     "conv",      "bn",           "relu",
                                       "head", "head.pool", "head.flatten", "head.fc"};
  const std::vector<int> depths{0, 1, 1, 1, 1, 2, 2, 2};
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(s.rows[i].name, names[i]);
    EXPECT_EQ(s.rows[i].depth, depths[i]) << names[i];
  }
  EXPECT_EQ(s.rows[0].type, "Sequential");
  EXPECT_EQ(s.rows[0].output, (Shape{1, 10}));
  EXPECT_EQ(s.rows[1].output, (Shape{1, 4, 8, 8}));
  EXPECT_EQ(s.rows[1].params, 108);
  EXPECT_EQ(s.rows[1].macs, 6912);
  EXPECT_EQ(s.rows[2].params, 8);
  EXPECT_EQ(s.rows[5].output, (Shape{1, 4, 1, 1}));
  EXPECT_EQ(s.rows[6].output, (Shape{1, 4}));
  EXPECT_EQ(s.rows[7].macs, 40);
  EXPECT_EQ(s.rows[4].params, 0);  // a container: its parameters are in its children's rows
}

TEST(Summary, LeavesTrainingModeAndRunningStatsAlone) {
  auto net = small_net();
  net->child("head").eval();  // a mixed state must come back as it was
  const Tensor mean_before = net->child("bn").state_dict()[2].second.clone();
  summarize(*net, {1, 3, 8, 8});
  EXPECT_TRUE(net->is_training());
  EXPECT_TRUE(net->child("bn").is_training());
  EXPECT_FALSE(net->child("head").is_training());
  EXPECT_FALSE(net->child("head").child("fc").is_training());
  EXPECT_EQ(dynamic_cast<BatchNorm2d&>(net->child("bn")).num_batches_tracked(), 0);
  EXPECT_EQ(net->child("bn").state_dict()[2].second.to_vector(), mean_before.to_vector());
}

TEST(Summary, FrozenParametersAreNotTrainable) {
  auto net = small_net();
  net->named_parameters().front().second.set_requires_grad(false);  // freeze conv.weight
  const Summary s = summarize(*net, {1, 3, 8, 8});
  EXPECT_EQ(s.total_params, 166);
  EXPECT_EQ(s.trainable_params, 166 - 108);
}

TEST(Summary, PropagatesForwardErrors) {
  auto net = small_net();
  EXPECT_THROW(summarize(*net, {1, 5, 8, 8}), std::invalid_argument);
  EXPECT_TRUE(net->is_training());
}

}  // namespace
}  // namespace dl::nn
