// npy.cpp — the .npy reader and writer (format described in npy.h). The header is a Python
// dict literal; a small recursive-descent parser below reads the subset NumPy writes
// (strings, True/False/None, integers, tuples, lists, dicts), tolerating any spacing.
#include "nn/npy.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

#include "nn/file_io.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              ".npy I/O copies raw bytes and assumes a little-endian host");

namespace dl {
namespace {

constexpr char kMagic[] = "\x93NUMPY";  // 6 bytes + NUL
constexpr std::size_t kMagicLen = 6;
constexpr std::size_t kAlign = 64;
constexpr std::uint64_t kMaxHeaderBytes = 100u * 1000u * 1000u;

// ---- a Python literal, as far as .npy headers need ----------------------------------------

struct PyValue {
  enum Kind { Str, Bool, None, Int, Tuple, List, Dict } kind = None;
  std::string str;
  bool boolean = false;
  int64_t integer = 0;
  std::vector<PyValue> items;                          // Tuple, List
  std::vector<std::pair<std::string, PyValue>> dict;  // Dict (keys are strings here)
};

struct LiteralError {
  std::string what;
};

class LiteralParser {
 public:
  explicit LiteralParser(const std::string& src) : src_(src) {}

  // The whole text: one value, then only whitespace.
  PyValue parse_all() {
    PyValue v = value();
    skip_ws();
    if (pos_ != src_.size()) fail("unexpected text after the dict");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw LiteralError{what + " at offset " + std::to_string(pos_)};
  }
  void skip_ws() {
    while (pos_ < src_.size() &&
           (src_[pos_] == ' ' || src_[pos_] == '\t' || src_[pos_] == '\n' || src_[pos_] == '\r'))
      ++pos_;
  }
  bool eat(char c) {
    skip_ws();
    if (pos_ < src_.size() && src_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!eat(c)) fail(std::string("expected '") + c + "'");
  }
  bool starts_with(const char* word) const {
    return src_.compare(pos_, std::strlen(word), word) == 0;
  }

  PyValue value() {
    skip_ws();
    if (pos_ >= src_.size()) fail("unexpected end of header");
    const char c = src_[pos_];
    if (c == '{') return dict();
    if (c == '(') return sequence(')', PyValue::Tuple);
    if (c == '[') return sequence(']', PyValue::List);
    if (c == '\'' || c == '"') {
      PyValue v;
      v.kind = PyValue::Str;
      v.str = string();
      return v;
    }
    if (c == '-' || c == '+' || (c >= '0' && c <= '9')) return integer();
    for (const char* word : {"True", "False", "None"}) {
      if (starts_with(word)) {
        pos_ += std::strlen(word);
        PyValue v;
        v.kind = word[0] == 'N' ? PyValue::None : PyValue::Bool;
        v.boolean = word[0] == 'T';
        return v;
      }
    }
    fail(std::string("unexpected character '") + c + "'");
  }

  std::string string() {
    const char quote = src_[pos_++];
    std::string out;
    while (pos_ < src_.size() && src_[pos_] != quote) {
      if (src_[pos_] == '\\' && pos_ + 1 < src_.size()) ++pos_;
      out += src_[pos_++];
    }
    if (pos_ >= src_.size()) fail("unterminated string");
    ++pos_;
    return out;
  }

  PyValue integer() {
    bool negative = false;
    if (src_[pos_] == '-' || src_[pos_] == '+') negative = src_[pos_++] == '-';
    if (pos_ >= src_.size() || src_[pos_] < '0' || src_[pos_] > '9') fail("expected a digit");
    std::uint64_t mag = 0;
    while (pos_ < src_.size() && src_[pos_] >= '0' && src_[pos_] <= '9') {
      if (__builtin_mul_overflow(mag, 10u, &mag) ||
          __builtin_add_overflow(mag, static_cast<unsigned>(src_[pos_] - '0'), &mag) ||
          mag > static_cast<std::uint64_t>(std::numeric_limits<int64_t>::max()))
        fail("integer too large");
      ++pos_;
    }
    if (pos_ < src_.size() && (src_[pos_] == 'L' || src_[pos_] == 'l')) ++pos_;  // Python 2
    PyValue v;
    v.kind = PyValue::Int;
    v.integer = negative ? -static_cast<int64_t>(mag) : static_cast<int64_t>(mag);
    return v;
  }

  PyValue sequence(char close, PyValue::Kind kind) {
    ++pos_;  // the opening bracket
    PyValue v;
    v.kind = kind;
    if (eat(close)) return v;
    while (true) {
      v.items.push_back(value());
      if (eat(close)) return v;
      expect(',');
      if (eat(close)) return v;  // trailing comma: "(5,)"
    }
  }

