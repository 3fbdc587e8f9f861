// safetensors.h — reading and writing named tensors in the safetensors format
// (https://github.com/huggingface/safetensors), the format PyTorch checkpoints and the golden
// test files use.
//
// File layout:
//   8 bytes   N, the header length, as a little-endian unsigned 64-bit integer
//   N bytes   a JSON object: {"<name>": {"dtype": "F32", "shape": [2, 3],
//                                        "data_offsets": [begin, end]}, ...,
//                             "__metadata__": {"<key>": "<value>", ...}}   (metadata optional)
//   rest      the data buffer: each tensor's elements, row-major, little-endian, at
//             [begin, end) counted from the start of the buffer.
//
// Only the dtypes this library has are supported: F32, F64 and I64. A file holding any other
// dtype (F16, BF16, I32, U8, BOOL, ...) is rejected with an error naming the tensor.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace dl {

/// Writes @p tensors to @p path as safetensors. The header lists the tensors in the order
/// given (after "__metadata__", written only when @p metadata is non-empty) and their data
/// follows in the same order, packed; the header is padded with spaces to a multiple of
/// 8 bytes, as the reference implementation does. Views need not be contiguous.
/// The write is atomic: the bytes go to "<path>.tmp.<pid>", fsync'ed, then renamed over
/// @p path. Throws std::runtime_error for duplicate or reserved ("__metadata__") names,
/// undefined tensors, names that are not valid UTF-8, and I/O failures.
void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

/// Contents of a safetensors file.
struct SafetensorsFile {
  /// Every tensor, in file order (sorted by data offset). Each owns its own storage.
  std::vector<std::pair<std::string, Tensor>> tensors;
  /// The "__metadata__" string map (empty when the file has none).
  std::map<std::string, std::string> metadata;

  /// The tensor called @p name; throws std::out_of_range listing a few names if absent.
  const Tensor& at(const std::string& name) const;
  /// True when a tensor called @p name is present.
  bool contains(const std::string& name) const;
};

/// Reads @p path in one sequential pass. Throws std::runtime_error
/// "load_safetensors: '<path>': [tensor '<name>': ]<reason>" for a missing or truncated file,
/// a header length beyond the file or over 100 MB, a header that is not a JSON object
/// (or has duplicate keys), an entry lacking dtype/shape/data_offsets or of the wrong types,
/// a negative dimension, an unsupported dtype, offsets that disagree with shape and dtype,
/// lie outside the data buffer, overlap, or leave holes or trailing bytes in the buffer,
/// and metadata that is not a string-to-string object.
SafetensorsFile load_safetensors(const std::string& path);

}  // namespace dl
