// Tests for train/augment.h: seeded transforms, crop/flip geometry, normalisation.
#include "train/augment.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <vector>

using dl::train::Normalizer;
using dl::train::Rng;
using dl::train::TransformConfig;

namespace {

// Identity-like normaliser for C channels: output = pixel / 255.
Normalizer unit(int c) {
  Normalizer n;
  n.mean.assign(c, 0.f);
  n.std.assign(c, 1.f);
  return n;
}

std::vector<uint8_t> random_image(int64_t numel, uint64_t seed) {
  Rng r(seed);
  std::vector<uint8_t> v(static_cast<size_t>(numel));
  for (auto& x : v) x = static_cast<uint8_t>(r.randint(256));
  return v;
}

}  // namespace

TEST(Augment, CifarTrainIsDeterministicForASeed) {
  const auto img = random_image(3 * 32 * 32, 1);
  const auto cfg = TransformConfig::cifar_train(Normalizer::cifar10());
  std::vector<float> a(3 * 32 * 32), b(a.size()), c(a.size());
  Rng r1(dl::train::sample_seed(7, 3, 11)), r2(dl::train::sample_seed(7, 3, 11));
  dl::train::apply_transform(cfg, img.data(), 3, 32, 32, r1, a.data());
  dl::train::apply_transform(cfg, img.data(), 3, 32, 32, r2, b.data());
  EXPECT_EQ(a, b);
  // Different seeds give different augmentations for at least one of a few samples.
  bool differs = false;
  for (int64_t idx = 0; idx < 8 && !differs; ++idx) {
    Rng r3(dl::train::sample_seed(7, 3, 100 + idx));
    dl::train::apply_transform(cfg, img.data(), 3, 32, 32, r3, c.data());
    differs = c != a;
  }
  EXPECT_TRUE(differs);
}

TEST(Augment, SeedsDependOnEpochAndIndex) {
  std::set<uint64_t> seeds;
  for (int64_t e = 0; e < 4; ++e)
    for (int64_t i = 0; i < 50; ++i) seeds.insert(dl::train::sample_seed(1, e, i));
  EXPECT_EQ(seeds.size(), 200u);
  EXPECT_NE(dl::train::shuffle_seed(1, 0), dl::train::shuffle_seed(1, 1));
  EXPECT_NE(dl::train::shuffle_seed(1, 0), dl::train::shuffle_seed(2, 0));
}

TEST(Augment, PadCropFlipGeometryOnTinyImage) {
  // One channel, 3x3, values 10..90:  10 20 30 / 40 50 60 / 70 80 90.
  const std::vector<uint8_t> img = {10, 20, 30, 40, 50, 60, 70, 80, 90};
  const Normalizer n = unit(1);
  std::vector<float> out(9);
  auto v = [](int x) { return static_cast<float>(x) / 255.f; };
  // pad 1, crop at (0,0) of the padded image: shifted down-right by one, zeros enter.
  dl::train::pad_crop_flip_normalize(n, img.data(), 1, 3, 3, 1, 0, 0, false, false, out.data());
  const std::vector<float> shifted = {0, 0, 0, 0, v(10), v(20), 0, v(40), v(50)};
  for (int i = 0; i < 9; ++i) EXPECT_FLOAT_EQ(out[i], shifted[i]) << i;
  // Centre crop (1,1) = the image itself; with flip: columns reversed.
  dl::train::pad_crop_flip_normalize(n, img.data(), 1, 3, 3, 1, 1, 1, true, false, out.data());
  const std::vector<float> flipped = {v(30), v(20), v(10), v(60), v(50), v(40),
                                      v(90), v(80), v(70)};
  for (int i = 0; i < 9; ++i) EXPECT_FLOAT_EQ(out[i], flipped[i]) << i;
  // Crop (2,1) with flip: rows 1..2 then a zero row; columns reversed.
  dl::train::pad_crop_flip_normalize(n, img.data(), 1, 3, 3, 1, 2, 1, true, false, out.data());
  const std::vector<float> down_flip = {v(60), v(50), v(40), v(90), v(80), v(70), 0, 0, 0};
  for (int i = 0; i < 9; ++i) EXPECT_FLOAT_EQ(out[i], down_flip[i]) << i;
}

