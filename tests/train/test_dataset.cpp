// Tests for train/dataset.h: CIFAR-10 binary batches, image folders, hold-out split, statistics.
#include "train/dataset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <filesystem>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "train_test_util.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#if __has_include(<stb/stb_image_write.h>)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop
#define DL_HAVE_STB_WRITE 1
#endif

using dl::train::ImageDataset;
using dl::train::testing::make_bmp;
using dl::train::testing::TempDir;
using dl::train::testing::write_bytes;

namespace {

// A CIFAR record whose pixel bytes are a function of (record id, byte offset).
std::string cifar_record(uint8_t label, int id) {
  std::string r(3073, '\0');
  r[0] = static_cast<char>(label);
  for (int k = 0; k < 3072; ++k) r[1 + k] = static_cast<char>((id * 31 + k * 7) & 0xff);
  return r;
}

bool message_contains(const std::function<void()>& f, const std::string& needle,
                      std::string* msg_out = nullptr) {
  try {
    f();
  } catch (const std::exception& e) {
    if (msg_out) *msg_out = e.what();
    return std::string(e.what()).find(needle) != std::string::npos;
  }
  return false;
}

// An RGB image (HWC) whose pixel (y, x) has colour (base + x, base + 16 y, base + x + y).
std::vector<uint8_t> pattern_hwc(int w, int h, int base) {
  std::vector<uint8_t> p(static_cast<size_t>(w * h * 3));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      p[(y * w + x) * 3 + 0] = static_cast<uint8_t>(base + x);
      p[(y * w + x) * 3 + 1] = static_cast<uint8_t>(base + 16 * y);
      p[(y * w + x) * 3 + 2] = static_cast<uint8_t>(base + x + y);
    }
  return p;
}

// The CHW pixel of image i.
int px(const ImageDataset& ds, int64_t i, int c, int y, int x) {
  return ds.image(i)[(c * ds.height + y) * ds.width + x];
}

}  // namespace

TEST(CifarBinary, LoadsGeneratedRecordsAcrossFilesInOrder) {
  TempDir tmp;
  write_bytes(tmp / "a.bin", cifar_record(3, 0) + cifar_record(9, 1) + cifar_record(0, 2));
  write_bytes(tmp / "b.bin", cifar_record(7, 3) + cifar_record(5, 4));
  const ImageDataset ds = dl::train::load_cifar10_binary({tmp / "a.bin", tmp / "b.bin"});
  ASSERT_EQ(ds.size(), 5);
  EXPECT_EQ(ds.channels, 3);
  EXPECT_EQ(ds.height, 32);
  EXPECT_EQ(ds.width, 32);
  EXPECT_EQ(ds.labels, (std::vector<int64_t>{3, 9, 0, 7, 5}));
  ASSERT_EQ(ds.class_names.size(), 10u);
  EXPECT_EQ(ds.class_names[0], "airplane");
  EXPECT_EQ(ds.class_names[9], "truck");
  ASSERT_EQ(ds.pixels.size(), 5u * 3072u);
  // Record bytes 1..3072 are R plane, G plane, B plane: exactly CHW.
  for (int id = 0; id < 5; ++id)
    for (int k = 0; k < 3072; k += 97)
      EXPECT_EQ(ds.image(id)[k], (id * 31 + k * 7) & 0xff) << "image " << id << " byte " << k;
  EXPECT_EQ(px(ds, 1, 1, 0, 0), (31 + 1024 * 7) & 0xff);  // first G byte of record 1
}

TEST(CifarBinary, RejectsTruncatedFileNamingIt) {
  TempDir tmp;
  const std::string rec = cifar_record(1, 0);
  write_bytes(tmp / "cut.bin", rec + rec.substr(0, 1000));
  std::string msg;
  EXPECT_TRUE(message_contains([&] { dl::train::load_cifar10_binary({tmp / "cut.bin"}); },
                               "cut.bin", &msg))
      << msg;
  EXPECT_NE(msg.find("3073"), std::string::npos) << msg;
}

