// test_shared_loop.cpp — detail::SharedLoop, the loop whose threads help each other with their
// shares (workspace.h): every item is handed out exactly once, a share's own thread walks it
// from the front, and a thread with nothing left takes from the back of a slower one's share.
// And detail::BlockLoop, one thread's blocks of the same items that others help with: every
// item of every block runs once, and item i of block b only after item i of block b - 1.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tensor/kernels/workspace.h"

namespace dl::kernels::detail {
namespace {

// A piece handed to a thread: share u, items [begin, end).
struct Piece {
  int u;
  int64_t begin, end;
};

TEST(SharedLoop, ATeamOfOneTakesItsShareInPiecesOfAtMostMost) {
  SharedLoop loop(1, 4);
  loop.set(0, 3, 13);
  std::vector<Piece> got;
  loop.run(0, [&](int u, int64_t b, int64_t e) { got.push_back({u, b, e}); });
  ASSERT_EQ(got.size(), 3u);  // 3..7, 7..11, 11..13: in order, whole pieces of 4 until the end
  EXPECT_EQ(got[0].begin, 3);
  EXPECT_EQ(got[0].end, 7);
  EXPECT_EQ(got[1].begin, 7);
  EXPECT_EQ(got[2].begin, 11);
  EXPECT_EQ(got[2].end, 13);
}

TEST(SharedLoop, EveryItemIsHandedOutOnceAcrossThreads) {
  constexpr int kThreads = 4;
  const int64_t bounds[kThreads + 1] = {0, 37, 37, 38, 200};  // an empty share, a single item
  for (int64_t most : {1, 3, 1000}) {
    SharedLoop loop(kThreads, most);
    for (int u = 0; u < kThreads; ++u) loop.set(u, bounds[u], bounds[u + 1]);
    std::vector<std::atomic<int>> seen(static_cast<size_t>(bounds[kThreads]));
    std::vector<std::thread> team;
    for (int t = 0; t < kThreads; ++t)
      team.emplace_back([&, t] {
        loop.run(t, [&](int u, int64_t b, int64_t e) {
          EXPECT_GE(b, bounds[u]);
          EXPECT_LE(e, bounds[u + 1]);
          EXPECT_LE(e - b, most);
          for (int64_t i = b; i < e; ++i) seen[size_t(i)]++;
        });
      });
    for (auto& th : team) th.join();
    for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i].load(), 1) << "item " << i;
  }
}

// Thread 1 stalls inside its first piece (the front half of its share) until thread 0 has
// finished its own share and taken a piece from the back of thread 1's: the situation of a
// core that runs slower than the other.
TEST(SharedLoop, AThreadWithNothingLeftTakesFromTheBackOfTheOthersShare) {
  SharedLoop loop(2, 1000);
  loop.set(0, 0, 4);
  loop.set(1, 4, 20);
  std::atomic<bool> started{false}, stolen{false};
  // Waits (20 s at most, so that a broken loop fails instead of hanging) until flag is set.
  auto wait_for = [](const std::atomic<bool>& flag) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!flag && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
  };
  std::vector<Piece> by[2];
  auto body = [&](int t) {
    loop.run(t, [&](int u, int64_t b, int64_t e) {
      by[t].push_back({u, b, e});
      if (t == 0 && u == 1) stolen = true;
      if (t == 1 && by[1].size() == 1) {
        started = true;
        wait_for(stolen);
      }
    });
  };
  std::thread other(body, 1);
  wait_for(started);  // thread 1 holds its first piece
  body(0);
  other.join();
  ASSERT_TRUE(stolen.load());
  ASSERT_FALSE(by[1].empty());
  EXPECT_EQ(by[1][0].u, 1);  // thread 1 started at the front of its own share: 4..12
  EXPECT_EQ(by[1][0].begin, 4);
  EXPECT_EQ(by[1][0].end, 12);
  int64_t stolen_pieces = 0;
  for (const Piece& p : by[0])
    if (p.u == 1 && stolen_pieces++ == 0) {
      EXPECT_EQ(p.begin, 16);  // half of what was left of share 1 (12..20), from the back
      EXPECT_EQ(p.end, 20);
    }
  EXPECT_GE(stolen_pieces, 1);
}

TEST(BlockLoop, TheOwnerAloneRunsEachBlockAfterPreparingIt) {
  BlockLoop loop(3, 10, 4);
  std::vector<std::string> log;
  loop.run([&](int64_t blk) { log.push_back("prepare " + std::to_string(blk)); },
           [&](int64_t blk, int64_t b, int64_t e) {
             log.push_back(std::to_string(blk) + ":" + std::to_string(b) + "-" +
                           std::to_string(e));
           });
  // Pieces of half what is left, at most 4: 0-4 (of 10), 4-7, 7-8, 8-9, 9-10.
  const std::vector<std::string> block = {"0-4", "4-7", "7-8", "8-9", "9-10"};
  std::vector<std::string> expected;
  for (int blk = 0; blk < 3; ++blk) {
    expected.push_back("prepare " + std::to_string(blk));
    for (const std::string& piece : block) expected.push_back(std::to_string(blk) + ":" + piece);
  }
  EXPECT_EQ(log, expected);
}

// The owner stalls inside its first piece of each block until the helper has taken a piece of
// that block (20 s at most, so that a broken loop fails instead of hanging): a core running
// slower than the other. Every item of every block still runs once, in block order.
TEST(BlockLoop, AHelperTakesFromTheBackAndItemsKeepTheirBlockOrder) {
  constexpr int64_t kBlocks = 4, kItems = 9;
  BlockLoop loop(kBlocks, kItems, 1000);
  std::vector<std::atomic<int64_t>> next_block(kItems);  // the block each item is due for
  std::atomic<int64_t> helped_block{-1}, helper_items{0};
  std::atomic<bool> bad_order{false};
  auto visit = [&](int64_t blk, int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      if (next_block[size_t(i)].fetch_add(1) != blk) bad_order = true;
  };
  std::thread helper([&] {
    loop.help([&](int64_t blk, int64_t b, int64_t e) {
      visit(blk, b, e);
      helper_items += e - b;
      helped_block = blk;
    });
  });
  loop.run([](int64_t) {},
           [&](int64_t blk, int64_t b, int64_t e) {
             if (b == 0) {
               const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
               while (helped_block < blk && std::chrono::steady_clock::now() < give_up)
                 std::this_thread::yield();
             }
             visit(blk, b, e);
           });
  helper.join();
  EXPECT_FALSE(bad_order.load());
  for (int64_t i = 0; i < kItems; ++i) EXPECT_EQ(next_block[size_t(i)].load(), kBlocks) << i;
  EXPECT_EQ(helped_block.load(), kBlocks - 1);
  EXPECT_GE(helper_items.load(), kBlocks);  // at least one item of each block
}

}  // namespace
}  // namespace dl::kernels::detail
