// dataset.h — in-memory image datasets (uint8, CHW per image) and their loaders:
// the official CIFAR-10 binary batches, and image folders (one subfolder per class).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace dl::train {

/// N images of channels x height x width uint8 pixels, stored image after image, each image
/// planar (CHW). labels[i] is in [0, class_names.size()).
struct ImageDataset {
  int64_t channels = 3, height = 32, width = 32;
  std::vector<uint8_t> pixels;  ///< N*C*H*W, CHW per image
  std::vector<int64_t> labels;
  std::vector<std::string> class_names;

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  int64_t image_numel() const { return channels * height * width; }
  const uint8_t* image(int64_t i) const { return pixels.data() + i * image_numel(); }
  /// A new dataset with the images at @p indices, in that order (same classes).
  ImageDataset subset(const std::vector<int64_t>& indices) const;
  /// Number of images per class (size class_names.size()).
  std::vector<int64_t> class_counts() const;
};

/// The CIFAR-10 class names in label order (airplane .. truck).
const std::vector<std::string>& cifar10_class_names();

/// Loads official CIFAR-10 binary batch files (records of 1 label byte + 1024 R + 1024 G +
/// 1024 B bytes, rows top to bottom), concatenated in the given order. Throws
/// std::runtime_error naming the file if it is missing or unreadable, empty, not a multiple of
/// 3073 bytes long, or holds a label >= 10.
ImageDataset load_cifar10_binary(const std::vector<std::string>& files);

/// Loads the train or test split of CIFAR-10 from @p dir, detecting the layout:
///  1. binary batches: files named data_batch_*.bin (train) or test_batch*.bin (test) in @p dir
///     (e.g. data_batch_1.bin .. data_batch_5.bin, test_batch.bin), in natural name order;
///  2. otherwise an image folder: @p dir/train and @p dir/test, each with one subfolder per
///     class, loaded with load_image_folder(..., 0).
/// Throws std::runtime_error if neither layout is found (or the split is missing).
ImageDataset load_cifar10_dir(const std::string& dir, bool train);

/// Loads an image folder: one subfolder per class (class index = rank of the folder name in
/// byte-wise sorted order), each holding image files (extensions .jpg .jpeg .png .bmp .gif
/// .tga .ppm .pgm .pnm, case-insensitive; other files and hidden entries are ignored), read in
/// sorted name order and decoded with stb_image to 3 channels (grey is replicated, alpha is
/// dropped).
///  size == 0: images are kept as they are and must all have the size of the first one.
///  size >  0: every image not already size x size is resized so its shorter side is @p size
///             (stb_image_resize, Mitchell filter) and then centre-cropped to size x size.
/// Decoding runs in parallel with OpenMP when available; the result does not depend on the
/// thread count. Throws std::runtime_error naming the file or folder on: no class folders, an
/// empty class folder, an undecodable image, or (size == 0) a size mismatch.
ImageDataset load_image_folder(const std::string& dir, int64_t size = 0);

/// Splits off @p n_holdout images chosen by a seeded shuffle (the ResNet paper holds out 5k of
/// the 50k CIFAR-10 training images): returns (train, val). Both keep the original relative
/// order of their images. Throws std::invalid_argument if n_holdout < 0 or > size().
std::pair<ImageDataset, ImageDataset> split_holdout(const ImageDataset& ds, int64_t n_holdout,
                                                    uint64_t seed);

/// Per-channel statistics in units of pixel/255 (population std over all pixels of all images).
/// Exact integer sums are used, so the result does not depend on the thread count.
struct ChannelStats {
  std::vector<double> mean, std;
};
ChannelStats compute_channel_stats(const ImageDataset& ds);

/// The mean image (C*H*W values, pixel/255), for per-pixel mean subtraction.
std::vector<float> compute_pixel_mean(const ImageDataset& ds);

}  // namespace dl::train
