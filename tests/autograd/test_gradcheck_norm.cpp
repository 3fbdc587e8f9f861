// test_gradcheck_norm.cpp — finite-difference checks of batch_norm and dropout
// (autograd/ops/norm.cpp). In training mode the batch statistics depend on every sample, so
// each output depends on every input of its channel: the full Jacobian checks that coupling.
// Eval mode uses the running statistics, and the running statistics update is checked too.
#include "gradcheck_cases.h"

using namespace dl;
using namespace dl::ag;
using namespace dl::ag::test;

namespace {
Tensor zeros(int64_t n) { return Tensor::zeros({n}, DType::Float64); }
Tensor ones(int64_t n) { return Tensor::ones({n}, DType::Float64); }

/// batch_norm over (x, weight, bias) with its own running statistics.
GradcheckFn batch_norm_fn(bool training, Tensor running_mean, Tensor running_var) {
  return [=](const Vars& v) mutable {
    return batch_norm(v[0], v[1], v[2], running_mean, running_var, training);
  };
}
}  // namespace

GRADCHECK_CASE(batch_norm, TrainingImageBatch) {
  return {batch_norm_fn(true, zeros(2), ones(2)),
          {randn({3, 2, 2, 3}, 1), uniform({2}, 0.5, 1.5, 2), randn({2}, 3, 0.5)}};
}

GRADCHECK_CASE(batch_norm, TrainingFeatureBatch) {
  // [N, C] input, as after a fully connected layer: statistics over N only.
  return {batch_norm_fn(true, zeros(3), ones(3)),
          {randn({4, 3}, 4), uniform({3}, 0.5, 1.5, 5), randn({3}, 6, 0.5)}};
}

GRADCHECK_CASE(batch_norm, TrainingWithoutAffine) {
  return {[](const Vars& v) {
            Tensor running_mean, running_var;  // undefined: no running statistics kept
            return batch_norm(v[0], Variable(), Variable(), running_mean, running_var, true);
          },
          {randn({2, 3, 2, 2}, 7)}};
}

GRADCHECK_CASE(batch_norm, EvalUsesRunningStatistics) {
  return {batch_norm_fn(false, randn({2}, 8), uniform({2}, 0.5, 2.0, 9)),
          {randn({3, 2, 2, 3}, 10), uniform({2}, 0.5, 1.5, 11), randn({2}, 12, 0.5)}};
}

TEST(BatchNorm, TrainingUpdatesRunningStatsWithUnbiasedVariance) {
  const Tensor x = randn({4, 2, 3, 3}, 13);
  Tensor running_mean = Tensor::full({2}, 0.5, DType::Float64);
  Tensor running_var = Tensor::full({2}, 2.0, DType::Float64);
  const Variable weight(ones(2), true), bias(zeros(2), true);
  batch_norm(Variable(x), weight, bias, running_mean, running_var, /*training=*/true,
             /*momentum=*/0.1);
  // running = 0.9 * running + 0.1 * batch statistic, the variance unbiased (divided by M - 1).
  const Tensor batch_mean = mean(x, {0, 2, 3});
  const Tensor batch_var = var(x, {0, 2, 3}, /*unbiased=*/true);
  EXPECT_TRUE(allclose(running_mean, affine(batch_mean, 0.1, 0.9 * 0.5), 1e-12, 1e-12));
  EXPECT_TRUE(allclose(running_var, affine(batch_var, 0.1, 0.9 * 2.0), 1e-12, 1e-12));
}

TEST(BatchNorm, EvalLeavesRunningStatsAlone) {
  Tensor running_mean = randn({2}, 14), running_var = uniform({2}, 0.5, 2.0, 15);
  const Tensor mean_before = running_mean.clone(), var_before = running_var.clone();
  batch_norm(Variable(randn({3, 2, 2, 2}, 16), true), Variable(), Variable(), running_mean,
             running_var, /*training=*/false);
  EXPECT_EQ(running_mean.to_vector(), mean_before.to_vector());
  EXPECT_EQ(running_var.to_vector(), var_before.to_vector());
}

