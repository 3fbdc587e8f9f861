// workspace.h — private helpers shared by the GEMM and convolution kernels (not part of the
// public kernel interface): per-thread growable scratch buffers, OpenMP thread counts, a loop
// run in parallel or serially, a loop whose threads help each other with their shares, one
// thread's blocks of work that others help with, and the split of one large GEMM across
// OpenMP threads.
// A kernel asks for scratch with thread_scratch<T, Slot>(n); the buffer lives as long as the
// thread, so steady-state training performs no allocation per call (shared PERF-NOTES: plain
// malloc per step costs thousands of page faults). Slot tells apart buffers one thread needs
// at the same time.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

#ifdef DL_WITH_OPENMP
#include <omp.h>
#endif

namespace dl::kernels::detail {

/// Per-thread scratch of at least @p n elements of T (contents unspecified). Distinct Slot
/// values give distinct buffers; the pointer stays valid until the same thread asks the same
/// slot for more.
template <class T, int Slot>
T* thread_scratch(size_t n) {
  thread_local std::vector<T> buf;
  if (buf.size() < n) {
    buf.clear();
    buf.shrink_to_fit();
    buf.resize(n);
  }
  return buf.data();
}

/// Threads an OpenMP parallel region started here would get (1 without OpenMP or inside an
/// active parallel region, where nesting is off).
inline int max_threads() {
#ifdef DL_WITH_OPENMP
  return omp_in_parallel() ? 1 : omp_get_max_threads();
#else
  return 1;
#endif
}

/// Threads in the calling thread's team (1 without OpenMP or outside a parallel region).
inline int team_size() {
#ifdef DL_WITH_OPENMP
  return omp_get_num_threads();
#else
  return 1;
#endif
}

/// Index of the calling thread in its team (0 without OpenMP).
inline int thread_id() {
#ifdef DL_WITH_OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

/// The piece a thread takes from @p left items: half of them (all for a team of one), at least
/// one, at most @p most, so that the last pieces are small enough to share.
inline int64_t piece_size(int64_t left, bool alone, int64_t most) {
  return std::min(most, alone ? left : std::max<int64_t>(1, left / 2));
}

/// A loop's items in one contiguous share per thread of a team, each share worked through
/// from the front by its own thread, a piece at a time, in the order a fixed split would take
/// (what the caches want); a thread whose share is done takes pieces from the back of the
/// others'. On a shared machine one core can run 15-20% slower than the other for seconds at
/// a time (2 vCPUs, ResNet-50 batch 1: with fixed shares the faster thread waited 6 ms of a
/// 33 ms forward); here it helps instead. A piece is half of what is left of a share (all of
/// it for a team of one), at most @p most items, so the last pieces are small enough to
/// share. Which thread computes which piece depends on timing: a kernel stays deterministic
/// when its result for an item does not.
class SharedLoop {
 public:
  SharedLoop(int threads, int64_t most)
      : shares_(size_t(std::max(1, threads))), most_(std::max<int64_t>(1, most)) {}
  /// Share u is the items [begin, end), begin <= end < 2^31.
  void set(int u, int64_t begin, int64_t end) {
    shares_[size_t(u)].range.store(uint64_t(begin) | uint64_t(end) << 32);
  }
  /// Calls fn(u, begin, end) for pieces [begin, end) of share u until no items are left:
  /// thread t's own share t first, from the front, then the others' from the back.
  template <class Fn>
  void run(int t, const Fn& fn) {
    const int m = int(shares_.size());
    int64_t b, e;
    for (int i = 0; i < m; ++i) {
      const int u = (t + i) % m;
      while (take(shares_[size_t(u)].range, i == 0, b, e)) fn(u, b, e);
    }
  }

 private:
  struct alignas(64) Share {  // one cache line each: the owners update them all the time
    std::atomic<uint64_t> range{0};  // front in the low 32 bits, back in the high 32
  };
  bool take(std::atomic<uint64_t>& range, bool front, int64_t& b, int64_t& e) const {
    uint64_t r = range.load(std::memory_order_relaxed);
    for (;;) {
      const int64_t lo = int64_t(r & 0xffffffffu), hi = int64_t(r >> 32);
      if (lo >= hi) return false;
      const int64_t n = piece_size(hi - lo, shares_.size() == 1, most_);
      b = front ? lo : hi - n;
      e = b + n;
      const uint64_t next = front ? uint64_t(e) | uint64_t(hi) << 32  // front moves up
                                  : uint64_t(lo) | uint64_t(b) << 32;  // back moves down
      if (range.compare_exchange_weak(r, next, std::memory_order_relaxed)) return true;
    }
  }
  std::vector<Share> shares_;
  const int64_t most_;
};

/// Runs fn(i) for every i in [0, n): when @p parallel, the OpenMP threads take equal
/// contiguous shares and a thread that is done helps with the others' (SharedLoop), so fn(i)
/// must not depend on which thread runs it (the callers compute outputs of their own per
/// index); else in order on the calling thread. The serial case enters no OpenMP construct at
/// all, where `#pragma omp parallel for if (false)` inside a team would still set up a team of
/// one per call (measured: 6% of a 64-channel Winograd layer at batch 128).
template <class Fn>
void for_each_index(int64_t n, bool parallel, const Fn& fn) {
  const int nt = parallel ? max_threads() : 1;
  if (nt <= 1 || n <= 1) {
    for (int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
  SharedLoop loop(nt, n);
  for (int u = 0; u < nt; ++u) loop.set(u, u * n / nt, (u + 1) * n / nt);
#ifdef DL_WITH_OPENMP
#pragma omp parallel num_threads(nt)
#endif
  loop.run(thread_id(), [&](int, int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) fn(i);
  });
}

/// One thread's work as blocks that run one after another, each a loop over the same items (a
/// depth split's rows, for one block of input channels after another), which threads done
/// with their own work help with. The owner prepares block b (packs its inputs), publishes
/// it, works through its items from the front a piece at a time, and waits until every item
/// of b is done before it prepares the next; a helper takes pieces from the back of the block
/// being worked on. Item i of block b thus runs after item i of block b - 1, whichever threads
/// ran them: a kernel that adds block after block into each item stays deterministic. With
/// fixed halves of a depth split the faster of two unequal cores waited 1.7-2.5 ms of a 37 ms
/// ResNet-50 forward at batch 1; here it takes over the end of the slower one's last block
/// (measured: under 0.05 ms per forward left at the barrier).
class BlockLoop {
 public:
  /// @p blocks blocks of @p items items each (blocks < 2^24, items < 2^20), pieces of at most
  /// @p most items.
  BlockLoop(int64_t blocks, int64_t items, int64_t most)
      : blocks_(blocks), items_(items), most_(std::max<int64_t>(1, most)) {}
  /// The owner: for each block b, prepare(b), then fn(b, begin, end) over pieces of its items
  /// (the rest the helpers take), then waits for the helpers' pieces of b.
  template <class Prepare, class Fn>
  void run(const Prepare& prepare, const Fn& fn) {
    for (int64_t blk = 0; blk < blocks_; ++blk) {
      prepare(blk);
      done_.store(0, std::memory_order_relaxed);
      state_.store(encode(blk, 0, items_), std::memory_order_release);
      int64_t b, e;
      while (take(true, blk, b, e)) {
        fn(blk, b, e);
        done_.fetch_add(e - b, std::memory_order_relaxed);
      }
      wait_until([&] { return done_.load(std::memory_order_acquire) >= items_; });
    }
    state_.store(encode(blocks_, 0, 0), std::memory_order_release);
  }
  /// A helper: fn(b, begin, end) over pieces from the back of the block being worked on, until
  /// the owner has finished its last block.
  template <class Fn>
  void help(const Fn& fn) {
    int64_t blk = 0;
    wait_until([&] {
      blk = int64_t(state_.load(std::memory_order_acquire) >> 40);
      int64_t b, e;
      if (blk < blocks_ && take(false, blk, b, e)) {
        fn(blk, b, e);
        done_.fetch_add(e - b, std::memory_order_release);
      }
      return blk >= blocks_;
    });
  }

 private:
  // Spins until ready() (which may do work); with more threads than cores the thread it waits
  // for may need this core, so after a while it yields between tries.
  template <class Ready>
  static void wait_until(const Ready& ready) {
    for (int tries = 0; !ready(); ++tries)
      if (tries > 4096) std::this_thread::yield();
  }
  static uint64_t encode(int64_t blk, int64_t lo, int64_t hi) {
    return uint64_t(blk) << 40 | uint64_t(lo) << 20 | uint64_t(hi);
  }
  // A piece of block blk's items not yet taken, from the front or the back; false when none
  // is left (or another block is being worked on).
  bool take(bool front, int64_t blk, int64_t& b, int64_t& e) {
    uint64_t s = state_.load(std::memory_order_acquire);
    for (;;) {
      const int64_t lo = int64_t(s >> 20 & 0xfffff), hi = int64_t(s & 0xfffff);
      if (int64_t(s >> 40) != blk || lo >= hi) return false;
      const int64_t n = piece_size(hi - lo, false, most_);
      b = front ? lo : hi - n;
      e = b + n;
      const uint64_t next = front ? encode(blk, e, hi) : encode(blk, lo, b);
      if (state_.compare_exchange_weak(s, next, std::memory_order_acq_rel)) return true;
    }
  }
  const int64_t blocks_, items_, most_;
  alignas(64) std::atomic<uint64_t> state_{0};  // block << 40 | front << 20 | back
  alignas(64) std::atomic<int64_t> done_{0};    // items of the block finished
};

/// Runs the product C[M,N] = op(A)·op(B) (+ beta C) as one call of `call`, or — with OpenMP,
/// outside a parallel region and for at least 2^18 multiply-adds — as one call per thread on a
/// slab of the larger output dimension (multiples of 16 wide). `call(ta, tb, M, N, K, A, B, C)`
/// receives the slab's sizes and shifted pointers; leading dimensions are unchanged.
template <class T, class Call>
void split_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda,
                const T* B, int64_t ldb, T* C, int64_t ldc, Call call) {
  const int nt = max_threads();
  if (nt <= 1 || double(M) * double(N) * double(K) < double(1 << 18)) {
    call(ta, tb, M, N, K, A, B, C);
    return;
  }
  const bool by_cols = N >= M;
  const int64_t D = by_cols ? N : M;
  int64_t parts = D / 16;
  if (parts > nt) parts = nt;
  if (parts < 1) parts = 1;
#ifdef DL_WITH_OPENMP
#pragma omp parallel for schedule(static) num_threads(int(parts))
#endif
  for (int64_t t = 0; t < parts; ++t) {
    const int64_t d0 = (t * D / parts) / 16 * 16;
    const int64_t d1 = t + 1 == parts ? D : ((t + 1) * D / parts) / 16 * 16;
    if (d1 <= d0) continue;
    if (by_cols) {  // columns d0..d1 of C need columns d0..d1 of op(B)
      call(ta, tb, M, d1 - d0, K, A, tb ? B + d0 * ldb : B + d0, C + d0);
    } else {  // rows d0..d1 of C need rows d0..d1 of op(A)
      call(ta, tb, d1 - d0, N, K, ta ? A + d0 : A + d0 * lda, B, C + d0 * ldc);
    }
  }
}

}  // namespace dl::kernels::detail
