// Tests for nn/safetensors: bit-exact round trips, files written byte by byte from the format
// spec, the PyTorch-written golden files, and one rejection test per kind of corruption.
#include "nn/safetensors.h"

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

class SafetensorsTest : public dl::testutil::TempDirTest {};

// Bytes as they appear in a file: 8-byte little-endian header length, header, data.
std::string u64le(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}
std::string st_file(const std::string& header, const std::string& data) {
  return u64le(header.size()) + header + data;
}

// Loading @p bytes must throw a runtime_error naming the file and containing @p reason.
void expect_rejected(const std::string& path, const std::string& bytes, const std::string& reason) {
  const auto load = [](const std::string& p) { dl::load_safetensors(p); };
  dl::testutil::expect_load_rejected("load_safetensors", load, path, bytes, reason);
}

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

TEST_F(SafetensorsTest, RoundTripFloat32IsBitExact) {
  Tensor t = Tensor::from_vector(
      std::vector<float>{1.5f, -0.0f, kNaN, kInf, -kInf, 1e-45f, 3.4e38f, 0.1f}, {2, 4});
  dl::save_safetensors(path("a.safetensors"), {{"w", t}});
  const auto f = dl::load_safetensors(path("a.safetensors"));
  ASSERT_EQ(f.tensors.size(), 1u);
  EXPECT_EQ(f.tensors[0].first, "w");
  expect_bit_exact(t, f.tensors[0].second);
}

TEST_F(SafetensorsTest, RoundTripFloat64IsBitExact) {
  Tensor t = Tensor::from_vector(
      std::vector<double>{0.1, -0.0, std::nan(""), 4.9e-324, 1.7976931348623157e308, -1.0 / 3},
      {3, 2});
  dl::save_safetensors(path("a.safetensors"), {{"w", t}});
  expect_bit_exact(t, dl::load_safetensors(path("a.safetensors")).at("w"));
}

TEST_F(SafetensorsTest, RoundTripInt64IsBitExact) {
  Tensor t = Tensor::from_vector(std::vector<int64_t>{std::numeric_limits<int64_t>::min(), -1,
                                                      0, 1, std::numeric_limits<int64_t>::max()},
                                 {5});
  dl::save_safetensors(path("a.safetensors"), {{"labels", t}});
  expect_bit_exact(t, dl::load_safetensors(path("a.safetensors")).at("labels"));
}

