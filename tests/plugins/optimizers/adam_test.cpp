// adam: declaration, 100 steps against the formula in double (bias correction
// from the first step, amsgrad off and on, non-default values), element ranges.
#include "support/optim_check.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace plexus::test {
namespace {

OptimReference adam(double b1, double b2, double delta, bool amsgrad) {
  return [=](int64_t t, double lr, double g, double& theta, std::span<double> state) {
    double &m1 = state[0], &m2 = state[1], &v_max = state[2];
    m1 = b1 * m1 + (1.0 - b1) * g;
    m2 = b2 * m2 + (1.0 - b2) * g * g;
    if (amsgrad) v_max = std::max(v_max, m2);
    const double m1h = m1 / (1.0 - std::pow(b1, t + 1.0));
    const double m2h = (amsgrad ? v_max : m2) / (1.0 - std::pow(b2, t + 1.0));
    theta -= lr * m1h / (delta + std::sqrt(m2h));
  };
}

AttrMap hp(double b1, double b2, double delta, bool amsgrad) {
  return {{"b1", AttrValue(b1)}, {"b2", AttrValue(b2)}, {"delta", AttrValue(delta)}, {"amsgrad", AttrValue(amsgrad)}};
}

std::vector<OptimCase> cases() {
  return {
      {.optimizer = "adam", .hparams = {}, .reference = adam(0.9, 0.999, 1e-8, false)},
      {.optimizer = "adam", .hparams = {{"amsgrad", AttrValue(true)}}, .reference = adam(0.9, 0.999, 1e-8, true),
       .seed = 2},
      {.optimizer = "adam", .hparams = hp(0.8, 0.95, 1e-3, false), .reference = adam(0.8, 0.95, 1e-3, false),
       .lr = 0.02, .seed = 3},
      {.optimizer = "adam", .hparams = hp(0.5, 0.9, 1e-6, true), .reference = adam(0.5, 0.9, 1e-6, true), .lr = 0.1,
       .seed = 4},
      {.optimizer = "adam", .hparams = hp(0.0, 0.0, 1e-8, false), .reference = adam(0.0, 0.0, 1e-8, false),
       .lr = 0.01, .seed = 5},
  };
}

TEST(Adam, Declaration) {
  check_declaration("adam",
                    "m1 <- b1 m1 + (1 - b1) g; m2 <- b2 m2 + (1 - b2) g*g; m1h = m1 / (1 - b1^(t+1)); "
                    "m2h = m2 / (1 - b2^(t+1)); theta <- theta - lr m1h / (delta + sqrt(m2h))",
                    {"m1", "m2", "v_max"},
                    {{"b1", AttrValue(0.9)}, {"b2", AttrValue(0.999)}, {"delta", AttrValue(1e-8)},
                     {"amsgrad", AttrValue(false)}});
}

TEST(Adam, DefaultsMatchReference) { check_reference(cases()[0]); }
TEST(Adam, AmsgradMatchesReference) { check_reference(cases()[1]); }
TEST(Adam, NonDefaultBetasAndDeltaMatchReference) { check_reference(cases()[2]); }
TEST(Adam, NonDefaultAmsgradMatchesReference) { check_reference(cases()[3]); }
TEST(Adam, ZeroBetasMatchReference) { check_reference(cases()[4]); }

TEST(Adam, RangeSplitsAreBitIdentical) {
  for (const OptimCase& c : cases()) check_ranges(c);
}

TEST(Adam, RejectsOutOfRangeHyperparameters) {
  check_rejects("adam", {{"b1", AttrValue(1.0)}}, {"adam", "'b1' must be in [0, 1), found 1"});
  check_rejects("adam", {{"b2", AttrValue(-0.1)}}, {"'b2' must be in [0, 1), found -0.1"});
  check_rejects("adam", {{"delta", AttrValue(0.0)}}, {"'delta' must be > 0, found 0"});
}

}  // namespace
}  // namespace plexus::test
