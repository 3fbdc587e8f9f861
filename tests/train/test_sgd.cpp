// Tests for train/sgd.h: one and two SGD steps against numbers worked out by hand with
// PyTorch's rules (g = grad + wd·p; buf = g, then m·buf + g; p -= lr·buf; Nesterov
// p -= lr·(g + m·buf)), decay exemptions, and the momentum state round trip.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "train/sgd.h"

using dl::DType;
using dl::Tensor;
using dl::ag::Variable;
using dl::train::Sgd;
using dl::train::SgdOptions;

namespace {

/// A trainable [1, 2] float64 parameter holding (a, b).
Variable param2(double a, double b) {
  return Variable(Tensor::from_vector(std::vector<double>{a, b}, {1, 2}), true);
}

/// The recipe of the hand computations: lr 0.1, momentum 0.9, weight decay 0.01.
SgdOptions hand_options(bool nesterov) {
  SgdOptions o;
  o.lr = 0.1;
  o.momentum = 0.9;
  o.weight_decay = 0.01;
  o.nesterov = nesterov;
  return o;
}

/// Sets the gradient (0.5, 0.25) and takes one step.
void step_with_fixed_grad(Sgd& sgd, Variable& p) {
  p.set_grad(Tensor::from_vector(std::vector<double>{0.5, 0.25}, {1, 2}));
  sgd.step();
}

void expect_values(const Tensor& t, const std::vector<double>& expected) {
  const std::vector<double> v = t.to_vector();
  ASSERT_EQ(v.size(), expected.size());
  for (size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(v[i], expected[i], 1e-12) << "element " << i;
}

TEST(Sgd, FirstStepUsesTheGradientAsMomentum) {
  Variable w = param2(1.0, -2.0);
  Sgd sgd({{"w", w}}, hand_options(false));
  step_with_fixed_grad(sgd, w);
  // g = (0.5 + 0.01·1, 0.25 + 0.01·(-2)) = (0.51, 0.23) = buf;  p = (1, -2) - 0.1·buf
  expect_values(w.data(), {0.949, -2.023});
}

TEST(Sgd, SecondStepAccumulatesMomentum) {
  Variable w = param2(1.0, -2.0);
  Sgd sgd({{"w", w}}, hand_options(false));
  step_with_fixed_grad(sgd, w);
  step_with_fixed_grad(sgd, w);
  // g = (0.5 + 0.00949, 0.25 - 0.02023) = (0.50949, 0.22977)
  // buf = 0.9·(0.51, 0.23) + g = (0.96849, 0.43677);  p = (0.949, -2.023) - 0.1·buf
  expect_values(w.data(), {0.852151, -2.066677});
  expect_values(sgd.state_dict().at(0).second, {0.96849, 0.43677});
}

TEST(Sgd, NesterovStepsLookAhead) {
  Variable w = param2(1.0, -2.0);
  Sgd sgd({{"w", w}}, hand_options(true));
  step_with_fixed_grad(sgd, w);
  // buf = g = (0.51, 0.23);  d = g + 0.9·buf = (0.969, 0.437);  p = (1, -2) - 0.1·d
  expect_values(w.data(), {0.9031, -2.0437});
  step_with_fixed_grad(sgd, w);
  // g = (0.509031, 0.229563);  buf = 0.9·(0.51, 0.23) + g = (0.968031, 0.436563)
  // d = g + 0.9·buf = (1.3802589, 0.6224697);  p = (0.9031, -2.0437) - 0.1·d
  expect_values(w.data(), {0.76507411, -2.10594697});
}

TEST(Sgd, WithoutMomentumIsPlainGradientDescent) {
  Variable w = param2(1.0, -2.0);
  SgdOptions o = hand_options(false);
  o.momentum = 0;
  Sgd sgd({{"w", w}}, o);
  step_with_fixed_grad(sgd, w);
  step_with_fixed_grad(sgd, w);
  // p -= 0.1·(grad + 0.01·p) twice: (0.949, -2.023), then (0.949 - 0.050949, -2.023 - 0.022977)
  expect_values(w.data(), {0.898051, -2.045977});
  EXPECT_TRUE(sgd.state_dict().empty());  // no buffers to save
}

TEST(Sgd, Float32ParametersFollowTheSameRule) {
  Variable w(Tensor::from_vector(std::vector<float>{1.0f, -2.0f}, {1, 2}), true);
  Sgd sgd({{"w", w}}, hand_options(false));
  w.set_grad(Tensor::from_vector(std::vector<float>{0.5f, 0.25f}, {1, 2}));
  sgd.step();
  EXPECT_EQ(w.data().dtype(), DType::Float32);
  EXPECT_NEAR(w.data().to_vector()[0], 0.949, 1e-6);
  EXPECT_NEAR(w.data().to_vector()[1], -2.023, 1e-6);
}

TEST(Sgd, OneDimensionalParametersSkipDecayWhenAsked) {
  // grad 0 so that only weight decay moves a parameter: p -= lr·wd·p = 0.05·p.
  for (const bool decay_bn_and_bias : {false, true}) {
    Variable w = param2(1.0, -2.0);
    Variable b(Tensor::from_vector(std::vector<double>{4.0, 8.0}, {2}), true);
    SgdOptions o;
    o.lr = 0.1;
    o.momentum = 0;
    o.weight_decay = 0.5;
    o.decay_bn_and_bias = decay_bn_and_bias;
    Sgd sgd({{"w", w}, {"b", b}}, o);
    w.set_grad(Tensor::zeros({1, 2}, DType::Float64));
    b.set_grad(Tensor::zeros({2}, DType::Float64));
    sgd.step();
    expect_values(w.data(), {0.95, -1.9});
    if (decay_bn_and_bias)
      expect_values(b.data(), {3.8, 7.6});
    else
      expect_values(b.data(), {4.0, 8.0});
  }
}

TEST(Sgd, SkipsParametersWithoutGradient) {
  Variable w = param2(1.0, -2.0);
  Variable frozen(Tensor::from_vector(std::vector<double>{3.0, 4.0}, {1, 2}), false);
  Sgd sgd({{"w", w}, {"frozen", frozen}}, hand_options(false));
  sgd.step();  // w has no gradient yet
  expect_values(w.data(), {1.0, -2.0});
  step_with_fixed_grad(sgd, w);
  sgd.zero_grad();
  EXPECT_FALSE(w.grad().defined());
  sgd.step();  // gradient dropped: nothing moves
  expect_values(w.data(), {0.949, -2.023});
  expect_values(frozen.data(), {3.0, 4.0});
  ASSERT_EQ(sgd.state_dict().size(), 1u);  // requires_grad = false: not optimised at all
  EXPECT_EQ(sgd.state_dict()[0].first, "momentum_buffer.w");
}

TEST(Sgd, StateDictRoundTripContinuesIdentically) {
  Variable a = param2(1.0, -2.0), b = param2(1.0, -2.0);
  Sgd first({{"w", a}}, hand_options(false));
  step_with_fixed_grad(first, a);
  // A fresh optimiser over a copy of the parameter, given the first one's momentum.
  b.data().copy_(a.data());
  Sgd second({{"w", b}}, hand_options(false));
  second.load_state_dict(first.state_dict());
  step_with_fixed_grad(first, a);
  step_with_fixed_grad(second, b);
  expect_values(b.data(), {0.852151, -2.066677});
  EXPECT_EQ(a.data().to_vector(), b.data().to_vector());
}

TEST(Sgd, LoadedBuffersAreCopies) {
  Variable w = param2(1.0, -2.0);
  Sgd sgd({{"w", w}}, hand_options(false));
  Tensor buf = Tensor::from_vector(std::vector<double>{0.51, 0.23}, {1, 2});
  sgd.load_state_dict({{"momentum_buffer.w", buf}});
  buf.fill_(100.0);  // must not reach the optimiser
  expect_values(sgd.state_dict().at(0).second, {0.51, 0.23});
}

TEST(Sgd, LoadRejectsUnknownKey) {
  Variable w = param2(1.0, -2.0);
  Sgd sgd({{"w", w}}, hand_options(false));
  try {
    sgd.load_state_dict({{"momentum_buffer.v", Tensor::zeros({1, 2}, DType::Float64)}});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("momentum_buffer.v"), std::string::npos) << e.what();
  }
}

TEST(Sgd, LoadRejectsWrongShapeAndKeepsItsState) {
  Variable w = param2(1.0, -2.0);
  Sgd sgd({{"w", w}}, hand_options(false));
  step_with_fixed_grad(sgd, w);
  try {
    sgd.load_state_dict({{"momentum_buffer.w", Tensor::zeros({3}, DType::Float64)}});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("momentum_buffer.w"), std::string::npos) << msg;
    EXPECT_NE(msg.find(dl::shape_str({3})), std::string::npos) << msg;
    EXPECT_NE(msg.find(dl::shape_str({1, 2})), std::string::npos) << msg;
  }
  expect_values(sgd.state_dict().at(0).second, {0.51, 0.23});
}

TEST(Sgd, RejectsBadOptions) {
  Variable w = param2(1.0, -2.0);
  SgdOptions negative_lr;
  negative_lr.lr = -1;
  EXPECT_THROW(Sgd({{"w", w}}, negative_lr), std::invalid_argument);
  SgdOptions nesterov_without_momentum;
  nesterov_without_momentum.momentum = 0;
  nesterov_without_momentum.nesterov = true;
  EXPECT_THROW(Sgd({{"w", w}}, nesterov_without_momentum), std::invalid_argument);
}

}  // namespace
