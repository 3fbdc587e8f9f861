// checkpoint.cpp — one safetensors file per checkpoint (tutorial chapter 10). Keys:
//   model.<name>                    the model's state_dict (parameters and BN buffers)
//   optimizer.momentum_buffer.<p>   Sgd's buffers (absent before the first step)
//   schedule.state                  LrSchedule::state(), F64 (empty for stateless schedules)
//   progress                        I64 [epoch, batch, global_step, images, correct]
//   progress.loss_sum               F64 [1]
#include "train/checkpoint.h"

#include <stdexcept>

#include "nn/safetensors.h"

namespace dl::train {

namespace {
const char* kFormat = "resnet.cpp-checkpoint-v1";
const char* kModelPrefix = "model.";

/// Entries of @p file whose key starts with @p prefix, with the prefix removed.
nn::StateDict with_prefix_removed(const SafetensorsFile& file, const std::string& prefix) {
  nn::StateDict out;
  for (const auto& [k, t] : file.tensors)
    if (k.rfind(prefix, 0) == 0) out.emplace_back(k.substr(prefix.size()), t);
  return out;
}

bool is_checkpoint(const SafetensorsFile& file) {
  const auto format = file.metadata.find("format");
  return format != file.metadata.end() && format->second == kFormat;
}

/// Reads the progress entries; @p fail builds the exception for a malformed file.
template <class Fail>
TrainProgress read_progress(const SafetensorsFile& file, const Fail& fail) {
  if (!file.contains("progress") || file.at("progress").numel() != 5)
    throw fail("missing or malformed 'progress' entry; expected 5 values");
  if (!file.contains("progress.loss_sum") || file.at("progress.loss_sum").numel() != 1)
    throw fail("missing or malformed 'progress.loss_sum' entry; expected 1 value");
  const std::vector<double> p = file.at("progress").to_vector();
  for (double v : p)
    if (v < 0) throw fail("negative counter in 'progress'");
  TrainProgress progress{int64_t(p[0]), int64_t(p[1]), int64_t(p[2]),
                         int64_t(p[3]), int64_t(p[4]), file.at("progress.loss_sum").item()};
  return progress;
}
}  // namespace

void save_checkpoint(const std::string& path, const nn::Module& model, const Sgd& sgd,
                     const LrSchedule& schedule, const TrainProgress& progress,
                     const std::map<std::string, std::string>& metadata) {
  std::vector<std::pair<std::string, Tensor>> entries;
  for (auto& [k, t] : model.state_dict()) entries.emplace_back(kModelPrefix + k, t);
  for (auto& [k, t] : sgd.state_dict()) entries.emplace_back("optimizer." + k, t);
  const std::vector<double> sched = schedule.state();
  entries.emplace_back("schedule.state", Tensor::from_vector(sched, {int64_t(sched.size())}));
  entries.emplace_back(
      "progress",
      Tensor::from_vector(std::vector<int64_t>{progress.epoch, progress.batch, progress.global_step,
                                               progress.images, progress.correct},
                          {5}));
  entries.emplace_back("progress.loss_sum",
                       Tensor::from_vector(std::vector<double>{progress.loss_sum}, {1}));
  std::map<std::string, std::string> meta = metadata;
  meta["format"] = kFormat;
  save_safetensors(path, entries, meta);  // atomic: temp file + rename
}

TrainProgress load_checkpoint(const std::string& path, nn::Module& model, Sgd& sgd,
                              LrSchedule& schedule, std::map<std::string, std::string>* metadata) {
  // A truncated or corrupt file throws here, naming the file, before anything changes.
  const SafetensorsFile file = load_safetensors(path);
  auto fail = [&path](const std::string& why) {
    return std::runtime_error("load_checkpoint: '" + path + "': " + why);
  };
  if (!is_checkpoint(file))
    throw fail("not a resnet.cpp checkpoint (metadata 'format' is not " + std::string(kFormat) +
               "); a weights file loads with nn::load_state_dict_file");
  const TrainProgress progress = read_progress(file, fail);

  // Optimiser and schedule first, remembering their state; the model last, because its
  // load_state_dict validates every key and shape before copying anything. If any part is
  // rejected, the parts already loaded are put back, so nothing changes.
  const nn::StateDict old_sgd = sgd.state_dict();
  const std::vector<double> old_schedule = schedule.state();
  try {
    sgd.load_state_dict(with_prefix_removed(file, "optimizer."));
    schedule.set_state(file.contains("schedule.state") ? file.at("schedule.state").to_vector()
                                                       : std::vector<double>{});
    model.load_state_dict(with_prefix_removed(file, kModelPrefix));
  } catch (const std::exception& e) {
    sgd.load_state_dict(old_sgd);
    schedule.set_state(old_schedule);
    throw fail(e.what());
  }
  if (metadata) *metadata = file.metadata;
  return progress;
}

std::map<std::string, std::string> read_checkpoint_metadata(const std::string& path) {
  return load_safetensors(path).metadata;
}

nn::StateDict read_model_weights(const std::string& path,
                                 std::map<std::string, std::string>* metadata) {
  SafetensorsFile file = load_safetensors(path);
  if (metadata) *metadata = file.metadata;
  if (is_checkpoint(file)) return with_prefix_removed(file, kModelPrefix);
  return std::move(file.tensors);
}

}  // namespace dl::train
