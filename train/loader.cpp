// loader.cpp — the BatchLoader's worker threads and bounded, ordered hand-over.
#include "train/loader.h"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <stdexcept>
#include <string>

namespace dl::train {

BatchLoader::BatchLoader(const ImageDataset& ds, LoaderConfig cfg) : ds_(ds), cfg_(std::move(cfg)) {
  if (cfg_.batch_size <= 0) throw std::invalid_argument("BatchLoader: batch_size must be > 0");
  if (cfg_.num_workers < 0) throw std::invalid_argument("BatchLoader: num_workers must be >= 0");
  if (cfg_.prefetch < 1) throw std::invalid_argument("BatchLoader: prefetch must be >= 1");
  if (static_cast<int64_t>(ds_.pixels.size()) != ds_.size() * ds_.image_numel())
    throw std::invalid_argument("BatchLoader: dataset pixels do not match its size and shape");
  validate_transform(cfg_.transform, ds_.channels, ds_.height, ds_.width);
  out_c_ = ds_.channels;
  out_h_ = transform_out_height(cfg_.transform, ds_.height);
  out_w_ = transform_out_width(cfg_.transform, ds_.width);
  const int64_t n = ds_.size(), b = cfg_.batch_size;
  num_batches_ = cfg_.drop_last ? n / b : (n + b - 1) / b;
  for (int i = 0; i < cfg_.num_workers; ++i) workers_.emplace_back([this] { worker_loop(); });
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_work_.notify_all();
  cv_ready_.notify_all();
  for (auto& t : workers_) t.join();
}

int64_t BatchLoader::samples_per_epoch() const {
  return std::min(ds_.size(), num_batches_ * cfg_.batch_size);
}

std::vector<int64_t> BatchLoader::epoch_order(int64_t epoch) const {
  std::vector<int64_t> order(ds_.size());
  std::iota(order.begin(), order.end(), 0);
  if (cfg_.shuffle) {
    Rng rng(shuffle_seed(cfg_.seed, epoch));
    shuffle_in_place(order, rng);
  }
  order.resize(samples_per_epoch());
  return order;
}

void BatchLoader::build_batch(const std::vector<int64_t>& order, int64_t epoch, int64_t k,
                              Batch& out) const {
  const int64_t begin = k * cfg_.batch_size;
  const int64_t end = std::min<int64_t>(begin + cfg_.batch_size, order.size());
  const int64_t bsz = end - begin;
  const int64_t out_numel = out_c_ * out_h_ * out_w_;
  out.size = bsz;
  out.channels = out_c_;
  out.height = out_h_;
  out.width = out_w_;
  out.index = k;
  out.epoch = epoch;
  out.images.resize(static_cast<size_t>(bsz * out_numel));
  out.labels.resize(static_cast<size_t>(bsz));
  const bool random = transform_is_random(cfg_.transform);
  for (int64_t i = 0; i < bsz; ++i) {
    const int64_t idx = order[begin + i];
    Rng rng(random ? sample_seed(cfg_.seed, epoch, idx) : 0);
    apply_transform(cfg_.transform, ds_.image(idx), ds_.channels, ds_.height, ds_.width, rng,
                    out.images.data() + i * out_numel);
    out.labels[i] = ds_.labels[idx];
  }
}

void BatchLoader::start_epoch(int64_t epoch, int64_t first_batch) {
  if (first_batch < 0 || first_batch > num_batches_)
    throw std::invalid_argument("BatchLoader::start_epoch: first_batch must be in [0, " +
                                std::to_string(num_batches_) + "], got " +
                                std::to_string(first_batch));
  auto order = std::make_shared<const std::vector<int64_t>>(epoch_order(epoch));
  {
    std::lock_guard<std::mutex> lk(mu_);
    ++generation_;
    started_ = true;
    epoch_ = epoch;
    order_ = std::move(order);
    next_claim_ = first_batch;
    next_consume_ = first_batch;
    ready_.clear();
    errors_.clear();
  }
  cv_work_.notify_all();
}

void BatchLoader::worker_loop() {
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    cv_work_.wait(lk, [this] {
      return stop_ || (started_ && next_claim_ < num_batches_ &&
                       next_claim_ < next_consume_ + cfg_.prefetch);
    });
    if (stop_) return;
    const int64_t k = next_claim_++;
    const uint64_t gen = generation_;
    const int64_t epoch = epoch_;
    const auto order = order_;  // keeps this epoch's order alive while we work
    lk.unlock();
    Batch b;
    std::exception_ptr err;
    try {
      build_batch(*order, epoch, k, b);
    } catch (...) {
      err = std::current_exception();
    }
    lk.lock();
    if (gen != generation_) continue;  // a new epoch started meanwhile: drop it
    if (err)
      errors_[k] = err;
    else
      ready_.emplace(k, std::move(b));
    cv_ready_.notify_all();
  }
}

bool BatchLoader::next(Batch& out) {
  std::unique_lock<std::mutex> lk(mu_);
  if (!started_) throw std::logic_error("BatchLoader::next: call start_epoch() first");
  if (next_consume_ >= num_batches_) return false;
  const int64_t k = next_consume_;
  if (workers_.empty()) {
    const auto order = order_;
    const int64_t epoch = epoch_;
    ++next_consume_;
    lk.unlock();
    build_batch(*order, epoch, k, out);
    return true;
  }
  cv_ready_.wait(lk, [&] { return stop_ || ready_.count(k) || errors_.count(k); });
  if (stop_) return false;
  auto eit = errors_.find(k);
  if (eit != errors_.end()) {
    std::exception_ptr e = eit->second;
    errors_.erase(eit);
    ++next_consume_;
    lk.unlock();
    cv_work_.notify_all();
    std::rethrow_exception(e);
  }
  auto it = ready_.find(k);
  out = std::move(it->second);
  ready_.erase(it);
  ++next_consume_;
  lk.unlock();
  cv_work_.notify_all();  // a slot freed up: workers may claim the next batch
  return true;
}

double measure_loader_throughput(BatchLoader& loader, int64_t epoch, int64_t max_batches) {
  const auto t0 = std::chrono::steady_clock::now();
  loader.start_epoch(epoch);
  Batch b;
  int64_t images = 0, batches = 0;
  while ((max_batches <= 0 || batches < max_batches) && loader.next(b)) {
    images += b.size;
    ++batches;
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return secs > 0 ? static_cast<double>(images) / secs : 0.0;
}

}  // namespace dl::train
