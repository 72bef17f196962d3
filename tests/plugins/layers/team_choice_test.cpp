// linear_direct::TeamChoice: which way a direct loop runs (split over the
// OpenMP team or on the calling thread), decided by timing both ways. The
// bodies here take known, very different times (a sleep on one side), so the
// faster way is known in advance.
#include "layers/linear_direct.hpp"

#include <gtest/gtest.h>
#include <omp.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace plexus::plugins::linear_direct {
namespace {

using std::chrono::microseconds;

constexpr int64_t kBig = TeamChoice::kTryMacs;  // the smallest call that is timed
constexpr int kDecidedAfter = TeamChoice::kWarm + TeamChoice::kTrials;

// Sets the OpenMP team size for the test's scope.
class Team {
 public:
  explicit Team(int n) : saved_(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~Team() { omp_set_num_threads(saved_); }
  Team(const Team&) = delete;
  Team& operator=(const Team&) = delete;

 private:
  int saved_;
};

// Runs `calls` calls; a call that splits sleeps `split_us`, one that does not
// sleeps `one_us`. Returns the way each call went, in order.
std::vector<bool> drive(const TeamChoice& choice, int calls, int one_us, int split_us) {
  std::vector<bool> ways;
  for (int i = 0; i < calls; ++i)
    choice.run([&](bool split) {
      ways.push_back(split);
      std::this_thread::sleep_for(microseconds(split ? split_us : one_us));
    });
  return ways;
}

TEST(TeamChoice, WarmsUpSplitThenAlternatesThenKeepsTheFasterWay) {
  const Team team(2);
  for (const bool split_faster : {false, true}) {
    SCOPED_TRACE(split_faster ? "split faster" : "one thread faster");
    const TeamChoice choice(kBig);
    EXPECT_EQ(choice.decided(), -1);
    const std::vector<bool> ways = drive(choice, kDecidedAfter + 10, split_faster ? 2000 : 0, split_faster ? 0 : 2000);
    for (int i = 0; i < TeamChoice::kWarm; ++i) EXPECT_TRUE(ways[i]) << "warm-up call " << i;
    for (int i = 0; i < TeamChoice::kTrials; ++i)
      EXPECT_EQ(ways[TeamChoice::kWarm + i], i % 2 == 1) << "trial " << i;
    EXPECT_EQ(choice.decided(), split_faster ? 1 : 0);
    for (int i = kDecidedAfter; i < kDecidedAfter + 10; ++i) EXPECT_EQ(ways[i], split_faster) << "call " << i;
  }
}

// A split must win by kSplitGain: in a near tie the call stays on one
// thread (a split also takes the other core). 1.95 ms against 2 ms is 0.975
// of it; 1 ms against 2 ms is a clear win.
TEST(TeamChoice, ANearTieStaysOnOneThread) {
  const Team team(2);
  const TeamChoice tie(kBig);
  drive(tie, kDecidedAfter, 2000, 1950);
  EXPECT_EQ(tie.decided(), 0);
  const TeamChoice win(kBig);
  drive(win, kDecidedAfter, 2000, 1000);
  EXPECT_EQ(win.decided(), 1);
}

// A median decides: one slow outlier among the faster way's trials (a
// preempted call) does not flip the choice.
TEST(TeamChoice, OneSlowTrialDoesNotDecide) {
  const Team team(2);
  const TeamChoice choice(kBig);
  int trial = 0;
  for (int i = 0; i < kDecidedAfter; ++i)
    choice.run([&](bool split) {
      if (i < TeamChoice::kWarm) return;
      const bool outlier = trial++ == 1;  // the first split trial
      std::this_thread::sleep_for(microseconds(outlier ? 20000 : (split ? 0 : 2000)));
    });
  EXPECT_EQ(choice.decided(), 1);
}

TEST(TeamChoice, SmallCallsOneThreadTeamsNeverSplit) {
  {
    const Team team(2);
    const TeamChoice small(kBig - 1);
    for (bool way : drive(small, kDecidedAfter + 4, 0, 0)) EXPECT_FALSE(way);
    EXPECT_EQ(small.decided(), -1);
  }
  {
    const Team team(1);
    const TeamChoice big(kBig);
    for (bool way : drive(big, kDecidedAfter + 4, 0, 0)) EXPECT_FALSE(way);
    EXPECT_EQ(big.decided(), -1);
  }
}

// Calls from several threads at once (forward is const and may run
// concurrently): each trial slot is used once and the choice is made once.
TEST(TeamChoice, ConcurrentCallsShareTheTrials) {
  const Team team(2);
  const TeamChoice choice(kBig);
  std::atomic<int> one{0}, split{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      omp_set_num_threads(2);  // a new thread starts from the default team size
      for (int i = 0; i < 30; ++i)
        choice.run([&](bool s) {
          ++(s ? split : one);
          std::this_thread::sleep_for(microseconds(s ? 1500 : 0));
        });
    });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(choice.decided(), 0);
  EXPECT_EQ(one + split, 120);
  EXPECT_GE(one, TeamChoice::kTrials / 2);
  EXPECT_GE(split, TeamChoice::kWarm + TeamChoice::kTrials / 2);
}

}  // namespace
}  // namespace plexus::plugins::linear_direct
