// trainer.cpp — the epoch loop, metrics, curves, checkpoints and Ctrl-C (tutorial ch. 10).
// Exact resumption rests on three facts: batches are a function of (seed, epoch, batch index)
// (train/loader.h), the checkpoint holds every other piece of state (train/checkpoint.h), and
// the kernels are deterministic for a fixed thread count.
#include "train/trainer.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "autograd/ops.h"
#include "models/registry.h"
#include "nn/state_io.h"
#include "tensor/kernels/gemm.h"
#include "tensor/ops.h"
#include "train/checkpoint.h"
#include "train/evaluate.h"
#include "train/fs_util.h"
#include "train/loader.h"
#include "train/plot.h"
#include "train/progress.h"

#ifdef DL_WITH_OPENMP
#include <omp.h>
#endif

namespace dl::train {

namespace fs = std::filesystem;

namespace {

std::atomic<bool> interrupt_requested{false};
/// Sets the flag the loop polls after each step; the default action is restored so that a
/// second Ctrl-C stops the process at once (signal() is async-signal-safe).
extern "C" void on_sigint(int) {
  interrupt_requested = true;
  std::signal(SIGINT, SIG_DFL);
}

/// Installs the SIGINT handler for the lifetime of a run and restores the old one after.
class SigintScope {
 public:
  SigintScope() {
    interrupt_requested = false;
    previous_ = std::signal(SIGINT, on_sigint);
  }
  ~SigintScope() { std::signal(SIGINT, previous_); }
  SigintScope(const SigintScope&) = delete;
  SigintScope& operator=(const SigintScope&) = delete;

