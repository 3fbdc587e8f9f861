// checkpoint.h — everything needed to continue training exactly where it stopped
// (tutorial chapter 10): model weights and BN statistics, SGD momentum buffers, schedule
// state and the position in training. One safetensors file, written atomically (temp file +
// rename), so a crash mid-write leaves the previous checkpoint intact.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "nn/module.h"
#include "train/lr_schedule.h"
#include "train/sgd.h"

namespace dl::train {

/// Where training stands. Data order and augmentation are functions of (seed, epoch, sample),
/// so these counters plus the seed fix every random draw still to come.
struct TrainProgress {
  int64_t epoch = 0;        ///< epochs completed
  int64_t batch = 0;        ///< batches completed within the current epoch (after Ctrl-C)
  int64_t global_step = 0;  ///< optimiser steps so far
};

/// Writes model ("model.*"), optimiser ("optimizer.*"), schedule and progress to @p path.
/// @p metadata (model name, seed, ...) is stored in the file's __metadata__.
void save_checkpoint(const std::string& path, const nn::Module& model, const Sgd& sgd,
                     const LrSchedule& schedule, const TrainProgress& progress,
                     const std::map<std::string, std::string>& metadata);

/// Restores a checkpoint into @p model, @p sgd and @p schedule; returns the progress and
/// fills @p metadata. The model is validated as a whole before any weight changes; if the
/// optimiser or schedule part is then rejected, discard the objects (training cannot go on).
/// @throws std::runtime_error naming the file and the reason (missing keys, wrong shapes,
/// not a checkpoint).
TrainProgress load_checkpoint(const std::string& path, nn::Module& model, Sgd& sgd,
                              LrSchedule& schedule, std::map<std::string, std::string>* metadata);

/// The metadata of a checkpoint without loading it (to learn which model it holds).
std::map<std::string, std::string> read_checkpoint_metadata(const std::string& path);

}  // namespace dl::train
