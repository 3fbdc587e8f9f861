// safetensors.cpp — the safetensors reader and writer (format described in safetensors.h).
// The header is parsed with nlohmann::json; every structural rule of the format is checked
// before any tensor memory is allocated, then the data buffer is read once, in file order,
// straight into each tensor's own storage.
#include "nn/safetensors.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "nn/file_io.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors I/O copies raw bytes and assumes a little-endian host");

namespace dl {
namespace {

using json = nlohmann::json;

constexpr std::uint64_t kMaxHeaderBytes = 100u * 1000u * 1000u;  // as the reference reader
constexpr const char* kMetadataKey = "__metadata__";

const char* st_dtype_name(DType t) {
  switch (t) {
    case DType::Float32: return "F32";
    case DType::Float64: return "F64";
    case DType::Int64: return "I64";
  }
  return "?";
}

// Parses a safetensors dtype string; throws @p fail's message for anything else.
template <class Fail>
DType parse_dtype(const std::string& s, Fail&& fail) {
  if (s == "F32") return DType::Float32;
  if (s == "F64") return DType::Float64;
  if (s == "I64") return DType::Int64;
  static const std::set<std::string> known = {"BOOL", "U8",   "I8",      "U16",     "I16",
                                              "U32",  "I32",  "U64",     "F16",     "BF16",
                                              "C64",  "F8_E4M3", "F8_E5M2", "F8_E8M0",
                                              "F6_E2M3", "F6_E3M2", "F4"};
  if (known.count(s))
    fail("dtype '" + s + "' is not supported (only F32, F64 and I64 can be loaded)");
  fail("unknown dtype '" + s + "' (only F32, F64 and I64 can be loaded)");
  return DType::Float32;  // unreachable
}

// A non-negative JSON integer as uint64; @p fail otherwise.
template <class Fail>
std::uint64_t json_uint(const json& v, const std::string& what, Fail&& fail) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer()) fail(what + " is negative (" + v.dump() + ")");
  fail(what + " is not an integer (" + v.dump() + ")");
  return 0;  // unreachable
}

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  std::uint64_t begin;
  std::uint64_t end;
};

}  // namespace

void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  auto fail = [&](const std::string& reason) -> void {
    throw std::runtime_error("save_safetensors: '" + path + "': " + reason);
  };

  // Header first: ordered_json keeps the keys in the order given.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) meta[k] = v;
    header[kMetadataKey] = std::move(meta);
  }

  std::vector<Tensor> packed;  // contiguous versions, kept alive until written
  packed.reserve(tensors.size());
  std::set<std::string> seen;
  std::uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (name == kMetadataKey) fail("tensor name '__metadata__' is reserved for metadata");
    if (!seen.insert(name).second) fail("duplicate tensor name '" + name + "'");
    if (!t.defined()) fail("tensor '" + name + "' is undefined");
    Tensor c = t.contiguous();
    const std::uint64_t nbytes =
        static_cast<std::uint64_t>(c.numel()) * dtype_size(c.dtype());
    nlohmann::ordered_json entry = nlohmann::ordered_json::object();
    entry["dtype"] = st_dtype_name(c.dtype());
    entry["shape"] = c.shape();
    entry["data_offsets"] = {offset, offset + nbytes};
    header[name] = std::move(entry);
    offset += nbytes;
    packed.push_back(std::move(c));
  }

  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    fail(std::string("tensor names and metadata must be valid UTF-8 (") + e.what() + ")");
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // pad to 8 bytes, like the reference writer

  unsigned char len_le[8];
  const std::uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) len_le[i] = static_cast<unsigned char>(n >> (8 * i));

  std::vector<io::Chunk> chunks;
  chunks.push_back({len_le, sizeof len_le});
  chunks.push_back({text.data(), text.size()});
  for (const Tensor& c : packed) {
    const std::size_t nbytes = static_cast<std::size_t>(c.numel()) * dtype_size(c.dtype());
    if (nbytes > 0) chunks.push_back({c.raw_data(), nbytes});
  }
  io::write_file_atomic(path, chunks, "save_safetensors");
}