 private:
  void (*previous_)(int);
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// The first test dataset found: the held-out split, else the data's test set.
struct Data {
  ImageDataset train, test;
  std::string test_name;
};

Data load_data(const TrainConfig& c) {
  const std::string dir = c.data_dir.empty() ? bundled_sample_dir() : c.data_dir;
  Data d;
  d.train = load_cifar10_dir(dir, true);
  if (c.max_train_images > 0 && c.max_train_images < d.train.size()) {
    std::vector<int64_t> idx(c.max_train_images);
    for (int64_t i = 0; i < c.max_train_images; ++i)
      idx[i] = i * d.train.size() / c.max_train_images;
    d.train = d.train.subset(idx);
  }
  if (c.holdout > 0) {
    auto [train, val] = split_holdout(d.train, c.holdout, c.seed);
    d.train = std::move(train);
    d.test = std::move(val);
    d.test_name = "validation";
  } else {
    d.test = load_cifar10_dir(dir, false);
    d.test_name = "test";
  }
  return d;
}

void set_threads(int threads) {
  if (threads <= 0) return;
#ifdef DL_WITH_OPENMP
  omp_set_num_threads(threads);
#endif
  kernels::set_blas_num_threads(threads);
}

/// Drops metrics rows after @p epochs (left by a crash between the csv and the checkpoint).
std::vector<MetricsRow> metrics_up_to(const std::string& path, int64_t epochs) {
  std::vector<MetricsRow> rows;
  if (!file_exists(path)) return rows;
  for (const MetricsRow& r : read_metrics_csv(path))
    if (r.epoch <= epochs) rows.push_back(r);
  return rows;
}

void write_curves(const std::string& out_dir, const std::vector<MetricsRow>& rows,
                  const std::string& model) {
  const std::string svg =
      render_svg_chart(error_curves(rows, model), model + " on CIFAR-10", "epoch", "error (%)");
  write_file_atomic(out_dir + "/curves.svg", svg);
}

/// Calls f(option name, field) for every setting of a TrainConfig; the names are the
/// `resnet train` flags without dashes. One list serves saving and restoring.
template <class F>
void for_each_setting(TrainConfig& c, F&& f) {
  f("model", c.model);
  f("data", c.data_dir);
  f("epochs", c.epochs);
  f("batch-size", c.batch_size);
  f("lr", c.lr);
  f("schedule", c.schedule);
  f("warmup-steps", c.warmup_steps);
  f("warmup-lr", c.warmup_lr);
  f("momentum", c.momentum);
  f("wd", c.weight_decay);
  f("nesterov", c.nesterov);
  f("no-bn-decay", c.no_bn_decay);
  f("label-smoothing", c.label_smoothing);
  f("holdout", c.holdout);
  f("per-pixel-mean", c.per_pixel_mean);
  f("shortcut", c.shortcut);
  f("seed", c.seed);
  f("threads", c.threads);
  f("loader-threads", c.loader_threads);
  f("max-train-images", c.max_train_images);
}

/// Text that reads back to the same value (17 digits for doubles; bools as true/false).
template <class T>
std::string to_text(const T& v) {
  std::ostringstream os;
  os << std::boolalpha << std::setprecision(17) << v;
  return os.str();
}

/// Parses all of @p s into @p v; false if it is not a complete value of that type.
template <class T>
bool from_text(const std::string& s, T& v) {
  std::istringstream in(s);
  in >> std::boolalpha >> v;
  return !in.fail() && in.peek() == std::istringstream::traits_type::eof();
}
bool from_text(const std::string& s, std::string& v) {
  v = s;
  return true;
}

/// The metadata stored with checkpoints and weights: the settings, the number of training
/// images, the normalisation and the schedule.
std::map<std::string, std::string> run_metadata(const TrainConfig& c, const LrSchedule& schedule,
                                                int64_t train_images, const Normalizer& norm) {
  std::map<std::string, std::string> meta = config_metadata(c);
  for (auto& [k, v] : normalizer_metadata(norm)) meta[k] = v;
  meta["train_images"] = std::to_string(train_images);
  meta["schedule"] = schedule.describe();
  return meta;
}

/// Throws unless the checkpoint at @p path was written by a run with the same model and data
/// order as this one: resuming it otherwise would silently train something else.
void check_resumable(const std::string& path, const std::map<std::string, std::string>& saved,
                     const std::map<std::string, std::string>& now) {
  for (const char* key :
       {"config.model", "config.shortcut", "config.seed", "config.batch-size", "config.holdout",
        "train_images", "norm.mean", "norm.std", "norm.pixel_mean"}) {
    auto value = [key](const std::map<std::string, std::string>& m) {
      const auto it = m.find(key);
      return it == m.end() ? std::string("(none)") : it->second;
    };
    if (value(saved) != value(now))
      throw std::runtime_error("resume: checkpoint '" + path + "' was written with " + key + " = " +
                               value(saved).substr(0, 40) + ", this run has " +
                               value(now).substr(0, 40) +
                               "; use the same settings, or a new --out to start afresh");
  }
}

/// Where @p p stands, for people: epochs counted from 1, e.g. "in epoch 2 after batch 7".
std::string position(const TrainProgress& p) {
  if (p.batch == 0) return "after epoch " + std::to_string(p.epoch);
  return "in epoch " + std::to_string(p.epoch + 1) + " after batch " + std::to_string(p.batch);
}

/// Forward, cross-entropy, backward and one SGD step on batch @p b; adds the batch's summed
/// loss and correct predictions (made before the step) to @p progress.
void train_step(nn::Module& model, Sgd& sgd, const Batch& b, double label_smoothing,
                TrainProgress& progress) {
  const Tensor x = Tensor::from_vector(b.images, {b.size, b.channels, b.height, b.width});
  const Tensor labels = Tensor::from_vector(b.labels, {b.size});
  const ag::Variable logits = model(ag::Variable(x));
  const ag::Variable loss = ag::cross_entropy(logits, labels, label_smoothing);
  sgd.zero_grad();
  loss.backward();
  sgd.step();
  ++progress.global_step;
  ++progress.batch;
  progress.images += b.size;
  progress.correct += int64_t(sum(eq(argmax(logits.data(), 1), labels)).item());
  progress.loss_sum += loss.item() * double(b.size);  // the loss is the batch mean
}

}  // namespace

std::map<std::string, std::string> config_metadata(const TrainConfig& config) {
  std::map<std::string, std::string> meta;
  TrainConfig copy = config;
  for_each_setting(copy, [&meta](const char* name, const auto& field) {
    meta[std::string("config.") + name] = to_text(field);
  });
  return meta;
}

void restore_config(const std::map<std::string, std::string>& metadata,
                    const std::set<std::string>& keep, TrainConfig& config) {
  for_each_setting(config, [&](const char* name, auto& field) {
    const auto it = metadata.find(std::string("config.") + name);
    if (it == metadata.end() || keep.count(name)) return;
    if (!from_text(it->second, field))
      throw std::runtime_error("restore_config: metadata entry " + it->first + " = '" + it->second +
                               "' is not a valid value");
  });
}

std::string bundled_sample_dir() {
  const std::string local = "data/cifar10-sample";
  if (fs::exists(local)) return local;
  return std::string(DL_DATA_DIR) + "/cifar10-sample";
}

TrainResult run_training(const TrainConfig& c, std::ostream& out) {
  set_threads(c.threads);
  fs::create_directories(c.out_dir);
  const std::string ckpt_path = c.out_dir + "/checkpoint.safetensors";
  const std::string csv_path = c.out_dir + "/metrics.csv";

  const Data data = load_data(c);
  out << "data: " << data.train.size() << " train / " << data.test.size() << ' ' << data.test_name
      << " images from " << (c.data_dir.empty() ? bundled_sample_dir() : c.data_dir) << std::endl;

  models::ModelOptions mopt;
  mopt.seed = c.seed;
  mopt.num_classes = std::max<int64_t>(10, int64_t(data.train.class_names.size()));
  if (!c.shortcut.empty()) mopt.shortcut = models::parse_shortcut(c.shortcut);
  std::shared_ptr<nn::Module> model = models::create_model(c.model, mopt);

  SgdOptions so;
  so.lr = c.lr;
  so.momentum = c.momentum;
  so.weight_decay = c.weight_decay;
  so.nesterov = c.nesterov;
  so.decay_bn_and_bias = !c.no_bn_decay;
  Sgd sgd(model->named_parameters(), so);

  const Normalizer norm =
      c.per_pixel_mean ? Normalizer::pixels(compute_pixel_mean(data.train), data.train.channels)
                       : Normalizer::cifar10();
  LoaderConfig lc;
  lc.batch_size = c.batch_size;
  lc.shuffle = true;
  lc.seed = c.seed;
  lc.transform = TransformConfig::cifar_train(norm);
  lc.num_workers = c.loader_threads;
  BatchLoader loader(data.train, lc);
  const int64_t steps_per_epoch = loader.num_batches();
  std::unique_ptr<LrSchedule> schedule =
      make_schedule(c.schedule, c.lr, steps_per_epoch * c.epochs, c.warmup_steps, c.warmup_lr);

  const std::map<std::string, std::string> meta =
      run_metadata(c, *schedule, data.train.size(), norm);
  TrainProgress progress;
  if (c.resume && file_exists(ckpt_path)) {
    check_resumable(ckpt_path, read_checkpoint_metadata(ckpt_path), meta);
    progress = load_checkpoint(ckpt_path, *model, sgd, *schedule, nullptr);
    if (progress.batch > steps_per_epoch)
      throw std::runtime_error("resume: checkpoint '" + ckpt_path + "' is at batch " +
                               std::to_string(progress.batch) + " of an epoch of " +
                               std::to_string(steps_per_epoch) + " batches");
    out << "resumed from " << ckpt_path << " " << position(progress) << std::endl;
  } else if (c.resume) {
    out << "no checkpoint in " << c.out_dir << "; starting from scratch" << std::endl;
  }
  std::vector<MetricsRow> rows = metrics_up_to(csv_path, progress.epoch);
  write_metrics_csv(csv_path, rows);
  out << "model " << c.model << ": " << model->num_parameters() << " parameters; "
      << schedule->describe() << "; " << steps_per_epoch << " steps/epoch" << std::endl;

  SigintScope sigint;
  TrainResult result;
  result.epochs_done = progress.epoch;
  model->train();
  for (int64_t epoch = progress.epoch; epoch < c.epochs; ++epoch) {
    // A resumed epoch starts at the first batch not yet trained on; the loader skips the
    // others without building them, and the rest are exactly an uninterrupted epoch's.
    loader.start_epoch(epoch, progress.batch);
    ProgressBar bar(out, ProgressBar::stdout_is_tty() && &out == &std::cout, steps_per_epoch,
                    "epoch " + std::to_string(epoch + 1) + "/" + std::to_string(c.epochs));
    const auto t0 = std::chrono::steady_clock::now();
    int64_t images_timed = 0;  // images trained since t0 (for images/s)
    Batch b;
    while (loader.next(b)) {
      sgd.set_lr(schedule->lr(progress.global_step));
      train_step(*model, sgd, b, c.label_smoothing, progress);
      images_timed += b.size;
      bar.update(progress.batch, images_timed, progress.loss_sum / double(progress.images),
                 double(progress.correct) / double(progress.images));
      if (c.on_step) c.on_step(progress.global_step);

      if (interrupt_requested) {
        save_checkpoint(ckpt_path, *model, sgd, *schedule, progress, meta);
        bar.finish("interrupted");
        out << "interrupted " << position(progress) << ": checkpoint saved to " << ckpt_path
            << "; continue with --resume" << std::endl;
        result.interrupted = true;
        return result;
      }
    }
    const double train_seconds = seconds_since(t0);
    MetricsRow row;
    row.epoch = epoch + 1;
    // The lr of the epoch's last step (read before a plateau schedule reacts to the epoch).
    row.lr = schedule->lr(std::max<int64_t>(0, progress.global_step - 1));
    const EvalResult ev = evaluate(*model, data.test, norm);
    schedule->on_epoch_end(ev.error);

    const double images = double(progress.images);
    row.train_loss = progress.images ? progress.loss_sum / images : 0;
    row.train_error = progress.images ? 1.0 - double(progress.correct) / images : 0;
    row.test_loss = ev.loss;
    row.test_error = ev.error;
    row.images_per_sec = train_seconds > 0 ? double(images_timed) / train_seconds : 0;
    row.seconds = seconds_since(t0);
    rows.push_back(row);
    append_metrics_csv(csv_path, row);
    write_curves(c.out_dir, rows, c.model);
    progress = TrainProgress{epoch + 1, 0, progress.global_step, 0, 0, 0.0};
    save_checkpoint(ckpt_path, *model, sgd, *schedule, progress, meta);
    nn::save_state_dict(c.out_dir + "/model.safetensors", *model, meta);

    // The bar's closing line (the single line of the epoch when the output is not a terminal)
    // carries the epoch's test numbers too.
    std::ostringstream extra;
    extra << std::fixed << std::setprecision(4) << "lr " << row.lr << "  " << data.test_name
          << " loss " << row.test_loss << "  " << data.test_name << " err " << std::setprecision(2)
          << 100 * row.test_error << '%';
    bar.finish(extra.str());
    result.images_per_sec = row.images_per_sec;
    result.epochs_done = epoch + 1;
  }
  if (!rows.empty()) result.final_test_error = rows.back().test_error;
  out << "final " << data.test_name << " accuracy: " << std::fixed << std::setprecision(2)
      << 100.0 * (1.0 - result.final_test_error) << "%  (run dir " << c.out_dir << ")" << std::endl;
  return result;
}

}  // namespace dl::train
