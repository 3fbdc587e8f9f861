// train_test_util.h — helpers shared by the tests/train tests: temporary directories and files.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace dl::train::testing {

/// A fresh directory under the system temp dir, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "dl_train_test_XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  write_bytes(path, std::string(bytes.begin(), bytes.end()));
}

/// A 24-bit uncompressed BMP (bottom-up rows, BGR, rows padded to 4 bytes) of an RGB image
/// given as HWC bytes.
inline std::vector<uint8_t> make_bmp(int w, int h, const std::vector<uint8_t>& rgb_hwc) {
  const int row = (w * 3 + 3) / 4 * 4;
  const uint32_t data_size = static_cast<uint32_t>(row * h);
  const uint32_t file_size = 54 + data_size;
  std::vector<uint8_t> b(file_size, 0);
  auto put16 = [&](size_t off, uint32_t v) {
    b[off] = v & 0xff;
    b[off + 1] = (v >> 8) & 0xff;
  };
  auto put32 = [&](size_t off, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[off + i] = (v >> (8 * i)) & 0xff;
  };
  b[0] = 'B';
  b[1] = 'M';
  put32(2, file_size);
  put32(10, 54);
  put32(14, 40);
  put32(18, static_cast<uint32_t>(w));
  put32(22, static_cast<uint32_t>(h));
  put16(26, 1);
  put16(28, 24);
  put32(34, data_size);
  for (int y = 0; y < h; ++y) {
    const int src_y = h - 1 - y;  // bottom-up
    for (int x = 0; x < w; ++x) {
      const uint8_t* p = &rgb_hwc[(src_y * w + x) * 3];
      uint8_t* q = &b[54 + y * row + x * 3];
      q[0] = p[2];
      q[1] = p[1];
      q[2] = p[0];
    }
  }
  return b;
}

}  // namespace dl::train::testing
