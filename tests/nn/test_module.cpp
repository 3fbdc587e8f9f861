// test_module.cpp — the Module system: dotted names, state_dict order, strict all-or-nothing
// load_state_dict, train()/eval() propagation, apply(), conversion.
#include <gtest/gtest.h>

#include <memory>

#include "nn/activation.h"
#include "nn/batchnorm.h"
#include "nn/conv2d.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn_test_util.h"

namespace dl::nn {
namespace {

/// conv1 -> bn1 -> relu, registered by name like a torchvision block.
class Block : public Module {
 public:
  Block() {
    conv1_ = register_module("conv1", std::make_shared<Conv2d>(2, 2, 3, 1, 1, false));
    bn1_ = register_module("bn1", std::make_shared<BatchNorm2d>(2));
    relu_ = register_module("relu", std::make_shared<ReLU>());
  }
  ag::Variable forward(const ag::Variable& x) override { return (*relu_)((*bn1_)((*conv1_)(x))); }
  std::string type_name() const override { return "Block"; }

 private:
  std::shared_ptr<Conv2d> conv1_;
  std::shared_ptr<BatchNorm2d> bn1_;
  std::shared_ptr<ReLU> relu_;
};

/// conv1, layer1 = [Block, Block], fc: the shape of a (tiny) ResNet's names.
std::shared_ptr<Sequential> tiny_net() {
  auto layer1 = std::make_shared<Sequential>();
  layer1->push_back(std::make_shared<Block>());
  layer1->push_back(std::make_shared<Block>());
  auto net = std::make_shared<Sequential>();
  net->push_back("conv1", std::make_shared<Conv2d>(1, 2, 3, 1, 1, false));
  net->push_back("layer1", layer1);
  net->push_back("fc", std::make_shared<Linear>(2, 3));
  return net;
}

std::vector<std::string> keys(const StateDict& s) {
  std::vector<std::string> out;
  for (const auto& [k, _] : s) out.push_back(k);
  return out;
}

TEST(Module, NamedParametersUseDottedPaths) {
  auto net = tiny_net();
  std::vector<std::string> names;
  for (const auto& [n, _] : net->named_parameters()) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "conv1.weight", "layer1.0.conv1.weight", "layer1.0.bn1.weight",
                       "layer1.0.bn1.bias", "layer1.1.conv1.weight", "layer1.1.bn1.weight",
                       "layer1.1.bn1.bias", "fc.weight", "fc.bias"}));
  EXPECT_EQ(net->num_parameters(), 18 + 2 * (36 + 2 + 2) + 6 + 3);
}

TEST(Module, SequentialNumbersUnnamedChildren) {
  Sequential seq;
  seq.push_back(std::make_shared<Linear>(2, 2)).push_back(std::make_shared<ReLU>());
  seq.push_back(std::make_shared<Linear>(2, 1));
  std::vector<std::string> names;
  for (const auto& [n, _] : seq.named_parameters()) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"}));
  EXPECT_EQ(seq.size(), 3u);
  EXPECT_EQ(seq[1].type_name(), "ReLU");
}

TEST(Module, StateDictListsParametersThenBuffersOfEachModuleDepthFirst) {
  auto layer = std::make_shared<Block>();
  EXPECT_EQ(keys(layer->state_dict()),
            (std::vector<std::string>{"conv1.weight", "bn1.weight", "bn1.bias",
                                      "bn1.running_mean", "bn1.running_var",
                                      "bn1.num_batches_tracked"}));
  std::vector<std::string> buffers;
  for (const auto& [n, _] : tiny_net()->named_buffers()) buffers.push_back(n);
  EXPECT_EQ(buffers.size(), 6u);
  EXPECT_EQ(buffers.front(), "layer1.0.bn1.running_mean");
  EXPECT_EQ(buffers.back(), "layer1.1.bn1.num_batches_tracked");
}

TEST(Module, StateDictTensorsShareStorageWithTheModule) {
  auto net = tiny_net();
  net->state_dict().front().second.fill_(7.0);
  EXPECT_EQ(net->named_parameters().front().second.data().at({0, 0, 0, 0}), 7.0);
}

TEST(Module, LoadStateDictCopiesValuesAndConvertsDtype) {
  auto src = tiny_net(), dst = tiny_net();
  StateDict state = src->state_dict();
  for (auto& [k, t] : state)
    if (is_floating(t.dtype())) t = t.to(DType::Float64);  // a float64 checkpoint
  dst->load_state_dict(state);
  const StateDict a = src->state_dict(), b = dst->state_dict();
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(b[i].second.dtype(), a[i].second.dtype()) << a[i].first;
    EXPECT_EQ(a[i].second.to_vector(), b[i].second.to_vector()) << a[i].first;
  }
}

