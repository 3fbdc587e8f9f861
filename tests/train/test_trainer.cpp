// Tests for train/trainer.h on a tiny run (resnet20, 64 bundled sample images, batches of 16,
// 2 epochs, one thread): resuming after an epoch, or after Ctrl-C in the middle of one, ends
// with weights bit-identical to an uninterrupted run; output is one line per epoch; a
// checkpoint from another configuration is refused. Also the loader's mid-epoch start.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <map>
#include <memory>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/registry.h"
#include "train/checkpoint.h"
#include "train/fs_util.h"
#include "train/loader.h"
#include "train/plot.h"
#include "train/trainer.h"
#include "train_test_util.h"

namespace fs = std::filesystem;
using namespace dl;
using namespace dl::train;
using dl::train::testing::TempDir;

namespace {

/// 64 images / 16 = 4 steps per epoch. A constant lr after a 6-step warm-up: the warm-up
/// crosses the epoch boundary (so a resume must restore the step count), and the schedule does
/// not depend on the number of epochs (so a 1-epoch run is the first half of a 2-epoch run).
TrainConfig tiny_config(const std::string& out_dir, int64_t epochs = 2) {
  TrainConfig c;
  c.model = "resnet20";
  c.max_train_images = 64;
  c.batch_size = 16;
  c.epochs = epochs;
  c.schedule = "constant";
  c.lr = 0.05;
  c.warmup_steps = 6;
  c.warmup_lr = 0.01;
  c.seed = 7;
  c.threads = 1;  // bit-for-bit equality needs the same thread count in every run
  c.loader_threads = 1;
  c.out_dir = out_dir;
  return c;
}

/// One uninterrupted 2-epoch run, shared by the tests that compare against it.
class Trainer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    reference_ = std::make_unique<TempDir>();
    std::ostringstream out;
    result_ = run_training(tiny_config(reference_->path()), out);
    output_ = out.str();
  }
  static void TearDownTestSuite() { reference_.reset(); }

  /// Expects @p run_dir's final weights, checkpoint and per-epoch numbers to equal the
  /// reference run's exactly.
  static void expect_same_as_reference(const std::string& run_dir) {
    for (const char* file : {"model.safetensors", "checkpoint.safetensors"})
      EXPECT_TRUE(read_file(run_dir + "/" + file) == read_file(*reference_ / file))
          << file << " differs from the uninterrupted run's";
    const auto rows = read_metrics_csv(run_dir + "/metrics.csv");
    const auto ref = read_metrics_csv(*reference_ / "metrics.csv");
    ASSERT_EQ(rows.size(), ref.size());
    for (size_t i = 0; i < rows.size(); ++i) {  // all but the timings
      EXPECT_EQ(rows[i].epoch, ref[i].epoch);
      EXPECT_EQ(rows[i].lr, ref[i].lr);
      EXPECT_EQ(rows[i].train_loss, ref[i].train_loss) << "epoch " << i + 1;
      EXPECT_EQ(rows[i].train_error, ref[i].train_error) << "epoch " << i + 1;
      EXPECT_EQ(rows[i].test_loss, ref[i].test_loss) << "epoch " << i + 1;
      EXPECT_EQ(rows[i].test_error, ref[i].test_error) << "epoch " << i + 1;
    }
  }

  static std::unique_ptr<TempDir> reference_;
  static TrainResult result_;
  static std::string output_;
};
std::unique_ptr<TempDir> Trainer::reference_;
TrainResult Trainer::result_;
std::string Trainer::output_;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST_F(Trainer, WritesMetricsCurvesCheckpointAndWeights) {
  EXPECT_EQ(result_.epochs_done, 2);
  EXPECT_FALSE(result_.interrupted);
  EXPECT_GE(result_.final_test_error, 0.0);
  EXPECT_LE(result_.final_test_error, 1.0);
  for (const char* file :
       {"metrics.csv", "curves.svg", "checkpoint.safetensors", "model.safetensors"})
    EXPECT_TRUE(file_exists(*reference_ / file)) << file;
  const auto rows = read_metrics_csv(*reference_ / "metrics.csv");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_DOUBLE_EQ(rows[0].lr, 0.03);  // step 3, the epoch's last
  EXPECT_EQ(rows[1].lr, 0.05);
  const std::map<std::string, std::string> meta =
      read_checkpoint_metadata(*reference_ / "checkpoint.safetensors");
  EXPECT_EQ(meta.at("config.model"), "resnet20");
  EXPECT_EQ(meta.at("config.seed"), "7");
  EXPECT_EQ(meta.at("config.batch-size"), "16");
  EXPECT_EQ(meta.at("train_images"), "64");
}

