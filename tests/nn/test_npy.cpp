// Tests for nn/npy: bit-exact round trips, the header layout NumPy expects, files written byte
// by byte from the NumPy format spec, and one rejection test per kind of corruption.
#include "nn/npy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "file_format_test_util.h"

namespace {

namespace fs = std::filesystem;
using dl::testutil::expect_bit_exact;
using dl::testutil::le_bytes;
using dl::testutil::read_bytes;
using dl::testutil::write_bytes;
using dl::DType;
using dl::Tensor;

class NpyTest : public dl::testutil::TempDirTest {};

// A .npy file: magic, version, header length (2 bytes for 1.x, 4 for 2.x/3.x), header, data.
std::string npy_file(const std::string& header, const std::string& data, int major = 1) {
  std::string s = "\x93NUMPY";
  s += static_cast<char>(major);
  s += '\0';
  const int len_bytes = major == 1 ? 2 : 4;
  for (int i = 0; i < len_bytes; ++i) s += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return s + header + data;
}

// Loading @p bytes must throw a runtime_error naming the file and containing @p reason.
void expect_rejected(const std::string& path, const std::string& bytes, const std::string& reason) {
  const auto load = [](const std::string& p) { dl::load_npy(p); };
  dl::testutil::expect_load_rejected("load_npy", load, path, bytes, reason);
}

TEST_F(NpyTest, RoundTripFloat32IsBitExact) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor t = Tensor::from_vector(std::vector<float>{1.5f, -0.0f, nan, 1e-45f, -3.4e38f, 0.1f},
                                 {2, 3});
  dl::save_npy(path("a.npy"), t);
  expect_bit_exact(t, dl::load_npy(path("a.npy")));
}

TEST_F(NpyTest, RoundTripFloat64IsBitExact) {
  Tensor t = Tensor::from_vector(std::vector<double>{0.1, -0.0, 4.9e-324, 1.0 / 3}, {2, 1, 2});
  dl::save_npy(path("a.npy"), t);
  expect_bit_exact(t, dl::load_npy(path("a.npy")));
}

TEST_F(NpyTest, RoundTripInt64IsBitExact) {
  Tensor t = Tensor::from_vector(
      std::vector<int64_t>{std::numeric_limits<int64_t>::min(), -1, 0, 42,
                           std::numeric_limits<int64_t>::max()},
      {5});
  dl::save_npy(path("a.npy"), t);
  expect_bit_exact(t, dl::load_npy(path("a.npy")));
}

TEST_F(NpyTest, NonContiguousViewIsSavedInLogicalOrder) {
  Tensor t = Tensor::arange(6, DType::Float32).reshape({2, 3}).transpose(0, 1);
  ASSERT_FALSE(t.is_contiguous());
  dl::save_npy(path("a.npy"), t);
  const Tensor back = dl::load_npy(path("a.npy"));
  expect_bit_exact(t, back);
  EXPECT_EQ(back.to_vector(), (std::vector<double>{0, 3, 1, 4, 2, 5}));
}

TEST_F(NpyTest, ZeroDimAndEmptyTensorsRoundTrip) {
  for (const Tensor& t : {Tensor::scalar(-2.0, DType::Float64), Tensor::empty({0}),
                          Tensor::empty({3, 0, 2}, DType::Int64)}) {
    SCOPED_TRACE(dl::shape_str(t.shape()));
    dl::save_npy(path("a.npy"), t);
    expect_bit_exact(t, dl::load_npy(path("a.npy")));
  }
}

