// Chapter 10 — training on CIFAR-10: the data and its augmentation, SGD with momentum and weight
// decay (PyTorch's form vs the Caffe form the ResNet paper used), learning-rate schedules, and
// a short real run of a ResNet-8 on 256 images of the bundled sample.
// Read README.md beside this file; every check() below is a claim the chapter makes.
#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>
#include <vector>

#include "autograd/grad_mode.h"
#include "common.h"
#include "models/resnet.h"
#include "nn/loss.h"
#include "tensor/ops.h"
#include "train/augment.h"
#include "train/dataset.h"
#include "train/evaluate.h"
#include "train/loader.h"
#include "train/lr_schedule.h"
#include "train/sgd.h"
#include "train/trainer.h"

using dl::Tensor;
using dl::ag::Variable;
using tut::check;
namespace models = dl::models;
namespace nn = dl::nn;
namespace train = dl::train;

namespace {

void data_and_augmentation(const train::ImageDataset& data) {
  tut::section("1. The data and its augmentation");
  std::cout << data.size() << " training images of " << data.channels << "x" << data.height << "x"
            << data.width << ", classes:";
  for (size_t k = 0; k < data.class_names.size(); ++k)
    std::cout << " " << data.class_names[k] << " (" << data.class_counts()[k] << ")";
  std::cout << "\n";
  check(data.size() == 1000 && data.class_counts()[3] == 100,
        "the bundled sample: 100 images of each of 10 classes");

  // [snippet:augment]
  const train::Normalizer norm = train::Normalizer::cifar10();  // per-channel mean and std
  const int64_t C = 3, H = 32, W = 32;
  std::vector<float> plain(C * H * W), shifted(C * H * W), flipped(C * H * W);
  train::normalize_image(norm, data.image(0), C, H, W, plain.data());
  // Pad 4 pixels of black on every side, crop 32x32 at (off_y, off_x) of the 40x40 result,
  // optionally mirror: offsets (4, 4) without flip give back the original image.
  train::pad_crop_flip_normalize(norm, data.image(0), C, H, W, /*pad=*/4, /*off_y=*/4, /*off_x=*/4,
                                 /*flip=*/false, /*pad_with_mean=*/false, shifted.data());
  train::pad_crop_flip_normalize(norm, data.image(0), C, H, W, 4, 4, 4, /*flip=*/true, false,
                                 flipped.data());
  // [/snippet]
  check(shifted == plain, "a crop at offset (4, 4) of the padded image is the image itself");
  bool mirrored = true;
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x)
        mirrored &= flipped[(c * H + y) * W + x] == plain[(c * H + y) * W + (W - 1 - x)];
  check(mirrored, "flip mirrors each row");
  std::vector<float> shifted_right(C * H * W);
  train::pad_crop_flip_normalize(norm, data.image(0), C, H, W, 4, 4, 0, false, false,
                                 shifted_right.data());
  check(shifted_right[5] == plain[1] && shifted_right[0] == (0.0f - norm.mean[0]) / norm.std[0],
        "offset x = 0 shifts the image 4 pixels right and fills the left edge with black");

  train::TransformConfig cfg = train::TransformConfig::cifar_train(norm);
  std::vector<float> a(C * H * W), b(C * H * W);
  train::Rng rng_a(train::sample_seed(/*seed=*/0, /*epoch=*/3, /*index=*/0)), rng_b = rng_a;
  train::apply_transform(cfg, data.image(0), C, H, W, rng_a, a.data());
  train::apply_transform(cfg, data.image(0), C, H, W, rng_b, b.data());
  check(a == b, "the random crop and flip of (seed, epoch, sample) are reproducible");
}

