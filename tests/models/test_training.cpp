// A few SGD steps of CIFAR ResNet-20 on one fixed batch: every parameter receives a finite
// gradient and the loss goes down (the end-to-end numbers against PyTorch are in tests/golden).
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "models/registry.h"

namespace {

using dl::Tensor;
using dl::ag::Variable;

TEST(Training, Resnet20LossDecreasesOnAFixedBatch) {
  auto model = dl::models::create_model("resnet20");
  model->train();
  dl::Generator gen(1);
  const Tensor x = Tensor::randn({8, 3, 32, 32}, gen);
  const Tensor labels = Tensor::from_vector(std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7}, {8});

  double first = 0, last = 0;
  for (int step = 0; step < 5; ++step) {
    model->zero_grad();
    const Variable loss = dl::ag::cross_entropy((*model)(Variable(x)), labels);
    loss.backward();
    if (step == 0) {
      first = loss.item();
      EXPECT_NEAR(first, std::log(10.0), 1.0);  // near-uniform logits at initialisation
      for (const auto& [name, p] : model->named_parameters()) {
        ASSERT_TRUE(p.grad().defined()) << name;
        for (double g : p.grad().to_vector()) ASSERT_TRUE(std::isfinite(g)) << name;
      }
    }
    last = loss.item();
    dl::ag::NoGradGuard no_grad;  // plain SGD, lr 0.05
    for (auto& p : model->parameters()) p.data().add_(p.grad(), -0.05);
  }
  EXPECT_LT(last, first);
}

}  // namespace
