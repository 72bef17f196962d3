// The W1/W2 bound (tools/bench/bound.hpp) trains for real, times, and names
// unknown workloads. No wall-clock assertions.
#include "bound.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace plexus::bench {
namespace {

TEST(BoundTest, ListsItsWorkloads) {
  EXPECT_EQ(bound_workloads(), (std::vector<std::string>{"mlp", "lenet"}));
}

TEST(BoundTest, TrainingLowersTheLoss) {
  for (const std::string& w : bound_workloads()) {
    const double ratio = bound_check(w);
    EXPECT_GT(ratio, 0.0) << w;
    EXPECT_LT(ratio, 0.5) << w << ": loss last/first after 30 steps";
  }
}

TEST(BoundTest, TimesEveryRepeat) {
  for (const std::string& w : bound_workloads()) {
    const BoundTiming t = run_bound(w, 1, /*repeats=*/2, /*steps=*/3, /*warmup=*/1);
    EXPECT_EQ(t.workload, w);
    EXPECT_EQ(t.threads, 1);
    ASSERT_EQ(t.ms_per_step.size(), 2u) << w;
    for (double ms : t.ms_per_step) EXPECT_GT(ms, 0.0) << w;
    EXPECT_LE(t.min_ms, t.median_ms);
    EXPECT_LE(t.median_ms, t.max_ms);
  }
}

TEST(BoundTest, UnknownWorkloadIsNamed) {
  try {
    run_bound("resnet50", 1, 1, 1, 0);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("resnet50"), std::string::npos) << msg;
    EXPECT_NE(msg.find("mlp"), std::string::npos) << msg;
  }
  EXPECT_THROW(bound_check("resnet50"), std::invalid_argument);
}

}  // namespace
}  // namespace plexus::bench