void sgd_two_forms() {
  tut::section("2. SGD with momentum and weight decay: PyTorch's form and Caffe's");
  const double momentum = 0.9, wd = 1e-4;
  // A single weight with loss L(w) = w²/2 (gradient w). 20 steps at lr 0.1, then 10 at lr 0.01.
  Variable w(Tensor::full({1}, 1.0), /*requires_grad=*/true);
  train::SgdOptions options;
  options.lr = 0.1;
  options.momentum = momentum;
  options.weight_decay = wd;
  train::Sgd sgd({{"w", w}}, options);
  double p_torch = 1.0, buf = 0.0, p_caffe = 1.0, v = 0.0;
  double max_gap_constant_lr = 0.0, gap_after_drop = 0.0, max_gap_library = 0.0;
  for (int step = 0; step < 30; ++step) {
    const double lr = step < 20 ? 0.1 : 0.01;
    sgd.set_lr(lr);
    w.set_grad(w.data().clone());  // dL/dw = w
    sgd.step();
    // [snippet:sgd]
    // PyTorch (what train::Sgd implements): the velocity holds gradients; lr is applied last.
    double g = p_torch + wd * p_torch;  // gradient of w²/2, plus weight decay
    buf = step == 0 ? g : momentum * buf + g;
    p_torch -= lr * buf;
    // Caffe (the ResNet paper): the velocity holds lr-scaled steps.
    v = momentum * v + lr * (p_caffe + wd * p_caffe);
    p_caffe -= v;
    // [/snippet]
    if (step < 20)
      max_gap_constant_lr = std::max(max_gap_constant_lr, std::fabs(p_torch - p_caffe));
    if (step == 20) gap_after_drop = std::fabs(p_torch - p_caffe);
    if (step % 5 == 4 || step == 20)
      std::cout << "step " << step << (step < 10 ? " " : "") << " lr " << lr << ": train::Sgd "
                << tut::fixed(w.item(), 6) << ", PyTorch form " << tut::fixed(p_torch, 6)
                << ", Caffe form " << tut::fixed(p_caffe, 6) << "\n";
    max_gap_library = std::max(max_gap_library, std::fabs(w.item() - p_torch));
  }
  check(max_gap_library < 1e-5,
        "train::Sgd follows the PyTorch form step for step (float32 vs double)");
  check(max_gap_constant_lr < 1e-9, "while lr is constant the two forms are the same algorithm");
  check(gap_after_drop > 1e-3,
        "right after lr drops 10x they differ: Caffe's velocity still carries the old lr");
}

void schedules() {
  tut::section("3. Learning-rate schedules");
  // [snippet:schedules]
  // The paper's CIFAR recipe: lr 0.1, divided by 10 at 32k and 48k iterations, stop at 64k.
  auto multistep = train::make_schedule("multistep", /*base_lr=*/0.1, /*total_steps=*/64000);
  train::CosineLr cosine(0.1, 64000);
  train::WarmupLr warmup(train::make_schedule("multistep", 0.1, 64000), /*warmup_steps=*/400,
                         /*start_lr=*/0.01);
  for (int64_t step : {0, 200, 400, 31999, 32000, 48000, 63999})
    std::cout << "step " << step << ": multistep " << multistep->lr(step) << ", cosine "
              << tut::fixed(cosine.lr(step), 4) << ", warm-up + multistep " << warmup.lr(step)
              << "\n";
  // [/snippet]
  check(multistep->lr(31999) == 0.1 && std::fabs(multistep->lr(32000) - 0.01) < 1e-12 &&
            std::fabs(multistep->lr(48000) - 0.001) < 1e-12,
        "multistep: 0.1, then 0.01 from step 32,000 and 0.001 from 48,000");
  check(std::fabs(cosine.lr(32000) - 0.05) < 1e-9, "cosine: half of the base lr half-way through");
  check(warmup.lr(0) == 0.01 && warmup.lr(400) == 0.1,
        "warm-up: from 0.01 to the schedule's 0.1 over 400 steps");
}

// Mean loss and accuracy of `model` on `data`, no augmentation, eval mode.
std::pair<double, double> loss_and_accuracy(nn::Module& model, const train::ImageDataset& data,
                                            const train::Normalizer& norm) {
  const train::EvalResult r = train::evaluate(model, data, norm, /*batch_size=*/128);
  return {r.loss, 1.0 - r.error};
}

