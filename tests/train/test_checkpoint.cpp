// Tests for train/checkpoint.h: a round trip restores model, momentum, schedule and progress
// (and training continues identically); bad files are rejected naming the file, leaving the
// model untouched; saving is atomic (no temporary files, an old checkpoint survives a failure).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "models/registry.h"
#include "nn/safetensors.h"
#include "nn/state_io.h"
#include "tensor/random.h"
#include "train/checkpoint.h"
#include "train/fs_util.h"
#include "train_test_util.h"

namespace fs = std::filesystem;
using namespace dl;
using namespace dl::train;
using dl::train::testing::TempDir;
using dl::train::testing::write_bytes;

namespace {

std::shared_ptr<nn::Module> make_model(uint64_t seed, const std::string& name = "resnet20") {
  models::ModelOptions o;
  o.seed = seed;
  return models::create_model(name, o);
}

/// An optimiser step with gradients drawn from @p seed (the same seed gives the same step),
/// so momentum buffers exist without running the network.
void fake_step(nn::Module& model, Sgd& sgd, uint64_t seed) {
  Generator gen(seed);
  for (auto& [name, p] : model.named_parameters()) p.set_grad(Tensor::randn(p.shape(), gen));
  sgd.step();
}

/// A copy of every tensor of @p state (state_dict() aliases the live tensors).
nn::StateDict snapshot(const nn::StateDict& state) {
  nn::StateDict out;
  for (const auto& [k, t] : state) out.emplace_back(k, t.clone());
  return out;
}

/// True when both hold the same keys with bit-identical values.
bool identical(const nn::StateDict& a, const nn::StateDict& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const Tensor &x = a[i].second.contiguous(), &y = b[i].second.contiguous();
    if (a[i].first != b[i].first || x.shape() != y.shape() || x.dtype() != y.dtype() ||
        std::memcmp(x.raw_data(), y.raw_data(), size_t(x.numel()) * dtype_size(x.dtype())) != 0)
      return false;
  }
  return true;
}

/// A model, optimiser and plateau schedule that have all moved away from their initial state;
/// a different @p seed gives different weights, momentum, BN statistics and schedule state.
struct Trained {
  explicit Trained(uint64_t seed)
      : model(make_model(seed)), sgd(model->named_parameters(), SgdOptions{}) {
    fake_step(*model, sgd, 10 * seed);
    fake_step(*model, sgd, 10 * seed + 1);
    model->named_buffers().front().second.fill_(0.25 * double(seed));  // a BN running mean
    schedule.on_epoch_end(1.0);
    for (uint64_t i = 0; i < seed; ++i) schedule.on_epoch_end(2.0);  // patience 0: lr halved
  }
  std::shared_ptr<nn::Module> model;
  Sgd sgd;
  PlateauLr schedule{0.1, 0.5, 0, 0.0};
};

const TrainProgress kProgress{2, 3, 57, 48, 20, 12.5};

/// Saves Trained(1) at kProgress as @p dir/checkpoint.safetensors; returns that path.
std::string save_trained(const TempDir& dir) {
  const std::string path = dir / "checkpoint.safetensors";
  Trained a(1);
  save_checkpoint(path, *a.model, a.sgd, a.schedule, kProgress, {});
  return path;
}

void expect_message_contains(const std::exception& e, const std::string& part) {
  EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
}