  PyValue dict() {
    ++pos_;  // '{'
    PyValue v;
    v.kind = PyValue::Dict;
    if (eat('}')) return v;
    while (true) {
      skip_ws();
      if (pos_ >= src_.size() || (src_[pos_] != '\'' && src_[pos_] != '"'))
        fail("expected a quoted key");
      std::string key = string();
      for (const auto& kv : v.dict)
        if (kv.first == key) fail("duplicate key '" + key + "'");
      expect(':');
      v.dict.emplace_back(std::move(key), value());
      if (eat('}')) return v;
      expect(',');
      if (eat('}')) return v;  // trailing comma, as NumPy writes
    }
  }

  const std::string& src_;
  std::size_t pos_ = 0;
};

const char* npy_descr(DType t) {
  switch (t) {
    case DType::Float32: return "<f4";
    case DType::Float64: return "<f8";
    case DType::Int64: return "<i8";
  }
  return "?";
}

std::string shape_tuple(const Shape& s) {
  std::string out = "(";
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(s[i]);
  }
  if (s.size() == 1) out += ",";
  return out + ")";
}

std::string printable(const std::string& s, std::size_t max_len = 200) {
  std::string out;
  for (char c : s.substr(0, max_len)) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u >= 32 && u < 127) {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    }
  }
  if (s.size() > max_len) out += "...";
  return out;
}

}  // namespace

void save_npy(const std::string& path, const Tensor& t) {
  if (!t.defined()) throw std::runtime_error("save_npy: '" + path + "': tensor is undefined");
  const Tensor c = t.contiguous();

  std::string dict = std::string("{'descr': '") + npy_descr(c.dtype()) +
                     "', 'fortran_order': False, 'shape': " + shape_tuple(c.shape()) + ", }";
  // Version 1.0 has a 2-byte header length; a header too long for it needs version 2.0.
  bool v2 = false;
  std::size_t prefix = kMagicLen + 2 + 2;
  std::size_t total = prefix + dict.size() + 1;  // + '\n'
  if (dict.size() + 1 + (kAlign - 1) > 0xffff) {
    v2 = true;
    prefix = kMagicLen + 2 + 4;
    total = prefix + dict.size() + 1;
  }
  dict.append((kAlign - total % kAlign) % kAlign, ' ');
  dict += '\n';
  const std::uint64_t hlen = dict.size();

  std::string pre(kMagic, kMagicLen);
  pre += static_cast<char>(v2 ? 2 : 1);
  pre += static_cast<char>(0);
  for (int i = 0; i < (v2 ? 4 : 2); ++i) pre += static_cast<char>((hlen >> (8 * i)) & 0xff);

  std::vector<io::Chunk> chunks = {{pre.data(), pre.size()}, {dict.data(), dict.size()}};
  const std::size_t nbytes = static_cast<std::size_t>(c.numel()) * dtype_size(c.dtype());
  if (nbytes > 0) chunks.push_back({c.raw_data(), nbytes});
  io::write_file_atomic(path, chunks, "save_npy");
}

