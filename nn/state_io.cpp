// state_io.cpp — state_dict <-> safetensors (tutorial chapter 4). The file format itself is
// in safetensors.cpp; this file only maps a Module's state onto it.
#include "nn/state_io.h"

#include <stdexcept>

#include "nn/safetensors.h"

namespace dl::nn {

void save_state_dict(const std::string& path, const StateDict& state,
                     const std::map<std::string, std::string>& metadata) {
  save_safetensors(path, state, metadata);
}

void save_state_dict(const std::string& path, const Module& m,
                     const std::map<std::string, std::string>& metadata) {
  save_state_dict(path, m.state_dict(), metadata);
}

StateDict read_state_dict(const std::string& path, std::map<std::string, std::string>* metadata) {
  SafetensorsFile file = load_safetensors(path);
  if (metadata) *metadata = std::move(file.metadata);
  return std::move(file.tensors);
}

void load_state_dict_file(const std::string& path, Module& m, bool strict) {
  // Read everything before touching the model: a truncated or corrupt file throws here.
  StateDict state;
  try {
    state = read_state_dict(path);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string("load_state_dict_file: ") + e.what());
  }
  try {
    m.load_state_dict(state, strict);  // validates every key and shape before copying
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("load_state_dict_file: '" + path + "': " + e.what());
  }
}

}  // namespace dl::nn
