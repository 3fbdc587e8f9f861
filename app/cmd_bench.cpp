// cmd_bench.cpp — `resnet bench`: per-layer conv timings per algorithm, training and
// inference throughput, batch-1 latency and peak memory (docs/performance.md).
#include <iostream>

#include "app/commands.h"
#include "bench/bench.h"
#include "tensor/kernels/gemm.h"

#ifdef DL_WITH_OPENMP
#include <omp.h>
#endif

namespace dl::app {

void add_bench_command(CLI::App& app) {
  struct Opts {
    bench::BenchConfig cfg;
    int threads = 0;
    bool json = false, no_layers = false, no_train = false, no_infer = false, no_latency = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand("bench", "Measure images/s, GFLOP/s and memory of a model");
  cmd->add_option("--model", o->cfg.model, "Model name")->capture_default_str();
  cmd->add_option("--batch-size", o->cfg.batch_size, "Batch for training and inference")->capture_default_str();
  cmd->add_option("--iters", o->cfg.iters, "Timed repetitions (median reported)")->capture_default_str();
  cmd->add_option("--warmup", o->cfg.warmup, "Untimed repetitions first")->capture_default_str();
  cmd->add_option("--threads", o->threads, "Compute threads (default: OMP_NUM_THREADS or all cores)");
  cmd->add_flag("--json", o->json, "Machine-readable output");
  cmd->add_flag("--no-layers", o->no_layers, "Skip the per-layer convolution table");
  cmd->add_flag("--no-train", o->no_train, "Skip the training step");
  cmd->add_flag("--no-infer", o->no_infer, "Skip batched inference");
  cmd->add_flag("--no-latency", o->no_latency, "Skip batch-1 latency");
  cmd->callback([o] {
    if (o->threads > 0) {
#ifdef DL_WITH_OPENMP
      omp_set_num_threads(o->threads);
#endif
      kernels::set_blas_num_threads(o->threads);
    }
    o->cfg.layers = !o->no_layers;
    o->cfg.train = !o->no_train;
    o->cfg.infer = !o->no_infer;
    o->cfg.latency = !o->no_latency;
    const bench::BenchReport r = bench::run_bench(o->cfg);
    std::cout << (o->json ? r.to_json() : r.format());
  });
}

}  // namespace dl::app
