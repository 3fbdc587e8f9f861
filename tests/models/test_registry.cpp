// Tests for models/registry: the list of names, native input shapes, defaults and the errors
// for unknown names and options that do not apply.
#include "models/registry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "models/resnet.h"

namespace {

using dl::Shape;
using namespace dl::models;

TEST(Registry, ListsEveryModelOfTheIssue) {
  const auto names = model_names();
  for (const char* n :
       {"resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "preact_resnet18",
        "preact_resnet34", "preact_resnet50", "preact_resnet101", "preact_resnet152", "plain18",
        "plain34", "resnet20", "resnet32", "resnet44", "resnet56", "resnet110", "resnet1202",
        "plain20", "plain32", "plain44", "plain56", "plain110", "preact_resnet110",
        "preact_resnet164", "preact_resnet1001"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  EXPECT_EQ(names.size(), 26u);
}

TEST(Registry, UnknownNameListsTheKnownOnes) {
  try {
    create_model("resnet21");
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("resnet21"), std::string::npos) << msg;
    EXPECT_NE(msg.find("resnet20"), std::string::npos) << msg;
    EXPECT_NE(msg.find("preact_resnet1001"), std::string::npos) << msg;
  }
  EXPECT_THROW(native_input_shape("vgg16"), std::invalid_argument);
}

TEST(Registry, NativeInputShapes) {
  EXPECT_EQ(native_input_shape("resnet20"), (Shape{1, 3, 32, 32}));
  EXPECT_EQ(native_input_shape("preact_resnet1001"), (Shape{1, 3, 32, 32}));
  EXPECT_EQ(native_input_shape("resnet50"), (Shape{1, 3, 224, 224}));
  EXPECT_EQ(native_input_shape("plain34"), (Shape{1, 3, 224, 224}));
  EXPECT_TRUE(is_cifar_model("plain110"));
  EXPECT_FALSE(is_cifar_model("preact_resnet18"));
}

TEST(Registry, FamilyDefaults) {
  auto cifar = std::dynamic_pointer_cast<ResNet>(create_model("resnet20"));
  ASSERT_TRUE(cifar);
  EXPECT_EQ(cifar->config().num_classes, 10);
  EXPECT_EQ(cifar->config().shortcut, Shortcut::A);
  auto imagenet = std::dynamic_pointer_cast<ResNet>(create_model("resnet18"));
  EXPECT_EQ(imagenet->config().num_classes, 1000);
  EXPECT_EQ(imagenet->config().shortcut, Shortcut::B);
  auto preact = std::dynamic_pointer_cast<ResNet>(create_model("preact_resnet110"));
  EXPECT_EQ(preact->config().shortcut, Shortcut::B);
  EXPECT_EQ(std::dynamic_pointer_cast<ResNet>(create_model("plain20"))->config().shortcut,
            Shortcut::None);
}

TEST(Registry, OptionsThatDoNotApplyAreRejected) {
  ModelOptions shortcut_on_plain;
  shortcut_on_plain.shortcut = Shortcut::B;
  EXPECT_THROW(create_model("plain20", shortcut_on_plain), std::invalid_argument);
  ModelOptions no_shortcut;
  no_shortcut.shortcut = Shortcut::None;
  EXPECT_THROW(create_model("resnet20", no_shortcut), std::invalid_argument);
  ModelOptions zero_init;
  zero_init.zero_init_residual = true;
  EXPECT_THROW(create_model("preact_resnet110", zero_init), std::invalid_argument);
  EXPECT_THROW(create_model("plain20", zero_init), std::invalid_argument);
  ModelOptions negative;
  negative.num_classes = -1;
  EXPECT_THROW(create_model("resnet20", negative), std::invalid_argument);
}

}  // namespace
