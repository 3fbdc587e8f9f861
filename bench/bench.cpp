// bench.cpp — `resnet bench`: the numbers behind docs/performance.md.
// FLOPs are counted as for a direct convolution (2 per multiply-accumulate), so a Winograd
// layer can show more "effective" GFLOP/s than the machine's peak: that is its point.
#include "bench/bench.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <iomanip>
#include <map>
#include <sstream>

#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "models/registry.h"
#include "nn/conv2d.h"
#include "nn/summary.h"
#include "tensor/kernels/cpu.h"
#include "tensor/kernels/gemm.h"
#include "tensor/ops.h"
#include "train/sgd.h"

#ifdef DL_WITH_OPENMP
#include <omp.h>
#endif

namespace dl::bench {

namespace {

/// Median wall time in milliseconds of @p fn over @p iters runs after @p warmup.
double median_ms(const std::function<void()>& fn, int iters, int warmup) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> t;
  for (int i = 0; i < std::max(1, iters); ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

double gflops(int64_t macs, double ms) { return ms > 0 ? 2.0 * double(macs) / (ms * 1e6) : 0; }

/// Records the geometry of every Conv2d called during one forward pass.
class ConvCollector : public nn::CallObserver {
 public:
  std::vector<kernels::ConvGeom> geoms;
  void enter(nn::Module&, const Shape&) override {}
  void leave(nn::Module& m, const Shape& in, const Shape&) override {
    auto* conv = dynamic_cast<nn::Conv2d*>(&m);
    if (!conv) return;
    kernels::ConvGeom g;
    g.N = in[0], g.C = in[1], g.H = in[2], g.W = in[3];
    g.OC = conv->out_channels();
    g.KH = g.KW = conv->kernel_size();
    g.stride_h = g.stride_w = conv->stride();
    g.pad_h = g.pad_w = conv->padding();
    g.dil_h = g.dil_w = conv->dilation();
    geoms.push_back(g);
  }
};

std::string geom_key(const kernels::ConvGeom& g) {
  std::ostringstream os;
  os << g.C << "->" << g.OC << ' ' << g.KH << 'x' << g.KW << " s" << g.stride_h << " p" << g.pad_h
     << " @" << g.H << 'x' << g.W;
  return os.str();
}

std::vector<ConvTiming> bench_layers(const std::vector<kernels::ConvGeom>& all, int iters, int warmup) {
  // One row per distinct shape and algorithm; count how many layers share the shape.
  std::map<std::string, std::pair<kernels::ConvGeom, int64_t>> shapes;
  std::vector<std::string> order;
  for (const auto& g : all) {
    auto [it, fresh] = shapes.try_emplace(geom_key(g), g, 0);
    ++it->second.second;
    if (fresh) order.push_back(it->first);
  }
  std::vector<ConvTiming> out;
  Generator gen(7);
  for (const std::string& key : order) {
    const auto& [g, count] = shapes[key];
    const Tensor x = Tensor::randn({g.N, g.C, g.H, g.W}, gen);
    const Tensor w = Tensor::randn({g.OC, g.C, g.KH, g.KW}, gen);
    Tensor y = Tensor::empty({g.N, g.OC, g.out_h(), g.out_w()});
    const Tensor dy = Tensor::randn(y.shape(), gen);
    Tensor dx = Tensor::empty(x.shape()), dw = Tensor::empty(w.shape());
    std::vector<kernels::ConvAlgo> algos = {kernels::ConvAlgo::Im2col};
    if (kernels::winograd_applicable(g)) {
      algos.push_back(kernels::ConvAlgo::Winograd2x2);
      algos.push_back(kernels::ConvAlgo::Winograd4x4);
    }
    for (kernels::ConvAlgo a : algos) {
      ConvTiming t;
      t.geom = g;
      t.count = count;
      t.algo = kernels::conv_algo_name(a);
      t.fwd_ms = median_ms([&] { kernels::conv2d_forward<float>(g, x.data<float>(), w.data<float>(), nullptr, y.data<float>(), a); }, iters, warmup);
      t.bwd_input_ms = median_ms([&] { kernels::conv2d_backward_input<float>(g, dy.data<float>(), w.data<float>(), dx.data<float>(), a); }, iters, warmup);
      t.bwd_weight_ms = median_ms([&] { kernels::conv2d_backward_weight<float>(g, dy.data<float>(), x.data<float>(), dw.data<float>(), a); }, iters, warmup);
      out.push_back(t);
    }
  }
  return out;
}

}  // namespace

double ConvTiming::fwd_gflops() const { return gflops(geom.macs(), fwd_ms); }
double ConvTiming::bwd_input_gflops() const { return gflops(geom.macs(), bwd_input_ms); }
double ConvTiming::bwd_weight_gflops() const { return gflops(geom.macs(), bwd_weight_ms); }

double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_maxrss) / 1024.0;  // Linux reports KiB
}