TEST(Augment, CifarTrainOutputIsOneOfTheCandidateCropsAndFlipsHalfTheTime) {
  const int64_t C = 2, H = 5, W = 6, pad = 2;
  const auto img = random_image(C * H * W, 3);
  auto cfg = TransformConfig::cifar_train(unit(C), pad);
  std::vector<float> out(C * H * W), cand(out.size());
  std::set<std::pair<int, int>> offsets_seen;
  int flips = 0;
  const int trials = 400;
  for (int t = 0; t < trials; ++t) {
    Rng rng(dl::train::sample_seed(5, 0, t));
    dl::train::apply_transform(cfg, img.data(), C, H, W, rng, out.data());
    int matches = 0;
    for (int oy = 0; oy <= 2 * pad; ++oy)
      for (int ox = 0; ox <= 2 * pad; ++ox)
        for (int f = 0; f < 2; ++f) {
          dl::train::pad_crop_flip_normalize(cfg.norm, img.data(), C, H, W, pad, oy, ox, f == 1,
                                             false, cand.data());
          if (cand == out) {
            ++matches;
            offsets_seen.insert({oy, ox});
            flips += f;
          }
        }
    ASSERT_EQ(matches, 1) << "trial " << t;
  }
  EXPECT_EQ(offsets_seen.size(), 25u);  // every offset occurs
  EXPECT_GT(flips, trials * 0.4);
  EXPECT_LT(flips, trials * 0.6);
}

TEST(Augment, EvalNormalisesPerChannel) {
  const std::vector<uint8_t> img = {0, 255, 51, 102};  // 2 channels x 1 x 2
  Normalizer n;
  n.mean = {0.5f, 0.2f};
  n.std = {0.25f, 0.1f};
  std::vector<float> out(4);
  Rng rng(0);
  dl::train::apply_transform(TransformConfig::eval(n), img.data(), 2, 1, 2, rng, out.data());
  EXPECT_NEAR(out[0], -2.0, 1e-5);
  EXPECT_NEAR(out[1], 2.0, 1e-5);
  EXPECT_NEAR(out[2], 0.0, 1e-5);
  EXPECT_NEAR(out[3], 2.0, 1e-5);
}

TEST(Augment, PaddingIsBlackOrMeanAsConfigured) {
  const std::vector<uint8_t> img(3 * 2 * 2, 128);
  const Normalizer n = Normalizer::cifar10();
  std::vector<float> out(12);
  // Offset (0,0) with pad 1: the top-left output pixel is padding.
  dl::train::pad_crop_flip_normalize(n, img.data(), 3, 2, 2, 1, 0, 0, false, false, out.data());
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(out[c * 4], -n.mean[c] / n.std[c], 1e-5);
  dl::train::pad_crop_flip_normalize(n, img.data(), 3, 2, 2, 1, 0, 0, false, true, out.data());
  for (int c = 0; c < 3; ++c) EXPECT_EQ(out[c * 4], 0.0f);
}

TEST(Augment, PerPixelMeanSubtractionPadsWithZero) {
  const std::vector<uint8_t> img = {10, 20, 30, 40};  // 1 x 2 x 2
  const std::vector<float> pm = {0.1f, 0.2f, 0.3f, 0.4f};
  const Normalizer n = Normalizer::pixels(pm, 1);
  std::vector<float> out(4);
  Rng rng(0);
  dl::train::apply_transform(TransformConfig::eval(n), img.data(), 1, 2, 2, rng, out.data());
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(out[i], img[i] / 255.0 - pm[i], 1e-6);
  // Shift right by one (offset x = 0 with pad 1): left column is padding = 0.
  dl::train::pad_crop_flip_normalize(n, img.data(), 1, 2, 2, 1, 1, 0, false, false, out.data());
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_NEAR(out[1], 10 / 255.0 - 0.1, 1e-6);
  EXPECT_EQ(out[2], 0.0f);
  EXPECT_NEAR(out[3], 30 / 255.0 - 0.3, 1e-6);
  EXPECT_THROW(dl::train::validate_transform(TransformConfig::eval(n), 1, 3, 3),
               std::invalid_argument);
}

