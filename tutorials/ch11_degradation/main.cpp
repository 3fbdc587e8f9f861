// Chapter 11 — the degradation experiment in miniature: plain and residual networks of the same
// depth, identical except for the shortcuts, trained side by side on a slice of the CIFAR-10
// sample; each run writes metrics.csv and the runs are overlaid in one SVG (paper Fig. 6).
// Read README.md beside this file; every check() below is a claim the chapter makes.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "common.h"
#include "models/resnet.h"
#include "nn/loss.h"
#include "tensor/ops.h"
#include "train/dataset.h"
#include "train/evaluate.h"
#include "train/fs_util.h"
#include "train/loader.h"
#include "train/lr_schedule.h"
#include "train/plot.h"
#include "train/sgd.h"
#include "train/trainer.h"

using dl::Tensor;
using dl::ag::Variable;
using tut::check;
namespace models = dl::models;
namespace nn = dl::nn;
namespace train = dl::train;

namespace {

// A setting read from the environment (CH11_N=9 trains 56-layer nets), or `fallback`.
double env_or(const char* name, double fallback) {
  const char* v = std::getenv(name);
  return v ? std::atof(v) : fallback;
}

// [snippet:config]
// A thin CIFAR network of 6n + 2 layers (16 channels in every stage instead of 16, 32, 64:
// about 2.2x cheaper), with or without shortcuts. The same seed gives a plain and a residual
// net the very same weights.
models::ResNetConfig thin_cifar_net(int n, bool residual, uint64_t seed) {
  models::ResNetConfig cfg;
  cfg.block = residual ? models::BlockType::Basic : models::BlockType::PlainBasic;
  cfg.stem = models::Stem::Cifar;
  cfg.blocks = {n, n, n};
  cfg.widths = {16, 16, 16};
  cfg.num_classes = 10;
  cfg.shortcut = models::Shortcut::A;  // parameter-free: plain and residual nets match exactly
  cfg.seed = seed;
  return cfg;
}
// [/snippet]

struct Setup {
  int epochs, batch_size;
  double lr;
};

// Trains one network and writes RUN_DIR/metrics.csv; returns the rows.
std::vector<train::MetricsRow> run(const std::string& run_dir, const models::ResNetConfig& cfg,
                                   const train::ImageDataset& data, const train::ImageDataset& test,
                                   const Setup& s) {
  const train::Normalizer norm = train::Normalizer::cifar10();
  models::ResNet model(cfg);
  train::LoaderConfig lc;
  lc.batch_size = s.batch_size;
  lc.transform = train::TransformConfig::cifar_train(norm);
  lc.num_workers = 1;
  lc.seed = 1;  // the same batches, in the same order, for every network
  train::BatchLoader loader(data, lc);
  train::SgdOptions so;
  so.lr = s.lr;
  train::Sgd sgd(model.named_parameters(), so);
  train::CosineLr schedule(s.lr, s.epochs * loader.num_batches());
  std::vector<train::MetricsRow> rows;
  int64_t step = 0;
  for (int64_t epoch = 0; epoch < s.epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    model.train();
    loader.start_epoch(epoch);
    train::Batch batch;
    double loss_sum = 0, wrong = 0;
    while (loader.next(batch)) {
      sgd.set_lr(schedule.lr(step++));
      Variable images(Tensor::from_vector(batch.images,
                                          {batch.size, batch.channels, batch.height, batch.width}));
      Tensor labels = Tensor::from_vector(batch.labels, {batch.size});
      Variable logits = model(images);
      Variable loss = nn::cross_entropy_loss(logits, labels);
      sgd.zero_grad();
      loss.backward();
      sgd.step();
      loss_sum += loss.item() * batch.size;
      wrong += batch.size - nn::topk_correct(logits.data(), labels, 1);
    }
    // [snippet:row]
    train::MetricsRow row;  // one line of metrics.csv per epoch, as `resnet train` writes it
    row.epoch = epoch + 1;
    row.lr = sgd.lr();
    row.train_loss = loss_sum / loader.samples_per_epoch();
    row.train_error = wrong / loader.samples_per_epoch();  // augmented batches, as the paper
    const train::EvalResult t = train::evaluate(model, test, norm);
    row.test_loss = t.loss;
    row.test_error = t.error;
    row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    row.images_per_sec = loader.samples_per_epoch() / row.seconds;
    rows.push_back(row);
    // [/snippet]
  }
  std::filesystem::create_directories(run_dir);
  train::write_metrics_csv(run_dir + "/metrics.csv", rows);
  return rows;
}

}  // namespace

