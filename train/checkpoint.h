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
  // Running sums over the current epoch's completed batches, so that the metrics row of an
  // epoch that was interrupted and resumed still covers the whole epoch.
  int64_t images = 0;   ///< training images seen
  int64_t correct = 0;  ///< of which the model classified correctly (before its step)
  double loss_sum = 0;  ///< sum over those images of the training loss
};

/// Writes model ("model.*"), optimiser ("optimizer.*"), schedule ("schedule.state") and
/// progress ("progress", "progress.loss_sum") to @p path, atomically: on failure (e.g. an
/// unwritable directory) an existing file at @p path is left as it was and no temporary file
/// remains. @p metadata (model name, seed, ...) is stored in the file's __metadata__, with
/// "format" set to "resnet.cpp-checkpoint-v1".
/// @throws std::runtime_error naming @p path and the reason.
void save_checkpoint(const std::string& path, const nn::Module& model, const Sgd& sgd,
                     const LrSchedule& schedule, const TrainProgress& progress,
                     const std::map<std::string, std::string>& metadata);

/// Restores a checkpoint into @p model, @p sgd and @p schedule; returns the progress and
/// fills @p metadata (when given). All-or-nothing: the whole file is read and checked first,
/// and if any part is rejected, model, optimiser and schedule keep their previous state.
/// @throws std::runtime_error naming the file and the reason (unreadable or truncated file,
/// not a checkpoint, missing keys, wrong shapes, malformed progress).
TrainProgress load_checkpoint(const std::string& path, nn::Module& model, Sgd& sgd,
                              LrSchedule& schedule, std::map<std::string, std::string>* metadata);

/// The metadata of a checkpoint (to learn which model and settings it holds).
/// @throws std::runtime_error for an unreadable or malformed file.
std::map<std::string, std::string> read_checkpoint_metadata(const std::string& path);

/// The model weights stored in @p path, which is either a weights file written by
/// nn::save_state_dict (bare keys, e.g. a run's model.safetensors) or a checkpoint (keys
/// under "model.", returned without the prefix). @p metadata, when given, receives the file's
/// metadata. Used by `resnet eval` so that either file can be evaluated.
/// @throws std::runtime_error for an unreadable or malformed file.
nn::StateDict read_model_weights(const std::string& path,
                                 std::map<std::string, std::string>* metadata = nullptr);

}  // namespace dl::train