void short_run(const train::ImageDataset& full, const train::ImageDataset& test) {
  tut::section("4. A short run: ResNet-8 on 256 training images");
  auto [rest, data] = train::split_holdout(full, 256, /*seed=*/0);  // a random 256 of the 1,000
  (void)rest;
  const train::Normalizer norm = train::Normalizer::cifar10();
  // [snippet:setup]
  models::ResNetConfig cfg;  // the CIFAR ResNet with one block per stage: 6*1 + 2 = 8 layers
  cfg.block = models::BlockType::Basic;
  cfg.stem = models::Stem::Cifar;
  cfg.blocks = {1, 1, 1};
  cfg.widths = {16, 32, 64};
  cfg.num_classes = 10;
  cfg.shortcut = models::Shortcut::A;
  models::ResNet model(cfg);

  train::LoaderConfig lc;
  lc.batch_size = 32;
  lc.transform = train::TransformConfig::cifar_train(norm);  // pad 4, random crop, flip
  lc.num_workers = 1;                                        // one thread prepares batches ahead
  train::BatchLoader loader(data, lc);

  const int64_t epochs = 8, steps = epochs * loader.num_batches();
  train::SgdOptions so;  // momentum 0.9, weight decay 1e-4: the paper's values
  so.lr = 0.05;
  train::Sgd sgd(model.named_parameters(), so);
  train::CosineLr schedule(so.lr, steps);
  // [/snippet]
  std::cout << "ResNet-8: " << model.num_parameters() << " parameters, " << loader.num_batches()
            << " batches per epoch\n";
  check(model.num_parameters() == 75290, "ResNet-8 has 75,290 parameters");
  const auto [loss0, acc0] = loss_and_accuracy(model, data, norm);
  std::cout << "before training: train loss " << tut::fixed(loss0, 3) << ", train accuracy "
            << tut::fixed(100 * acc0, 1) << "%\n";
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<double> epoch_loss;
  int64_t step = 0;
  // [snippet:loop]
  for (int64_t epoch = 0; epoch < epochs; ++epoch) {
    model.train();
    loader.start_epoch(epoch);  // a new shuffle and new random crops each epoch
    train::Batch batch;
    double loss_sum = 0;
    while (loader.next(batch)) {
      sgd.set_lr(schedule.lr(step++));
      Variable images(Tensor::from_vector(batch.images,
                                          {batch.size, batch.channels, batch.height, batch.width}));
      Tensor labels = Tensor::from_vector(batch.labels, {batch.size});
      Variable loss = nn::cross_entropy_loss(model(images), labels);
      sgd.zero_grad();
      loss.backward();
      sgd.step();
      loss_sum += loss.item() * batch.size;
    }
    epoch_loss.push_back(loss_sum / loader.samples_per_epoch());
    std::cout << "epoch " << epoch + 1 << ": lr " << tut::fixed(sgd.lr(), 4) << ", mean train loss "
              << tut::fixed(epoch_loss.back(), 3) << "\n";
  }
  // [/snippet]
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto [loss1, acc1] = loss_and_accuracy(model, data, norm);
  const auto [test_loss, test_acc] = loss_and_accuracy(model, test, norm);
  std::cout << "after training : train loss " << tut::fixed(loss1, 3) << ", train accuracy "
            << tut::fixed(100 * acc1, 1) << "% (" << tut::fixed(steps / seconds, 1) << " steps/s)\n"
            << "test set (200 images never seen): accuracy " << tut::fixed(100 * test_acc, 1)
            << "%\n";
  check(epoch_loss.back() < epoch_loss.front() - 0.1,
        "the mean training loss fell by more than 0.1 from epoch 1 to " + std::to_string(epochs));
  check(loss1 < loss0,
        "the loss on the training images (no augmentation) is lower than before training");
  check(acc1 > 0.2,
        "train accuracy beats chance (10%) by a wide margin: " + tut::fixed(100 * acc1, 1) + "%");
}

}  // namespace

int main() {
  return tut::run([] {
    // [snippet:load]
    const std::string dir = train::bundled_sample_dir();  // data/cifar10-sample in the repository
    train::ImageDataset train_set = train::load_cifar10_dir(dir, /*train=*/true);
    train::ImageDataset test_set = train::load_cifar10_dir(dir, /*train=*/false);
    // [/snippet]
    data_and_augmentation(train_set);
    sgd_two_forms();
    schedules();
    short_run(train_set, test_set);
  });
}