Tensor load_npy(const std::string& path) {
  io::InputFile file(path, "load_npy");
  auto fail = [&](const std::string& reason) -> void {
    throw std::runtime_error(file.error(reason));
  };

  // ---- magic, version, header length -------------------------------------------------
  char magic[kMagicLen] = {};
  const std::size_t have = file.size() < kMagicLen ? static_cast<std::size_t>(file.size())
                                                   : kMagicLen;
  file.read_exact(magic, have, "the magic string");
  if (have < kMagicLen || std::memcmp(magic, kMagic, kMagicLen) != 0)
    fail("bad magic: not a .npy file (expected \"\\x93NUMPY\", found \"" +
         printable(std::string(magic, have)) + "\")");
  if (file.size() < kMagicLen + 2) fail("truncated header: file ends before the version bytes");
  unsigned char version[2];
  file.read_exact(version, 2, "the format version");
  const std::string vstr = std::to_string(version[0]) + "." + std::to_string(version[1]);
  if (version[0] < 1 || version[0] > 3)
    fail("unsupported .npy format version " + vstr + " (1.0, 2.0 and 3.0 are supported)");
  const std::size_t len_bytes = version[0] == 1 ? 2 : 4;
  if (file.size() - file.position() < len_bytes)
    fail("truncated header: file ends inside the header length field");
  unsigned char len_le[4] = {};
  file.read_exact(len_le, len_bytes, "the header length");
  std::uint64_t hlen = 0;
  for (std::size_t i = 0; i < len_bytes; ++i) hlen |= static_cast<std::uint64_t>(len_le[i]) << (8 * i);
  if (hlen > kMaxHeaderBytes)
    fail("header length " + std::to_string(hlen) + " exceeds the 100 MB limit");
  if (hlen > file.size() - file.position())
    fail("truncated header: header length is " + std::to_string(hlen) + " bytes but only " +
         std::to_string(file.size() - file.position()) + " bytes follow");
  std::string text(static_cast<std::size_t>(hlen), '\0');
  file.read_exact(text.data(), text.size(), "the header");

  // ---- header dict --------------------------------------------------------------------
  PyValue header;
  try {
    header = LiteralParser(text).parse_all();
  } catch (const LiteralError& e) {
    fail("malformed header: " + e.what + " in \"" + printable(text) + "\"");
  }
  if (header.kind != PyValue::Dict)
    fail("malformed header: not a dict: \"" + printable(text) + "\"");
  const PyValue* descr = nullptr;
  const PyValue* fortran = nullptr;
  const PyValue* shape_v = nullptr;
  for (const auto& [key, v] : header.dict) {
    if (key == "descr") descr = &v;
    else if (key == "fortran_order") fortran = &v;
    else if (key == "shape") shape_v = &v;
    else fail("malformed header: unexpected key '" + key + "'");
  }
  if (!descr) fail("malformed header: no 'descr' key");
  if (!fortran) fail("malformed header: no 'fortran_order' key");
  if (!shape_v) fail("malformed header: no 'shape' key");

  if (descr->kind != PyValue::Str)
    fail("structured or non-string descr is not supported (only '<f4', '<f8', '<i8')");
  const std::string& d = descr->str;
  DType dtype = DType::Float32;
  if (!d.empty() && d[0] == '>')
    fail("big-endian dtype '" + d + "' is not supported (only little-endian '<f4', '<f8', '<i8')");
  const std::string body = (d.size() >= 1 && (d[0] == '<' || d[0] == '=')) ? d.substr(1) : "";
  if (body == "f4") dtype = DType::Float32;
  else if (body == "f8") dtype = DType::Float64;
  else if (body == "i8") dtype = DType::Int64;
  else fail("unsupported dtype '" + d + "' (only '<f4', '<f8' and '<i8' can be loaded)");

  if (fortran->kind != PyValue::Bool)
    fail("malformed header: 'fortran_order' is not True or False");
  const bool fortran_order = fortran->boolean;

  if (shape_v->kind != PyValue::Tuple && shape_v->kind != PyValue::List)
    fail("malformed header: 'shape' is not a tuple");
  Shape shape;
  std::uint64_t numel = 1;
  bool overflow = false;
  for (const PyValue& dim : shape_v->items) {
    if (dim.kind != PyValue::Int) fail("malformed header: 'shape' holds a non-integer");
    if (dim.integer < 0)
      fail("negative dimension " + std::to_string(dim.integer) + " in shape");
    shape.push_back(dim.integer);
    overflow = overflow ||
               __builtin_mul_overflow(numel, static_cast<std::uint64_t>(dim.integer), &numel);
  }
  std::uint64_t nbytes = 0;
  overflow = overflow || __builtin_mul_overflow(numel, dtype_size(dtype), &nbytes);
  if (overflow) fail("shape " + shape_str(shape) + " is too large");

  // ---- data ---------------------------------------------------------------------------
  const std::uint64_t remaining = file.size() - file.position();
  if (remaining < nbytes)
    fail("data is shorter than shape " + shape_str(shape) + " of " + dtype_name(dtype) +
         " needs: " + std::to_string(nbytes) + " bytes expected, " + std::to_string(remaining) +
         " present (file truncated?)");
  if (remaining > nbytes)
    fail(std::to_string(remaining - nbytes) + " unexpected trailing bytes after the " +
         std::to_string(nbytes) + " bytes of data for shape " + shape_str(shape));

  // Fortran order: the bytes are a row-major array of the reversed shape; transpose back.
  Shape stored = shape;
  if (fortran_order) stored.assign(shape.rbegin(), shape.rend());
  Tensor t = Tensor::empty(stored, dtype);
  if (nbytes > 0) file.read_exact(t.raw_data(), static_cast<std::size_t>(nbytes), "the data");
  if (fortran_order && shape.size() > 1) {
    std::vector<int64_t> dims(shape.size());
    for (std::size_t i = 0; i < dims.size(); ++i)
      dims[i] = static_cast<int64_t>(dims.size() - 1 - i);
    t = t.permute(dims).contiguous();
  }
  return t;
}

}  // namespace dl
