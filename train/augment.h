// augment.h — seeded, reproducible image transforms: uint8 CHW in, normalised float CHW out.
//
// Randomness: every transform draws from a dl::Generator passed by reference. The loader gives
// each sample its own generator seeded by sample_seed(seed, epoch, dataset_index), so a sample's
// augmentation never depends on which thread prepared it, on the batch size or on the order in
// which samples are processed.
//
// Normalisation (Normalizer):
//   per-channel  : y = (x/255 - mean[c]) / std[c]
//   per-pixel    : y = (x/255 - pixel_mean[c,h,w]) / std[c]   (the ResNet paper's CIFAR scheme
//                  is per-pixel mean subtraction with std = 1)
//
// CIFAR training transform (ResNet paper, Sec. 4.2): pad 4 pixels on each side, take a random
// 32x32 crop, flip horizontally with probability 0.5, normalise. Padding value:
//   per-channel mode: the padded pixels are black (0) *before* normalisation, as in torchvision's
//                     RandomCrop(32, padding=4) + Normalize; set pad_with_mean to pad with 0
//                     *after* normalisation instead (the channel mean colour, fb.resnet.torch).
//   per-pixel mode  : always 0 after normalisation (the mean image is only defined on the
//                     original grid, so the padding is the "mean" pixel).
// Draw order per sample: crop x offset, crop y offset, flip coin.
//
// ImageNet-style transforms (ResNet paper, Sec. 3.4, torchvision conventions):
//   train: RandomResizedCrop(scale 0.08-1, ratio 3/4-4/3, 10 attempts then centre fallback),
//          bilinear resize to crop_size x crop_size (half-pixel centres, no antialiasing),
//          horizontal flip p=0.5. Draw order: per attempt (scale, log-ratio), then top, left;
//          then the flip coin.
//   eval : resize the shorter side to resize_size, centre crop crop_size x crop_size, computed
//          as one bilinear resampling of the corresponding source region.
//   These support per-channel normalisation only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "tensor/random.h"

namespace dl::train {

/// The generator used by all transforms (xoshiro256**, see tensor/random.h).
using Rng = dl::Generator;

/// Mixes two 64-bit values into a well-scrambled seed (splitmix64 finaliser applied twice).
uint64_t mix_seed(uint64_t a, uint64_t b);
/// Seed of the generator for sample @p index (dataset index) in epoch @p epoch.
uint64_t sample_seed(uint64_t seed, int64_t epoch, int64_t index);
/// Seed of the generator that shuffles the sample order of epoch @p epoch.
uint64_t shuffle_seed(uint64_t seed, int64_t epoch);

/// Shuffles @p v in place with Fisher–Yates (from the back, j = randint(i + 1)).
template <typename T>
void shuffle_in_place(std::vector<T>& v, Rng& rng) {
  for (std::size_t i = v.size(); i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(rng.randint(i));
    std::swap(v[i - 1], v[j]);
  }
}

/// How pixels are mapped to network inputs. All statistics are in units of pixel/255.
struct Normalizer {
  std::vector<float> mean{0.f, 0.f, 0.f};  ///< per-channel mean (ignored when pixel_mean set)
  std::vector<float> std{1.f, 1.f, 1.f};   ///< per-channel standard deviation
  std::vector<float> pixel_mean;           ///< optional C*H*W mean image (per-pixel mode)

  bool per_pixel() const { return !pixel_mean.empty(); }