TEST(CifarBinary, RejectsLabelOutOfRangeNamingFileAndRecord) {
  TempDir tmp;
  write_bytes(tmp / "badlabel.bin", cifar_record(2, 0) + cifar_record(10, 1));
  std::string msg;
  EXPECT_TRUE(message_contains([&] { dl::train::load_cifar10_binary({tmp / "badlabel.bin"}); },
                               "badlabel.bin", &msg))
      << msg;
  EXPECT_NE(msg.find("record 1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("label 10"), std::string::npos) << msg;
}

TEST(CifarBinary, RejectsMissingAndEmptyFilesNamingThem) {
  TempDir tmp;
  EXPECT_TRUE(message_contains([&] { dl::train::load_cifar10_binary({tmp / "nope.bin"}); },
                               "nope.bin"));
  write_bytes(tmp / "empty.bin", std::string());
  EXPECT_TRUE(message_contains([&] { dl::train::load_cifar10_binary({tmp / "empty.bin"}); },
                               "empty.bin"));
}

TEST(CifarDir, DetectsBinaryBatchesInNaturalOrder) {
  TempDir tmp;
  write_bytes(tmp / "data_batch_10.bin", cifar_record(0, 0));
  write_bytes(tmp / "data_batch_2.bin", cifar_record(2, 0));
  write_bytes(tmp / "data_batch_1.bin", cifar_record(1, 0));
  write_bytes(tmp / "test_batch.bin", cifar_record(4, 0) + cifar_record(5, 0));
  write_bytes(tmp / "batches.meta.txt", "airplane\n");
  const ImageDataset tr = dl::train::load_cifar10_dir(tmp.path(), true);
  EXPECT_EQ(tr.labels, (std::vector<int64_t>{1, 2, 0}));  // 1, 2, 10
  const ImageDataset te = dl::train::load_cifar10_dir(tmp.path(), false);
  EXPECT_EQ(te.labels, (std::vector<int64_t>{4, 5}));
}

TEST(CifarDir, DetectsTrainAndTestImageFolders) {
  TempDir tmp;
  for (const char* split : {"train", "test"})
    for (const char* cls : {"cat", "dog"})
      write_bytes(tmp / (std::string(split) + "/" + cls + "/0000.bmp"),
                  make_bmp(2, 2, pattern_hwc(2, 2, 10)));
  write_bytes(tmp / "train/dog/0001.bmp", make_bmp(2, 2, pattern_hwc(2, 2, 20)));
  const ImageDataset tr = dl::train::load_cifar10_dir(tmp.path(), true);
  EXPECT_EQ(tr.size(), 3);
  EXPECT_EQ(tr.class_names, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(dl::train::load_cifar10_dir(tmp.path(), false).size(), 2);
}

TEST(CifarDir, ExplainsWhenNoLayoutIsFound) {
  TempDir tmp;
  write_bytes(tmp / "readme.txt", "nothing here");
  std::string msg;
  EXPECT_TRUE(message_contains([&] { dl::train::load_cifar10_dir(tmp.path(), true); },
                               "no CIFAR-10 data found", &msg))
      << msg;
  EXPECT_TRUE(message_contains([&] { dl::train::load_cifar10_dir(tmp / "missing", true); },
                               "missing"));
}

TEST(ImageFolder, LoadsBmpAndPngExactlyWithSortedClassesAndFiles) {
  TempDir tmp;
  // Class folders are created out of order; files too. Hidden and non-image files are ignored.
  write_bytes(tmp / "zebra/b.bmp", make_bmp(3, 2, pattern_hwc(3, 2, 100)));
  write_bytes(tmp / "zebra/a.bmp", make_bmp(3, 2, pattern_hwc(3, 2, 50)));
  write_bytes(tmp / "zebra/notes.txt", "not an image");
  write_bytes(tmp / "zebra/.hidden.bmp", "garbage");
#ifdef DL_HAVE_STB_WRITE
  {
    std::filesystem::create_directories(tmp / "ant");
    const auto p = pattern_hwc(3, 2, 7);
    ASSERT_TRUE(stbi_write_png((tmp / "ant/x.png").c_str(), 3, 2, 3, p.data(), 3 * 3));
    // A grey PNG is replicated into the three channels.
    const std::vector<uint8_t> grey = {0, 40, 80, 120, 160, 200};
    ASSERT_TRUE(stbi_write_png((tmp / "ant/y.png").c_str(), 3, 2, 1, grey.data(), 3));
  }
#else
  write_bytes(tmp / "ant/x.bmp", make_bmp(3, 2, pattern_hwc(3, 2, 7)));
#endif
  const ImageDataset ds = dl::train::load_image_folder(tmp.path());
  EXPECT_EQ(ds.class_names, (std::vector<std::string>{"ant", "zebra"}));
  EXPECT_EQ(ds.height, 2);
  EXPECT_EQ(ds.width, 3);
#ifdef DL_HAVE_STB_WRITE
  ASSERT_EQ(ds.size(), 4);
  EXPECT_EQ(ds.labels, (std::vector<int64_t>{0, 0, 1, 1}));
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(px(ds, 1, c, 0, 1), 40);
    EXPECT_EQ(px(ds, 1, c, 1, 2), 200);
  }
  const int64_t zebra_a = 2;
#else
  ASSERT_EQ(ds.size(), 3);
  const int64_t zebra_a = 1;
#endif
  // Exact pixels (lossless formats), CHW: channel c of pixel (y, x).
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x) {
      EXPECT_EQ(px(ds, 0, 0, y, x), 7 + x);
      EXPECT_EQ(px(ds, 0, 1, y, x), 7 + 16 * y);
      EXPECT_EQ(px(ds, 0, 2, y, x), 7 + x + y);
      EXPECT_EQ(px(ds, zebra_a, 0, y, x), 50 + x);      // a.bmp before b.bmp
      EXPECT_EQ(px(ds, zebra_a + 1, 1, y, x), 100 + 16 * y);
    }
}

TEST(ImageFolder, RejectsUndecodableImageNamingIt) {
  TempDir tmp;
  write_bytes(tmp / "cls/good.bmp", make_bmp(2, 2, pattern_hwc(2, 2, 0)));
  write_bytes(tmp / "cls/broken.png", "this is not a PNG file at all");
  std::string msg;
  EXPECT_TRUE(message_contains([&] { dl::train::load_image_folder(tmp.path()); }, "broken.png",
                               &msg))
      << msg;
  EXPECT_NE(msg.find("cannot decode"), std::string::npos) << msg;
}

TEST(ImageFolder, RejectsEmptyClassFolderNamingIt) {
  TempDir tmp;
  write_bytes(tmp / "full/a.bmp", make_bmp(2, 2, pattern_hwc(2, 2, 0)));
  std::filesystem::create_directories(tmp / "hollow");
  write_bytes(tmp / "hollow/readme.txt", "no images");
  EXPECT_TRUE(message_contains([&] { dl::train::load_image_folder(tmp.path()); }, "hollow"));
}

TEST(ImageFolder, RejectsFolderWithoutClassFolders) {
  TempDir tmp;
  write_bytes(tmp / "a.bmp", make_bmp(2, 2, pattern_hwc(2, 2, 0)));
  EXPECT_TRUE(
      message_contains([&] { dl::train::load_image_folder(tmp.path()); }, "no class folders"));
}

TEST(ImageFolder, RejectsSizeMismatchWhenKeepingSizes) {
  TempDir tmp;
  write_bytes(tmp / "c/a.bmp", make_bmp(2, 2, pattern_hwc(2, 2, 0)));
  write_bytes(tmp / "c/b.bmp", make_bmp(3, 2, pattern_hwc(3, 2, 0)));
  std::string msg;
  EXPECT_TRUE(message_contains([&] { dl::train::load_image_folder(tmp.path(), 0); }, "b.bmp",
                               &msg))
      << msg;
}

TEST(ImageFolder, SizeCentreCropsAfterScalingShorterSide) {
  TempDir tmp;
  // 8x4 image: shorter side (4) already equals the size, so only the centre crop applies:
  // columns 2..5 are kept.
  write_bytes(tmp / "c/wide.bmp", make_bmp(8, 4, pattern_hwc(8, 4, 0)));
  // 16x16 uniform image scaled down to 4x4 stays uniform.
  write_bytes(tmp / "c/z_big.bmp", make_bmp(16, 16, std::vector<uint8_t>(16 * 16 * 3, 77)));
  const ImageDataset ds = dl::train::load_image_folder(tmp.path(), 4);
  ASSERT_EQ(ds.size(), 2);
  EXPECT_EQ(ds.height, 4);
  EXPECT_EQ(ds.width, 4);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) {
      EXPECT_EQ(px(ds, 0, 0, y, x), x + 2);
      EXPECT_EQ(px(ds, 0, 1, y, x), 16 * y);
      for (int c = 0; c < 3; ++c) EXPECT_EQ(px(ds, 1, c, y, x), 77);
    }
}