TEST_F(Trainer, PrintsOneLinePerEpochWhenNotATerminal) {
  EXPECT_EQ(output_.find('\r'), std::string::npos) << output_;
  int epoch_lines = 0;
  for (const std::string& line : lines_of(output_))
    if (line.rfind("epoch ", 0) == 0) {
      ++epoch_lines;
      EXPECT_NE(line.find("test err"), std::string::npos) << line;
    }
  EXPECT_EQ(epoch_lines, 2) << output_;
  EXPECT_EQ(lines_of(output_).back().rfind("final test accuracy", 0), 0u) << output_;
}

TEST_F(Trainer, ResumeAfterOneEpochMatchesTwoEpochRun) {
  TempDir dir;
  std::ostringstream out;
  EXPECT_EQ(run_training(tiny_config(dir.path(), /*epochs=*/1), out).epochs_done, 1);
  TrainConfig second = tiny_config(dir.path(), /*epochs=*/2);
  second.resume = true;
  const TrainResult r = run_training(second, out);
  EXPECT_EQ(r.epochs_done, 2);
  EXPECT_NE(out.str().find("resumed from"), std::string::npos) << out.str();
  expect_same_as_reference(dir.path());
}

TEST_F(Trainer, SigintSavesAMidEpochCheckpointAndResumeMatches) {
  TempDir dir;
  std::ostringstream out;
  TrainConfig first = tiny_config(dir.path());
  std::vector<int64_t> steps_seen;
  first.on_step = [&steps_seen](int64_t step) {
    steps_seen.push_back(step);
    if (step == 3) std::raise(SIGINT);  // as if Ctrl-C arrived during the third step
  };
  const TrainResult stopped = run_training(first, out);
  EXPECT_TRUE(stopped.interrupted);
  EXPECT_EQ(stopped.epochs_done, 0);
  EXPECT_EQ(steps_seen, (std::vector<int64_t>{1, 2, 3}));  // stopped right after step 3
  EXPECT_NE(out.str().find("interrupted"), std::string::npos) << out.str();

  // The checkpoint records the middle of the first epoch.
  auto model = models::create_model("resnet20", {});
  Sgd sgd(model->named_parameters(), SgdOptions{});
  auto schedule = make_schedule("constant", 0.05, 8, 6, 0.01);
  const TrainProgress p =
      load_checkpoint(dir / "checkpoint.safetensors", *model, sgd, *schedule, nullptr);
  EXPECT_EQ(p.epoch, 0);
  EXPECT_EQ(p.batch, 3);
  EXPECT_EQ(p.global_step, 3);
  EXPECT_EQ(p.images, 48);
  EXPECT_FALSE(file_exists(dir / "model.safetensors"));  // written only at epoch ends

  TrainConfig resumed = tiny_config(dir.path());
  resumed.resume = true;
  const TrainResult r = run_training(resumed, out);
  EXPECT_FALSE(r.interrupted);
  EXPECT_EQ(r.epochs_done, 2);
  expect_same_as_reference(dir.path());
}

