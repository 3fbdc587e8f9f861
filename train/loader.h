// loader.h — BatchLoader: shuffled, augmented mini-batches prepared by background threads.
//
// Determinism: the sample order of epoch e is a Fisher–Yates shuffle seeded by
// shuffle_seed(seed, e), and sample i (dataset index) is augmented with a generator seeded by
// sample_seed(seed, e, i). Batch k always holds order[k*B .. k*B+B-1]. So the batches of an
// epoch depend only on (dataset, config, seed, epoch) — not on the number of worker threads,
// the prefetch depth or timing — and a run resumed at epoch e sees the same data.
//
// Threads: num_workers threads build batches; at most `prefetch` batches beyond the one last
// returned by next() are prepared or queued (bounded memory). With num_workers == 0 batches are
// built synchronously inside next(). Exceptions thrown while building a batch are rethrown by
// next(). The destructor stops and joins the workers.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "train/augment.h"
#include "train/dataset.h"

namespace dl::train {

/// One mini-batch: images are B x C x H x W floats (NCHW), labels B values.
struct Batch {
  std::vector<float> images;
  std::vector<int64_t> labels;
  int64_t size = 0;  ///< B
  int64_t channels = 0, height = 0, width = 0;
  int64_t index = 0;  ///< batch number within the epoch
  int64_t epoch = 0;
};

struct LoaderConfig {
  int64_t batch_size = 128;
  bool shuffle = true;
  uint64_t seed = 0;
  TransformConfig transform;  ///< e.g. TransformConfig::cifar_train() for training, eval() for testing
  bool drop_last = false;     ///< drop the last batch if it is smaller than batch_size
  int num_workers = 2;        ///< background threads (0 = build batches in next())
  int prefetch = 2;           ///< batches prepared ahead of the consumer (>= 1)
};

class BatchLoader {
 public:
  /// @p ds must outlive the loader (it is not copied). Throws std::invalid_argument for a bad
  /// configuration (batch_size <= 0, transform that does not fit the images, ...).
  BatchLoader(const ImageDataset& ds, LoaderConfig cfg);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  /// Starts epoch @p epoch (any earlier epoch's pending batches are discarded) and lets the
  /// workers begin preparing its batches from @p first_batch on. A resumed run passes the
  /// batches it already trained on: they are skipped without being built, and the rest are
  /// the same batches an uninterrupted epoch would deliver.
  /// @throws std::invalid_argument unless 0 <= first_batch <= num_batches().
  void start_epoch(int64_t epoch, int64_t first_batch = 0);
  /// Moves the next batch of the current epoch into @p out; false when the epoch is done.
  /// Throws std::logic_error if no epoch was started.
  bool next(Batch& out);
  /// Batches per epoch.
  int64_t num_batches() const { return num_batches_; }
  /// Samples per epoch (num_batches batches; less than the dataset with drop_last).
  int64_t samples_per_epoch() const;
  int64_t epoch() const { return epoch_; }
  const LoaderConfig& config() const { return cfg_; }
  const ImageDataset& dataset() const { return ds_; }
  /// The dataset indices of epoch @p epoch in batch order (what the batches will hold).
  std::vector<int64_t> epoch_order(int64_t epoch) const;

  /// Builds batch @p k of epoch @p epoch (given that epoch's order) synchronously.
  void build_batch(const std::vector<int64_t>& order, int64_t epoch, int64_t k,
                   Batch& out) const;

 private:
  void worker_loop();

  const ImageDataset& ds_;
  LoaderConfig cfg_;
  int64_t num_batches_ = 0;
  int64_t out_c_ = 0, out_h_ = 0, out_w_ = 0;

  // Shared state, guarded by mu_.
  mutable std::mutex mu_;
  std::condition_variable cv_work_;  // workers wait for claimable batches
  std::condition_variable cv_ready_; // consumer waits for its batch
  bool stop_ = false;
  bool started_ = false;
  uint64_t generation_ = 0;  // bumped by start_epoch; stale results are dropped
  int64_t epoch_ = -1;
  std::shared_ptr<const std::vector<int64_t>> order_;
  int64_t next_claim_ = 0;    // next batch a worker may build
  int64_t next_consume_ = 0;  // next batch next() returns
  std::map<int64_t, Batch> ready_;
  std::map<int64_t, std::exception_ptr> errors_;
  std::vector<std::thread> workers_;
};

/// Throughput of the loader alone: runs epoch @p epoch (up to @p max_batches batches, 0 = all)
/// and returns images per second (wall clock, including the start of the epoch).
double measure_loader_throughput(BatchLoader& loader, int64_t epoch = 0, int64_t max_batches = 0);

}  // namespace dl::train
