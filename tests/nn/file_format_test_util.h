// file_format_test_util.h — scaffolding shared by the safetensors and .npy tests: a fresh
// temporary directory per test, raw byte I/O, and the checks "loads bit-exact" and "rejects
// this file naming it and the reason".
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace dl::testutil {

/// Each test gets a fresh directory (named after the test), removed afterwards.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("dl_" + std::string(info->test_suite_name()) + "_" + std::to_string(::getpid()) +
            "_" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

/// The values' bytes as a little-endian file stores them (the host is little-endian).
template <class T> std::string le_bytes(const std::vector<T>& values) {
  std::string s(values.size() * sizeof(T), '\0');
  if (!values.empty()) std::memcpy(s.data(), values.data(), s.size());
  return s;
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

/// Same dtype, shape and bytes (NaN payloads and -0.0 included).
inline void expect_bit_exact(const Tensor& expected, const Tensor& actual) {
  ASSERT_TRUE(actual.defined());
  EXPECT_EQ(expected.dtype(), actual.dtype());
  ASSERT_EQ(expected.shape(), actual.shape());
  const Tensor e = expected.contiguous(), a = actual.contiguous();
  const std::size_t n = static_cast<std::size_t>(e.numel()) * dtype_size(e.dtype());
  if (n > 0) {
    EXPECT_EQ(0, std::memcmp(e.raw_data(), a.raw_data(), n));
  }
}

/// Writes @p bytes to @p path; @p load must then throw a runtime_error whose message names
/// the file and contains @p reason.
template <class Load>
void expect_load_rejected(const char* loader, Load load, const std::string& path,
                          const std::string& bytes, const std::string& reason) {
  write_bytes(path, bytes);
  try {
    load(path);
    ADD_FAILURE() << "expected " << loader << " to reject the file (" << reason << ")";
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(reason), std::string::npos) << "expected '" << reason << "' in: " << msg;
  }
}

}  // namespace dl::testutil
