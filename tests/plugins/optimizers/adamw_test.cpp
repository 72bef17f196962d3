// adamw: declaration, 100 steps against the formula in double (decoupled
// weight decay, amsgrad off and on, non-default values), element ranges, and
// wd = 0 reproducing adam bit for bit.
#include "support/optim_check.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace plexus::test {
namespace {

OptimReference adamw(double b1, double b2, double delta, bool amsgrad, double wd) {
  return [=](int64_t t, double lr, double g, double& theta, std::span<double> state) {
    double &m1 = state[0], &m2 = state[1], &v_max = state[2];
    theta -= lr * wd * theta;
    m1 = b1 * m1 + (1.0 - b1) * g;
    m2 = b2 * m2 + (1.0 - b2) * g * g;
    if (amsgrad) v_max = std::max(v_max, m2);
    const double m1h = m1 / (1.0 - std::pow(b1, t + 1.0));
    const double m2h = (amsgrad ? v_max : m2) / (1.0 - std::pow(b2, t + 1.0));
    theta -= lr * m1h / (delta + std::sqrt(m2h));
  };
}

AttrMap hp(double b1, double b2, double delta, bool amsgrad, double wd) {
  return {{"b1", AttrValue(b1)},           {"b2", AttrValue(b2)}, {"delta", AttrValue(delta)},
          {"amsgrad", AttrValue(amsgrad)}, {"wd", AttrValue(wd)}};
}

std::vector<OptimCase> cases() {
  return {
      {.optimizer = "adamw", .hparams = {}, .reference = adamw(0.9, 0.999, 1e-8, false, 0.01)},
      {.optimizer = "adamw", .hparams = {{"amsgrad", AttrValue(true)}},
       .reference = adamw(0.9, 0.999, 1e-8, true, 0.01), .seed = 2},
      {.optimizer = "adamw", .hparams = hp(0.8, 0.95, 1e-3, false, 0.5),
       .reference = adamw(0.8, 0.95, 1e-3, false, 0.5), .lr = 0.02, .seed = 3},
      {.optimizer = "adamw", .hparams = hp(0.5, 0.9, 1e-6, true, 2.0), .reference = adamw(0.5, 0.9, 1e-6, true, 2.0),
       .lr = 0.1, .seed = 4},
      {.optimizer = "adamw", .hparams = {{"wd", AttrValue(0.0)}}, .reference = adamw(0.9, 0.999, 1e-8, false, 0.0),
       .seed = 5},
  };
}

TEST(Adamw, Declaration) {
  check_declaration("adamw",
                    "theta <- theta - lr wd theta, then the Adam step m1 <- b1 m1 + (1 - b1) g; "
                    "m2 <- b2 m2 + (1 - b2) g*g; m1h = m1 / (1 - b1^(t+1)); m2h = m2 / (1 - b2^(t+1)); "
                    "theta <- theta - lr m1h / (delta + sqrt(m2h))",
                    {"m1", "m2", "v_max"},
                    {{"b1", AttrValue(0.9)}, {"b2", AttrValue(0.999)}, {"delta", AttrValue(1e-8)},
                     {"amsgrad", AttrValue(false)}, {"wd", AttrValue(0.01)}});
}

TEST(Adamw, DefaultsMatchReference) { check_reference(cases()[0]); }
TEST(Adamw, AmsgradMatchesReference) { check_reference(cases()[1]); }
TEST(Adamw, NonDefaultValuesMatchReference) { check_reference(cases()[2]); }
TEST(Adamw, NonDefaultAmsgradMatchesReference) { check_reference(cases()[3]); }
TEST(Adamw, NoDecayMatchesReference) { check_reference(cases()[4]); }

TEST(Adamw, RangeSplitsAreBitIdentical) {
  for (const OptimCase& c : cases()) check_ranges(c);
}

TEST(Adamw, WithoutDecayIsAdamBitForBit) {
  const OptimizerKernel& adam = builtin_registry().optimizer("adam");
  const OptimizerKernel& adamw = builtin_registry().optimizer("adamw");
  const AttrMap common{{"b1", AttrValue(0.7)}, {"amsgrad", AttrValue(true)}};
  AttrMap no_decay = common;
  no_decay["wd"] = AttrValue(0.0);
  Tensor p = random_tensor({37}, 11), q = p.clone();
  std::vector<Tensor> sp = optim_detail::fresh_state(adam, p.shape()), sq = optim_detail::fresh_state(adamw, q.shape());
  for (int64_t t = 0; t < 10; ++t) {
    const Tensor g = random_tensor({37}, 100 + static_cast<uint64_t>(t));
    adam.step("w", t, 0.01, adam.resolve_hparams(common), p, g, sp, 0, 37);
    adamw.step("w", t, 0.01, adamw.resolve_hparams(no_decay), q, g, sq, 0, 37);
  }
  EXPECT_TRUE(same_bits(p, q));
  ASSERT_EQ(sp.size(), sq.size());
  for (size_t j = 0; j < sp.size(); ++j) EXPECT_TRUE(same_bits(sp[j], sq[j])) << "state " << j;
}

TEST(Adamw, RejectsNegativeDecay) {
  check_rejects("adamw", {{"wd", AttrValue(-0.01)}}, {"adamw", "'wd' must be >= 0, found -0.01"});
  check_rejects("adamw", {{"b1", AttrValue(1.5)}}, {"adamw", "'b1' must be in [0, 1), found 1.5"});
}

}  // namespace
}  // namespace plexus::test
