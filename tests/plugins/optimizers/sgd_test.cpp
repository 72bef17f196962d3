// sgd: the update formula in double, one and several steps, element ranges.
#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace plexus::test {
namespace {

Tensor random_tensor(const Shape& s, std::mt19937& rng) {
  Tensor t = Tensor::empty(s);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  for (float& x : t.span()) x = d(rng);
  return t;
}

TEST(Sgd, Declaration) {
  const OptimizerKernel& sgd = builtin_registry().optimizer("sgd");
  EXPECT_EQ(sgd.desc().flags, uint32_t{PLX_OPT_ELEMENTWISE});
  EXPECT_EQ(sgd.desc().state_count, 0u);
  EXPECT_EQ(sgd.desc().hparam_count, 0u);
  EXPECT_NE(std::string(sgd.desc().doc).find("theta_i <- theta_i - lr g_i"), std::string::npos);
}

TEST(Sgd, OneStepMatchesFormula) {
  const OptimizerKernel& sgd = builtin_registry().optimizer("sgd");
  std::mt19937 rng(1);
  for (const Shape& s : {Shape{1}, Shape{7}, Shape{3, 5}, Shape{17, 13}}) {
    Tensor p = random_tensor(s, rng);
    const Tensor g = random_tensor(s, rng), p0 = p.clone();
    sgd.step("w", 0, 0.25, sgd.resolve_hparams({}), p, g, {}, 0, p.numel());
    for (int64_t i = 0; i < p.numel(); ++i)
      EXPECT_NEAR(p.data()[i], double{p0.data()[i]} - 0.25 * g.data()[i], 1e-7) << s.str() << " " << i;
  }
}

TEST(Sgd, SeveralStepsMatchDoubleReference) {
  const OptimizerKernel& sgd = builtin_registry().optimizer("sgd");
  const ResolvedAttrs h = sgd.resolve_hparams({});
  std::mt19937 rng(2);
  Tensor p = random_tensor({4, 6}, rng);
  std::vector<double> ref(p.data(), p.data() + p.numel());
  const double lrs[] = {0.1, 0.05, 0.5, 0.01, 1.0};
  for (int64_t t = 0; t < 5; ++t) {
    const Tensor g = random_tensor({4, 6}, rng);
    sgd.step("fc.weights", t, lrs[t], h, p, g, {}, 0, p.numel());
    for (size_t i = 0; i < ref.size(); ++i) ref[i] -= lrs[t] * g.data()[i];
  }
  for (size_t i = 0; i < ref.size(); ++i) EXPECT_NEAR(p.data()[i], ref[i], 1e-6) << i;
}

TEST(Sgd, OnlyTheGivenRangeChanges) {
  const OptimizerKernel& sgd = builtin_registry().optimizer("sgd");
  std::mt19937 rng(3);
  Tensor p = random_tensor({10}, rng);
  const Tensor g = Tensor::full({10}, 1.f), p0 = p.clone();
  sgd.step("w", 0, 0.5, sgd.resolve_hparams({}), p, g, {}, 3, 7);
  for (int64_t i = 0; i < 10; ++i) {
    if (i >= 3 && i < 7)
      EXPECT_NEAR(p.data()[i], double{p0.data()[i]} - 0.5, 1e-7) << i;
    else
      EXPECT_EQ(p.data()[i], p0.data()[i]) << i;
  }
  sgd.step("w", 1, 0.5, sgd.resolve_hparams({}), p, g, {}, 5, 5);  // an empty range is a no-op
  EXPECT_NEAR(p.data()[5], double{p0.data()[5]} - 0.5, 1e-7);
}

TEST(Sgd, BadRangeIsAnErrorNamingTheParameter) {
  const OptimizerKernel& sgd = builtin_registry().optimizer("sgd");
  Tensor p = Tensor::zeros({4});
  const Tensor g = Tensor::zeros({4});
  try {
    sgd.step("fc1.bias", 0, 0.1, sgd.resolve_hparams({}), p, g, {}, 2, 9);
    FAIL() << "expected plexus::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fc1.bias"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[2, 9)"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace plexus::test