SafetensorsFile load_safetensors(const std::string& path) {
  io::InputFile file(path, "load_safetensors");
  auto fail = [&](const std::string& reason) -> void {
    throw std::runtime_error(file.error(reason));
  };

  // ---- header length ------------------------------------------------------------------
  if (file.size() < 8)
    fail("file is " + std::to_string(file.size()) +
         " bytes, shorter than the 8-byte header length field");
  unsigned char len_le[8];
  file.read_exact(len_le, 8, "the header length");
  std::uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i) header_len |= static_cast<std::uint64_t>(len_le[i]) << (8 * i);
  if (header_len > kMaxHeaderBytes)
    fail("header length " + std::to_string(header_len) + " exceeds the 100 MB limit");
  if (header_len > file.size() - 8)
    fail("header length " + std::to_string(header_len) + " is larger than the " +
         std::to_string(file.size() - 8) + " bytes that follow it in the file");
  const std::uint64_t buffer_size = file.size() - 8 - header_len;

  // ---- header JSON --------------------------------------------------------------------
  std::string text(static_cast<std::size_t>(header_len), '\0');
  file.read_exact(text.data(), text.size(), "the header");

  // nlohmann keeps the last of duplicate keys silently; a parse callback catches them.
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate, last_top_key;
  json::parser_callback_t on_event = [&](int, json::parse_event_t ev, json& parsed) {
    switch (ev) {
      case json::parse_event_t::object_start: open_objects.emplace_back(); break;
      case json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case json::parse_event_t::key: {
        const std::string key = parsed.get<std::string>();
        if (open_objects.size() == 1) last_top_key = key;
        if (!open_objects.empty() && !open_objects.back().insert(key).second &&
            duplicate.empty()) {
          duplicate = open_objects.size() == 1
                          ? "duplicate key '" + key + "' in header"
                          : "entry '" + last_top_key + "' has duplicate field '" + key + "'";
        }
        break;
      }
      default: break;
    }
    return true;
  };
  json header;
  try {
    header = json::parse(text, on_event);
  } catch (const json::parse_error& e) {
    fail(std::string("header is not valid JSON: ") + e.what());
  }
  if (!duplicate.empty()) fail(duplicate);
  if (!header.is_object()) fail("header is not a JSON object (it is " +
                                std::string(header.type_name()) + ")");

  // ---- entries ------------------------------------------------------------------------
  SafetensorsFile result;
  std::vector<Entry> entries;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const json& v = it.value();
    if (name == kMetadataKey) {
      if (!v.is_object()) fail("__metadata__ is not an object (it is " +
                               std::string(v.type_name()) + ")");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          fail("__metadata__ value for '" + m.key() + "' is not a string (" + m.value().dump() +
               ")");
        result.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    auto efail = [&](const std::string& reason) -> void { fail("tensor '" + name + "': " + reason); };
    if (!v.is_object()) efail("entry is not an object (it is " + std::string(v.type_name()) + ")");
    for (const char* field : {"dtype", "shape", "data_offsets"})
      if (!v.contains(field)) efail(std::string("entry has no '") + field + "' field");

    const json& jd = v.at("dtype");
    if (!jd.is_string()) efail("'dtype' is not a string (" + jd.dump() + ")");
    Entry e{name, parse_dtype(jd.get<std::string>(), efail), {}, 0, 0};

    const json& js = v.at("shape");
    if (!js.is_array()) efail("'shape' is not an array (" + js.dump() + ")");
    std::uint64_t numel = 1;
    bool overflow = false;
    for (const json& d : js) {
      const std::uint64_t size = json_uint(d, "shape " + js.dump() + " dimension", efail);
      if (size > static_cast<std::uint64_t>(std::numeric_limits<int64_t>::max()))
        efail("shape " + js.dump() + " has a dimension too large");
      e.shape.push_back(static_cast<int64_t>(size));
      overflow = overflow || __builtin_mul_overflow(numel, size, &numel);
    }

    const json& jo = v.at("data_offsets");
    if (!jo.is_array() || jo.size() != 2)
      efail("'data_offsets' is not an array of two integers (" + jo.dump() + ")");
    e.begin = json_uint(jo[0], "data_offsets begin", efail);
    e.end = json_uint(jo[1], "data_offsets end", efail);
    const std::string offs = "data_offsets [" + std::to_string(e.begin) + ", " +
                             std::to_string(e.end) + "]";
    if (e.end < e.begin) efail(offs + ": end is before begin");
    std::uint64_t nbytes = 0;
    overflow = overflow || __builtin_mul_overflow(numel, dtype_size(e.dtype), &nbytes);
    if (overflow) efail("shape " + shape_str(e.shape) + " is too large");
    if (e.end - e.begin != nbytes)
      efail(offs + " span " + std::to_string(e.end - e.begin) + " bytes, but shape " +
            shape_str(e.shape) + " of " + jd.get<std::string>() + " needs " +
            std::to_string(nbytes));
    if (e.end > buffer_size)
      efail(offs + " lie outside the " + std::to_string(buffer_size) +
            "-byte data buffer (file truncated?)");
    entries.push_back(std::move(e));
  }

  // ---- the buffer must be covered exactly: no overlaps, holes or trailing bytes ----------
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t covered = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    if (e.begin < covered) {
      // Find which earlier tensor it collides with, for the message.
      std::string other;
      for (std::size_t j = i; j-- > 0;)
        if (entries[j].end > e.begin) { other = entries[j].name; break; }
      fail("tensor '" + e.name + "': data_offsets [" + std::to_string(e.begin) + ", " +
           std::to_string(e.end) + "] overlap tensor '" + other + "'");
    }
    if (e.begin > covered)
      fail("tensor '" + e.name + "': data_offsets begin " + std::to_string(e.begin) +
           " leaves a hole of " + std::to_string(e.begin - covered) +
           " unused bytes in the data buffer at offset " + std::to_string(covered));
    covered = e.end;
  }
  if (covered != buffer_size)
    fail("data buffer has " + std::to_string(buffer_size - covered) +
         " trailing bytes not covered by any tensor (buffer is " + std::to_string(buffer_size) +
         " bytes, tensors cover " + std::to_string(covered) + ")");

  // ---- data: one sequential pass ------------------------------------------------------
  result.tensors.reserve(entries.size());
  for (const Entry& e : entries) {
    Tensor t = Tensor::empty(e.shape, e.dtype);
    const std::size_t nbytes = static_cast<std::size_t>(e.end - e.begin);
    if (nbytes > 0) file.read_exact(t.raw_data(), nbytes, "the data of tensor '" + e.name + "'");
    result.tensors.emplace_back(e.name, std::move(t));
  }
  return result;
}

const Tensor& SafetensorsFile::at(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return t;
  std::string some;
  for (std::size_t i = 0; i < tensors.size() && i < 5; ++i)
    some += (i ? ", '" : "'") + tensors[i].first + "'";
  if (tensors.size() > 5) some += ", ...";
  throw std::out_of_range("SafetensorsFile: no tensor named '" + name + "' (" +
                          std::to_string(tensors.size()) + " tensors: " + some + ")");
}

bool SafetensorsFile::contains(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return true;
  return false;
}

}  // namespace dl
