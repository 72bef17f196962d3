// adagrad: declaration, 100 steps against the formula in double (default and
// non-default delta), element ranges.
#include "support/optim_check.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace plexus::test {
namespace {

OptimReference adagrad(double delta) {
  return [=](int64_t, double lr, double g, double& theta, std::span<double> state) {
    double& r = state[0];
    r += g * g;
    theta -= lr * g / (delta + std::sqrt(r));
  };
}

std::vector<OptimCase> cases() {
  return {
      {.optimizer = "adagrad", .hparams = {}, .reference = adagrad(1e-10)},
      {.optimizer = "adagrad", .hparams = {{"delta", AttrValue(0.5)}}, .reference = adagrad(0.5), .lr = 0.2,
       .seed = 2},
  };
}

TEST(Adagrad, Declaration) {
  check_declaration("adagrad", "r <- r + g*g; theta <- theta - lr g / (delta + sqrt(r))", {"r"},
                    {{"delta", AttrValue(1e-10)}});
}

TEST(Adagrad, DefaultsMatchReference) { check_reference(cases()[0]); }
TEST(Adagrad, NonDefaultDeltaMatchesReference) { check_reference(cases()[1]); }

TEST(Adagrad, RangeSplitsAreBitIdentical) {
  for (const OptimCase& c : cases()) check_ranges(c);
}

TEST(Adagrad, RejectsNonPositiveDelta) {
  check_rejects("adagrad", {{"delta", AttrValue(0.0)}}, {"adagrad", "'delta' must be > 0, found 0"});
}

}  // namespace
}  // namespace plexus::test
