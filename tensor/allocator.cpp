// allocator.cpp — size-bucketed free lists in front of aligned_alloc/free (tutorial chapter 1).
// Fresh memory from the system costs a page fault per 4 KiB page on first touch (and, for
// large blocks, an mmap/munmap pair per tensor); a recycled block is already mapped.
#include "tensor/allocator.h"

#include <cstdlib>
#include <cstring>
#include <new>

#ifdef __linux__
#include <sys/mman.h>
#endif

namespace dl {

namespace {

constexpr std::size_t kAlignment = 64;  // one cache line; SIMD kernels load aligned rows
constexpr std::size_t kSmallLimit = 4096;

// GCC defines __SANITIZE_ADDRESS__ under -fsanitize=address; Clang answers __has_feature.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
#else
constexpr bool kAddressSanitizer = false;
#endif

// A block from the system: 64-byte aligned, or with @p huge (and at least kHugePageBytes)
// whole 2 MiB pages, advised as huge pages. aligned_alloc wants a size that is a multiple of
// the alignment: rounded is one of 64; the huge case rounds up to whole pages (the block keeps
// its bucket, only the system sees more).
void* system_allocate(std::size_t rounded, bool huge) {
  constexpr std::size_t kPage = CachingAllocator::kHugePageBytes;
  const bool whole_pages = huge && rounded >= kPage;
  const std::size_t bytes = whole_pages ? (rounded + kPage - 1) / kPage * kPage : rounded;
  void* p = std::aligned_alloc(whole_pages ? kPage : kAlignment, bytes);
  if (!p) throw std::bad_alloc();
#ifdef __linux__
  if (whole_pages) madvise(p, bytes, MADV_HUGEPAGE);  // a hint; its failure changes nothing
#endif
  return p;
}

}  // namespace

std::size_t CachingAllocator::round_size(std::size_t nbytes) {
  if (nbytes <= kSmallLimit) return nbytes == 0 ? kAlignment : (nbytes + 63) / 64 * 64;
  // p = the largest power of two <= nbytes; round up to a multiple of p/4 (>= 1 KiB).
  const std::size_t p = std::size_t(1) << (63 - __builtin_clzll(static_cast<uint64_t>(nbytes)));
  const std::size_t step = p / 4;
  return (nbytes + step - 1) / step * step;
}

CachingAllocator::Options CachingAllocator::options_from_env() {
  Options o;
  o.caching = !kAddressSanitizer;
  if (const char* mode = std::getenv("DL_ALLOCATOR")) o.caching = std::strcmp(mode, "system") != 0;
  if (const char* mb = std::getenv("DL_ALLOCATOR_CACHE_MB"))
    o.max_cached_bytes = std::size_t(std::strtoull(mb, nullptr, 10)) << 20;
  if (const char* huge = std::getenv("DL_ALLOCATOR_HUGE_PAGES"))
    o.huge_pages = std::strcmp(huge, "0") != 0;
  return o;
}

CachingAllocator& CachingAllocator::global() {
  // Deliberately leaked: a static Tensor destroyed after this function's statics would
  // otherwise free into a dead allocator.
  static CachingAllocator* instance = new CachingAllocator(options_from_env());
  return *instance;
}

CachingAllocator::~CachingAllocator() { empty_cache(); }

void* CachingAllocator::allocate(std::size_t nbytes) {
  const std::size_t rounded = round_size(nbytes);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.allocations;
    stats_.in_use_bytes += rounded;
    auto it = free_lists_.find(rounded);
    if (it != free_lists_.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      ++stats_.cache_hits;
      stats_.cached_bytes -= rounded;
      return p;
    }
  }
  // A miss: ask the system outside the lock, so other threads are not held up by its page
  // mapping. Undo the in-use count if it fails.
  try {
    return system_allocate(rounded, options_.huge_pages);
  } catch (const std::bad_alloc&) {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.in_use_bytes -= rounded;
    throw;
  }
}

void CachingAllocator::deallocate(void* p, std::size_t nbytes) {
  if (!p) return;
  const std::size_t rounded = round_size(nbytes);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.in_use_bytes -= rounded;
    if (options_.caching && stats_.cached_bytes + rounded <= options_.max_cached_bytes) {
      free_lists_[rounded].push_back(p);
      stats_.cached_bytes += rounded;
      return;
    }
  }
  std::free(p);
}

void CachingAllocator::empty_cache() {
  std::unordered_map<std::size_t, std::vector<void*>> lists;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    lists.swap(free_lists_);
    stats_.cached_bytes = 0;
  }
  for (auto& bucket : lists)
    for (void* p : bucket.second) std::free(p);
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

}  // namespace dl