  /// Usual CIFAR-10 statistics (original data): mean 0.4914, 0.4822, 0.4465;
  /// std 0.2470, 0.2435, 0.2616.
  static Normalizer cifar10();
  /// ImageNet statistics: mean 0.485, 0.456, 0.406; std 0.229, 0.224, 0.225.
  static Normalizer imagenet();
  /// Per-channel normaliser from computed statistics.
  static Normalizer channels(const std::vector<double>& mean, const std::vector<double>& std);
  /// Per-pixel mean subtraction (std = 1), the ResNet paper's CIFAR preprocessing.
  static Normalizer pixels(const std::vector<float>& pixel_mean, int64_t channels);
};

enum class TransformKind {
  Eval,           ///< normalise only (same size as the input)
  CifarTrain,     ///< pad + random crop + flip + normalise (same size as the input)
  ImageNetTrain,  ///< random resized crop + flip + normalise (crop_size x crop_size)
  ImageNetEval,   ///< resize shorter side + centre crop + normalise (crop_size x crop_size)
};

struct TransformConfig {
  TransformKind kind = TransformKind::Eval;
  Normalizer norm;
  // CifarTrain
  int64_t pad = 4;
  bool pad_with_mean = false;  ///< see the header comment
  bool hflip = true;           ///< CifarTrain / ImageNetTrain: random horizontal flip
  // ImageNet*
  int64_t crop_size = 224;
  int64_t resize_size = 256;  ///< ImageNetEval: shorter side before the centre crop
  double scale_min = 0.08, scale_max = 1.0;
  double ratio_min = 3.0 / 4.0, ratio_max = 4.0 / 3.0;

  static TransformConfig cifar_train(Normalizer n, int64_t pad = 4);
  static TransformConfig eval(Normalizer n);
  static TransformConfig imagenet_train(Normalizer n, int64_t crop_size = 224);
  static TransformConfig imagenet_eval(Normalizer n, int64_t crop_size = 224,
                                       int64_t resize_size = 256);
};

/// Output height/width of @p cfg for an input of @p h x @p w.
int64_t transform_out_height(const TransformConfig& cfg, int64_t h);
int64_t transform_out_width(const TransformConfig& cfg, int64_t w);
/// True if the transform draws random numbers.
bool transform_is_random(const TransformConfig& cfg);

/// Checks the normaliser against a C x H x W input; throws std::invalid_argument if it does
/// not fit (wrong number of channels, pixel_mean of the wrong size, std <= 0, per-pixel mode
/// with an ImageNet transform).
void validate_transform(const TransformConfig& cfg, int64_t c, int64_t h, int64_t w);

/// Applies @p cfg to one uint8 CHW image and writes C x out_h x out_w floats to @p dst.
void apply_transform(const TransformConfig& cfg, const uint8_t* src, int64_t c, int64_t h,
                     int64_t w, Rng& rng, float* dst);

// ---- the individual steps (exposed for tests and tutorials) ----

/// Normalise only.
void normalize_image(const Normalizer& n, const uint8_t* src, int64_t c, int64_t h, int64_t w,
                     float* dst);
/// Zero-pad by @p pad, crop h x w at (off_y, off_x) in padded coordinates, optional horizontal
/// flip of the crop, then normalise (padding semantics as in the header comment).
void pad_crop_flip_normalize(const Normalizer& n, const uint8_t* src, int64_t c, int64_t h,
                             int64_t w, int64_t pad, int64_t off_y, int64_t off_x, bool flip,
                             bool pad_with_mean, float* dst);
/// Bilinear resampling of the source rectangle starting at (y0, x0) of size rh x rw (pixels,
/// may be fractional) to out_h x out_w (half-pixel centres, like align_corners=False), optional
/// horizontal flip, per-channel normalisation. Sample positions are clamped to the rectangle
/// [y0, y0+rh-1] x [x0, x0+rw-1] when @p clamp_to_region (crop-then-resize, integer boxes), else
/// to the whole image (resize-then-crop).
void resample_normalize(const Normalizer& n, const uint8_t* src, int64_t c, int64_t h, int64_t w,
                        double y0, double x0, double rh, double rw, int64_t out_h, int64_t out_w,
                        bool flip, bool clamp_to_region, float* dst);

/// The crop box chosen by RandomResizedCrop, integer pixels.
struct CropBox {
  int64_t top = 0, left = 0, height = 0, width = 0;
};
/// torchvision's RandomResizedCrop.get_params.
CropBox random_resized_crop_box(int64_t h, int64_t w, double scale_min, double scale_max,
                                double ratio_min, double ratio_max, Rng& rng);

}  // namespace dl::train
