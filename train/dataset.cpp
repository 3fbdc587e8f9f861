// dataset.cpp — CIFAR-10 binary and image-folder loaders, hold-out split, statistics.
// This is the one translation unit that compiles the stb_image / stb_image_resize
// implementations; they are compiled `static` so they cannot clash with another copy
// (e.g. Debian's libstb.so) linked into the same program.
#include "train/dataset.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <stdexcept>

#include "train/augment.h"  // Rng, mix_seed, shuffle_in_place
#include "train/fs_util.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#pragma GCC diagnostic ignored "-Wconversion"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_STATIC
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#if __has_include(<stb_image.h>)
#include <stb_image.h>
#include <stb_image_resize.h>
#else
#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>
#endif
#pragma GCC diagnostic pop

namespace fs = std::filesystem;

namespace dl::train {

namespace {

constexpr int64_t kCifarSide = 32;
constexpr int64_t kCifarImage = 3 * kCifarSide * kCifarSide;  // 3072
constexpr int64_t kCifarRecord = 1 + kCifarImage;              // 3073

bool starts_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}
bool ends_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}
std::string lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// "a2" < "a10": digit runs compare by value, the rest byte-wise.
bool natural_less(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const bool da = std::isdigit(static_cast<unsigned char>(a[i]));
    const bool db = std::isdigit(static_cast<unsigned char>(b[j]));
    if (da && db) {
      size_t ie = i, je = j;
      while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
      while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
      std::string na = a.substr(i, ie - i), nb = b.substr(j, je - j);
      na.erase(0, std::min(na.find_first_not_of('0'), na.size()));
      nb.erase(0, std::min(nb.find_first_not_of('0'), nb.size()));
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = ie;
      j = je;
    } else {
      if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
      ++i;
      ++j;
    }
  }
  if ((a.size() - i) != (b.size() - j)) return (a.size() - i) < (b.size() - j);
  return a < b;
}

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// Sorted names (byte-wise) of the non-hidden entries of @p dir that are directories (want_dirs)
// or regular files.
std::vector<std::string> list_entries(const fs::path& dir, bool want_dirs) {
  std::vector<std::string> names;
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  if (ec) throw std::runtime_error(dir.string() + ": cannot list directory: " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) throw std::runtime_error(dir.string() + ": cannot list directory: " + ec.message());
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    std::error_code ec2;
    const bool d = it->is_directory(ec2);
    const bool f = it->is_regular_file(ec2);
    if (want_dirs ? d : f) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool is_image_name(const std::string& name) {
  static const char* exts[] = {".jpg", ".jpeg", ".png", ".bmp", ".gif",
                               ".tga", ".ppm", ".pgm", ".pnm"};
  const std::string l = lower(name);
  for (const char* e : exts)
    if (ends_with(l, e)) return true;
  return false;
}

// Decodes one image file to 3-channel CHW of exactly out_h x out_w. resize_to == 0: the image
// must already have that size; else shorter side -> resize_to, centre crop. Returns "" on
// success or an error message naming the file.
std::string decode_into(const std::string& path, int64_t resize_to, int64_t out_h, int64_t out_w,
                        uint8_t* dst, int* got_w = nullptr, int* got_h = nullptr) {
  std::string bytes;
  try {
    bytes = read_file(path);
  } catch (const std::exception& e) {
    return e.what();
  }
  if (bytes.empty()) return path + ": cannot decode image: empty file";
  int w = 0, h = 0, n = 0;
  unsigned char* data =
      stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()),
                            static_cast<int>(bytes.size()), &w, &h, &n, 3);
  if (!data) {
    const char* why = stbi_failure_reason();
    return path + ": cannot decode image: " + (why ? why : "unknown error");
  }
  if (got_w) *got_w = w;
  if (got_h) *got_h = h;
  std::vector<uint8_t> resized;
  const uint8_t* hwc = data;
  int64_t sw = w, sh = h, top = 0, left = 0;
  if (resize_to > 0 && !(w == resize_to && h == resize_to)) {
    int64_t nw, nh;
    if (w <= h) {
      nw = resize_to;
      nh = std::max<int64_t>(resize_to, (2 * static_cast<int64_t>(h) * resize_to + w) / (2 * w));
    } else {
      nh = resize_to;
      nw = std::max<int64_t>(resize_to, (2 * static_cast<int64_t>(w) * resize_to + h) / (2 * h));
    }
    if (nw != w || nh != h) {  // the shorter side may already have the right length
      resized.resize(static_cast<size_t>(nw * nh * 3));
      if (!stbir_resize_uint8(data, w, h, 0, resized.data(), static_cast<int>(nw),
                              static_cast<int>(nh), 0, 3)) {
        stbi_image_free(data);
        return path + ": cannot resize image";
      }
      hwc = resized.data();
    }
    sw = nw;
    sh = nh;
    top = (nh - resize_to) / 2;
    left = (nw - resize_to) / 2;
  } else if (w != out_w || h != out_h) {
    stbi_image_free(data);
    return path + ": image is " + std::to_string(w) + "x" + std::to_string(h) +
           " but the dataset's images are " + std::to_string(out_w) + "x" +
           std::to_string(out_h) + " (pass a size to resize)";
  }
  (void)sh;
  const int64_t plane = out_h * out_w;
  for (int64_t y = 0; y < out_h; ++y)
    for (int64_t x = 0; x < out_w; ++x) {
      const uint8_t* p = hwc + ((y + top) * sw + (x + left)) * 3;
      for (int64_t c = 0; c < 3; ++c) dst[c * plane + y * out_w + x] = p[c];
    }
  stbi_image_free(data);
  return "";
}

}  // namespace