#ifdef _OPENMP
TEST(ImageFolder, ResultIndependentOfThreadCount) {
  TempDir tmp;
  for (int i = 0; i < 40; ++i)
    write_bytes(tmp / ("c" + std::to_string(i % 3) + "/" + std::to_string(i) + ".bmp"),
                make_bmp(5, 4, pattern_hwc(5, 4, i)));
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const ImageDataset a = dl::train::load_image_folder(tmp.path());
  omp_set_num_threads(4);
  const ImageDataset b = dl::train::load_image_folder(tmp.path());
  omp_set_num_threads(saved);
  EXPECT_EQ(a.pixels, b.pixels);
  EXPECT_EQ(a.labels, b.labels);
}
#endif

TEST(SplitHoldout, IsSeededDisjointAndComplete) {
  ImageDataset ds;
  ds.channels = 1;
  ds.height = ds.width = 1;
  ds.class_names = {"a", "b"};
  for (int i = 0; i < 100; ++i) {
    ds.pixels.push_back(static_cast<uint8_t>(i));
    ds.labels.push_back(i % 2);
  }
  const auto [tr, va] = dl::train::split_holdout(ds, 10, 42);
  ASSERT_EQ(tr.size(), 90);
  ASSERT_EQ(va.size(), 10);
  std::set<int> all;
  for (uint8_t p : tr.pixels) all.insert(p);
  for (uint8_t p : va.pixels) all.insert(p);
  EXPECT_EQ(all.size(), 100u);  // every image exactly once
  for (int64_t i = 0; i < va.size(); ++i) EXPECT_EQ(va.labels[i], va.pixels[i] % 2);
  EXPECT_TRUE(std::is_sorted(tr.pixels.begin(), tr.pixels.end()));  // original order kept
  const auto again = dl::train::split_holdout(ds, 10, 42);
  EXPECT_EQ(again.second.pixels, va.pixels);
  const auto other = dl::train::split_holdout(ds, 10, 43);
  EXPECT_NE(other.second.pixels, va.pixels);
  EXPECT_THROW(dl::train::split_holdout(ds, 101, 0), std::invalid_argument);
}

