// Experiment 4 (reduced): with lr = 1/(L sqrt(N)) the mean squared full-batch
// gradient norm over N steps falls at least like N^-0.4 (theory: N^-1/2).
#include "experiment_support.hpp"

#include <cmath>

namespace plexus {
namespace {

TEST(SgdRate, MeanSquaredGradientFallsLikeOneOverSqrtN) {
  const experiments::Options o = test::reduced_options();
  const experiments::SgdRateResult r = experiments::run_sgd_rate(o);
  // L = lambda_max(X~^T X~) / (4 n), X~ = [X, 1] with 31 columns, each with
  // squared norm n (features standardized on these rows): trace / 31 <=
  // lambda_max <= trace = 31 n, so 1/4 <= L <= 31/4.
  EXPECT_GE(r.lipschitz, 0.25);
  EXPECT_LE(r.lipschitz, 7.75);
  ASSERT_GE(r.steps.size(), 3u);
  for (size_t i = 1; i < r.mean_sq_grad.size(); ++i) EXPECT_LT(r.mean_sq_grad[i], r.mean_sq_grad[i - 1]);
  EXPECT_LE(r.slope, -0.4);
  EXPECT_GE(r.slope, -1.0);  // faster than any first-order bound would be a measuring error
  test::expect_outputs(o.out_dir, {"sgd_rate.csv", "sgd_rate_traces.csv", "sgd_rate.svg", "report.html"});
}

}  // namespace
}  // namespace plexus
