// momentum: declaration, 100 steps against the formula in double for every
// option (nesterov, dampening 0 and = rho, non-default values), element ranges.
#include "support/optim_check.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace plexus::test {
namespace {

OptimReference momentum(double rho, double dampening, bool nesterov) {
  return [=](int64_t, double lr, double g, double& theta, std::span<double> state) {
    double& m = state[0];
    m = rho * m + (1.0 - dampening) * g;
    theta -= nesterov ? lr * (g + rho * m) : lr * m;
  };
}

AttrMap hp(double rho, double dampening, bool nesterov) {
  return {{"rho", AttrValue(rho)}, {"dampening", AttrValue(dampening)}, {"nesterov", AttrValue(nesterov)}};
}

std::vector<OptimCase> cases() {
  return {
      {.optimizer = "momentum", .hparams = {}, .reference = momentum(0.9, 0.0, false)},
      {.optimizer = "momentum", .hparams = {{"nesterov", AttrValue(true)}}, .reference = momentum(0.9, 0.0, true)},
      {.optimizer = "momentum", .hparams = {{"dampening", AttrValue(0.9)}}, .reference = momentum(0.9, 0.9, false),
       .lr = 0.3, .seed = 2},
      {.optimizer = "momentum", .hparams = hp(0.8, 0.8, true), .reference = momentum(0.8, 0.8, true), .lr = 0.2,
       .seed = 3},
      {.optimizer = "momentum", .hparams = hp(0.5, 0.25, false), .reference = momentum(0.5, 0.25, false), .lr = 0.1,
       .seed = 4},
      {.optimizer = "momentum", .hparams = hp(0.0, 0.0, true), .reference = momentum(0.0, 0.0, true), .seed = 5},
  };
}

TEST(Momentum, Declaration) {
  check_declaration("momentum", "m <- rho m + (1 - dampening) g; theta <- theta - lr m", {"m"},
                    {{"rho", AttrValue(0.9)}, {"dampening", AttrValue(0.0)}, {"nesterov", AttrValue(false)}});
}

TEST(Momentum, DefaultsMatchReference) { check_reference(cases()[0]); }
TEST(Momentum, NesterovMatchesReference) { check_reference(cases()[1]); }
TEST(Momentum, DampeningEqualToRhoMatchesReference) { check_reference(cases()[2]); }
TEST(Momentum, NesterovWithDampeningMatchesReference) { check_reference(cases()[3]); }
TEST(Momentum, NonDefaultRhoAndDampeningMatchReference) { check_reference(cases()[4]); }
TEST(Momentum, RhoZeroNesterovMatchesReference) { check_reference(cases()[5]); }

TEST(Momentum, RangeSplitsAreBitIdentical) {
  for (const OptimCase& c : cases()) check_ranges(c);
}

TEST(Momentum, RejectsOutOfRangeHyperparameters) {
  check_rejects("momentum", {{"rho", AttrValue(1.0)}}, {"momentum", "'rho' must be in [0, 1), found 1"});
  check_rejects("momentum", {{"dampening", AttrValue(-0.5)}}, {"'dampening' must be in [0, 1], found -0.5"});
}

}  // namespace
}  // namespace plexus::test
