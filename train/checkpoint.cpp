// checkpoint.cpp — one safetensors file per checkpoint (tutorial chapter 10).
#include "train/checkpoint.h"

#include <stdexcept>

#include "nn/safetensors.h"

namespace dl::train {

namespace {
const char* kFormat = "resnet.cpp-checkpoint-v1";

/// Entries of @p file whose key starts with @p prefix, with the prefix removed.
nn::StateDict with_prefix_removed(const SafetensorsFile& file, const std::string& prefix) {
  nn::StateDict out;
  for (const auto& [k, t] : file.tensors)
    if (k.rfind(prefix, 0) == 0) out.emplace_back(k.substr(prefix.size()), t);
  return out;
}
}  // namespace

void save_checkpoint(const std::string& path, const nn::Module& model, const Sgd& sgd,
                     const LrSchedule& schedule, const TrainProgress& progress,
                     const std::map<std::string, std::string>& metadata) {
  std::vector<std::pair<std::string, Tensor>> entries;
  for (auto& [k, t] : model.state_dict()) entries.emplace_back("model." + k, t);
  for (auto& [k, t] : sgd.state_dict()) entries.emplace_back("optimizer." + k, t);
  const std::vector<double> sched = schedule.state();
  entries.emplace_back("schedule.state",
                       Tensor::from_vector(sched, {int64_t(sched.size())}));
  entries.emplace_back("progress", Tensor::from_vector(std::vector<int64_t>{
                                       progress.epoch, progress.batch, progress.global_step},
                                   {3}));
  std::map<std::string, std::string> meta = metadata;
  meta["format"] = kFormat;
  save_safetensors(path, entries, meta);  // atomic: temp file + rename
}

TrainProgress load_checkpoint(const std::string& path, nn::Module& model, Sgd& sgd,
                              LrSchedule& schedule, std::map<std::string, std::string>* metadata) {
  const SafetensorsFile file = load_safetensors(path);
  auto fail = [&path](const std::string& why) {
    return std::runtime_error("checkpoint " + path + ": " + why);
  };
  auto format = file.metadata.find("format");
  if (format == file.metadata.end() || format->second != kFormat)
    throw fail("not a resnet.cpp checkpoint (metadata 'format' is not " + std::string(kFormat) + ")");
  if (!file.contains("progress") || file.at("progress").numel() != 3)
    throw fail("missing or malformed 'progress' entry");
  try {
    // Model first: load_state_dict is all-or-nothing, so a mismatch changes nothing.
    model.load_state_dict(with_prefix_removed(file, "model."));
    sgd.load_state_dict(with_prefix_removed(file, "optimizer."));
    schedule.set_state(file.contains("schedule.state") ? file.at("schedule.state").to_vector()
                                                       : std::vector<double>{});
  } catch (const std::exception& e) {
    throw fail(e.what());
  }
  const std::vector<double> p = file.at("progress").to_vector();
  if (metadata) *metadata = file.metadata;
  return TrainProgress{int64_t(p[0]), int64_t(p[1]), int64_t(p[2])};
}

std::map<std::string, std::string> read_checkpoint_metadata(const std::string& path) {
  return load_safetensors(path).metadata;
}

}  // namespace dl::train
