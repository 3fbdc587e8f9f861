// test_state_io.cpp — state_dict -> safetensors -> state_dict, bit for bit, and loads that
// fail without leaving anything half-loaded.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <memory>

#include "nn/batchnorm.h"
#include "nn/conv2d.h"
#include "nn/linear.h"
#include "nn/state_io.h"
#include "nn_test_util.h"

namespace dl::nn {
namespace {

namespace fs = std::filesystem;

/// A per-test scratch file path, removed afterwards.
class StateIo : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("dl_nn_state_io_" + std::to_string(::getpid()) + "_" +
                                        info->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

std::shared_ptr<Sequential> net(uint64_t seed) {
  Generator gen(seed);
  auto conv = std::make_shared<Conv2d>(2, 3, 3, 1, 1, false);
  conv->reset_parameters(gen);
  auto fc = std::make_shared<Linear>(3, 2);
  fc->reset_parameters(gen);
  auto s = std::make_shared<Sequential>();
  s->push_back(conv);
  s->push_back(std::make_shared<BatchNorm2d>(3));
  s->push_back(fc);
  return s;
}

/// Same dtype, shape and bytes.
bool bit_equal(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  const Tensor ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.raw_data(), cb.raw_data(), ca.numel() * dtype_size(ca.dtype())) == 0;
}

/// One training forward through conv and BN, so running stats and the count are non-trivial.
void touch_running_stats(Sequential& s) {
  Generator gen(3);
  s[1](s[0](ag::Variable(Tensor::randn({4, 2, 5, 5}, gen, s[0].state_dict()[0].second.dtype()))));
}

TEST_F(StateIo, RoundTripIsBitExact) {
  auto a = net(1);
  touch_running_stats(*a);
  save_state_dict(path("a.safetensors"), *a, {{"epoch", "3"}});
  std::map<std::string, std::string> meta;
  const StateDict back = read_state_dict(path("a.safetensors"), &meta);
  const StateDict orig = a->state_dict();
  ASSERT_EQ(back.size(), orig.size());
  for (size_t i = 0; i < orig.size(); ++i) {
    EXPECT_EQ(back[i].first, orig[i].first);
    EXPECT_TRUE(bit_equal(back[i].second, orig[i].second)) << orig[i].first;
  }
  EXPECT_EQ(meta.at("epoch"), "3");
}

TEST_F(StateIo, NumBatchesTrackedIsStoredAsInt64) {
  auto a = net(1);
  touch_running_stats(*a);
  save_state_dict(path("a.safetensors"), *a);
  for (const auto& [k, t] : read_state_dict(path("a.safetensors")))
    if (k == "1.num_batches_tracked") {
      EXPECT_EQ(t.dtype(), DType::Int64);
      EXPECT_EQ(t.item(), 1.0);
    }
}

TEST_F(StateIo, LoadIntoAFreshModelReproducesTheState) {
  auto a = net(1), b = net(2);
  touch_running_stats(*a);
  save_state_dict(path("a.safetensors"), *a);
  load_state_dict_file(path("a.safetensors"), *b);
  const StateDict sa = a->state_dict(), sb = b->state_dict();
  for (size_t i = 0; i < sa.size(); ++i)
    EXPECT_TRUE(bit_equal(sa[i].second, sb[i].second)) << sa[i].first;
}

TEST_F(StateIo, Float64ModelsRoundTripInFloat64) {
  auto a = net(1), b = net(2);
  a->to(DType::Float64);
  b->to(DType::Float64);
  save_state_dict(path("a.safetensors"), *a);
  load_state_dict_file(path("a.safetensors"), *b);
  EXPECT_TRUE(bit_equal(a->state_dict()[0].second, b->state_dict()[0].second));
  EXPECT_EQ(read_state_dict(path("a.safetensors"))[0].second.dtype(), DType::Float64);
}

TEST_F(StateIo, TruncatedFileIsRejectedAndTheModelIsUntouched) {
  auto a = net(1), b = net(2);
  save_state_dict(path("a.safetensors"), *a);
  fs::resize_file(path("a.safetensors"), fs::file_size(path("a.safetensors")) - 10);
  const StateDict before = b->state_dict();
  std::vector<Tensor> copies;
  for (const auto& [_, t] : before) copies.push_back(t.clone());
  try {
    load_state_dict_file(path("a.safetensors"), *b);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("a.safetensors"), std::string::npos) << e.what();
  }
  for (size_t i = 0; i < copies.size(); ++i)
    EXPECT_TRUE(bit_equal(b->state_dict()[i].second, copies[i])) << before[i].first;
}

TEST_F(StateIo, MismatchedFileNamesTheFileAndEveryBadKey) {
  auto a = net(1);
  auto other = std::make_shared<Sequential>();
  other->push_back(std::make_shared<Conv2d>(2, 4, 3, 1, 1, false));  // 0.weight: wrong shape
  other->push_back("extra", std::make_shared<Linear>(3, 2));        // unexpected
  save_state_dict(path("other.safetensors"), *other);
  const Tensor w = a->state_dict()[0].second.clone();
  try {
    load_state_dict_file(path("other.safetensors"), *a);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("other.safetensors"), std::string::npos) << msg;
    EXPECT_NE(msg.find("0.weight (checkpoint [4, 2, 3, 3], model [3, 2, 3, 3])"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("missing keys: 1.weight 1.bias 1.running_mean 1.running_var "
                       "1.num_batches_tracked 2.weight 2.bias"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("unexpected keys: extra.weight extra.bias"), std::string::npos) << msg;
  }
  EXPECT_TRUE(bit_equal(a->state_dict()[0].second, w));
}

TEST_F(StateIo, MissingFileThrowsRuntimeError) {
  auto a = net(1);
  EXPECT_THROW(load_state_dict_file(path("nope.safetensors"), *a), std::runtime_error);
}

}  // namespace
}  // namespace dl::nn
