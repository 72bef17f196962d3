// rmsprop: declaration, 100 steps against the formula in double (defaults and
// non-default tau and delta), element ranges.
#include "support/optim_check.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace plexus::test {
namespace {

OptimReference rmsprop(double tau, double delta) {
  return [=](int64_t, double lr, double g, double& theta, std::span<double> state) {
    double& r = state[0];
    r = tau * r + (1.0 - tau) * g * g;
    theta -= lr * g / (delta + std::sqrt(r));
  };
}

std::vector<OptimCase> cases() {
  return {
      {.optimizer = "rmsprop", .hparams = {}, .reference = rmsprop(0.99, 1e-8), .lr = 0.01},
      {.optimizer = "rmsprop", .hparams = {{"tau", AttrValue(0.9)}, {"delta", AttrValue(0.1)}},
       .reference = rmsprop(0.9, 0.1), .lr = 0.02, .seed = 2},
      {.optimizer = "rmsprop", .hparams = {{"tau", AttrValue(0.0)}}, .reference = rmsprop(0.0, 1e-8), .lr = 0.01,
       .seed = 3},
  };
}

TEST(Rmsprop, Declaration) {
  check_declaration("rmsprop", "r <- tau r + (1 - tau) g*g; theta <- theta - lr g / (delta + sqrt(r))", {"r"},
                    {{"tau", AttrValue(0.99)}, {"delta", AttrValue(1e-8)}});
}

TEST(Rmsprop, DefaultsMatchReference) { check_reference(cases()[0]); }
TEST(Rmsprop, NonDefaultTauAndDeltaMatchReference) { check_reference(cases()[1]); }
TEST(Rmsprop, TauZeroMatchesReference) { check_reference(cases()[2]); }

TEST(Rmsprop, RangeSplitsAreBitIdentical) {
  for (const OptimCase& c : cases()) check_ranges(c);
}

TEST(Rmsprop, RejectsOutOfRangeHyperparameters) {
  check_rejects("rmsprop", {{"tau", AttrValue(1.0)}}, {"rmsprop", "'tau' must be in [0, 1), found 1"});
  check_rejects("rmsprop", {{"delta", AttrValue(-1e-8)}}, {"'delta' must be > 0, found -1e-08"});
}

}  // namespace
}  // namespace plexus::test