BenchReport run_bench(const BenchConfig& c) {
  BenchReport r;
  r.model = c.model;
  r.batch_size = c.batch_size;
#ifdef DL_WITH_OPENMP
  r.threads = omp_get_max_threads();
#endif
  r.simd = kernels::use_avx512() ? "avx512" : kernels::use_avx2() ? "avx2" : "portable";
  r.blas = std::string(kernels::gemm_backend()) + " " + kernels::blas_core();
  if (kernels::use_avx512()) r.blas = "own avx512 (float), " + r.blas + " (double)";
  auto model = models::create_model(c.model, {});
  const Shape native = models::native_input_shape(c.model);
  r.forward_macs_per_image = nn::summarize(*model, native).total_macs;
  Generator gen(1);
  Shape batch_shape = native;
  batch_shape[0] = c.batch_size;
  const Tensor x = Tensor::randn(batch_shape, gen);
  const int64_t classes = model->named_parameters().back().second.size(0);
  std::vector<int64_t> label_values(c.batch_size);
  for (int64_t i = 0; i < c.batch_size; ++i) label_values[i] = i % classes;
  const Tensor labels = Tensor::from_vector(label_values, {c.batch_size});

  if (c.latency) {
    model->eval();
    ag::NoGradGuard ng;
    Shape one = native;
    const Tensor x1 = Tensor::randn(one, gen);
    r.latency_ms = median_ms([&] { (*model)(ag::Variable(x1)); }, std::max(c.iters, 10), c.warmup + 1);
  }
  if (c.infer) {
    model->eval();
    ag::NoGradGuard ng;
    const double ms = median_ms([&] { (*model)(ag::Variable(x)); }, c.iters, c.warmup);
    r.infer_images_per_sec = double(c.batch_size) / (ms / 1e3);
    r.infer_gflops = gflops(r.forward_macs_per_image * c.batch_size, ms);
  }
  if (c.train) {
    model->train();
    train::Sgd sgd(model->named_parameters(), {});
    r.train_step_ms = median_ms(
        [&] {
          const ag::Variable loss = ag::cross_entropy((*model)(ag::Variable(x)), labels);
          sgd.zero_grad();
          loss.backward();
          sgd.step();
        },
        c.iters, c.warmup);
    r.train_images_per_sec = double(c.batch_size) / (r.train_step_ms / 1e3);
    // Backward costs two forwards (input and weight gradients): 3x the forward FLOPs.
    r.train_gflops = gflops(3 * r.forward_macs_per_image * c.batch_size, r.train_step_ms);
  }
  if (c.layers) {
    ConvCollector collector;
    model->eval();
    ag::NoGradGuard ng;
    nn::CallObserver* previous = nn::set_call_observer(&collector);
    (*model)(ag::Variable(x));
    nn::set_call_observer(previous);
    r.layers = bench_layers(collector.geoms, c.iters, c.warmup);
  }
  r.peak_rss_mb = peak_rss_mb();
  return r;
}

std::string BenchReport::format() const {
  std::ostringstream os;
  os << std::fixed << std::setprecision(1);
  os << "model " << model << "  batch " << batch_size << "  threads " << threads
     << "  forward " << double(forward_macs_per_image) / 1e6 << " MMAC/image\n"
     << "kernels " << simd << "  gemm " << blas << '\n';
  if (!layers.empty()) {
    os << "\nconv layers (ms, effective GFLOP/s = direct-conv FLOPs / time)\n";
    os << std::left << std::setw(30) << "shape" << std::setw(6) << "count" << std::setw(13)
       << "algo" << std::right << std::setw(18) << "forward" << std::setw(18) << "backward-input"
       << std::setw(18) << "backward-weight" << '\n';
    for (const ConvTiming& t : layers) {
      std::ostringstream f, bi, bw;
      f << std::fixed << std::setprecision(2) << t.fwd_ms << " (" << std::setprecision(0) << t.fwd_gflops() << ')';
      bi << std::fixed << std::setprecision(2) << t.bwd_input_ms << " (" << std::setprecision(0) << t.bwd_input_gflops() << ')';
      bw << std::fixed << std::setprecision(2) << t.bwd_weight_ms << " (" << std::setprecision(0) << t.bwd_weight_gflops() << ')';
      os << std::left << std::setw(30) << geom_key(t.geom) << std::setw(6) << t.count << std::setw(13)
         << t.algo << std::right << std::setw(18) << f.str() << std::setw(18) << bi.str()
         << std::setw(18) << bw.str() << '\n';
    }
  }
  os << '\n';
  if (train_images_per_sec > 0)
    os << "train step     " << std::setw(9) << train_images_per_sec << " images/s  " << std::setw(7)
       << train_gflops << " GFLOP/s  (" << train_step_ms << " ms/step)\n";
  if (infer_images_per_sec > 0)
    os << "inference      " << std::setw(9) << infer_images_per_sec << " images/s  " << std::setw(7)
       << infer_gflops << " GFLOP/s\n";
  if (latency_ms > 0) os << "batch-1 latency " << std::setprecision(2) << latency_ms << " ms\n";
  os << "peak memory    " << std::setprecision(0) << peak_rss_mb << " MiB (process peak RSS)\n";
  return os.str();
}

std::string BenchReport::to_json() const {
  std::ostringstream os;
  os << std::setprecision(6);
  os << "{\"model\": \"" << model << "\", \"batch_size\": " << batch_size << ", \"threads\": " << threads
     << ", \"simd\": \"" << simd << "\", \"blas\": \"" << blas << '"'
     << ", \"forward_macs_per_image\": " << forward_macs_per_image
     << ", \"train_images_per_sec\": " << train_images_per_sec << ", \"train_gflops\": " << train_gflops
     << ", \"infer_images_per_sec\": " << infer_images_per_sec << ", \"infer_gflops\": " << infer_gflops
     << ", \"latency_ms\": " << latency_ms << ", \"peak_rss_mb\": " << peak_rss_mb << ", \"layers\": [";
  for (size_t i = 0; i < layers.size(); ++i) {
    const ConvTiming& t = layers[i];
    os << (i ? ", " : "") << "{\"shape\": \"" << geom_key(t.geom) << "\", \"count\": " << t.count
       << ", \"algo\": \"" << t.algo << "\", \"forward_ms\": " << t.fwd_ms
       << ", \"backward_input_ms\": " << t.bwd_input_ms << ", \"backward_weight_ms\": " << t.bwd_weight_ms
       << ", \"forward_gflops\": " << t.fwd_gflops() << "}";
  }
  os << "]}\n";
  return os.str();
}

}  // namespace dl::bench
