// bench.h — measuring speed: per-layer convolution timings for each algorithm, whole-model
// training and inference throughput, batch-1 latency and peak memory (`resnet bench`).
// Times are medians of repeated runs after warm-up; never asserted in tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tensor/kernels/conv.h"

namespace dl::bench {

/// What to measure and how long.
struct BenchConfig {
  std::string model = "resnet20";
  int64_t batch_size = 128;
  int iters = 5;         ///< timed repetitions per measurement (the median is reported)
  int warmup = 1;        ///< untimed repetitions first
  bool layers = true;    ///< per-conv-layer, per-algorithm timings
  bool train = true;     ///< training step images/s
  bool infer = true;     ///< inference images/s at batch_size
  bool latency = true;   ///< batch-1 inference latency
};

/// Timing of one conv shape with one algorithm (forward, backward-input, backward-weight).
struct ConvTiming {
  kernels::ConvGeom geom;
  int64_t count = 1;  ///< layers of the model with this shape
  std::string algo;
  double fwd_ms = 0, bwd_input_ms = 0, bwd_weight_ms = 0;
  /// Effective GFLOP/s: direct-convolution FLOPs (2·MACs) divided by time.
  double fwd_gflops() const;
  double bwd_input_gflops() const;
  double bwd_weight_gflops() const;
};

/// Everything `resnet bench` reports for one model.
struct BenchReport {
  std::string model;
  int64_t batch_size = 0;
  int threads = 1;
  /// The kernels in use: "avx512", "avx2" or "portable" for our own, and the GEMM backend
  /// with its kernel set (e.g. "openblas Haswell"; OPENBLAS_CORETYPE can change the latter;
  /// on the avx512 path float products run on our own kernel, doubles on the backend).
  std::string simd, blas;
  int64_t forward_macs_per_image = 0;
  std::vector<ConvTiming> layers;
  double train_images_per_sec = 0, train_gflops = 0, train_step_ms = 0;
  double infer_images_per_sec = 0, infer_gflops = 0;
  double latency_ms = 0;
  double peak_rss_mb = 0;  ///< the process's peak resident memory at the end
  std::string format() const;
  std::string to_json() const;
};

/// Runs the benchmarks selected in @p config (prints nothing; format() renders the report).
BenchReport run_bench(const BenchConfig& config);

/// The process's peak resident set size in MiB (getrusage).
double peak_rss_mb();

}  // namespace dl::bench
