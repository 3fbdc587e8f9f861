// The end-to-end check against PyTorch (shared/golden/README.md): one training step of CIFAR
// ResNet-20 from the same weights and batch — logits, loss, every gradient, then SGD
// (lr 0.1, momentum 0.9, weight decay 1e-4, first step) and every parameter and buffer after
// it — in float32 and float64, for both option-A zero-padding layouts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <tuple>

#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "models/registry.h"
#include "train/sgd.h"
#include "nn/conv2d.h"
#include "nn/safetensors.h"

namespace {

using dl::DType;
using dl::Tensor;
using dl::ag::Variable;

/// max|a - b| / max|b|: the error relative to the tensor's scale, so tiny entries of a
/// gradient (where float32 rounding dominates) do not count more than large ones.
double scaled_error(const Tensor& a, const Tensor& b) {
  const std::vector<double> va = a.to_vector(), vb = b.to_vector();
  double diff = 0, scale = 0;
  for (size_t i = 0; i < va.size(); ++i) {
    diff = std::max(diff, std::fabs(va[i] - vb[i]));
    scale = std::max(scale, std::fabs(vb[i]));
  }
  return scale > 0 ? diff / scale : diff;
}

/// What one training step produced.
struct Step {
  Tensor logits, loss;
  dl::nn::StateDict grads;  ///< per parameter
  dl::nn::StateDict after;  ///< state_dict() after the SGD update
};

/// Loads `initial.*` into a resnet20 of @p dtype and runs forward (training mode), backward
/// and PyTorch's first SGD step on the file's batch.
Step train_step(const dl::SafetensorsFile& golden, const std::string& layout, DType dtype) {
  dl::models::ModelOptions options;
  options.shortcut =
      layout == "symmetric" ? dl::models::Shortcut::A : dl::models::Shortcut::AAppend;
  auto model = dl::models::create_model("resnet20", options);
  model->to(dtype);
  // Auto picks Winograd F(4x4,3x3) for float32 3x3 layers, which rounds about 4x more than a
  // direct sum (shared/WINOGRAD.md) — enough to flip the near-kink ReLU described below.
  // PyTorch summed directly, so use the GEMM path; the kernel tests cover Winograd.
  for (auto& [name, m] : model->named_modules()) {
    if (auto* conv = dynamic_cast<dl::nn::Conv2d*>(m)) {
      conv->args().algo = dl::kernels::ConvAlgo::Im2col;
    }
  }
  dl::nn::StateDict initial;
  for (const auto& [k, t] : golden.tensors)
    if (k.rfind("initial.", 0) == 0) initial.emplace_back(k.substr(8), t);
  model->load_state_dict(initial);

  model->train();  // BN on batch statistics
  Step s;
  const Variable logits = (*model)(Variable(golden.at("input").to(dtype)));
  const Variable loss = dl::ag::cross_entropy(logits, golden.at("labels"));
  loss.backward();
  s.logits = logits.data();
  s.loss = loss.data();
  for (const auto& [name, p] : model->named_parameters()) s.grads.emplace_back(name, p.grad());

  // The project's optimiser with PyTorch's semantics; first step: buf = g + wd·p, p -= lr·buf.
  dl::train::SgdOptions sgd_options;
  sgd_options.lr = 0.1;
  sgd_options.momentum = 0.9;
  sgd_options.weight_decay = 1e-4;
  dl::train::Sgd(model->named_parameters(), sgd_options).step();
  for (const auto& [name, t] : model->state_dict()) s.after.emplace_back(name, t.clone());
  return s;
}

// (file, layout)
class GoldenResnet20 : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(GoldenResnet20, TrainingStepMatchesPyTorch) {
  const auto& [file_name, layout] = GetParam();
  const std::string path = std::string(DL_SHARED_DIR) + "/golden/" + file_name;
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no " << path;
  const dl::SafetensorsFile golden = dl::load_safetensors(path);
  const DType dtype = golden.at("input").dtype();
  const bool f64 = dtype == DType::Float64;
  const Step s = train_step(golden, layout, dtype);
  if (f64) {
    // float64 against float64: everything to 1e-10 of its tensor's scale (we reach ~1e-14).
    EXPECT_LT(scaled_error(s.logits, golden.at(layout + ".logits")), 1e-10);
    EXPECT_LT(scaled_error(s.loss, golden.at(layout + ".loss")), 1e-10);
    for (const auto& [name, g] : s.grads)
      EXPECT_LT(scaled_error(g, golden.at(layout + ".grad." + name)), 1e-10) << name;
    for (const auto& [name, t] : s.after)
      EXPECT_LT(scaled_error(t, golden.at(layout + ".after_step." + name)), 1e-10) << name;
    return;
  }
  // float32: the forward matches PyTorch to 1e-4. Gradients are judged against the exact
  // answer — our float64 path on the same data, which the f64 case shows equals PyTorch's —
  // and must be within 1e-4, or of the same order as PyTorch's own float32 error (at most
  // 3x it). The second bound matters only for the "append" layout: some pre-activations of
  // this batch lie within ~1e-6 of a ReLU kink, float32 rounding flips some of them, and
  // which ones flip depends on summation order. PyTorch's own float32 gradients there are up
  // to 9e-4 from exact; ours up to 2.2e-3 (measured). The "symmetric" layout meets 1e-4.
  const double kOrderOfPyTorch = 3.0;
  EXPECT_LT(scaled_error(s.logits, golden.at(layout + ".logits")), 1e-4);
  EXPECT_LT(scaled_error(s.loss, golden.at(layout + ".loss")), 1e-4);
  const Step exact = train_step(golden, layout, DType::Float64);
  for (size_t i = 0; i < s.grads.size(); ++i) {
    const std::string& name = s.grads[i].first;
    const Tensor& pytorch = golden.at(layout + ".grad." + name);
    const double pytorch_error = scaled_error(pytorch, exact.grads[i].second);
    ASSERT_TRUE(s.grads[i].second.defined()) << name;
    EXPECT_LE(scaled_error(s.grads[i].second, exact.grads[i].second), std::max(1e-4, kOrderOfPyTorch * pytorch_error))
        << name << " (PyTorch float32 is " << pytorch_error << " from exact)";
  }
  for (size_t i = 0; i < s.after.size(); ++i) {
    const auto& [name, t] = s.after[i];
    const Tensor& want = golden.at(layout + ".after_step." + name);
    if (t.dtype() == DType::Int64) {
      EXPECT_EQ(t.to_vector(), want.to_vector()) << name;  // num_batches_tracked = 1
    } else {
      const double pytorch_error = scaled_error(want, exact.after[i].second);
      EXPECT_LE(scaled_error(t, exact.after[i].second), std::max(1e-4, kOrderOfPyTorch * pytorch_error))
          << name;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Files, GoldenResnet20,
    ::testing::Combine(::testing::Values("resnet20_step_f32.safetensors",
                                         "resnet20_step_f64.safetensors"),
                       ::testing::Values("symmetric", "append")),
    [](const auto& info) {
      const std::string file = std::get<0>(info.param);
      return std::string(file.find("f64") != std::string::npos ? "f64_" : "f32_") +
             std::get<1>(info.param);
    });

}  // namespace
