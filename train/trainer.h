// trainer.h — the training loop behind `resnet train` (tutorial chapter 10).
// Each epoch: shuffled, augmented batches -> forward -> cross-entropy -> backward -> SGD step
// with the scheduled lr; then a test pass, a row in metrics.csv, curves.svg redrawn and a
// checkpoint written atomically. Ctrl-C saves a checkpoint mid-epoch; --resume continues
// bit-for-bit as if never interrupted (same thread count). Checkpoints also record the run's
// settings (config_metadata), so `resnet train --out DIR --resume` needs no other option.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <set>
#include <string>

namespace dl::train {

/// Everything `resnet train` accepts. Defaults follow the ResNet paper's CIFAR recipe.
struct TrainConfig {
  std::string model = "resnet20";
  std::string data_dir;  ///< empty = the CIFAR-10 sample bundled in data/
  int64_t epochs = 10;
  int64_t batch_size = 128;
  double lr = 0.1;
  std::string schedule = "multistep";  ///< multistep | cosine | onecycle | plateau | constant
  int64_t warmup_steps = 0;            ///< linear warm-up iterations (paper: ResNet-110 at 0.01)
  double warmup_lr = 0.01;
  double momentum = 0.9;
  double weight_decay = 1e-4;
  bool nesterov = false;
  bool no_bn_decay = false;  ///< skip weight decay for BN and bias parameters
  double label_smoothing = 0.0;
  int64_t holdout = 0;          ///< images held out of train for validation (paper: 5000)
  bool per_pixel_mean = false;  ///< the paper's per-pixel mean subtraction instead of mean/std
  std::string shortcut;         ///< "" = model default, or A, B, C
  uint64_t seed = 0;
  int threads = 0;  ///< 0 = OMP_NUM_THREADS or all cores
  int loader_threads = 2;
  std::string out_dir = "runs/latest";
  /// Continue from out_dir/checkpoint.safetensors (written at every epoch end and on Ctrl-C).
  /// The checkpoint must come from a run with the same model, shortcut, seed, batch size,
  /// holdout, training images and normalisation, or run_training throws; epochs, lr and
  /// schedule may change (a schedule that depends on the total length then differs from a
  /// single run's). restore_config() recovers a checkpoint's settings.
  bool resume = false;
  int64_t max_train_images = 0;  ///< 0 = all (a quick look at a big set)
  /// Optional hook called after each optimiser step with the number of steps done so far
  /// (1 after the first), on the training thread: for progress reporting, and for tests that
  /// raise SIGINT at a chosen step. An exception it throws ends the run without a checkpoint.
  std::function<void(int64_t global_step)> on_step;
};

/// Outcome of a run.
struct TrainResult {
  int64_t epochs_done = 0;
  double final_test_error = 0;  ///< in [0, 1]
  double images_per_sec = 0;    ///< training throughput of the last epoch
  bool interrupted = false;     ///< stopped by SIGINT after saving a checkpoint
};

/// Runs training as configured, printing progress to @p out: a few header lines, then one
/// line per epoch (redrawn in place as a progress bar when @p out is std::cout on a terminal),
/// each flushed as soon as it is complete. On SIGINT (Ctrl-C) it finishes the current step,
/// saves the checkpoint and returns with interrupted = true; a second Ctrl-C kills at once.
/// @throws std::runtime_error for unreadable data, a bad or mismatched checkpoint, an
/// unwritable out_dir.
TrainResult run_training(const TrainConfig& config, std::ostream& out);

/// The settings of @p config as metadata entries "config.<option>", where option is the
/// `resnet train` flag without its dashes ("batch-size", "lr", ...). Every checkpoint and
/// model.safetensors of a run stores them (out_dir, resume and on_step are not settings).
std::map<std::string, std::string> config_metadata(const TrainConfig& config);

/// Sets each field of @p config recorded as "config.<option>" in @p metadata (a checkpoint's),
/// except the options named in @p keep (those the user gave again on the command line).
/// `resnet train --out DIR --resume` uses it to continue a run with its own settings.
/// @throws std::runtime_error naming the entry if a value does not parse.
void restore_config(const std::map<std::string, std::string>& metadata,
                    const std::set<std::string>& keep, TrainConfig& config);

/// The repository's bundled CIFAR-10 sample directory (data/cifar10-sample).
std::string bundled_sample_dir();

}  // namespace dl::train