TEST(Statistics, ChannelMeanStdAndPixelMeanMatchHandComputation) {
  ImageDataset ds;
  ds.channels = 2;
  ds.height = 1;
  ds.width = 2;
  ds.class_names = {"x"};
  // image 0: ch0 = {0, 255}, ch1 = {51, 51}; image 1: ch0 = {255, 255}, ch1 = {102, 0}
  ds.pixels = {0, 255, 51, 51, 255, 255, 102, 0};
  ds.labels = {0, 0};
  const auto st = dl::train::compute_channel_stats(ds);
  EXPECT_NEAR(st.mean[0], 0.75, 1e-12);
  EXPECT_NEAR(st.std[0], std::sqrt(0.75 * 0.25), 1e-12);
  EXPECT_NEAR(st.mean[1], 0.2, 1e-12);  // values 0.2, 0.2, 0.4, 0.0
  EXPECT_NEAR(st.std[1], std::sqrt(0.02), 1e-12);
  const auto pm = dl::train::compute_pixel_mean(ds);
  ASSERT_EQ(pm.size(), 4u);
  EXPECT_NEAR(pm[0], 0.5, 1e-7);
  EXPECT_NEAR(pm[1], 1.0, 1e-7);
  EXPECT_NEAR(pm[2], 0.3, 1e-7);
  EXPECT_NEAR(pm[3], 0.1, 1e-7);
}

