// test_storage_version.cpp — the storage's write counter and the cache of data derived from
// its contents (Storage::version, Storage::derived): what counts as a write, and when a
// derived value is computed again (tutorial chapter 1).
#include <gtest/gtest.h>

#include <memory>
#include <utility>

#include "tensor/tensor.h"

namespace dl {
namespace {

TEST(StorageVersion, ReadsDoNotCountWritesDo) {
  Tensor t = Tensor::zeros({2, 3});
  const Tensor& view = t;
  const uint64_t v0 = t.storage()->version();
  (void)view.data<float>();  // const access: a read
  (void)view.raw_data();
  (void)view.at({1, 2});
  (void)t.clone();
  EXPECT_EQ(t.storage()->version(), v0);

  (void)t.data<float>();  // a writable pointer handed out
  const uint64_t v1 = t.storage()->version();
  EXPECT_GT(v1, v0);
  t.add_(1.0);
  const uint64_t v2 = t.storage()->version();
  EXPECT_GT(v2, v1);
  t.set({0, 0}, 5.0);
  EXPECT_GT(t.storage()->version(), v2);
}

TEST(StorageVersion, WritesThroughAViewCount) {
  Tensor t = Tensor::zeros({4, 4});
  const uint64_t v0 = t.storage()->version();
  Tensor row = t.select(0, 2);
  row.fill_(3.0);
  EXPECT_GT(t.storage()->version(), v0);
}

TEST(StorageDerived, ComputedOnceUntilTheNextWrite) {
  Tensor t = Tensor::of({1, 2, 3});
  int calls = 0;
  auto sum = [&] {
    ++calls;
    const float* p = std::as_const(t).data<float>();
    return std::make_shared<const float>(p[0] + p[1] + p[2]);
  };
  EXPECT_EQ(*t.storage()->derived<float>("sum", sum), 6.0f);
  EXPECT_EQ(*t.storage()->derived<float>("sum", sum), 6.0f);
  EXPECT_EQ(calls, 1);  // the second call came from the cache

  t.mul_(2.0);  // a write: the cached sum is stale
  EXPECT_EQ(*t.storage()->derived<float>("sum", sum), 12.0f);
  EXPECT_EQ(calls, 2);
}

TEST(StorageDerived, KeysAreSeparate) {
  Tensor t = Tensor::of({1, 2});
  auto value = [](float v) { return [v] { return std::make_shared<const float>(v); }; };
  EXPECT_EQ(*t.storage()->derived<float>("a", value(1.0f)), 1.0f);
  EXPECT_EQ(*t.storage()->derived<float>("b", value(2.0f)), 2.0f);
  EXPECT_EQ(*t.storage()->derived<float>("a", value(9.0f)), 1.0f);  // cached under "a"
}

// The documented limit, as in PyTorch: a pointer obtained before is not watched. Asking for
// a writable pointer again (here raw_data()) marks the contents as changed.
TEST(StorageDerived, AnOldPointerNeedsAskingAgain) {
  Tensor t = Tensor::of({1, 2});
  float* p = t.data<float>();
  auto first = [&] { return std::make_shared<const float>(std::as_const(t).data<float>()[0]); };
  EXPECT_EQ(*t.storage()->derived<float>("first", first), 1.0f);
  p[0] = 7.0f;  // not seen: the counter moved when p was handed out, not now
  EXPECT_EQ(*t.storage()->derived<float>("first", first), 1.0f);
  (void)t.raw_data();
  EXPECT_EQ(*t.storage()->derived<float>("first", first), 7.0f);
}

}  // namespace
}  // namespace dl