TEST(Checkpoint, RoundTripRestoresModelMomentumScheduleAndProgress) {
  TempDir dir;
  const std::string path = dir / "checkpoint.safetensors";
  Trained a(1);
  save_checkpoint(path, *a.model, a.sgd, a.schedule, kProgress, {{"model", "resnet20"}});

  auto model = make_model(2);  // different initial weights
  Sgd sgd(model->named_parameters(), SgdOptions{});
  PlateauLr schedule(0.1, 0.5, 0, 0.0);
  std::map<std::string, std::string> meta;
  const TrainProgress p = load_checkpoint(path, *model, sgd, schedule, &meta);

  EXPECT_TRUE(identical(model->state_dict(), a.model->state_dict()));
  EXPECT_TRUE(identical(sgd.state_dict(), a.sgd.state_dict()));
  EXPECT_EQ(schedule.state(), a.schedule.state());
  EXPECT_EQ(schedule.lr(0), 0.05);  // halved once
  EXPECT_EQ(p.epoch, 2);
  EXPECT_EQ(p.batch, 3);
  EXPECT_EQ(p.global_step, 57);
  EXPECT_EQ(p.images, 48);
  EXPECT_EQ(p.correct, 20);
  EXPECT_EQ(p.loss_sum, 12.5);
  EXPECT_EQ(meta.at("model"), "resnet20");
  EXPECT_EQ(meta.at("format"), "resnet.cpp-checkpoint-v1");
  EXPECT_EQ(read_checkpoint_metadata(path).at("model"), "resnet20");

  // The restored optimiser continues exactly as the original: momentum came back too.
  fake_step(*a.model, a.sgd, 12);
  fake_step(*model, sgd, 12);
  EXPECT_TRUE(identical(model->state_dict(), a.model->state_dict()));
}

TEST(Checkpoint, ReadModelWeightsAcceptsCheckpointsAndWeightFiles) {
  TempDir dir;
  Trained a(1);
  save_checkpoint(dir / "ckpt.safetensors", *a.model, a.sgd, a.schedule, kProgress, {});
  nn::save_state_dict(dir / "model.safetensors", *a.model, {{"model", "resnet20"}});
  EXPECT_TRUE(identical(read_model_weights(dir / "ckpt.safetensors"), a.model->state_dict()));
  std::map<std::string, std::string> meta;
  EXPECT_TRUE(
      identical(read_model_weights(dir / "model.safetensors", &meta), a.model->state_dict()));
  EXPECT_EQ(meta.at("model"), "resnet20");
}

/// Loads @p path into a fresh model and expects a std::runtime_error naming the file, with
/// model, optimiser and schedule left as they were.
void expect_rejected_untouched(const std::string& path, const std::string& reason) {
  Trained b(7);
  const nn::StateDict model_before = snapshot(b.model->state_dict());
  const nn::StateDict sgd_before = snapshot(b.sgd.state_dict());
  const std::vector<double> schedule_before = b.schedule.state();
  try {
    load_checkpoint(path, *b.model, b.sgd, b.schedule, nullptr);
    FAIL() << "expected std::runtime_error for " << path;
  } catch (const std::runtime_error& e) {
    expect_message_contains(e, path);
    expect_message_contains(e, reason);
  }
  EXPECT_TRUE(identical(b.model->state_dict(), model_before));
  EXPECT_TRUE(identical(b.sgd.state_dict(), sgd_before));
  EXPECT_EQ(b.schedule.state(), schedule_before);
}

TEST(Checkpoint, TruncatedFileIsRejectedAndModelUntouched) {
  TempDir dir;
  const std::string path = save_trained(dir);
  fs::resize_file(path, fs::file_size(path) / 2);
  expect_rejected_untouched(path, "load_safetensors");
}

TEST(Checkpoint, GarbageFileIsRejected) {
  TempDir dir;
  const std::string path = dir / "checkpoint.safetensors";
  write_bytes(path, std::string("this is not a safetensors file at all"));
  expect_rejected_untouched(path, "load_safetensors");
}

TEST(Checkpoint, MissingFileIsRejected) {
  TempDir dir;
  expect_rejected_untouched(dir / "nothing-here.safetensors", "load_safetensors");
}

TEST(Checkpoint, WeightsFileIsNotACheckpoint) {
  TempDir dir;
  const std::string path = dir / "model.safetensors";
  nn::save_state_dict(path, *make_model(3));
  expect_rejected_untouched(path, "not a resnet.cpp checkpoint");
}