// The real data in ../shared (lossless prefix of the official binary batches).
TEST(SharedData, LosslessBinarySubsetMatchesPublishedPixels) {
  const std::string archive =
      std::string(DL_SHARED_DIR) + "/data/cifar-10-batches-bin-lossless-subset.tar.gz";
  if (!std::filesystem::exists(archive))
    GTEST_SKIP() << "shared data not available: " << archive;
  TempDir tmp;
  const std::string cmd = "tar xzf '" + archive + "' -C '" + tmp.path() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const std::string dir = tmp / "cifar-10-batches-bin-lossless-subset";
  const ImageDataset tr = dl::train::load_cifar10_dir(dir, true);
  ASSERT_EQ(tr.size(), 4000);
  // First train image: R starts 59, 43, 50; B ends 140, 84, 72 (published values).
  EXPECT_EQ(tr.image(0)[0], 59);
  EXPECT_EQ(tr.image(0)[1], 43);
  EXPECT_EQ(tr.image(0)[2], 50);
  EXPECT_EQ(tr.image(0)[3069], 140);
  EXPECT_EQ(tr.image(0)[3070], 84);
  EXPECT_EQ(tr.image(0)[3071], 72);
  EXPECT_EQ(std::vector<int64_t>(tr.labels.begin(), tr.labels.begin() + 10),
            (std::vector<int64_t>{6, 9, 9, 4, 1, 1, 2, 7, 8, 3}));
  const uint8_t* im5 = tr.image(5);
  EXPECT_EQ(*std::min_element(im5, im5 + 3072), 0);
  EXPECT_EQ(*std::max_element(im5, im5 + 3072), 252);
  const ImageDataset te = dl::train::load_cifar10_dir(dir, false);
  EXPECT_EQ(te.size(), 1000);
  EXPECT_EQ(te.labels[0], 3);  // cat
}

// The small JPEG sample committed in the repository (data/cifar10-sample).
TEST(BundledSample, Has1000TrainAnd200TestImagesBalanced) {
  const std::string dir = std::string(DL_SOURCE_DIR) + "/data/cifar10-sample";
  const ImageDataset tr = dl::train::load_cifar10_dir(dir, true);
  ASSERT_EQ(tr.size(), 1000);
  EXPECT_EQ(tr.height, 32);
  EXPECT_EQ(tr.width, 32);
  EXPECT_EQ(tr.class_names, dl::train::cifar10_class_names());
  EXPECT_EQ(tr.class_counts(), std::vector<int64_t>(10, 100));
  const ImageDataset te = dl::train::load_cifar10_dir(dir, false);
  ASSERT_EQ(te.size(), 200);
  EXPECT_EQ(te.class_counts(), std::vector<int64_t>(10, 20));
  // JPEG statistics are close to the full set's (README: mean R,G,B ~ 0.49, 0.48, 0.45).
  const auto st = dl::train::compute_channel_stats(tr);
  for (int c = 0; c < 3; ++c) {
    EXPECT_GT(st.mean[c], 0.35);
    EXPECT_LT(st.mean[c], 0.60);
    EXPECT_GT(st.std[c], 0.18);
    EXPECT_LT(st.std[c], 0.32);
  }
}