TEST(Module, StrictLoadListsEveryProblemInOneErrorAndChangesNothing) {
  auto net = tiny_net();
  const StateDict before = net->state_dict();
  std::vector<std::vector<double>> values;
  for (const auto& [_, t] : before) values.push_back(t.to_vector());

  StateDict bad;
  for (const auto& [k, t] : before) {
    if (k == "fc.bias") continue;                                             // missing
    if (k == "conv1.weight") bad.emplace_back(k, Tensor::zeros({2, 1, 5, 5}));  // wrong shape
    else bad.emplace_back(k, Tensor::zeros(t.shape(), t.dtype()));
  }
  bad.emplace_back("layer1.9.conv1.weight", Tensor::zeros({1}));  // unexpected
  try {
    net->load_state_dict(bad);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("missing keys: fc.bias"), std::string::npos) << msg;
    EXPECT_NE(msg.find("unexpected keys: layer1.9.conv1.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("conv1.weight (checkpoint [2, 1, 5, 5], model [2, 1, 3, 3])"),
              std::string::npos)
        << msg;
  }
  // Nothing half-loaded: every tensor still holds its old values (not the zeros).
  const StateDict after = net->state_dict();
  for (size_t i = 0; i < after.size(); ++i)
    EXPECT_EQ(after[i].second.to_vector(), values[i]) << after[i].first;
}

TEST(Module, NonStrictLoadSkipsMissingAndUnexpectedButNotShapeMismatches) {
  auto net = tiny_net();
  StateDict partial{{"fc.bias", Tensor::of({1, 2, 3})}, {"extra", Tensor::zeros({1})}};
  net->load_state_dict(partial, /*strict=*/false);
  testing::expect_values(net->child("fc").state_dict()[1].second, {1, 2, 3}, 0);
  StateDict wrong{{"fc.bias", Tensor::zeros({4})}};
  EXPECT_THROW(net->load_state_dict(wrong, /*strict=*/false), std::invalid_argument);
}

TEST(Module, TrainAndEvalPropagateToEveryDescendant) {
  auto net = tiny_net();
  net->eval();
  for (auto& [name, m] : net->named_modules()) EXPECT_FALSE(m->is_training()) << name;
  net->child("layer1").train();
  EXPECT_FALSE(net->is_training());
  EXPECT_TRUE(net->child("layer1").child("1").child("bn1").is_training());
  net->train();
  for (auto& [name, m] : net->named_modules()) EXPECT_TRUE(m->is_training()) << name;
}

TEST(Module, NamedModulesListsEveryModuleDepthFirst) {
  std::vector<std::string> names;
  for (auto& [n, _] : tiny_net()->named_modules()) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"", "conv1", "layer1", "layer1.0",
                                             "layer1.0.conv1", "layer1.0.bn1", "layer1.0.relu",
                                             "layer1.1", "layer1.1.conv1", "layer1.1.bn1",
                                             "layer1.1.relu", "fc"}));
}

TEST(Module, ApplyVisitsChildrenBeforeParents) {
  auto net = tiny_net();
  std::vector<std::string> order;
  net->apply([&order](Module& m) { order.push_back(m.type_name()); });
  EXPECT_EQ(order, (std::vector<std::string>{"Conv2d", "Conv2d", "BatchNorm2d", "ReLU", "Block",
                                             "Conv2d", "BatchNorm2d", "ReLU", "Block",
                                             "Sequential", "Linear", "Sequential"}));
}

TEST(Module, ApplyReinitialisesEveryConv) {
  auto net = tiny_net();
  net->apply([](Module& m) {
    if (auto* conv = dynamic_cast<Conv2d*>(&m)) init::constant_(conv->weight().data(), 0.25);
  });
  for (const auto& [name, p] : net->named_parameters()) {
    if (name.find("conv1.weight") == std::string::npos) continue;
    for (double v : p.data().to_vector()) EXPECT_EQ(v, 0.25) << name;
  }
}

TEST(Module, ToConvertsParametersAndFloatBuffersOnly) {
  auto net = tiny_net();
  net->to(DType::Float64);
  for (const auto& [k, t] : net->state_dict())
    EXPECT_EQ(t.dtype(), k.find("num_batches_tracked") != std::string::npos ? DType::Int64
                                                                            : DType::Float64)
        << k;
  Module& block = net->child("layer1").child("0");
  const ag::Variable y = block(ag::Variable(Tensor::zeros({1, 2, 3, 3}, DType::Float64)));
  EXPECT_EQ(y.dtype(), DType::Float64);
}

TEST(Module, RegisteringADuplicateOrDottedNameThrows) {
  Sequential seq;
  seq.push_back("a", std::make_shared<ReLU>());
  EXPECT_THROW(seq.push_back("a", std::make_shared<ReLU>()), std::invalid_argument);
  EXPECT_THROW(seq.push_back("b.c", std::make_shared<ReLU>()), std::invalid_argument);
  EXPECT_THROW(seq.child("zzz"), std::out_of_range);
}

TEST(Module, ZeroGradDropsEveryGradient) {
  Linear fc(2, 1);
  ag::sum(fc(ag::Variable(Tensor::ones({3, 2})))).backward();
  EXPECT_TRUE(fc.weight().grad().defined());
  fc.zero_grad();
  EXPECT_FALSE(fc.weight().grad().defined());
}

}  // namespace
}  // namespace dl::nn
