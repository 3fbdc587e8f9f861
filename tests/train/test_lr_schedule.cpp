// Tests for train/lr_schedule.h: every schedule against values worked out by hand at chosen
// steps, the plateau rule's patience, threshold and state, warm-up, and make_schedule.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "train/lr_schedule.h"

using namespace dl::train;

namespace {

constexpr double kTol = 1e-12;

TEST(MultiStepLr, DividesAtEachMilestone) {
  MultiStepLr s(0.1, {3, 5}, 0.1);
  EXPECT_NEAR(s.lr(0), 0.1, kTol);
  EXPECT_NEAR(s.lr(2), 0.1, kTol);
  EXPECT_NEAR(s.lr(3), 0.01, kTol);  // a milestone applies from its own step on
  EXPECT_NEAR(s.lr(4), 0.01, kTol);
  EXPECT_NEAR(s.lr(5), 0.001, kTol);
  EXPECT_NEAR(s.lr(1000000), 0.001, kTol);
  EXPECT_TRUE(s.state().empty());
}

TEST(MultiStepLr, StatelessScheduleRejectsState) {
  MultiStepLr s(0.1, {3});
  EXPECT_NO_THROW(s.set_state({}));
  EXPECT_THROW(s.set_state({1.0}), std::invalid_argument);
}

TEST(CosineLr, HalfCosineFromBaseToMin) {
  CosineLr s(0.1, 100, 0.001);
  EXPECT_NEAR(s.lr(0), 0.1, kTol);
  EXPECT_NEAR(s.lr(50), 0.0505, kTol);  // midway: (0.1 + 0.001) / 2
  // A quarter of the way: min + (base - min)·(1 + cos(π/4))/2 = 0.001 + 0.099·0.85355339...
  EXPECT_NEAR(s.lr(25), 0.001 + 0.099 * (1 + std::sqrt(0.5)) / 2, kTol);
  EXPECT_NEAR(s.lr(100), 0.001, kTol);
  EXPECT_NEAR(s.lr(150), 0.001, kTol);  // held at the minimum afterwards
}

TEST(OneCycleLr, RisesToMaxThenFallsToInitialOverFinalDiv) {
  // total 7, pct_start 3/7: the peak is at step 3 - 1 = 2 and the end at step 6 (PyTorch's
  // boundaries); initial lr 1/25 = 0.04, final lr 0.04 / 1e4 = 4e-6.
  OneCycleLr s(1.0, 7, 3.0 / 7.0, 25, 1e4);
  EXPECT_NEAR(s.lr(0), 0.04, kTol);
  EXPECT_NEAR(s.lr(1), 0.52, kTol);  // halfway up: (0.04 + 1) / 2
  EXPECT_NEAR(s.lr(2), 1.0, kTol);
  EXPECT_NEAR(s.lr(4), 0.500002, kTol);  // halfway down: (1 + 4e-6) / 2
  EXPECT_NEAR(s.lr(6), 4e-6, kTol);
  EXPECT_NEAR(s.lr(100), 4e-6, kTol);  // held at the end
}

TEST(OneCycleLr, RejectsBadFractions) {
  EXPECT_THROW(OneCycleLr(1.0, 10, 0.0), std::invalid_argument);
  EXPECT_THROW(OneCycleLr(1.0, 10, 1.0), std::invalid_argument);
  EXPECT_THROW(OneCycleLr(1.0, 10, 0.3, 0.0), std::invalid_argument);
}

TEST(PlateauLr, WaitsPatienceEpochsWithoutImprovementBeyondThreshold) {
  // patience 2, threshold 10 % relative: a metric improves only if below 0.9·best.
  PlateauLr s(0.1, 0.5, 2, 0.1);
  EXPECT_NEAR(s.lr(0), 0.1, kTol);
  s.on_epoch_end(1.0);   // first value: best 1.0
  s.on_epoch_end(0.95);  // not below 0.9: 1 bad epoch
  s.on_epoch_end(0.92);  // 2 bad epochs = patience: still waiting
  EXPECT_NEAR(s.lr(123), 0.1, kTol);
  s.on_epoch_end(0.91);  // 3 bad epochs > patience: halve, count restarts
  EXPECT_NEAR(s.lr(123), 0.05, kTol);
  s.on_epoch_end(0.85);  // below 0.9·1.0: new best 0.85
  s.on_epoch_end(0.80);  // not below 0.765: bad 1
  s.on_epoch_end(0.80);  // bad 2
  EXPECT_NEAR(s.lr(0), 0.05, kTol);
  s.on_epoch_end(0.70);  // below 0.765: best again, count reset
  s.on_epoch_end(0.70);
  s.on_epoch_end(0.70);
  EXPECT_NEAR(s.lr(0), 0.05, kTol);
  s.on_epoch_end(0.70);  // third bad epoch since 0.70
  EXPECT_NEAR(s.lr(0), 0.025, kTol);
}

TEST(PlateauLr, NeverGoesBelowMinLr) {
  PlateauLr s(0.1, 0.1, 0, 0.0, 0.005);
  s.on_epoch_end(1.0);
  s.on_epoch_end(1.0);  // patience 0: every epoch without improvement divides
  EXPECT_NEAR(s.lr(0), 0.01, kTol);
  s.on_epoch_end(1.0);
  EXPECT_NEAR(s.lr(0), 0.005, kTol);
  s.on_epoch_end(1.0);
  EXPECT_NEAR(s.lr(0), 0.005, kTol);
}

TEST(PlateauLr, StateRoundTripContinuesIdentically) {
  PlateauLr a(0.1, 0.5, 1, 0.0);
  a.on_epoch_end(1.0);
  a.on_epoch_end(2.0);  // one bad epoch pending
  const std::vector<double> state = a.state();
  ASSERT_EQ(state.size(), 3u);
  EXPECT_EQ(state, (std::vector<double>{0.1, 1.0, 1.0}));  // lr, best, bad epochs

  PlateauLr b(0.1, 0.5, 1, 0.0);
  b.set_state(state);
  for (PlateauLr* s : {&a, &b}) s->on_epoch_end(1.5);  // second bad epoch > patience
  EXPECT_NEAR(a.lr(0), 0.05, kTol);
  EXPECT_EQ(a.state(), b.state());
  EXPECT_THROW(b.set_state({0.1, 1.0}), std::invalid_argument);
}

TEST(PlateauLr, StateBeforeAnyEpochHoldsInfiniteBest) {
  PlateauLr a(0.1), b(0.2);
  b.set_state(a.state());
  EXPECT_TRUE(std::isinf(b.state()[1]));
  EXPECT_NEAR(b.lr(0), 0.1, kTol);
}

TEST(PlateauLr, RejectsBadArguments) {
  EXPECT_THROW(PlateauLr(0.1, 1.0), std::invalid_argument);
  EXPECT_THROW(PlateauLr(0.1, 0.0), std::invalid_argument);
  EXPECT_THROW(PlateauLr(0.1, 0.5, -1), std::invalid_argument);
}

TEST(WarmupLr, RampsLinearlyToTheWrappedSchedule) {
  WarmupLr s(std::make_unique<MultiStepLr>(0.1, std::vector<int64_t>{6}), 4, 0.01);
  EXPECT_NEAR(s.lr(0), 0.01, kTol);
  EXPECT_NEAR(s.lr(1), 0.0325, kTol);  // 0.01 + (0.1 - 0.01)·1/4
  EXPECT_NEAR(s.lr(2), 0.055, kTol);
  EXPECT_NEAR(s.lr(3), 0.0775, kTol);
  EXPECT_NEAR(s.lr(4), 0.1, kTol);
  EXPECT_NEAR(s.lr(6), 0.01, kTol);  // the wrapped schedule's own step 6, not 6 - 4
}

TEST(WarmupLr, PassesEpochEndsAndStateThrough) {
  WarmupLr s(std::make_unique<PlateauLr>(0.1, 0.5, 0, 0.0), 2, 0.0);
  s.on_epoch_end(1.0);
  s.on_epoch_end(1.0);  // patience 0: halves the wrapped plateau's lr
  EXPECT_NEAR(s.lr(10), 0.05, kTol);
  EXPECT_NEAR(s.lr(1), 0.025, kTol);  // halfway from 0 to 0.05
  WarmupLr copy(std::make_unique<PlateauLr>(0.1, 0.5, 0, 0.0), 2, 0.0);
  copy.set_state(s.state());
  EXPECT_EQ(copy.state(), s.state());
  EXPECT_NEAR(copy.lr(10), 0.05, kTol);
}

TEST(WarmupLr, RejectsNoSteps) {
  EXPECT_THROW(WarmupLr(std::make_unique<CosineLr>(0.1, 10), 0, 0.01), std::invalid_argument);
  EXPECT_THROW(WarmupLr(nullptr, 5, 0.01), std::invalid_argument);
}

TEST(MakeSchedule, MultistepDividesAtHalfAndThreeQuarters) {
  auto s = make_schedule("multistep", 0.1, 100);
  EXPECT_NEAR(s->lr(49), 0.1, kTol);
  EXPECT_NEAR(s->lr(50), 0.01, kTol);
  EXPECT_NEAR(s->lr(74), 0.01, kTol);
  EXPECT_NEAR(s->lr(75), 0.001, kTol);
}

TEST(MakeSchedule, BuildsEachNamedSchedule) {
  EXPECT_NEAR(make_schedule("cosine", 0.1, 100)->lr(50), 0.05, kTol);
  EXPECT_NEAR(make_schedule("onecycle", 0.1, 100)->lr(0), 0.004, kTol);  // max_lr / 25
  auto plateau = make_schedule("plateau", 0.1, 100);
  EXPECT_EQ(plateau->state().size(), 3u);
  EXPECT_NEAR(plateau->lr(99), 0.1, kTol);
  EXPECT_NEAR(make_schedule("constant", 0.1, 100)->lr(1000000), 0.1, kTol);
}

TEST(MakeSchedule, WrapsInWarmup) {
  auto s = make_schedule("cosine", 0.1, 100, /*warmup_steps=*/10, /*warmup_lr=*/0.01);
  EXPECT_NEAR(s->lr(0), 0.01, kTol);
  EXPECT_NEAR(s->lr(10), CosineLr(0.1, 100).lr(10), kTol);
  EXPECT_NE(s->describe().find("warmup"), std::string::npos) << s->describe();
}

TEST(MakeSchedule, UnknownNameListsTheKnownOnes) {
  try {
    make_schedule("linear", 0.1, 100);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("'linear'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("multistep"), std::string::npos) << msg;
    EXPECT_NE(msg.find("onecycle"), std::string::npos) << msg;
  }
}

}  // namespace
