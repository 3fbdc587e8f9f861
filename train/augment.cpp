// augment.cpp — the transforms of augment.h. Each output pixel is computed directly from the
// source (no intermediate padded/cropped copies), in a fixed order, so results are bit-identical
// for a given generator state.
#include "train/augment.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace dl::train {

namespace {

uint64_t splitmix_finalize(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Stream tags keep the shuffle and per-sample generators independent.
constexpr uint64_t kShuffleTag = 0x53485546464C4531ull;  // "SHUFFLE1"
constexpr uint64_t kSampleTag = 0x53414D504C453031ull;   // "SAMPLE01"

// Per-channel affine map y = x * scale[c] + bias[c] (x in 0..255).
struct ChannelAffine {
  std::vector<float> scale, bias;
  ChannelAffine(const Normalizer& n, int64_t c) : scale(c), bias(c) {
    for (int64_t k = 0; k < c; ++k) {
      scale[k] = static_cast<float>(1.0 / (255.0 * n.std[k]));
      const double m = k < static_cast<int64_t>(n.mean.size()) ? n.mean[k] : 0.0;
      bias[k] = static_cast<float>(-m / n.std[k]);
    }
  }
};

}  // namespace

uint64_t mix_seed(uint64_t a, uint64_t b) {
  return splitmix_finalize(splitmix_finalize(a + 0x9E3779B97F4A7C15ull) ^ (b + 0x632BE59BD9B4E019ull));
}

uint64_t sample_seed(uint64_t seed, int64_t epoch, int64_t index) {
  return mix_seed(mix_seed(mix_seed(seed, kSampleTag), static_cast<uint64_t>(epoch)),
                  static_cast<uint64_t>(index));
}

uint64_t shuffle_seed(uint64_t seed, int64_t epoch) {
  return mix_seed(mix_seed(seed, kShuffleTag), static_cast<uint64_t>(epoch));
}

// ---- Normalizer / TransformConfig factories ----

Normalizer Normalizer::cifar10() {
  Normalizer n;
  n.mean = {0.4914f, 0.4822f, 0.4465f};
  n.std = {0.2470f, 0.2435f, 0.2616f};
  return n;
}

Normalizer Normalizer::imagenet() {
  Normalizer n;
  n.mean = {0.485f, 0.456f, 0.406f};
  n.std = {0.229f, 0.224f, 0.225f};
  return n;
}

Normalizer Normalizer::channels(const std::vector<double>& mean, const std::vector<double>& std) {
  if (mean.size() != std.size())
    throw std::invalid_argument("Normalizer::channels: mean and std sizes differ");
  Normalizer n;
  n.mean.assign(mean.begin(), mean.end());
  n.std.assign(std.begin(), std.end());
  return n;
}

Normalizer Normalizer::pixels(const std::vector<float>& pixel_mean, int64_t channels) {
  Normalizer n;
  n.pixel_mean = pixel_mean;
  n.mean.assign(channels, 0.f);
  n.std.assign(channels, 1.f);
  return n;
}

TransformConfig TransformConfig::cifar_train(Normalizer n, int64_t pad) {
  TransformConfig c;
  c.kind = TransformKind::CifarTrain;
  c.norm = std::move(n);
  c.pad = pad;
  return c;
}

TransformConfig TransformConfig::eval(Normalizer n) {
  TransformConfig c;
  c.kind = TransformKind::Eval;
  c.norm = std::move(n);
  return c;
}

TransformConfig TransformConfig::imagenet_train(Normalizer n, int64_t crop_size) {
  TransformConfig c;
  c.kind = TransformKind::ImageNetTrain;
  c.norm = std::move(n);
  c.crop_size = crop_size;
  return c;
}

TransformConfig TransformConfig::imagenet_eval(Normalizer n, int64_t crop_size,
                                               int64_t resize_size) {
  TransformConfig c;
  c.kind = TransformKind::ImageNetEval;
  c.norm = std::move(n);
  c.crop_size = crop_size;
  c.resize_size = resize_size;
  return c;
}

int64_t transform_out_height(const TransformConfig& cfg, int64_t h) {
  switch (cfg.kind) {
    case TransformKind::ImageNetTrain:
    case TransformKind::ImageNetEval:
      return cfg.crop_size;
    default:
      return h;
  }
}

int64_t transform_out_width(const TransformConfig& cfg, int64_t w) {
  return transform_out_height(cfg, w);
}

bool transform_is_random(const TransformConfig& cfg) {
  return cfg.kind == TransformKind::CifarTrain || cfg.kind == TransformKind::ImageNetTrain;
}

void validate_transform(const TransformConfig& cfg, int64_t c, int64_t h, int64_t w) {
  const auto& n = cfg.norm;
  if (c <= 0 || h <= 0 || w <= 0) throw std::invalid_argument("transform: empty image shape");
  if (static_cast<int64_t>(n.std.size()) != c)
    throw std::invalid_argument("transform: normaliser has " + std::to_string(n.std.size()) +
                                " std values for " + std::to_string(c) + " channels");
  for (float s : n.std)
    if (!(s > 0.f)) throw std::invalid_argument("transform: std must be > 0");
  if (n.per_pixel()) {
    if (static_cast<int64_t>(n.pixel_mean.size()) != c * h * w)
      throw std::invalid_argument("transform: pixel_mean has " +
                                  std::to_string(n.pixel_mean.size()) + " values, expected " +
                                  std::to_string(c * h * w));
    if (cfg.kind == TransformKind::ImageNetTrain || cfg.kind == TransformKind::ImageNetEval)
      throw std::invalid_argument("transform: per-pixel mean is only supported for CIFAR-style "
                                  "transforms");
  } else if (static_cast<int64_t>(n.mean.size()) != c) {
    throw std::invalid_argument("transform: normaliser has " + std::to_string(n.mean.size()) +
                                " mean values for " + std::to_string(c) + " channels");
  }
  if (cfg.kind == TransformKind::CifarTrain && cfg.pad < 0)
    throw std::invalid_argument("transform: pad must be >= 0");
  if (cfg.kind == TransformKind::ImageNetTrain || cfg.kind == TransformKind::ImageNetEval) {
    if (cfg.crop_size <= 0) throw std::invalid_argument("transform: crop_size must be > 0");
    if (cfg.kind == TransformKind::ImageNetEval && cfg.resize_size < cfg.crop_size)
      throw std::invalid_argument("transform: resize_size must be >= crop_size");
    if (!(cfg.scale_min > 0 && cfg.scale_min <= cfg.scale_max && cfg.scale_max <= 1.0))
      throw std::invalid_argument("transform: need 0 < scale_min <= scale_max <= 1");
    if (!(cfg.ratio_min > 0 && cfg.ratio_min <= cfg.ratio_max))
      throw std::invalid_argument("transform: need 0 < ratio_min <= ratio_max");
  }
}

// ---- steps ----

void normalize_image(const Normalizer& n, const uint8_t* src, int64_t c, int64_t h, int64_t w,
                     float* dst) {
  const int64_t plane = h * w;
  if (n.per_pixel()) {
    for (int64_t k = 0; k < c; ++k) {
      const float inv_std = 1.0f / n.std[k];
      for (int64_t i = 0; i < plane; ++i) {
        const int64_t idx = k * plane + i;
        dst[idx] = (static_cast<float>(src[idx]) * (1.0f / 255.0f) - n.pixel_mean[idx]) * inv_std;
      }
    }
    return;
  }
  const ChannelAffine a(n, c);
  for (int64_t k = 0; k < c; ++k)
    for (int64_t i = 0; i < plane; ++i) {
      const int64_t idx = k * plane + i;
      dst[idx] = static_cast<float>(src[idx]) * a.scale[k] + a.bias[k];
    }
}

void pad_crop_flip_normalize(const Normalizer& n, const uint8_t* src, int64_t c, int64_t h,
                             int64_t w, int64_t pad, int64_t off_y, int64_t off_x, bool flip,
                             bool pad_with_mean, float* dst) {
  const bool pp = n.per_pixel();
  const ChannelAffine a(n, c);
  for (int64_t k = 0; k < c; ++k) {
    const float inv_std = 1.0f / n.std[k];
    // Value of a padded pixel in normalised space.
    const float pad_value = (pp || pad_with_mean) ? 0.0f : a.bias[k];
    const uint8_t* sp = src + k * h * w;
    float* dp = dst + k * h * w;
    for (int64_t y = 0; y < h; ++y) {
      const int64_t sy = y + off_y - pad;
      for (int64_t x = 0; x < w; ++x) {
        const int64_t cx = flip ? (w - 1 - x) : x;  // position inside the crop
        const int64_t sx = cx + off_x - pad;
        float v;
        if (sy < 0 || sy >= h || sx < 0 || sx >= w) {
          v = pad_value;
        } else {
          const int64_t si = sy * w + sx;
          if (pp)
            v = (static_cast<float>(sp[si]) * (1.0f / 255.0f) - n.pixel_mean[k * h * w + si]) *
                inv_std;
          else
            v = static_cast<float>(sp[si]) * a.scale[k] + a.bias[k];
        }
        dp[y * w + x] = v;
      }
    }
  }
}

void resample_normalize(const Normalizer& n, const uint8_t* src, int64_t c, int64_t h, int64_t w,
                        double y0, double x0, double rh, double rw, int64_t out_h, int64_t out_w,
                        bool flip, bool clamp_to_region, float* dst) {
  // Precompute the two source taps and the weight of the second for every output row/column.
  struct Tap {
    int64_t i0, i1;
    float t;
  };
  auto taps = [](double start, double len, int64_t out, int64_t size, bool clamp_region) {
    std::vector<Tap> v(out);
    double lo = 0.0, hi = static_cast<double>(size - 1);
    if (clamp_region) {
      lo = std::max(lo, start);
      hi = std::min(hi, start + len - 1.0);
      if (hi < lo) hi = lo;
    }
    const double step = len / static_cast<double>(out);
    for (int64_t j = 0; j < out; ++j) {
      double s = start + (static_cast<double>(j) + 0.5) * step - 0.5;
      s = std::min(std::max(s, lo), hi);
      const double f = std::floor(s);
      int64_t i0 = static_cast<int64_t>(f);
      int64_t i1 = std::min(i0 + 1, size - 1);
      i0 = std::min(std::max<int64_t>(i0, 0), size - 1);
      v[j] = {i0, i1, static_cast<float>(s - f)};
    }
    return v;
  };
  const std::vector<Tap> ty = taps(y0, rh, out_h, h, clamp_to_region);
  const std::vector<Tap> tx = taps(x0, rw, out_w, w, clamp_to_region);
  const ChannelAffine a(n, c);
  for (int64_t k = 0; k < c; ++k) {
    const uint8_t* sp = src + k * h * w;
    float* dp = dst + k * out_h * out_w;
    for (int64_t i = 0; i < out_h; ++i) {
      const Tap& yt = ty[i];
      const uint8_t* r0 = sp + yt.i0 * w;
      const uint8_t* r1 = sp + yt.i1 * w;
      for (int64_t j = 0; j < out_w; ++j) {
        const Tap& xt = tx[flip ? out_w - 1 - j : j];
        const float top = r0[xt.i0] + (static_cast<float>(r0[xt.i1]) - r0[xt.i0]) * xt.t;
        const float bot = r1[xt.i0] + (static_cast<float>(r1[xt.i1]) - r1[xt.i0]) * xt.t;
        const float v = top + (bot - top) * yt.t;
        dp[i * out_w + j] = v * a.scale[k] + a.bias[k];
      }
    }
  }
}

CropBox random_resized_crop_box(int64_t h, int64_t w, double scale_min, double scale_max,
                                double ratio_min, double ratio_max, Rng& rng) {
  const double area = static_cast<double>(h) * static_cast<double>(w);
  const double log_rmin = std::log(ratio_min), log_rmax = std::log(ratio_max);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target_area = area * (scale_min + (scale_max - scale_min) * rng.uniform());
    const double aspect = std::exp(log_rmin + (log_rmax - log_rmin) * rng.uniform());
    const int64_t cw = std::llround(std::sqrt(target_area * aspect));
    const int64_t ch = std::llround(std::sqrt(target_area / aspect));
    if (cw > 0 && ch > 0 && cw <= w && ch <= h) {
      CropBox b;
      b.height = ch;
      b.width = cw;
      b.top = static_cast<int64_t>(rng.randint(static_cast<uint64_t>(h - ch + 1)));
      b.left = static_cast<int64_t>(rng.randint(static_cast<uint64_t>(w - cw + 1)));
      return b;
    }
  }
  // Fallback: centre crop with the ratio clamped into range.
  CropBox b;
  const double in_ratio = static_cast<double>(w) / static_cast<double>(h);
  if (in_ratio < ratio_min) {
    b.width = w;
    b.height = std::min<int64_t>(h, std::llround(static_cast<double>(w) / ratio_min));
  } else if (in_ratio > ratio_max) {
    b.height = h;
    b.width = std::min<int64_t>(w, std::llround(static_cast<double>(h) * ratio_max));
  } else {
    b.width = w;
    b.height = h;
  }
  b.top = (h - b.height) / 2;
  b.left = (w - b.width) / 2;
  return b;
}