TEST_F(NpyTest, WritesVersion1HeaderAlignedTo64Bytes) {
  dl::save_npy(path("a.npy"), Tensor::zeros({2, 3}, DType::Float64));
  const std::string bytes = read_bytes(path("a.npy"));
  ASSERT_GE(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(0, 6), "\x93NUMPY");
  EXPECT_EQ(bytes[6], 1);
  EXPECT_EQ(bytes[7], 0);
  const std::size_t hlen = static_cast<unsigned char>(bytes[8]) |
                           (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
  EXPECT_EQ((10 + hlen) % 64, 0u);
  ASSERT_EQ(bytes.size(), 10 + hlen + 48);
  const std::string header = bytes.substr(10, hlen);
  EXPECT_EQ(header.back(), '\n');
  EXPECT_EQ(header.rfind("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", 0), 0u)
      << header;
}

TEST_F(NpyTest, OneDimShapeIsWrittenWithTrailingComma) {
  dl::save_npy(path("a.npy"), Tensor::zeros({5}, DType::Int64));
  EXPECT_NE(read_bytes(path("a.npy")).find("'descr': '<i8'"), std::string::npos);
  EXPECT_NE(read_bytes(path("a.npy")).find("'shape': (5,), }"), std::string::npos);
  dl::save_npy(path("b.npy"), Tensor::scalar(1.0));
  EXPECT_NE(read_bytes(path("b.npy")).find("'shape': (), }"), std::string::npos);
}

TEST_F(NpyTest, HandWrittenVersion1FileLoads) {
  // As NumPy 1.x writes it: single quotes, trailing comma, spaces then '\n' to 64 bytes.
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  header += std::string((64 - (10 + header.size() + 1) % 64) % 64, ' ') + "\n";
  ASSERT_EQ((10 + header.size()) % 64, 0u);
  write_bytes(path("h.npy"),
              npy_file(header, le_bytes(std::vector<float>{1, 2, 3, 4, 5, -6.5f})));
  const Tensor t = dl::load_npy(path("h.npy"));
  EXPECT_EQ(t.dtype(), DType::Float32);
  EXPECT_EQ(t.shape(), (dl::Shape{2, 3}));
  EXPECT_EQ(t.to_vector(), (std::vector<double>{1, 2, 3, 4, 5, -6.5}));
}

TEST_F(NpyTest, HeaderSpacingAndQuotingVariantsLoad) {
  const std::string data = le_bytes(std::vector<int64_t>{10, 20, 30, 40, 50});
  const std::vector<std::string> headers = {
      "{'descr':'<i8','fortran_order':False,'shape':(5,)}",
      "{ \"shape\" : ( 5 , ) , \"fortran_order\" : False , \"descr\" : \"<i8\" }\n",
      "{'descr': '=i8', 'fortran_order': False, 'shape': (5L,), }   \n",
  };
  for (const std::string& h : headers) {
    SCOPED_TRACE(h);
    write_bytes(path("v.npy"), npy_file(h, data));
    const Tensor t = dl::load_npy(path("v.npy"));
    EXPECT_EQ(t.dtype(), DType::Int64);
    EXPECT_EQ(t.shape(), (dl::Shape{5}));
    EXPECT_EQ(t.to_vector(), (std::vector<double>{10, 20, 30, 40, 50}));
  }
}

TEST_F(NpyTest, ZeroDimHandWrittenFileLoads) {
  write_bytes(path("s.npy"), npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (), }\n",
                                      le_bytes(std::vector<double>{2.75})));
  const Tensor t = dl::load_npy(path("s.npy"));
  EXPECT_EQ(t.dim(), 0);
  EXPECT_EQ(t.item(), 2.75);
}

TEST_F(NpyTest, Version2And3HeadersLoad) {
  for (int major : {2, 3}) {
    SCOPED_TRACE(major);
    write_bytes(path("v.npy"),
                npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n",
                         le_bytes(std::vector<float>{3, 4}), major));
    EXPECT_EQ(dl::load_npy(path("v.npy")).to_vector(), (std::vector<double>{3, 4}));
  }
}

