// Experiment 3 (reduced): (1 - w2 w1)^2 is neither convex nor concave; SGD
// reaches the hyperbola w1 w2 = 1 from every start but (0, 0), where the
// gradient is exactly zero.
#include "experiment_support.hpp"

#include <cmath>

namespace plexus {
namespace {

TEST(Toy, MidpointChecksSgdToTheHyperbolaAndStuckAtTheSaddle) {
  const experiments::Options o = test::reduced_options();
  const experiments::ToyResult r = experiments::run_toy(o);
  EXPECT_DOUBLE_EQ(r.midpoint_convex_gap, 1.0);   // L(0,0) = 1 above L(1,1) = L(-1,-1) = 0
  EXPECT_DOUBLE_EQ(r.midpoint_concave_gap, 5.0);  // L(1,1) = 0 below (L(0,0) + L(2,2)) / 2 = 5
  ASSERT_GE(r.runs.size(), 3u);
  for (size_t i = 0; i + 1 < r.runs.size(); ++i) {
    const auto& run = r.runs[i];
    EXPECT_LT(run.loss, 1e-6) << "from (" << run.w1_start << ", " << run.w2_start << ")";
    EXPECT_NEAR(run.w1 * run.w2, 1.0, 1e-3);
  }
  const auto& saddle = r.runs.back();
  ASSERT_EQ(saddle.w1_start, 0.0);
  ASSERT_EQ(saddle.w2_start, 0.0);
  EXPECT_EQ(saddle.w1, 0.0);
  EXPECT_EQ(saddle.w2, 0.0);
  EXPECT_EQ(saddle.loss, 1.0);
  test::expect_outputs(o.out_dir, {"toy.csv", "toy_trajectories.csv", "toy.svg", "report.html"});
}

}  // namespace
}  // namespace plexus
