// Chapter 4 — layers and MSRA initialisation: Modules with named parameters, BatchNorm in
// training and eval mode, a model summary, and the variance of activations through 50
// conv+ReLU layers under three initialisations (He et al. 2015, arXiv:1502.01852, §2.2).
// Read README.md beside this file; every check() below is a claim the chapter makes.
#include <cmath>
#include <iostream>
#include <memory>
#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "common.h"
#include "nn/activation.h"
#include "nn/batchnorm.h"
#include "nn/conv2d.h"
#include "nn/flatten.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/pooling.h"
#include "nn/summary.h"
#include "tensor/ops.h"

using dl::Shape;
using dl::Tensor;
using dl::ag::Variable;
using tut::check;
namespace nn = dl::nn;
namespace ag = dl::ag;

namespace {

void modules() {
  tut::section("1. A small network from Modules");
  // [snippet:module]
  auto net = std::make_shared<nn::Sequential>();
  // Conv2d(in, out, kernel, stride, padding, bias)
  net->push_back(std::make_shared<nn::Conv2d>(3, 8, 3, 1, 1, /*bias=*/false))
      .push_back(std::make_shared<nn::BatchNorm2d>(8))
      .push_back(std::make_shared<nn::ReLU>())
      .push_back(std::make_shared<nn::AdaptiveAvgPool2d>(1))
      .push_back(std::make_shared<nn::Flatten>())
      .push_back(std::make_shared<nn::Linear>(8, 10));
  for (const auto& [name, p] : net->named_parameters())
    std::cout << "parameter " << name << " " << dl::shape_str(p.shape()) << "\n";
  for (const auto& [name, b] : net->named_buffers())
    std::cout << "buffer    " << name << " " << dl::shape_str(b.shape()) << "\n";
  nn::Summary summary = nn::summarize(*net, {1, 3, 32, 32});
  std::cout << summary.format() << "\n";
  // [/snippet]
  check(net->num_parameters() == 3 * 8 * 9 + 8 + 8 + 8 * 10 + 10,
        "parameters: conv 3*8*3*3 + BN 8+8 + linear 8*10+10 = 322");
  check(net->named_parameters()[0].first == "0.weight" &&
            net->named_buffers()[0].first == "1.running_mean",
        "names are dotted paths of child names, as in PyTorch's state_dict");
  check(summary.total_macs == 8 * 32 * 32 * 3 * 9 + 8 * 10,
        "MACs of one 32x32 image: conv 8*32*32*(3*3*3) + linear 8*10 = 221,264");
}

void batchnorm_modes() {
  tut::section("2. BatchNorm: batch statistics in training, running statistics in eval");
  dl::Generator gen(5);
  // [snippet:bn]
  nn::BatchNorm2d bn(2);
  Variable x(Tensor::randn({16, 2, 4, 4}, gen) * 3.0 + 5.0);  // mean 5, std 3 per channel
  Tensor y = bn(x).data();                                    // training mode (the default)
  Tensor mean = dl::mean(y, {0, 2, 3}), var = dl::var(y, {0, 2, 3}, /*unbiased=*/false);
  std::cout << "train: output mean " << mean << "\n       output var  " << var << "\n"
            << "       running_mean after one batch " << bn.running_mean() << "\n";
  bn.eval();
  Tensor y_eval = bn(x).data();  // now normalised with running_mean / running_var
  // [/snippet]
  check(dl::max(dl::abs(mean)).item() < 1e-5 && dl::max(dl::abs(var - 1.0)).item() < 1e-3,
        "training mode: each channel of the output has mean 0 and variance 1");
  const Tensor batch_mean = dl::mean(x.data(), {0, 2, 3});
  check(dl::allclose(bn.running_mean(), batch_mean * 0.1, 1e-4, 1e-5),
        "running_mean = 0.9 * 0 + 0.1 * batch mean after one batch");
  check(bn.num_batches_tracked() == 1, "num_batches_tracked counts training batches");
  check(dl::mean(y_eval).item() > 2.0,
        "eval mode uses the (still young) running statistics, so the output is not centred yet");
}

enum class Init { Naive, Xavier, Msra };

// [snippet:depth]
// E[x²] of the activations after every 10th layer of a stack of `depth` Linear(256->256)+ReLU
// layers, with the weights drawn by `init`. No BatchNorm, no shortcut: only the initialisation
// sets the scale. (A conv layer is the same sum with fan = C·KH·KW terms instead of 256.)
std::vector<double> second_moments(Init init, int depth) {
  dl::Generator gen(42);
  ag::NoGradGuard no_grad;
  const int64_t width = 256;
  Variable x(Tensor::randn({128, width}, gen));
  std::vector<double> moments = {dl::mean(x.data() * x.data()).item()};
  for (int layer = 1; layer <= depth; ++layer) {
    nn::Linear fc(width, width, /*bias=*/false);
    Tensor w = fc.weight().data();                      // a view: filling it fills the layer
    const double fan_in = nn::init::fan_in(w.shape());  // 256
    if (init == Init::Naive) nn::init::normal_(w, gen, 0.0, 0.01);
    if (init == Init::Xavier) nn::init::normal_(w, gen, 0.0, std::sqrt(1.0 / fan_in));
    if (init == Init::Msra) nn::init::kaiming_normal_(w, gen, nn::init::FanMode::FanIn);
    x = ag::relu(fc(x));
    if (layer % 10 == 0) moments.push_back(dl::mean(x.data() * x.data()).item());
  }
  return moments;
}
// [/snippet]

void variance_through_depth() {
  tut::section("3. Activation scale through 50 layers");
  const int depth = 50;
  const std::vector<double> naive = second_moments(Init::Naive, depth);
  const std::vector<double> xavier = second_moments(Init::Xavier, depth);
  const std::vector<double> msra = second_moments(Init::Msra, depth);
  std::cout
      << "  layer   N(0, 0.01^2)   Xavier 1/fan   MSRA 2/fan     (E[x^2] of the activations)\n";
  for (size_t i = 0; i < msra.size(); ++i)
    std::cout << "  " << (i * 10 < 10 ? " " : "") << i * 10 << "      " << tut::sci(naive[i])
              << "        " << tut::sci(xavier[i]) << "        " << tut::sci(msra[i]) << "\n";
  const double per_layer_naive = std::pow(naive[1] / naive[0], 1.0 / 10);
  const double per_layer_xavier = std::pow(xavier.back() / xavier[0], 1.0 / depth);
  const double per_layer_msra = std::pow(msra.back() / msra[0], 1.0 / depth);
  std::cout << "  factor per layer: " << tut::fixed(per_layer_naive, 4) << ", "
            << tut::fixed(per_layer_xavier, 4) << ", " << tut::fixed(per_layer_msra, 4) << "\n";
  check(std::fabs(per_layer_naive - 0.0128) < 0.002,
        "N(0, 0.01^2): each layer multiplies E[x^2] by about 256 * 1e-4 / 2 = 0.0128");
  check(naive[3] < 1e-40, "N(0, 0.01^2): after 30 layers the signal is gone (E[x^2] < 1e-40)");
  check(std::fabs(per_layer_xavier - 0.5) < 0.03,
        "Xavier (Var w = 1/fan): each layer halves E[x^2]");
  check(xavier.back() < 1e-13, "Xavier: after 50 layers E[x^2] is below 1e-13 (2^-50 = 8.9e-16)");
  check(std::fabs(per_layer_msra - 1.0) < 0.03, "MSRA (Var w = 2/fan): each layer keeps E[x^2]");
  check(msra.back() > 0.2 && msra.back() < 5, "MSRA: after 50 layers E[x^2] is still of order 1");
}

void one_conv_layer() {
  tut::section("4. The same rule for a convolution: fan = C*KH*KW");
  dl::Generator gen(9);
  ag::NoGradGuard no_grad;
  // [snippet:conv_gain]
  Variable x(dl::relu(Tensor::randn({2, 16, 32, 32}, gen)));  // ReLU output: E[x^2] = 1/2
  nn::Conv2d conv(16, 256, 3, /*stride=*/1, /*padding=*/1, /*bias=*/false);
  Tensor w = conv.weight().data();
  nn::init::kaiming_normal_(w, gen, nn::init::FanMode::FanIn);  // std = sqrt(2 / (16*3*3))
  Tensor y = conv(x).data().slice(2, 1, 31).slice(3, 1, 31);    // interior: all 144 taps valid
  double ex2 = dl::mean(x.data() * x.data()).item();
  double ey2 = dl::mean(y * y).item();  // predicted: fan * (2/fan) * E[x^2] = 2 E[x^2]
  // [/snippet]
  std::cout << "E[x^2] = " << tut::fixed(ex2, 4) << ", E[y^2] = " << tut::fixed(ey2, 4)
            << ", ratio " << tut::fixed(ey2 / ex2, 3) << "\n";
  check(std::fabs(ey2 / ex2 - 2.0) < 0.1, "conv3x3 with MSRA init: E[y^2] = 2 E[x^2] (within 5%)");
}

}  // namespace

int main() {
  return tut::run([] {
    modules();
    batchnorm_modes();
    variance_through_depth();
    one_conv_layer();
  });
}