/// batch_norm_relu over (x, weight, bias) with its own running statistics. Random data puts no
/// pre-ReLU value within a finite-difference step of the kink.
GradcheckFn batch_norm_relu_fn(bool training, Tensor running_mean, Tensor running_var) {
  return [=](const Vars& v) mutable {
    return batch_norm_relu(v[0], v[1], v[2], running_mean, running_var, training);
  };
}

GRADCHECK_CASE(batch_norm_relu, TrainingImageBatch) {
  return {batch_norm_relu_fn(true, zeros(2), ones(2)),
          {randn({3, 2, 2, 3}, 21), uniform({2}, 0.5, 1.5, 22), randn({2}, 23, 0.5)}};
}

GRADCHECK_CASE(batch_norm_relu, TrainingWithoutAffine) {
  return {[](const Vars& v) {
            Tensor running_mean, running_var;
            return batch_norm_relu(v[0], Variable(), Variable(), running_mean, running_var, true);
          },
          {randn({2, 3, 2, 2}, 24)}};
}

GRADCHECK_CASE(batch_norm_relu, EvalUsesRunningStatistics) {
  return {batch_norm_relu_fn(false, randn({2}, 25), uniform({2}, 0.5, 2.0, 26)),
          {randn({3, 2, 2, 3}, 27), uniform({2}, 0.5, 1.5, 28), randn({2}, 29, 0.5)}};
}

TEST(BatchNormRelu, FloatValuesAndGradientsEqualBatchNormThenRelu) {
  // The fused op must be the two ops in float32: bit for bit forward (same arithmetic); the
  // gradients to rounding, since the per-channel sums may be added in another order (the
  // backward's recomputed mask is exactly the forward's, or they would differ by far more).
  Generator gen(30);
  const Tensor x = Tensor::randn({4, 3, 5, 5}, gen), gy = Tensor::randn({4, 3, 5, 5}, gen);
  const Tensor w = Tensor::uniform({3}, 0.5, 1.5, gen), b = Tensor::randn({3}, gen);
  for (bool training : {true, false}) {
    std::vector<Tensor> out;
    for (bool fused : {true, false}) {
      Tensor rm = Tensor::full({3}, 0.1), rv = Tensor::full({3}, 1.5);
      const Variable xv(x, true), wv(w, true), bv(b, true);
      const Variable y = fused ? batch_norm_relu(xv, wv, bv, rm, rv, training)
                               : relu(batch_norm(xv, wv, bv, rm, rv, training));
      y.backward(gy);
      for (const Tensor& t : {y.data(), xv.grad(), wv.grad(), bv.grad(), rm, rv}) out.push_back(t);
    }
    for (size_t i : {0, 4, 5})
      EXPECT_EQ(out[i].to_vector(), out[i + 6].to_vector()) << "training " << training << " #" << i;
    for (size_t i : {1, 2, 3})
      EXPECT_TRUE(allclose(out[i], out[i + 6], 1e-6, 1e-6)) << "training " << training << " #" << i;
  }
}

GRADCHECK_CASE(dropout, TrainingWithFixedMask) {
  // A fresh generator per call draws the same mask every time, so the function is
  // deterministic, as a finite difference needs.
  return {[](const Vars& v) {
            Generator gen(42);
            return dropout(v[0], 0.3, /*training=*/true, gen);
          },
          {randn({4, 5}, 17)}};
}

GRADCHECK_CASE(dropout, EvalIsIdentity) {
  return {[](const Vars& v) {
            Generator gen(42);
            return dropout(v[0], 0.3, /*training=*/false, gen);
          },
          {randn({4, 5}, 18)}};
}

TEST(Dropout, ZeroesAboutPAndScalesTheRestByOneOverKeep) {
  Generator gen(7);
  const Variable y = dropout(Variable(Tensor::ones({4000}, DType::Float64)), 0.25, true, gen);
  int64_t zeros = 0;
  for (double v : y.data().to_vector()) {
    if (v == 0.0) ++zeros;
    else EXPECT_DOUBLE_EQ(v, 1.0 / 0.75);
  }
  EXPECT_NEAR(double(zeros) / 4000.0, 0.25, 0.03);
}
