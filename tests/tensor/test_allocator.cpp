// test_allocator.cpp — the caching allocator: bucket rounding, reuse of freed blocks, 64-byte
// alignment (2 MiB for large blocks), the cache cap, the DL_ALLOCATOR=system and
// DL_ALLOCATOR_HUGE_PAGES=0 switches, stats, and Storage using it.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <thread>
#include <vector>

#include "tensor/allocator.h"
#include "tensor/tensor.h"

namespace dl {
namespace {

bool aligned64(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 64 == 0; }

TEST(Allocator, RoundsSmallSizesToCacheLines) {
  EXPECT_EQ(CachingAllocator::round_size(0), 64u);
  EXPECT_EQ(CachingAllocator::round_size(1), 64u);
  EXPECT_EQ(CachingAllocator::round_size(64), 64u);
  EXPECT_EQ(CachingAllocator::round_size(65), 128u);
  EXPECT_EQ(CachingAllocator::round_size(4096), 4096u);
}

TEST(Allocator, RoundsLargeSizesToQuarterPowersOfTwo) {
  EXPECT_EQ(CachingAllocator::round_size(4097), 5120u);      // 1.25 * 4096
  EXPECT_EQ(CachingAllocator::round_size(8192), 8192u);      // a power of two is exact
  EXPECT_EQ(CachingAllocator::round_size(8193), 10240u);     // 1.25 * 8192
  EXPECT_EQ(CachingAllocator::round_size(15000), 16384u);    // past 1.75 * 8192
  const std::size_t eight_mib = std::size_t(8) << 20;        // a ResNet-20 activation
  EXPECT_EQ(CachingAllocator::round_size(eight_mib), eight_mib);
  // Waste stays under a quarter of the request, and buckets stay 64-byte multiples.
  for (std::size_t n = 4097; n < (std::size_t(1) << 22); n = n * 3 / 2 + 7) {
    const std::size_t r = CachingAllocator::round_size(n);
    EXPECT_GE(r, n);
    EXPECT_LT(double(r - n), 0.25 * double(n)) << n;
    EXPECT_EQ(r % 64, 0u) << n;
  }
}

TEST(Allocator, ReusesAFreedBlockOfTheSameBucket) {
  CachingAllocator a;
  void* p = a.allocate(100000);
  a.deallocate(p, 100000);
  void* q = a.allocate(99000);  // a different request in the same bucket (114688 bytes)
  EXPECT_EQ(q, p);
  EXPECT_EQ(a.stats().cache_hits, 1u);
  a.deallocate(q, 99000);
}

TEST(Allocator, DoesNotReuseAcrossBuckets) {
  CachingAllocator a;
  void* p = a.allocate(1000);
  a.deallocate(p, 1000);
  void* q = a.allocate(5000);
  EXPECT_EQ(a.stats().cache_hits, 0u);
  a.deallocate(q, 5000);
}

TEST(Allocator, BlocksAre64ByteAligned) {
  CachingAllocator a;
  std::vector<std::pair<void*, std::size_t>> blocks;
  for (std::size_t n : {std::size_t(0), std::size_t(1), std::size_t(63), std::size_t(4097),
                        std::size_t(1) << 20})
    blocks.emplace_back(a.allocate(n), n);
  for (auto& [p, n] : blocks) {
    EXPECT_TRUE(aligned64(p)) << n;
    a.deallocate(p, n);
  }
  void* again = a.allocate(4097);  // recycled blocks keep their alignment
  EXPECT_TRUE(aligned64(again));
  a.deallocate(again, 4097);
}

// Blocks from 2 MiB up start on a 2 MiB boundary (where the kernel can back them with huge
// pages) and keep their bucket size in the stats; every byte asked for is usable.
TEST(Allocator, LargeBlocksStartOnAHugePageBoundary) {
  CachingAllocator a;
  const std::size_t n = CachingAllocator::kHugePageBytes + 12345;
  auto* p = static_cast<unsigned char*>(a.allocate(n));
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % CachingAllocator::kHugePageBytes, 0u);
  EXPECT_EQ(a.stats().in_use_bytes, CachingAllocator::round_size(n));
  p[0] = 1;
  p[n - 1] = 2;
  EXPECT_EQ(p[0] + p[n - 1], 3);
  a.deallocate(p, n);
}

TEST(Allocator, EnvironmentTurnsHugePagesOff) {
  EXPECT_TRUE(CachingAllocator::Options().huge_pages);
  setenv("DL_ALLOCATOR_HUGE_PAGES", "0", 1);
  const CachingAllocator::Options o = CachingAllocator::options_from_env();
  unsetenv("DL_ALLOCATOR_HUGE_PAGES");
  EXPECT_FALSE(o.huge_pages);
}

TEST(Allocator, StatsCountBytesInUseAndCached) {
  CachingAllocator a;
  void* p = a.allocate(1000);  // bucket 1024
  AllocatorStats s = a.stats();
  EXPECT_EQ(s.allocations, 1u);
  EXPECT_EQ(s.in_use_bytes, 1024u);
  EXPECT_EQ(s.cached_bytes, 0u);
  a.deallocate(p, 1000);
  s = a.stats();
  EXPECT_EQ(s.in_use_bytes, 0u);
  EXPECT_EQ(s.cached_bytes, 1024u);
  a.empty_cache();
  EXPECT_EQ(a.stats().cached_bytes, 0u);
}

TEST(Allocator, CapLimitsCachedBytes) {
  CachingAllocator::Options o;
  o.max_cached_bytes = 2048;
  CachingAllocator a(o);
  void* p = a.allocate(1024);
  void* q = a.allocate(1024);
  void* r = a.allocate(1024);
  a.deallocate(p, 1024);
  a.deallocate(q, 1024);
  a.deallocate(r, 1024);  // would make 3072 cached bytes: goes to the system instead
  EXPECT_EQ(a.stats().cached_bytes, 2048u);
}

TEST(Allocator, CachingOffNeverCaches) {
  CachingAllocator::Options o;
  o.caching = false;
  CachingAllocator a(o);
  void* p = a.allocate(100000);
  a.deallocate(p, 100000);
  void* q = a.allocate(100000);
  const AllocatorStats s = a.stats();
  EXPECT_EQ(s.cache_hits, 0u);
  EXPECT_EQ(s.cached_bytes, 0u);
  EXPECT_TRUE(aligned64(q));
  a.deallocate(q, 100000);
}

TEST(Allocator, EnvironmentSwitchesCachingOffAndSetsTheCap) {
  setenv("DL_ALLOCATOR", "system", 1);
  setenv("DL_ALLOCATOR_CACHE_MB", "3", 1);
  const CachingAllocator::Options o = CachingAllocator::options_from_env();
  unsetenv("DL_ALLOCATOR");
  unsetenv("DL_ALLOCATOR_CACHE_MB");
  EXPECT_FALSE(o.caching);
  EXPECT_EQ(o.max_cached_bytes, std::size_t(3) << 20);
}

TEST(Allocator, ThreadsShareOneAllocatorSafely) {
  CachingAllocator a;
  auto churn = [&a] {
    for (int i = 0; i < 2000; ++i) {
      const std::size_t n = 1000 + std::size_t(i % 7) * 3000;
      void* p = a.allocate(n);
      static_cast<char*>(p)[n - 1] = 1;  // the block is really ours: touch its last byte
      a.deallocate(p, n);
    }
  };
  std::thread t1(churn), t2(churn);
  t1.join();
  t2.join();
  const AllocatorStats s = a.stats();
  EXPECT_EQ(s.allocations, 4000u);
  EXPECT_EQ(s.in_use_bytes, 0u);
}

TEST(Allocator, StorageRecyclesThroughTheGlobalAllocator) {
  if (!CachingAllocator::global().options().caching) GTEST_SKIP() << "caching is off";
  const uint64_t hits0 = CachingAllocator::global().stats().cache_hits;
  const void* first = Tensor::empty({123457}).raw_data();  // freed at the end of the statement
  const Tensor again = Tensor::empty({123457});
  EXPECT_EQ(again.raw_data(), first);
  EXPECT_GT(CachingAllocator::global().stats().cache_hits, hits0);
}

}  // namespace
}  // namespace dl