// ---- ImageDataset ----

ImageDataset ImageDataset::subset(const std::vector<int64_t>& indices) const {
  ImageDataset out;
  out.channels = channels;
  out.height = height;
  out.width = width;
  out.class_names = class_names;
  const int64_t n = image_numel();
  out.pixels.resize(indices.size() * static_cast<size_t>(n));
  out.labels.resize(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) {
    const int64_t k = indices[i];
    if (k < 0 || k >= size())
      throw std::out_of_range("ImageDataset::subset: index " + std::to_string(k) +
                              " out of range for " + std::to_string(size()) + " images");
    std::memcpy(out.pixels.data() + i * n, image(k), static_cast<size_t>(n));
    out.labels[i] = labels[k];
  }
  return out;
}

std::vector<int64_t> ImageDataset::class_counts() const {
  std::vector<int64_t> counts(class_names.size(), 0);
  for (int64_t l : labels)
    if (l >= 0 && l < static_cast<int64_t>(counts.size())) ++counts[l];
  return counts;
}

const std::vector<std::string>& cifar10_class_names() {
  static const std::vector<std::string> names = {"airplane", "automobile", "bird",  "cat",
                                                 "deer",     "dog",        "frog",  "horse",
                                                 "ship",     "truck"};
  return names;
}

// ---- CIFAR-10 binary ----

ImageDataset load_cifar10_binary(const std::vector<std::string>& files) {
  if (files.empty()) throw std::runtime_error("load_cifar10_binary: no files given");
  ImageDataset ds;
  ds.channels = 3;
  ds.height = ds.width = kCifarSide;
  ds.class_names = cifar10_class_names();
  for (const std::string& path : files) {
    std::string bytes;
    try {
      bytes = read_file(path);
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("CIFAR-10 binary: ") + e.what());
    }
    if (bytes.empty()) throw std::runtime_error(path + ": CIFAR-10 binary file is empty");
    if (bytes.size() % kCifarRecord != 0)
      throw std::runtime_error(path + ": size " + std::to_string(bytes.size()) +
                               " bytes is not a multiple of the 3073-byte CIFAR-10 record "
                               "(truncated or not a CIFAR-10 binary file)");
    const int64_t n = static_cast<int64_t>(bytes.size()) / kCifarRecord;
    const size_t base_pixels = ds.pixels.size();
    ds.pixels.resize(base_pixels + static_cast<size_t>(n * kCifarImage));
    ds.labels.reserve(ds.labels.size() + n);
    const auto* rec = reinterpret_cast<const uint8_t*>(bytes.data());
    for (int64_t i = 0; i < n; ++i, rec += kCifarRecord) {
      if (rec[0] >= 10)
        throw std::runtime_error(path + ": record " + std::to_string(i) + " has label " +
                                 std::to_string(rec[0]) + " (CIFAR-10 labels are 0..9)");
      ds.labels.push_back(rec[0]);
      // The record's pixels are already planar R, G, B, rows top to bottom: CHW.
      std::memcpy(ds.pixels.data() + base_pixels + i * kCifarImage, rec + 1, kCifarImage);
    }
  }
  return ds;
}

