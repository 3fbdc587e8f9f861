// state_io.h — saving and loading a Module's state_dict as a safetensors file (tutorial
// chapter 4). Keys are the dotted PyTorch names, so a file written here loads into
// torchvision-style models with safetensors.torch.load_file, and the reverse.
#pragma once

#include <map>
#include <string>

#include "nn/module.h"

namespace dl::nn {

/// Writes @p state (in order) to @p path as safetensors, atomically (temp file, fsync,
/// rename). Float buffers keep their dtype (F32/F64); num_batches_tracked is stored as I64,
/// as PyTorch stores it. @p metadata goes into the "__metadata__" header.
/// @throws std::runtime_error on I/O failure or duplicate keys.
void save_state_dict(const std::string& path, const StateDict& state,
                     const std::map<std::string, std::string>& metadata = {});

/// Writes @p m.state_dict() to @p path; see the StateDict overload.
void save_state_dict(const std::string& path, const Module& m,
                     const std::map<std::string, std::string>& metadata = {});

/// Reads every tensor of the safetensors file @p path, in file order. When @p metadata is
/// given it receives the file's "__metadata__" map.
/// @throws std::runtime_error for a missing, truncated or malformed file (from
/// load_safetensors, naming the file).
StateDict read_state_dict(const std::string& path,
                          std::map<std::string, std::string>* metadata = nullptr);

/// Loads the safetensors file @p path into @p m. The whole file is read and validated first,
/// then Module::load_state_dict copies the values (converting dtypes) all-or-nothing, so a
/// failure at any stage leaves the model exactly as it was.
/// @throws std::runtime_error "load_state_dict_file: load_safetensors: '<path>': ..." for
/// file errors, and
/// std::invalid_argument "load_state_dict_file: '<path>': load_state_dict: ..." listing every
/// missing key, unexpected key and shape mismatch (missing/unexpected only when @p strict).
void load_state_dict_file(const std::string& path, Module& m, bool strict = true);

}  // namespace dl::nn