TEST_F(SafetensorsTest, NonContiguousViewIsSavedInLogicalOrder) {
  Tensor base = Tensor::arange(12, DType::Float64).reshape({3, 4});
  Tensor t = base.transpose(0, 1);  // [4, 3], not contiguous
  ASSERT_FALSE(t.is_contiguous());
  dl::save_safetensors(path("a.safetensors"), {{"t", t}, {"s", base.slice(1, 0, 4, 2)}});
  const auto f = dl::load_safetensors(path("a.safetensors"));
  expect_bit_exact(t, f.at("t"));
  EXPECT_EQ(f.at("t").to_vector(), (std::vector<double>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  EXPECT_EQ(f.at("s").to_vector(), (std::vector<double>{0, 2, 4, 6, 8, 10}));
}

TEST_F(SafetensorsTest, ZeroDimAndEmptyTensorsRoundTrip) {
  Tensor scalar = Tensor::scalar(2.5, DType::Float32);
  Tensor empty_rows = Tensor::empty({0, 3}, DType::Float32);
  Tensor empty_cols = Tensor::empty({2, 0}, DType::Int64);
  Tensor after = Tensor::of({7, 8}, DType::Float64);
  dl::save_safetensors(path("a.safetensors"),
                       {{"scalar", scalar}, {"rows", empty_rows}, {"cols", empty_cols},
                        {"after", after}});
  const auto f = dl::load_safetensors(path("a.safetensors"));
  ASSERT_EQ(f.tensors.size(), 4u);
  expect_bit_exact(scalar, f.at("scalar"));
  EXPECT_EQ(f.at("scalar").dim(), 0);
  expect_bit_exact(empty_rows, f.at("rows"));
  expect_bit_exact(empty_cols, f.at("cols"));
  expect_bit_exact(after, f.at("after"));
}

TEST_F(SafetensorsTest, KeepsKeyOrderAndMetadata) {
  std::vector<std::pair<std::string, Tensor>> in = {
      {"z.weight", Tensor::ones({2})}, {"a.bias", Tensor::zeros({3})}, {"m", Tensor::ones({1})}};
  dl::save_safetensors(path("a.safetensors"), in, {{"format", "pt"}, {"epoch", "3"}});
  const auto f = dl::load_safetensors(path("a.safetensors"));
  ASSERT_EQ(f.tensors.size(), 3u);
  for (std::size_t i = 0; i < in.size(); ++i) EXPECT_EQ(f.tensors[i].first, in[i].first);
  EXPECT_EQ(f.metadata, (std::map<std::string, std::string>{{"format", "pt"}, {"epoch", "3"}}));
}

TEST_F(SafetensorsTest, HeaderIsSpacePaddedToEightBytes) {
  dl::save_safetensors(path("a.safetensors"), {{"x", Tensor::of({1, 2, 3})}});
  const std::string bytes = read_bytes(path("a.safetensors"));
  ASSERT_GE(bytes.size(), 8u);
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  EXPECT_EQ(n % 8, 0u);
  ASSERT_EQ(bytes.size(), 8 + n + 12);
  const std::string header = bytes.substr(8, n);
  EXPECT_EQ(header[0], '{');
  const auto close = header.find_last_of('}');
  EXPECT_EQ(header.find_first_not_of(' ', close + 1), std::string::npos) << header;
  EXPECT_NE(header.find("\"dtype\":\"F32\""), std::string::npos) << header;
  EXPECT_NE(header.find("\"data_offsets\":[0,12]"), std::string::npos) << header;
}

TEST_F(SafetensorsTest, HandWrittenFileLoadsWithRightValues) {
  // Written from the format spec, not by save_safetensors. Data order differs from key order.
  const std::string header =
      R"({"__metadata__": {"source": "hand"},)"
      R"( "b": {"dtype": "I64", "shape": [2], "data_offsets": [24, 40]},)"
      R"( "a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},)"
      R"( "c": {"dtype": "F64", "shape": [], "data_offsets": [40, 48]}})";
  const std::string data = le_bytes(std::vector<float>{1, 2, 3, -4, 0.5f, 6}) +
                           le_bytes(std::vector<int64_t>{-7, 9000000000LL}) +
                           le_bytes(std::vector<double>{0.25});
  write_bytes(path("h.safetensors"), st_file(header, data));
  const auto f = dl::load_safetensors(path("h.safetensors"));
  ASSERT_EQ(f.tensors.size(), 3u);
  EXPECT_EQ(f.tensors[0].first, "a");  // file order = data order
  EXPECT_EQ(f.tensors[1].first, "b");
  EXPECT_EQ(f.tensors[2].first, "c");
  EXPECT_EQ(f.at("a").dtype(), DType::Float32);
  EXPECT_EQ(f.at("a").shape(), (dl::Shape{2, 3}));
  EXPECT_EQ(f.at("a").to_vector(), (std::vector<double>{1, 2, 3, -4, 0.5, 6}));
  EXPECT_EQ(f.at("b").dtype(), DType::Int64);
  EXPECT_EQ(f.at("b").data<int64_t>()[1], 9000000000LL);
  EXPECT_EQ(f.at("c").dim(), 0);
  EXPECT_EQ(f.at("c").item(), 0.25);
  EXPECT_EQ(f.metadata.at("source"), "hand");
}

