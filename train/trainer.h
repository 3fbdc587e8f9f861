// trainer.h — the training loop behind `resnet train` (tutorial chapter 10).
// Each epoch: shuffled, augmented batches -> forward -> cross-entropy -> backward -> SGD step
// with the scheduled lr; then a test pass, a row in metrics.csv, curves.svg redrawn and a
// checkpoint written atomically. Ctrl-C saves a checkpoint mid-epoch; --resume continues
// bit-for-bit as if never interrupted (same thread count).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

namespace dl::train {

/// Everything `resnet train` accepts. Defaults follow the ResNet paper's CIFAR recipe.
struct TrainConfig {
  std::string model = "resnet20";
  std::string data_dir;           ///< empty = the CIFAR-10 sample bundled in data/
  int64_t epochs = 10;
  int64_t batch_size = 128;
  double lr = 0.1;
  std::string schedule = "multistep";  ///< multistep | cosine | onecycle | plateau | constant
  int64_t warmup_steps = 0;       ///< linear warm-up iterations (paper: ResNet-110 at 0.01)
  double warmup_lr = 0.01;
  double momentum = 0.9;
  double weight_decay = 1e-4;
  bool nesterov = false;
  bool no_bn_decay = false;       ///< skip weight decay for BN and bias parameters
  double label_smoothing = 0.0;
  int64_t holdout = 0;            ///< images held out of train for validation (paper: 5000)
  bool per_pixel_mean = false;    ///< the paper's per-pixel mean subtraction instead of mean/std
  std::string shortcut;           ///< "" = model default, or A, B, C
  uint64_t seed = 0;
  int threads = 0;                ///< 0 = OMP_NUM_THREADS or all cores
  int loader_threads = 2;
  std::string out_dir = "runs/latest";
  bool resume = false;
  int64_t max_train_images = 0;   ///< 0 = all (a quick look at a big set)
};

/// Outcome of a run.
struct TrainResult {
  int64_t epochs_done = 0;
  double final_test_error = 0;  ///< in [0, 1]
  double images_per_sec = 0;    ///< training throughput of the last epoch
  bool interrupted = false;     ///< stopped by SIGINT after saving a checkpoint
};

/// Runs training as configured, printing progress to @p out.
/// @throws std::runtime_error for unreadable data, a bad checkpoint, an unwritable out_dir.
TrainResult run_training(const TrainConfig& config, std::ostream& out);

/// The repository's bundled CIFAR-10 sample directory (data/cifar10-sample).
std::string bundled_sample_dir();

}  // namespace dl::train