ImageDataset load_cifar10_dir(const std::string& dir, bool train) {
  const fs::path root(dir);
  if (!is_dir(root)) throw std::runtime_error(dir + ": CIFAR-10 directory not found");
  std::vector<std::string> train_bins, test_bins;
  for (const std::string& name : list_entries(root, /*want_dirs=*/false)) {
    if (!ends_with(name, ".bin")) continue;
    if (starts_with(name, "data_batch_")) train_bins.push_back(name);
    if (starts_with(name, "test_batch")) test_bins.push_back(name);
  }
  if (!train_bins.empty() || !test_bins.empty()) {
    std::vector<std::string>& names = train ? train_bins : test_bins;
    if (names.empty())
      throw std::runtime_error(dir + ": has CIFAR-10 binary batches but none for the " +
                               (train ? "train split (data_batch_*.bin)"
                                      : "test split (test_batch*.bin)"));
    std::sort(names.begin(), names.end(), natural_less);
    std::vector<std::string> paths;
    for (const auto& n : names) paths.push_back((root / n).string());
    return load_cifar10_binary(paths);
  }
  const fs::path split = root / (train ? "train" : "test");
  if (is_dir(split)) return load_image_folder(split.string(), 0);
  throw std::runtime_error(
      dir + ": no CIFAR-10 data found: expected binary batches (data_batch_1.bin .. "
            "data_batch_5.bin, test_batch.bin) or image folders train/<class>/ and "
            "test/<class>/ (missing " +
      split.string() + ")");
}

// ---- image folders ----

ImageDataset load_image_folder(const std::string& dir, int64_t size) {
  if (size < 0) throw std::invalid_argument("load_image_folder: size must be >= 0");
  const fs::path root(dir);
  if (!is_dir(root)) throw std::runtime_error(dir + ": image folder not found");
  ImageDataset ds;
  ds.channels = 3;
  ds.class_names = list_entries(root, /*want_dirs=*/true);
  if (ds.class_names.empty())
    throw std::runtime_error(dir + ": no class folders (expected one subfolder per class)");

  std::vector<std::string> paths;
  for (size_t c = 0; c < ds.class_names.size(); ++c) {
    const fs::path cdir = root / ds.class_names[c];
    size_t found = 0;
    for (const std::string& name : list_entries(cdir, /*want_dirs=*/false)) {
      if (!is_image_name(name)) continue;
      paths.push_back((cdir / name).string());
      ds.labels.push_back(static_cast<int64_t>(c));
      ++found;
    }
    if (found == 0)
      throw std::runtime_error(cdir.string() + ": empty class folder (no image files)");
  }

  const int64_t n = static_cast<int64_t>(paths.size());
  if (size > 0) {
    ds.height = ds.width = size;
  } else {
    // The first image fixes the size of all the others.
    // Probe the header with stbi_info (cheap); all images are decoded below.
    int w = 0, h = 0;
    const std::string bytes = read_file(paths[0]);
    if (!stbi_info_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()),
                               static_cast<int>(bytes.size()), &w, &h, nullptr)) {
      const char* why = stbi_failure_reason();
      throw std::runtime_error(paths[0] + ": cannot decode image: " +
                               (why ? why : "unknown error"));
    }
    ds.height = h;
    ds.width = w;
  }
  const int64_t numel = ds.image_numel();
  ds.pixels.resize(static_cast<size_t>(n * numel));
  std::vector<std::string> errors(static_cast<size_t>(n));
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 16)
#endif
  for (int64_t i = 0; i < n; ++i) {
    errors[i] = decode_into(paths[i], size, ds.height, ds.width, ds.pixels.data() + i * numel);
  }
  for (const std::string& e : errors)
    if (!e.empty()) throw std::runtime_error(e);
  return ds;
}

