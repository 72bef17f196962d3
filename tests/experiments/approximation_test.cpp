// Experiment 2 (reduced): one hidden layer of tanh units fits
// sin(2 pi a) + a/2 better as it widens, to a sup error below 0.05 at m = 64.
#include "experiment_support.hpp"

namespace plexus {
namespace {

TEST(Approximation, SupErrorFallsWithWidthAndIsSmallAt64) {
  const experiments::Options o = test::reduced_options();
  const experiments::ApproximationResult r = experiments::run_approximation(o);
  ASSERT_EQ(r.widths, (std::vector<int64_t>{2, 4, 8, 16, 64}));
  ASSERT_EQ(r.sup_error.size(), 5u);
  // Monotone within noise: no width is worse than a narrower one by more than 0.01.
  for (size_t i = 1; i < r.sup_error.size(); ++i)
    EXPECT_LE(r.sup_error[i], r.sup_error[i - 1] + 0.01) << "m = " << r.widths[i];
  EXPECT_LT(r.sup_error.back(), 0.05);
  EXPECT_LT(r.sup_error.back(), r.sup_error.front() / 10);  // the trend, not noise
  test::expect_outputs(o.out_dir, {"approximation.csv", "approximation_curves.csv", "approximation.svg", "report.html"});
}

}  // namespace
}  // namespace plexus
