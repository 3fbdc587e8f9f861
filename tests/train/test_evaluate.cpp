// Tests for train/evaluate.h: loss, error, confusion matrix and per-class accuracy of a tiny
// model whose predictions are known by construction, checked against counts made by hand;
// and the normaliser metadata the trainer stores with its weights.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "nn/flatten.h"
#include "nn/linear.h"
#include "train/evaluate.h"

using namespace dl;
using namespace dl::train;

namespace {

/// Passes its input through and records whether it ran in training mode.
class ModeProbe : public nn::Module {
 public:
  ag::Variable forward(const ag::Variable& x) override {
    saw_training = is_training();
    return x;
  }
  std::string type_name() const override { return "ModeProbe"; }
  bool saw_training = true;
};

/// 3x2x2 images (12 values, CHW) flattened into a Linear(12 -> 10) whose weight is the
/// identity on the first 10 inputs: logit k is pixel k / 255 under an identity normaliser.
/// An image lit only at pixel k (value 255) is therefore predicted as class k.
struct PixelClassifier {
  PixelClassifier() {
    auto linear = std::make_shared<nn::Linear>(12, 10);
    linear->weight().data().fill_(0.0);
    linear->bias().data().fill_(0.0);
    float* w = linear->weight().data().data<float>();
    for (int k = 0; k < 10; ++k) w[k * 12 + k] = 1.0f;
    model.push_back(probe).push_back(std::make_shared<nn::Flatten>()).push_back(linear);
  }
  std::shared_ptr<ModeProbe> probe = std::make_shared<ModeProbe>();
  nn::Sequential model;
};

/// One image per (label, lit pixel) pair.
ImageDataset lit_pixel_dataset(const std::vector<std::pair<int64_t, int>>& label_and_pixel) {
  ImageDataset ds;
  ds.channels = 3;
  ds.height = ds.width = 2;
  for (int c = 0; c < 10; ++c) ds.class_names.push_back("c" + std::to_string(c));
  for (const auto& [label, pixel] : label_and_pixel) {
    std::vector<uint8_t> image(12, 0);
    image[pixel] = 255;
    ds.pixels.insert(ds.pixels.end(), image.begin(), image.end());
    ds.labels.push_back(label);
  }
  return ds;
}

const Normalizer kIdentity = Normalizer::channels({0, 0, 0}, {1, 1, 1});

// (true label, predicted class): 6 of 8 right.
const std::vector<std::pair<int64_t, int>> kCases = {{0, 0}, {0, 0}, {0, 1}, {1, 1},
                                                     {2, 3}, {3, 3}, {3, 3}, {9, 9}};

TEST(Evaluate, ConfusionMatrixMatchesHandCounts) {
  PixelClassifier net;
  const ImageDataset ds = lit_pixel_dataset(kCases);
  const EvalResult r = evaluate(net.model, ds, kIdentity, /*batch_size=*/3);  // 3 + 3 + 2

  std::vector<std::vector<int64_t>> expected(10, std::vector<int64_t>(10, 0));
  expected[0][0] = 2;
  expected[0][1] = 1;
  expected[1][1] = 1;
  expected[2][3] = 1;
  expected[3][3] = 2;
  expected[9][9] = 1;
  EXPECT_EQ(r.confusion, expected);
  EXPECT_EQ(r.count, 8);
  EXPECT_DOUBLE_EQ(r.error, 0.25);
}

TEST(Evaluate, PerClassAccuracyIsTheDiagonalOverEachRow) {
  PixelClassifier net;
  const EvalResult r = evaluate(net.model, lit_pixel_dataset(kCases), kIdentity, 3);
  const std::vector<double> acc = r.per_class_accuracy();
  ASSERT_EQ(acc.size(), 10u);
  EXPECT_DOUBLE_EQ(acc[0], 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(acc[1], 1.0);
  EXPECT_DOUBLE_EQ(acc[2], 0.0);
  EXPECT_DOUBLE_EQ(acc[3], 1.0);
  for (int c = 4; c < 9; ++c) EXPECT_TRUE(std::isnan(acc[c])) << "class " << c << " has no images";
  EXPECT_DOUBLE_EQ(acc[9], 1.0);
}

TEST(Evaluate, LossIsTheMeanCrossEntropy) {
  // Logits: one 1 and nine 0s. Right: -log(e / (e + 9)) = log(e + 9) - 1; wrong: log(e + 9).
  PixelClassifier net;
  const EvalResult r = evaluate(net.model, lit_pixel_dataset(kCases), kIdentity, 3);
  const double l = std::log(std::exp(1.0) + 9.0);
  EXPECT_NEAR(r.loss, (6 * (l - 1) + 2 * l) / 8, 1e-6);
}

TEST(Evaluate, RunsInEvalModeAndRestoresTheMode) {
  PixelClassifier net;
  net.model.train();
  evaluate(net.model, lit_pixel_dataset(kCases), kIdentity);
  EXPECT_FALSE(net.probe->saw_training);
  EXPECT_TRUE(net.model.is_training());
  net.model.eval();
  evaluate(net.model, lit_pixel_dataset(kCases), kIdentity);
  EXPECT_FALSE(net.model.is_training());
}

TEST(Evaluate, FormatListsAccuracyAndMatrixWithClassNames) {
  PixelClassifier net;
  const ImageDataset ds = lit_pixel_dataset(kCases);
  const std::string text = evaluate(net.model, ds, kIdentity, 3).format(ds.class_names);
  EXPECT_NE(text.find("test images 8"), std::string::npos) << text;
  EXPECT_NE(text.find("accuracy 75.00%"), std::string::npos) << text;
  EXPECT_NE(text.find("66.67%"), std::string::npos) << text;     // c0: 2 of 3
  EXPECT_NE(text.find("no images"), std::string::npos) << text;  // c4..c8
  EXPECT_NE(text.find("confusion matrix"), std::string::npos) << text;
}

TEST(NormalizerMetadata, PerPixelMeanReadsBackExactly) {
  std::vector<float> mean(12);
  for (size_t i = 0; i < mean.size(); ++i) mean[i] = 1.0f / float(i + 3);  // not short decimals
  const Normalizer norm = Normalizer::pixels(mean, 3);
  const Normalizer back = normalizer_from_metadata(normalizer_metadata(norm));
  EXPECT_EQ(back.pixel_mean, norm.pixel_mean);
  EXPECT_EQ(back.mean, norm.mean);
  EXPECT_EQ(back.std, norm.std);
}

TEST(NormalizerMetadata, PerChannelStatisticsReadBack) {
  const Normalizer back = normalizer_from_metadata(normalizer_metadata(Normalizer::cifar10()));
  EXPECT_EQ(back.mean, Normalizer::cifar10().mean);
  EXPECT_EQ(back.std, Normalizer::cifar10().std);
  EXPECT_FALSE(back.per_pixel());
}

TEST(NormalizerMetadata, AbsentMeansCifar10AndMalformedThrows) {
  EXPECT_EQ(normalizer_from_metadata({{"model", "resnet20"}}).mean, Normalizer::cifar10().mean);
  EXPECT_THROW(normalizer_from_metadata({{"norm.mean", "0.5,abc,0.5"}, {"norm.std", "1,1,1"}}),
               std::runtime_error);
  EXPECT_THROW(normalizer_from_metadata({{"norm.mean", "0.5,,0.5"}, {"norm.std", "1,1,1"}}),
               std::runtime_error);
}

}  // namespace