TEST(Augment, BilinearResampleIsExactAtScaleOneAndAveragesAtHalf) {
  // 1 channel 4x4, value = 10 * (y * 4 + x).
  std::vector<uint8_t> img(16);
  for (int i = 0; i < 16; ++i) img[i] = static_cast<uint8_t>(10 * i);
  const Normalizer n = unit(1);
  std::vector<float> same(16), half(4);
  dl::train::resample_normalize(n, img.data(), 1, 4, 4, 0, 0, 4, 4, 4, 4, false, true,
                                same.data());
  for (int i = 0; i < 16; ++i) EXPECT_FLOAT_EQ(same[i], img[i] / 255.f);
  dl::train::resample_normalize(n, img.data(), 1, 4, 4, 0, 0, 4, 4, 2, 2, false, true,
                                half.data());
  // Output (0,0) samples source (0.5, 0.5): mean of pixels 0, 1, 4, 5 = 25.
  EXPECT_NEAR(half[0] * 255.f, 25.f, 1e-3);
  EXPECT_NEAR(half[3] * 255.f, (100 + 110 + 140 + 150) / 4.f, 1e-3);
  // Flip mirrors the columns.
  std::vector<float> flipped(16);
  dl::train::resample_normalize(n, img.data(), 1, 4, 4, 0, 0, 4, 4, 4, 4, true, true,
                                flipped.data());
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) EXPECT_FLOAT_EQ(flipped[y * 4 + x], same[y * 4 + 3 - x]);
}

TEST(Augment, RandomResizedCropBoxRespectsScaleAndRatio) {
  Rng rng(9);
  const int64_t H = 60, W = 80;
  for (int t = 0; t < 500; ++t) {
    const auto b = dl::train::random_resized_crop_box(H, W, 0.08, 1.0, 3.0 / 4, 4.0 / 3, rng);
    ASSERT_GE(b.top, 0);
    ASSERT_GE(b.left, 0);
    ASSERT_GT(b.height, 0);
    ASSERT_GT(b.width, 0);
    ASSERT_LE(b.top + b.height, H);
    ASSERT_LE(b.left + b.width, W);
    const double area = static_cast<double>(b.height * b.width) / (H * W);
    const double ratio = static_cast<double>(b.width) / b.height;
    // Rounding to whole pixels widens the bounds slightly.
    EXPECT_GT(area, 0.06);
    EXPECT_LE(area, 1.0);
    EXPECT_GT(ratio, 0.70);
    EXPECT_LT(ratio, 1.42);
  }
}

TEST(Augment, ImageNetTransformsHaveCropSizeAndAreDeterministic) {
  const int64_t C = 3, H = 40, W = 50;
  const auto img = random_image(C * H * W, 4);
  auto tr = TransformConfig::imagenet_train(Normalizer::imagenet(), 24);
  auto ev = TransformConfig::imagenet_eval(Normalizer::imagenet(), 24, 28);
  EXPECT_EQ(dl::train::transform_out_height(tr, H), 24);
  EXPECT_EQ(dl::train::transform_out_width(ev, W), 24);
  std::vector<float> a(C * 24 * 24), b(a.size());
  Rng r1(77), r2(77);
  dl::train::apply_transform(tr, img.data(), C, H, W, r1, a.data());
  dl::train::apply_transform(tr, img.data(), C, H, W, r2, b.data());
  EXPECT_EQ(a, b);
  // A uniform image stays uniform through resize + centre crop.
  const std::vector<uint8_t> grey(C * H * W, 200);
  dl::train::apply_transform(ev, grey.data(), C, H, W, r1, a.data());
  const auto n = Normalizer::imagenet();
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < 24 * 24; ++i)
      ASSERT_NEAR(a[c * 576 + i], (200 / 255.0 - n.mean[c]) / n.std[c], 1e-4);
}

TEST(Augment, ValidateRejectsMismatchedNormaliser) {
  EXPECT_THROW(dl::train::validate_transform(TransformConfig::eval(unit(1)), 3, 32, 32),
               std::invalid_argument);
  Normalizer bad = unit(3);
  bad.std[1] = 0.f;
  EXPECT_THROW(dl::train::validate_transform(TransformConfig::eval(bad), 3, 32, 32),
               std::invalid_argument);
  EXPECT_NO_THROW(
      dl::train::validate_transform(TransformConfig::cifar_train(unit(3)), 3, 32, 32));
}
