// Tests of the models' state dicts: resnet20's keys equal PyTorch's (the golden file's
// `initial.*` entries), torchvision's key layout for ResNet-50, and loads that fail name the
// offending key.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "models/registry.h"
#include "models_test_util.h"
#include "nn/safetensors.h"

namespace {

using dl::Shape;
using dl::Tensor;
using namespace dl::models;
using dl::models::testing::keys_of;

std::string golden_path() {
  return std::string(DL_SHARED_DIR) + "/golden/resnet20_step_f32.safetensors";
}

TEST(StateDict, Resnet20KeysEqualPyTorchs) {
  if (!std::filesystem::exists(golden_path())) GTEST_SKIP() << "no " << golden_path();
  const dl::SafetensorsFile file = dl::load_safetensors(golden_path());
  std::vector<std::string> golden;
  for (const auto& [k, t] : file.tensors)
    if (k.rfind("initial.", 0) == 0) golden.push_back(k.substr(8));
  auto model = create_model("resnet20");
  const dl::nn::StateDict mine = model->state_dict();
  std::vector<std::string> keys = keys_of(mine);
  std::sort(golden.begin(), golden.end());
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, golden);
  // Same shapes and dtypes too, so the file loads as it is.
  for (const auto& [k, t] : mine) {
    const Tensor& g = file.at("initial." + k);
    EXPECT_EQ(t.shape(), g.shape()) << k;
    EXPECT_EQ(t.dtype(), g.dtype()) << k;
  }
}

TEST(StateDict, TorchvisionResnet50Keys) {
  auto m = create_model("resnet50");
  const auto keys = keys_of(m->state_dict());
  // torchvision's resnet50().state_dict() has 320 entries and begins and ends like this.
  EXPECT_EQ(keys.size(), 320u);
  EXPECT_EQ(keys.front(), "conv1.weight");
  EXPECT_EQ(keys[1], "bn1.weight");
  EXPECT_EQ(keys.back(), "fc.bias");
  for (const char* k : {"layer1.0.downsample.0.weight", "layer2.0.downsample.1.running_var",
                        "layer4.2.bn3.num_batches_tracked", "layer3.5.conv3.weight"})
    EXPECT_NE(std::find(keys.begin(), keys.end(), k), keys.end()) << k;
  // layer1.0 widens 64 -> 256 at stride 1, so even option B projects there.
  for (const auto& [k, t] : m->state_dict()) {
    if (k == "layer1.0.downsample.0.weight") {
      EXPECT_EQ(t.shape(), (Shape{256, 64, 1, 1}));
    }
  }
}

/// Loads @p state into a fresh resnet20 and returns the error message ("" if it loaded).
std::string load_error(const dl::nn::StateDict& state) {
  auto m = create_model("resnet20");
  try {
    m->load_state_dict(state);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(StateDict, RoundTripLoads) {
  auto a = create_model("resnet20"), b = create_model("resnet20", {0, {}, false, 7});
  b->load_state_dict(a->state_dict());
  EXPECT_EQ(a->state_dict()[0].second.to_vector(), b->state_dict()[0].second.to_vector());
}

TEST(StateDict, MissingKeyIsNamed) {
  dl::nn::StateDict s = create_model("resnet20")->state_dict();
  s.erase(std::find_if(s.begin(), s.end(),
                       [](const auto& kv) { return kv.first == "layer2.1.bn2.running_var"; }));
  const std::string msg = load_error(s);
  EXPECT_NE(msg.find("layer2.1.bn2.running_var"), std::string::npos) << msg;
}

TEST(StateDict, UnexpectedKeyIsNamed) {
  // A projection that option A does not have (an option-B checkpoint, say).
  dl::nn::StateDict s = create_model("resnet20")->state_dict();
  s.emplace_back("layer2.0.downsample.0.weight", Tensor::zeros({32, 16, 1, 1}));
  const std::string msg = load_error(s);
  EXPECT_NE(msg.find("layer2.0.downsample.0.weight"), std::string::npos) << msg;
}

TEST(StateDict, MisshapedKeyIsNamed) {
  // A classifier trained for 100 classes.
  dl::nn::StateDict s = create_model("resnet20")->state_dict();
  for (auto& [k, t] : s)
    if (k == "fc.weight") t = Tensor::zeros({100, 64});
  const std::string msg = load_error(s);
  EXPECT_NE(msg.find("fc.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[100, 64]"), std::string::npos) << msg;
}

}  // namespace
