// trainer.cpp — the epoch loop, metrics, curves, checkpoints and Ctrl-C (tutorial ch. 10).
#include "train/trainer.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <iomanip>
#include <iostream>
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
extern "C" void on_sigint(int) { interrupt_requested = true; }

/// Installs the SIGINT handler for the lifetime of a run and restores the old one after.
class SigintScope {
 public:
  SigintScope() {
    interrupt_requested = false;
    previous_ = std::signal(SIGINT, on_sigint);
  }
  ~SigintScope() { std::signal(SIGINT, previous_); }

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
    for (int64_t i = 0; i < c.max_train_images; ++i) idx[i] = i * d.train.size() / c.max_train_images;
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
  const std::string svg = render_svg_chart(error_curves(rows, model), model + " on CIFAR-10",
                                           "epoch", "error (%)");
  write_file_atomic(out_dir + "/curves.svg", svg);
}

}  // namespace

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
      << " images from " << (c.data_dir.empty() ? bundled_sample_dir() : c.data_dir) << '\n';

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

  const Normalizer norm = c.per_pixel_mean
                              ? Normalizer::pixels(compute_pixel_mean(data.train), data.train.channels)
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

  const std::map<std::string, std::string> meta = {
      {"model", c.model}, {"seed", std::to_string(c.seed)}, {"schedule", schedule->describe()}};
  TrainProgress progress;
  if (c.resume && file_exists(ckpt_path)) {
    progress = load_checkpoint(ckpt_path, *model, sgd, *schedule, nullptr);
    out << "resumed from " << ckpt_path << " at epoch " << progress.epoch << ", batch "
        << progress.batch << '\n';
  } else if (c.resume) {
    out << "no checkpoint in " << c.out_dir << "; starting from scratch\n";
  }
  std::vector<MetricsRow> rows = metrics_up_to(csv_path, progress.epoch);
  write_metrics_csv(csv_path, rows);
  out << "model " << c.model << ": " << model->num_parameters() << " parameters; "
      << schedule->describe() << "; " << steps_per_epoch << " steps/epoch\n";

  SigintScope sigint;
  TrainResult result;
  model->train();
  for (int64_t epoch = progress.epoch; epoch < c.epochs; ++epoch) {
    loader.start_epoch(epoch);
    Batch b;
    for (int64_t k = 0; k < progress.batch; ++k) loader.next(b);  // resume mid-epoch
    ProgressBar bar(out, ProgressBar::stdout_is_tty() && &out == &std::cout, steps_per_epoch,
                    "epoch " + std::to_string(epoch + 1) + "/" + std::to_string(c.epochs));
    const auto t0 = std::chrono::steady_clock::now();
    double loss_sum = 0;
    int64_t seen = 0, correct = 0;
    int64_t done = progress.batch;
    while (loader.next(b)) {
      const double lr = schedule->lr(progress.global_step);
      sgd.set_lr(lr);
      const Tensor x = Tensor::from_vector(b.images, {b.size, b.channels, b.height, b.width});
      const Tensor labels = Tensor::from_vector(b.labels, {b.size});
      const ag::Variable logits = (*model)(ag::Variable(x));
      const ag::Variable loss = ag::cross_entropy(logits, labels, c.label_smoothing);
      sgd.zero_grad();
      loss.backward();
      sgd.step();
      ++progress.global_step;
      progress.batch = ++done;

      const Tensor hits = eq(argmax(logits.data(), 1), labels);
      correct += int64_t(sum(hits).item());
      loss_sum += loss.item() * double(b.size);
      seen += b.size;
      bar.update(done, seen, loss_sum / double(seen), double(correct) / double(seen));

      if (interrupt_requested) {
        save_checkpoint(ckpt_path, *model, sgd, *schedule, progress, meta);
        bar.finish("interrupted");
        out << "\ninterrupted: checkpoint saved to " << ckpt_path
            << " (epoch " << epoch + 1 << ", batch " << done << "); continue with --resume\n";
        result.interrupted = true;
        result.epochs_done = epoch;
        return result;
      }
    }
    const double train_seconds = seconds_since(t0);
    const EvalResult ev = evaluate(*model, data.test, norm);
    schedule->on_epoch_end(ev.error);

    MetricsRow row;
    row.epoch = epoch + 1;
    row.lr = sgd.lr();
    row.train_loss = seen ? loss_sum / double(seen) : 0;
    row.train_error = seen ? 1.0 - double(correct) / double(seen) : 0;
    row.test_loss = ev.loss;
    row.test_error = ev.error;
    row.images_per_sec = train_seconds > 0 ? double(seen) / train_seconds : 0;
    row.seconds = seconds_since(t0);
    rows.push_back(row);
    append_metrics_csv(csv_path, row);
    write_curves(c.out_dir, rows, c.model);
    progress.epoch = epoch + 1;
    progress.batch = 0;
    save_checkpoint(ckpt_path, *model, sgd, *schedule, progress, meta);
    nn::save_state_dict(c.out_dir + "/model.safetensors", *model, {{"model", c.model}});

    // The bar's closing line (a single line per epoch when stdout is not a terminal) carries
    // the epoch's test numbers too.
    std::ostringstream extra;
    extra << std::fixed << std::setprecision(4) << "lr " << row.lr << "  " << data.test_name
          << " loss " << row.test_loss << "  " << data.test_name << " err " << std::setprecision(2)
          << 100 * row.test_error << '%';
    bar.finish(extra.str());
    result.final_test_error = ev.error;
    result.images_per_sec = row.images_per_sec;
    result.epochs_done = epoch + 1;
  }
  if (!rows.empty()) result.final_test_error = rows.back().test_error;
  out << "final " << data.test_name << " accuracy: " << std::fixed << std::setprecision(2)
      << 100.0 * (1.0 - result.final_test_error) << "%  (run dir " << c.out_dir << ")\n";
  return result;
}

}  // namespace dl::train