TEST_F(NpyTest, FortranOrderIsTransposedToRowMajor) {
  // The 2x3 matrix [[1, 2, 3], [4, 5, 6]] stored column by column.
  write_bytes(path("f.npy"),
              npy_file("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }\n",
                       le_bytes(std::vector<double>{1, 4, 2, 5, 3, 6})));
  const Tensor t = dl::load_npy(path("f.npy"));
  EXPECT_EQ(t.shape(), (dl::Shape{2, 3}));
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.to_vector(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
}

// ---- rejected files -------------------------------------------------------------------------

const std::string kHeader2f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n";
const std::string kData2f4 = le_bytes(std::vector<float>{1, 2});

TEST_F(NpyTest, MissingFileIsRejected) {
  try {
    dl::load_npy(path("nope.npy"));
    ADD_FAILURE() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path("nope.npy")), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("not found"), std::string::npos) << e.what();
  }
}

TEST_F(NpyTest, BadMagicIsRejected) {
  std::string bytes = npy_file(kHeader2f4, kData2f4);
  bytes[1] = 'X';
  expect_rejected(path("m.npy"), bytes, "bad magic");
  expect_rejected(path("tiny.npy"), "\x93NU", "bad magic");
}

TEST_F(NpyTest, UnsupportedVersionIsRejected) {
  expect_rejected(path("v.npy"), npy_file(kHeader2f4, kData2f4, 9),
                  "unsupported .npy format version 9.0");
}

TEST_F(NpyTest, TruncatedHeaderIsRejected) {
  const std::string bytes = npy_file(kHeader2f4, "");
  expect_rejected(path("t.npy"), bytes.substr(0, bytes.size() - 5), "truncated header");
  expect_rejected(path("t2.npy"), bytes.substr(0, 9), "truncated header");
}

TEST_F(NpyTest, MalformedHeaderIsRejected) {
  expect_rejected(path("h.npy"),
                  npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2,}\n", kData2f4),
                  "malformed header");
  expect_rejected(path("k.npy"), npy_file("{'descr': '<f4', 'shape': (2,), }\n", kData2f4),
                  "malformed header: no 'fortran_order' key");
}

TEST_F(NpyTest, TruncatedDataIsRejected) {
  expect_rejected(path("d.npy"), npy_file(kHeader2f4, kData2f4.substr(0, 6)),
                  "data is shorter than shape [2] of float32 needs: 8 bytes expected, 6 present");
}

TEST_F(NpyTest, TrailingDataIsRejected) {
  expect_rejected(path("d.npy"), npy_file(kHeader2f4, kData2f4 + "zz"),
                  "2 unexpected trailing bytes");
}

TEST_F(NpyTest, BigEndianIsRejected) {
  expect_rejected(path("be.npy"),
                  npy_file("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }\n",
                           kData2f4),
                  "big-endian dtype '>f4' is not supported");
}

TEST_F(NpyTest, UnknownDtypeIsRejected) {
  expect_rejected(path("u.npy"),
                  npy_file("{'descr': '<f2', 'fortran_order': False, 'shape': (4,), }\n",
                           kData2f4),
                  "unsupported dtype '<f2'");
  expect_rejected(path("s.npy"),
                  npy_file("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }\n",
                           kData2f4),
                  "structured");
}

TEST_F(NpyTest, NegativeDimensionIsRejected) {
  expect_rejected(path("n.npy"),
                  npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }\n",
                           kData2f4),
                  "negative dimension -2");
}

TEST_F(NpyTest, AtomicSaveReplacesFileAndLeavesNoTempFile) {
  dl::save_npy(path("a.npy"), Tensor::ones({10}));
  dl::save_npy(path("a.npy"), Tensor::of({7, 8}, DType::Float64));
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_))
    names.push_back(entry.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"a.npy"});
  EXPECT_EQ(dl::load_npy(path("a.npy")).to_vector(), (std::vector<double>{7, 8}));
}

TEST_F(NpyTest, SaveUndefinedTensorIsRejected) {
  EXPECT_THROW(dl::save_npy(path("a.npy"), Tensor()), std::runtime_error);
  EXPECT_FALSE(fs::exists(path("a.npy")));
}

}  // namespace