void apply_transform(const TransformConfig& cfg, const uint8_t* src, int64_t c, int64_t h,
                     int64_t w, Rng& rng, float* dst) {
  switch (cfg.kind) {
    case TransformKind::Eval:
      normalize_image(cfg.norm, src, c, h, w, dst);
      return;
    case TransformKind::CifarTrain: {
      const uint64_t span = static_cast<uint64_t>(2 * cfg.pad + 1);
      const int64_t off_x = static_cast<int64_t>(rng.randint(span));
      const int64_t off_y = static_cast<int64_t>(rng.randint(span));
      const bool flip = cfg.hflip && rng.uniform() < 0.5;
      pad_crop_flip_normalize(cfg.norm, src, c, h, w, cfg.pad, off_y, off_x, flip,
                              cfg.pad_with_mean, dst);
      return;
    }
    case TransformKind::ImageNetTrain: {
      const CropBox b = random_resized_crop_box(h, w, cfg.scale_min, cfg.scale_max,
                                                cfg.ratio_min, cfg.ratio_max, rng);
      const bool flip = cfg.hflip && rng.uniform() < 0.5;
      resample_normalize(cfg.norm, src, c, h, w, static_cast<double>(b.top),
                         static_cast<double>(b.left), static_cast<double>(b.height),
                         static_cast<double>(b.width), cfg.crop_size, cfg.crop_size, flip,
                         /*clamp_to_region=*/true, dst);
      return;
    }
    case TransformKind::ImageNetEval: {
      // Resize so the shorter side is resize_size, then take the centre crop_size square;
      // expressed as the matching source rectangle (scale = resize_size / shorter side).
      const double scale = static_cast<double>(cfg.resize_size) /
                           static_cast<double>(std::min(h, w));
      const double rh = static_cast<double>(cfg.crop_size) / scale;
      const double rw = rh;
      const double y0 = (static_cast<double>(h) - rh) / 2.0;
      const double x0 = (static_cast<double>(w) - rw) / 2.0;
      resample_normalize(cfg.norm, src, c, h, w, y0, x0, rh, rw, cfg.crop_size, cfg.crop_size,
                         /*flip=*/false, /*clamp_to_region=*/false, dst);
      return;
    }
  }
  throw std::invalid_argument("apply_transform: unknown transform kind");
}

}  // namespace dl::train