TEST_F(SafetensorsTest, GoldenFilesFromPyTorchLoad) {
  const std::string dir = std::string(DL_SHARED_DIR) + "/golden";
  for (const char* name : {"resnet20_step_f32.safetensors", "resnet20_step_f64.safetensors"}) {
    const std::string file = dir + "/" + name;
    if (!fs::exists(file)) GTEST_SKIP() << file << " not present";
    SCOPED_TRACE(file);
    const DType fdt = std::string(name).find("f64") != std::string::npos ? DType::Float64
                                                                         : DType::Float32;
    const auto f = dl::load_safetensors(file);
    EXPECT_GT(f.tensors.size(), 100u);
    EXPECT_EQ(f.at("input").shape(), (dl::Shape{8, 3, 32, 32}));
    EXPECT_EQ(f.at("input").dtype(), fdt);
    EXPECT_EQ(f.at("labels").shape(), (dl::Shape{8}));
    EXPECT_EQ(f.at("labels").dtype(), DType::Int64);
    for (double label : f.at("labels").to_vector()) {
      EXPECT_GE(label, 0);
      EXPECT_LT(label, 10);
    }
    EXPECT_EQ(f.at("initial.conv1.weight").shape(), (dl::Shape{16, 3, 3, 3}));
    EXPECT_EQ(f.at("initial.conv1.weight").dtype(), fdt);
    EXPECT_EQ(f.at("symmetric.loss").dim(), 0);
    EXPECT_TRUE(std::isfinite(f.at("symmetric.loss").item()));
  }
}

// ---- rejected files -------------------------------------------------------------------------

const std::string kGoodEntry = R"("x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]})";
const std::string kEightBytes = le_bytes(std::vector<float>{1, 2});

TEST_F(SafetensorsTest, MissingFileIsRejected) {
  try {
    dl::load_safetensors(path("nope.safetensors"));
    ADD_FAILURE() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path("nope.safetensors")), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("not found"), std::string::npos) << e.what();
  }
}

TEST_F(SafetensorsTest, FileShorterThanEightBytesIsRejected) {
  expect_rejected(path("short.safetensors"), "abc", "shorter than the 8-byte header length");
}

TEST_F(SafetensorsTest, HeaderLengthBeyondFileIsRejected) {
  expect_rejected(path("h.safetensors"), u64le(1000) + "{}", "larger than the 2 bytes");
}

TEST_F(SafetensorsTest, HeaderLengthOverLimitIsRejected) {
  expect_rejected(path("h.safetensors"), u64le(200'000'000) + "{}", "exceeds the 100 MB limit");
}

TEST_F(SafetensorsTest, InvalidJsonIsRejected) {
  expect_rejected(path("j.safetensors"), st_file(R"({"x": {"dtype": "F32",)", ""),
                  "header is not valid JSON");
}

TEST_F(SafetensorsTest, NonObjectHeaderIsRejected) {
  expect_rejected(path("j.safetensors"), st_file("[1, 2]", ""), "header is not a JSON object");
}

TEST_F(SafetensorsTest, DuplicateKeysAreRejected) {
  expect_rejected(path("d.safetensors"),
                  st_file("{" + kGoodEntry + ", " + kGoodEntry + "}", kEightBytes),
                  "duplicate key 'x'");
}

TEST_F(SafetensorsTest, EntryMissingFieldIsRejected) {
  expect_rejected(path("m.safetensors"),
                  st_file(R"({"x": {"dtype": "F32", "data_offsets": [0, 8]}})", kEightBytes),
                  "tensor 'x': entry has no 'shape' field");
}

TEST_F(SafetensorsTest, WrongFieldTypeIsRejected) {
  expect_rejected(path("t.safetensors"),
                  st_file(R"({"x": {"dtype": "F32", "shape": "2", "data_offsets": [0, 8]}})",
                          kEightBytes),
                  "tensor 'x': 'shape' is not an array");
}

TEST_F(SafetensorsTest, NegativeDimensionIsRejected) {
  expect_rejected(path("n.safetensors"),
                  st_file(R"({"x": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}})",
                          kEightBytes),
                  "tensor 'x': shape [-2] dimension is negative");
}

TEST_F(SafetensorsTest, UnsupportedDtypeF16IsRejected) {
  expect_rejected(path("f16.safetensors"),
                  st_file(R"({"h": {"dtype": "F16", "shape": [4], "data_offsets": [0, 8]}})",
                          kEightBytes),
                  "tensor 'h': dtype 'F16' is not supported");
}

TEST_F(SafetensorsTest, UnknownDtypeIsRejected) {
  expect_rejected(path("u.safetensors"),
                  st_file(R"({"h": {"dtype": "Q7", "shape": [2], "data_offsets": [0, 8]}})",
                          kEightBytes),
                  "tensor 'h': unknown dtype 'Q7'");
}