TEST(Checkpoint, OtherModelIsRejectedAndNothingChanges) {
  TempDir dir;
  const std::string path = dir / "checkpoint.safetensors";
  auto other = make_model(4, "resnet32");
  Sgd sgd(other->named_parameters(), SgdOptions{});
  fake_step(*other, sgd, 5);
  PlateauLr schedule(0.3);
  save_checkpoint(path, *other, sgd, schedule, kProgress, {});
  expect_rejected_untouched(path, "momentum_buffer");
}

TEST(Checkpoint, ModelPartRejectedAfterOptimiserAndScheduleLoadedChangesNothing) {
  // Optimiser and schedule entries that fit, but model entries with the BN running means
  // missing: the model part is checked last, so the parts loaded before it must be put back.
  TempDir dir;
  const std::string path = save_trained(dir);
  SafetensorsFile file = load_safetensors(path);
  std::vector<std::pair<std::string, Tensor>> kept;
  for (auto& [k, t] : file.tensors)
    if (k.find("running_mean") == std::string::npos) kept.emplace_back(k, t);
  save_safetensors(path, kept, file.metadata);
  expect_rejected_untouched(path, "running_mean");
}

TEST(Checkpoint, ScheduleOfAnotherKindIsRejectedAndNothingChanges) {
  // Plateau state (3 values) into a run whose schedule is stateless: rejected after the
  // optimiser part loaded, which must be undone.
  TempDir dir;
  const std::string path = save_trained(dir);
  Trained b(2);
  const nn::StateDict sgd_before = snapshot(b.sgd.state_dict());
  CosineLr cosine(0.1, 100);
  EXPECT_THROW(load_checkpoint(path, *b.model, b.sgd, cosine, nullptr), std::runtime_error);
  EXPECT_TRUE(identical(b.sgd.state_dict(), sgd_before));
}

/// Names of the entries of @p dir.
std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(Checkpoint, SaveLeavesNoTemporaryFiles) {
  TempDir dir;
  Trained a(1);
  for (int i = 0; i < 2; ++i)  // the second save replaces the first
    save_checkpoint(dir / "checkpoint.safetensors", *a.model, a.sgd, a.schedule, kProgress, {});
  EXPECT_EQ(listing(dir.path()), std::vector<std::string>{"checkpoint.safetensors"});
}

TEST(Checkpoint, SaveIntoMissingDirectoryFailsNamingThePath) {
  TempDir dir;
  const std::string path = dir / "no/such/dir/checkpoint.safetensors";
  Trained a(1);
  try {
    save_checkpoint(path, *a.model, a.sgd, a.schedule, kProgress, {});
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    expect_message_contains(e, path);
  }
  EXPECT_TRUE(listing(dir.path()).empty());
}

TEST(Checkpoint, FailedSaveKeepsThePreviousCheckpoint) {
  // The writer streams into "<path>.tmp.<pid>" and renames it over <path> only when complete.
  // Pointing that temporary name at /dev/full makes the write fail half-way (disk full).
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full on this system";
  TempDir dir;
  const std::string path = dir / "checkpoint.safetensors";
  Trained a(1);
  save_checkpoint(path, *a.model, a.sgd, a.schedule, kProgress, {});
  const std::string before = read_file(path);
  fs::create_symlink("/dev/full", path + ".tmp." + std::to_string(::getpid()));

  fake_step(*a.model, a.sgd, 13);  // something new to save
  const TrainProgress later{3, 0, 60, 0, 0, 0.0};
  try {
    save_checkpoint(path, *a.model, a.sgd, a.schedule, later, {});
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    expect_message_contains(e, path);
  }
  EXPECT_EQ(read_file(path), before);  // the old checkpoint, byte for byte
  EXPECT_EQ(listing(dir.path()), std::vector<std::string>{"checkpoint.safetensors"});
  Trained b(7);
  EXPECT_EQ(load_checkpoint(path, *b.model, b.sgd, b.schedule, nullptr).global_step, 57);
}

}  // namespace