TEST_F(Trainer, ResumingAFinishedRunDoesNothing) {
  TempDir dir;
  fs::copy(reference_->path(), dir.path(),
           fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  TrainConfig again = tiny_config(dir.path());
  again.resume = true;
  std::ostringstream out;
  const TrainResult r = run_training(again, out);
  EXPECT_EQ(r.epochs_done, 2);
  EXPECT_EQ(r.final_test_error, result_.final_test_error);
  expect_same_as_reference(dir.path());
}

TEST_F(Trainer, RefusesACheckpointFromAnotherConfiguration) {
  TempDir dir;
  fs::copy_file(*reference_ / "checkpoint.safetensors", dir / "checkpoint.safetensors");
  TrainConfig other = tiny_config(dir.path());
  other.resume = true;
  other.seed = 8;  // another data order: continuing would silently train something else
  std::ostringstream out;
  try {
    run_training(other, out);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("seed"), std::string::npos) << e.what();
  }
}

TEST(TrainConfigMetadata, RestoresEverySetting) {
  TrainConfig c = tiny_config("runs/x");
  c.data_dir = "/data/cifar 10";  // a space survives
  c.lr = 0.1;                     // not exact in binary: must read back to the same double
  c.nesterov = true;
  c.shortcut = "B";
  c.seed = 18446744073709551615ull;
  c.threads = 3;
  const std::map<std::string, std::string> meta = config_metadata(c);
  EXPECT_EQ(meta.at("config.batch-size"), "16");
  EXPECT_EQ(meta.at("config.nesterov"), "true");
  EXPECT_EQ(meta.count("config.out"), 0u);  // where a run lives is not one of its settings

  TrainConfig restored;
  restore_config(meta, {}, restored);
  EXPECT_EQ(config_metadata(restored), meta);
  EXPECT_EQ(restored.lr, 0.1);
  EXPECT_EQ(restored.data_dir, "/data/cifar 10");
  EXPECT_EQ(restored.seed, c.seed);
}

TEST(TrainConfigMetadata, KeepsOptionsGivenAgain) {
  TrainConfig c = tiny_config("runs/x");
  TrainConfig extended;
  extended.epochs = 5;
  restore_config(config_metadata(c), {"epochs"}, extended);
  EXPECT_EQ(extended.epochs, 5);
  EXPECT_EQ(extended.batch_size, 16);
}

TEST(TrainConfigMetadata, MalformedValueThrowsNamingTheEntry) {
  TrainConfig c;
  try {
    restore_config({{"config.epochs", "ten"}}, {}, c);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("config.epochs"), std::string::npos) << e.what();
  }
  EXPECT_THROW(restore_config({{"config.nesterov", "yes"}}, {}, c), std::runtime_error);
  EXPECT_THROW(restore_config({{"config.lr", "0.1x"}}, {}, c), std::runtime_error);
}

TEST(BatchLoaderResume, StartingMidEpochGivesTheRemainingBatches) {
  ImageDataset ds;
  ds.height = ds.width = 4;
  ds.class_names = {"a", "b"};
  ds.pixels.resize(size_t(10 * ds.image_numel()));
  std::iota(ds.pixels.begin(), ds.pixels.end(), uint8_t(0));
  ds.labels.resize(10);
  std::iota(ds.labels.begin(), ds.labels.end(), 0);
  LoaderConfig lc;
  lc.batch_size = 3;  // 4 batches: 3, 3, 3, 1
  lc.transform = TransformConfig::cifar_train(Normalizer::cifar10(), 1);
  lc.num_workers = 1;
  BatchLoader loader(ds, lc);

  std::vector<Batch> full;
  loader.start_epoch(5);
  for (Batch b; loader.next(b);) full.push_back(b);
  ASSERT_EQ(full.size(), 4u);
  loader.start_epoch(5, /*first_batch=*/2);
  Batch b;
  for (size_t k = 2; k < 4; ++k) {
    ASSERT_TRUE(loader.next(b));
    EXPECT_EQ(b.index, int64_t(k));
    EXPECT_EQ(b.labels, full[k].labels);
    EXPECT_EQ(b.images, full[k].images);  // same augmentation too
  }
  EXPECT_FALSE(loader.next(b));
  loader.start_epoch(5, 4);  // everything done: an empty epoch
  EXPECT_FALSE(loader.next(b));
  EXPECT_THROW(loader.start_epoch(5, 5), std::invalid_argument);
  EXPECT_THROW(loader.start_epoch(5, -1), std::invalid_argument);
}

}  // namespace