TEST_F(SafetensorsTest, EndBeforeBeginIsRejected) {
  expect_rejected(path("e.safetensors"),
                  st_file(R"({"x": {"dtype": "F32", "shape": [0], "data_offsets": [8, 0]}})",
                          kEightBytes),
                  "tensor 'x': data_offsets [8, 0]: end is before begin");
}

TEST_F(SafetensorsTest, ShapeOffsetMismatchIsRejected) {
  expect_rejected(path("s.safetensors"),
                  st_file(R"({"x": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})",
                          kEightBytes),
                  "tensor 'x': data_offsets [0, 8] span 8 bytes, but shape [3] of F32 needs 12");
}

TEST_F(SafetensorsTest, OutOfRangeOffsetsAreRejected) {
  expect_rejected(path("o.safetensors"),
                  st_file(R"({"x": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}})",
                          kEightBytes),
                  "tensor 'x': data_offsets [8, 16] lie outside the 8-byte data buffer");
}

TEST_F(SafetensorsTest, TruncatedDataIsRejected) {
  // The header promises 16 bytes of data; the file stops after 12.
  const std::string header =
      R"({"x": {"dtype": "F64", "shape": [2], "data_offsets": [0, 16]}})";
  expect_rejected(path("trunc.safetensors"),
                  st_file(header, le_bytes(std::vector<double>{1, 2})).substr(0, 8 + header.size() + 12),
                  "lie outside the 12-byte data buffer (file truncated?)");
}

TEST_F(SafetensorsTest, OverlappingTensorsAreRejected) {
  const std::string header =
      R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
      R"( "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})";
  expect_rejected(path("ov.safetensors"), st_file(header, std::string(12, '\0')),
                  "tensor 'b': data_offsets [4, 12] overlap tensor 'a'");
}

TEST_F(SafetensorsTest, HoleInBufferIsRejected) {
  const std::string header =
      R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},)"
      R"( "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}})";
  expect_rejected(path("hole.safetensors"), st_file(header, std::string(12, '\0')),
                  "tensor 'b': data_offsets begin 8 leaves a hole of 4 unused bytes");
}

TEST_F(SafetensorsTest, TrailingBytesAreRejected) {
  expect_rejected(path("tail.safetensors"), st_file("{" + kGoodEntry + "}", kEightBytes + "xyz"),
                  "data buffer has 3 trailing bytes not covered by any tensor");
}

TEST_F(SafetensorsTest, NonStringMetadataIsRejected) {
  expect_rejected(path("meta.safetensors"),
                  st_file(R"({"__metadata__": {"epoch": 3}, )" + kGoodEntry + "}", kEightBytes),
                  "__metadata__ value for 'epoch' is not a string");
}

// ---- saving -----------------------------------------------------------------------------------

TEST_F(SafetensorsTest, SaveRejectsDuplicateReservedAndUndefinedNames) {
  const Tensor t = Tensor::ones({2});
  EXPECT_THROW(dl::save_safetensors(path("a.safetensors"), {{"x", t}, {"x", t}}),
               std::runtime_error);
  EXPECT_THROW(dl::save_safetensors(path("a.safetensors"), {{"__metadata__", t}}),
               std::runtime_error);
  EXPECT_THROW(dl::save_safetensors(path("a.safetensors"), {{"x", Tensor()}}), std::runtime_error);
  EXPECT_FALSE(fs::exists(path("a.safetensors")));
}

TEST_F(SafetensorsTest, AtomicSaveReplacesFileAndLeavesNoTempFile) {
  dl::save_safetensors(path("a.safetensors"), {{"x", Tensor::ones({100})}});
  dl::save_safetensors(path("a.safetensors"), {{"y", Tensor::zeros({3}, DType::Int64)}});
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_))
    names.push_back(entry.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"a.safetensors"});
  const auto f = dl::load_safetensors(path("a.safetensors"));
  ASSERT_EQ(f.tensors.size(), 1u);
  EXPECT_EQ(f.tensors[0].first, "y");
}

TEST_F(SafetensorsTest, SaveIntoMissingDirectoryFailsCleanly) {
  const std::string p = path("no/such/dir/a.safetensors");
  try {
    dl::save_safetensors(p, {{"x", Tensor::ones({2})}});
    ADD_FAILURE() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

}  // namespace