int main() {
  return tut::run([] {
    const std::string dir = train::bundled_sample_dir();
    const train::ImageDataset full = train::load_cifar10_dir(dir, true);
    const train::ImageDataset test = train::load_cifar10_dir(dir, false);
    // [snippet:setup]
    const int n = int(env_or("CH11_N", 3));  // 6n + 2 layers: n = 3 gives 20, n = 9 gives 56
    const Setup setup{int(env_or("CH11_EPOCHS", 4)), int(env_or("CH11_BATCH", 16)),
                      env_or("CH11_LR", 0.1)};
    auto [rest, data] = train::split_holdout(full, int64_t(env_or("CH11_IMAGES", 256)), /*seed=*/0);
    const uint64_t seed = uint64_t(env_or("CH11_SEED", 7));  // initial weights of both nets
    // [/snippet]
    (void)rest;

    tut::section("1. Plain and residual nets of " + std::to_string(6 * n + 2) +
                 " layers, same weights");
    models::ResNet plain(thin_cifar_net(n, false, seed)), residual(thin_cifar_net(n, true, seed));
    std::cout << "plain-" << 6 * n + 2 << ": " << plain.num_parameters() << " parameters; resnet-"
              << 6 * n + 2 << ": " << residual.num_parameters() << " parameters\n";
    check(plain.num_parameters() == residual.num_parameters(),
          "option A: the shortcuts add no parameters");
    check(dl::allclose(plain.state_dict()[0].second, residual.state_dict()[0].second),
          "the same seed gives both networks the same initial weights");

    tut::section("2. Training both on the same batches");
    std::vector<train::Series> series;
    std::vector<std::vector<train::MetricsRow>> results;
    int color = 0;
    for (bool res : {false, true}) {
      const std::string name = std::string(res ? "resnet" : "plain") + std::to_string(6 * n + 2);
      results.push_back(run("runs/" + name, thin_cifar_net(n, res, seed), data, test, setup));
      for (const train::MetricsRow& r : results.back())
        std::cout << "  " << name << " epoch " << r.epoch << ": train loss "
                  << tut::fixed(r.train_loss, 3) << ", train error "
                  << tut::fixed(100 * r.train_error, 1) << "%, test error "
                  << tut::fixed(100 * r.test_error, 1) << "%\n";
      for (auto& s : train::error_curves(results.back(), name, train::palette_color(color++)))
        series.push_back(s);
    }

    tut::section("3. The curves");
    // [snippet:plot]
    const std::string svg = train::render_svg_chart(
        series, "plain vs residual (dashed: train, solid: test)", "epoch", "error (%)");
    train::write_file_atomic("degradation.svg", svg);
    // [/snippet]
    const auto plain_rows =
        train::read_metrics_csv("runs/plain" + std::to_string(6 * n + 2) + "/metrics.csv");
    const auto res_rows =
        train::read_metrics_csv("runs/resnet" + std::to_string(6 * n + 2) + "/metrics.csv");
    std::cout << "wrote runs/*/metrics.csv and degradation.svg (" << svg.size() << " bytes)\n";
    check(int(plain_rows.size()) == setup.epochs && int(res_rows.size()) == setup.epochs,
          "each run's metrics.csv reads back with one row per epoch");
    check(svg.find("<svg") != std::string::npos && svg.find("resnet") != std::string::npos,
          "degradation.svg holds both runs' curves");
    const double plain_loss = plain_rows.back().train_loss, res_loss = res_rows.back().train_loss;
    std::cout << "final train loss: plain " << tut::fixed(plain_loss, 3) << ", residual "
              << tut::fixed(res_loss, 3) << "\n";
    check(res_loss <= plain_loss + 0.05,
          "the residual net trains at least as well as the plain net of the same depth");
  });
}