// ---- split and statistics ----

std::pair<ImageDataset, ImageDataset> split_holdout(const ImageDataset& ds, int64_t n_holdout,
                                                    uint64_t seed) {
  if (n_holdout < 0 || n_holdout > ds.size())
    throw std::invalid_argument("split_holdout: n_holdout " + std::to_string(n_holdout) +
                                " not in [0, " + std::to_string(ds.size()) + "]");
  std::vector<int64_t> perm(ds.size());
  std::iota(perm.begin(), perm.end(), 0);
  Rng rng(mix_seed(seed, 0x484F4C444F555431ull /* "HOLDOUT1" */));
  shuffle_in_place(perm, rng);
  std::vector<char> is_val(ds.size(), 0);
  for (int64_t i = 0; i < n_holdout; ++i) is_val[perm[i]] = 1;
  std::vector<int64_t> tr, va;
  tr.reserve(ds.size() - n_holdout);
  va.reserve(n_holdout);
  for (int64_t i = 0; i < ds.size(); ++i) (is_val[i] ? va : tr).push_back(i);
  return {ds.subset(tr), ds.subset(va)};
}

ChannelStats compute_channel_stats(const ImageDataset& ds) {
  if (ds.size() == 0) throw std::invalid_argument("compute_channel_stats: empty dataset");
  const int64_t C = ds.channels, plane = ds.height * ds.width, N = ds.size();
  ChannelStats st;
  st.mean.resize(C);
  st.std.resize(C);
  for (int64_t c = 0; c < C; ++c) {
    uint64_t sum = 0, sumsq = 0;
#ifdef _OPENMP
#pragma omp parallel for reduction(+ : sum, sumsq) schedule(static)
#endif
    for (int64_t i = 0; i < N; ++i) {
      const uint8_t* p = ds.image(i) + c * plane;
      uint64_t s = 0, s2 = 0;
      for (int64_t k = 0; k < plane; ++k) {
        s += p[k];
        s2 += static_cast<uint64_t>(p[k]) * p[k];
      }
      sum += s;
      sumsq += s2;
    }
    // Exact: var * cnt^2 = cnt * sumsq - sum^2 (128-bit).
    const unsigned __int128 cnt = static_cast<unsigned __int128>(N) * plane;
    const unsigned __int128 num = cnt * sumsq - static_cast<unsigned __int128>(sum) * sum;
    const double cntd = static_cast<double>(cnt);
    st.mean[c] = static_cast<double>(sum) / cntd / 255.0;
    st.std[c] = std::sqrt(static_cast<double>(num)) / cntd / 255.0;
  }
  return st;
}

std::vector<float> compute_pixel_mean(const ImageDataset& ds) {
  if (ds.size() == 0) throw std::invalid_argument("compute_pixel_mean: empty dataset");
  const int64_t numel = ds.image_numel(), N = ds.size();
  std::vector<uint64_t> sums(static_cast<size_t>(numel), 0);
  for (int64_t i = 0; i < N; ++i) {
    const uint8_t* p = ds.image(i);
    for (int64_t k = 0; k < numel; ++k) sums[k] += p[k];
  }
  std::vector<float> mean(static_cast<size_t>(numel));
  for (int64_t k = 0; k < numel; ++k)
    mean[k] = static_cast<float>(static_cast<double>(sums[k]) / static_cast<double>(N) / 255.0);
  return mean;
}

}  // namespace dl::train
