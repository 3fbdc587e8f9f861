// allocator.h — the caching allocator behind every Storage (tutorial chapter 1, "where the
// bytes come from"). A training step frees and re-requests the same activation sizes every
// iteration; handing freed blocks back from size-bucketed free lists instead of the system
// saves the page faults of fresh memory (PyTorch takes 10-20 k per ResNet-20 step from plain
// malloc). DL_ALLOCATOR=system switches caching off. Large blocks are asked to live on 2 MiB
// pages, so that streaming a model's weights misses the TLB 512x less often.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace dl {

/// Counters of one CachingAllocator (a snapshot; see CachingAllocator::stats()).
struct AllocatorStats {
  uint64_t allocations = 0;  ///< allocate() calls
  uint64_t cache_hits = 0;   ///< of those, served from a free list
  std::size_t in_use_bytes = 0;  ///< bucket-rounded bytes handed out and not yet freed
  std::size_t cached_bytes = 0;  ///< bucket-rounded bytes held in free lists
};

/// A thread-safe (one mutex) allocator of 64-byte-aligned blocks. A request is rounded up to
/// its bucket size (round_size()); a freed block goes to the free list of its bucket, unless
/// that would hold more than max_cached_bytes, and the next request of the same bucket takes
/// it back. Memory is returned to the system only by empty_cache(), by a free that would
/// exceed the cap, or never (the global instance lives for the whole process).
///
/// @code
///   dl::CachingAllocator a;
///   void* p = a.allocate(1000);   // from the system
///   a.deallocate(p, 1000);        // kept in the 1024-byte bucket
///   void* q = a.allocate(1000);   // the same block again: q == p, stats().cache_hits == 1
/// @endcode
class CachingAllocator {
 public:
  struct Options {
    /// false: every allocate() and deallocate() goes straight to the system.
    bool caching = true;
    /// Upper bound on cached_bytes; frees beyond it go to the system.
    std::size_t max_cached_bytes = std::size_t(1) << 30;
    /// Blocks of kHugePageBytes or more start on a 2 MiB boundary and are advised to the
    /// kernel as transparent huge pages (Linux madvise; a hint: where THP is off, or on other
    /// systems, they stay 4 KiB pages). A ResNet-50 forward at batch 1 streams 100 MB of
    /// weights through a TLB that covers 12-16 MB of 4 KiB pages; measured 2% faster, as
    /// was ResNet-20 training at batch 128.
    bool huge_pages = true;
  };

  /// The size from which a block is given huge pages (Options::huge_pages).
  static constexpr std::size_t kHugePageBytes = std::size_t(2) << 20;

  /// Options as the environment sets them: DL_ALLOCATOR=system turns caching off,
  /// DL_ALLOCATOR_CACHE_MB=n caps the cache at n MiB, DL_ALLOCATOR_HUGE_PAGES=0 turns huge
  /// pages off (for comparing). Builds with AddressSanitizer default to
  /// no caching, so that a use after free still reaches ASan instead of a recycled block.
  static Options options_from_env();

  /// The process-wide allocator that Storage uses, configured by options_from_env() on first
  /// use. Never destroyed, so storages freed during static destruction are still safe.
  static CachingAllocator& global();

  CachingAllocator() : CachingAllocator(Options()) {}
  explicit CachingAllocator(Options options) : options_(options) {}
  /// Frees the cached blocks (blocks still in use are the caller's).
  ~CachingAllocator();
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  /// A 64-byte-aligned block of at least @p nbytes (0 allowed) uninitialised bytes.
  /// @throws std::bad_alloc when the system has no memory left.
  void* allocate(std::size_t nbytes);
  /// Gives back a block from allocate(); @p nbytes must be the size it was requested with.
  void deallocate(void* p, std::size_t nbytes);
  /// Returns every cached block to the system.
  void empty_cache();
  AllocatorStats stats() const;
  const Options& options() const { return options_; }

  /// The bucket size of a request: multiples of 64 bytes up to 4 KiB, then four steps per
  /// power of two (2^k, 1.25·2^k, 1.5·2^k, 1.75·2^k), so rounding wastes under 25%.
  static std::size_t round_size(std::size_t nbytes);

 private:
  const Options options_;
  mutable std::mutex mutex_;
  std::unordered_map<std::size_t, std::vector<void*>> free_lists_;  // bucket size -> blocks
  AllocatorStats stats_;
};

}  // namespace dl
