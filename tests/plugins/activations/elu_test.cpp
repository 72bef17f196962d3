// elu: gradients and reference on several shapes and alphas, flags, attributes.
#include "support/gradcheck.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace plexus::test {
namespace {

// dst = x if x > 0, else alpha (e^x - 1).
RefForward elu_ref(double alpha) {
  return [alpha](const RefArgs& a) {
    std::vector<double> dst(a.src[0]);
    for (double& x : dst) x = x > 0 ? x : alpha * std::expm1(x);
    return dst;
  };
}

// |x| in [0.1, 3] with a random sign: the derivative jumps at 0 unless alpha = 1.
void fill_wide_away_from_zero(size_t, std::span<float> v, std::mt19937& rng) {
  std::uniform_real_distribution<float> mag(0.1f, 3.f);
  std::bernoulli_distribution sign(0.5);
  for (float& x : v) x = sign(rng) ? mag(rng) : -mag(rng);
}

OpCase elu_case(Shape s, double alpha = 1.0, uint32_t seed = 42) {
  return {.op = "elu",
          .attrs = {{"alpha", AttrValue(alpha)}},
          .inputs = {s},
          .reference = elu_ref(alpha),
          .fill = fill_wide_away_from_zero,
          .seed = seed};
}

TEST(Elu, GradcheckAndReference) {
  const OpCase cases[] = {elu_case({1, 1}),       elu_case({1, 7}),          elu_case({3, 5}),
                          elu_case({17, 13}, 1.0, 3), elu_case({2, 3, 4, 5}), elu_case({1, 3, 5, 7}, 0.5),
                          elu_case({9}, 2.0),     elu_case({4, 6}, 0.0),     elu_case({3, 7}, 1.7, 7)};
  for (const OpCase& c : cases) check_op(c);
}

// With alpha = 1 the derivative is continuous at 0, so plain U(-1, 1) inputs work too.
TEST(Elu, SmoothAtZeroWithUnitAlpha) {
  check_op({.op = "elu", .inputs = {Shape{5, 11}}, .reference = elu_ref(1.0), .seed = 5});
}

TEST(Elu, DeclaresWhatBackwardReads) {
  const OpKernel& k = builtin_registry().op("elu");
  EXPECT_EQ(k.kind(), PLX_KIND_ACTIVATION);
  EXPECT_EQ(k.desc().flags, uint32_t{PLX_OP_SAVES_DST | PLX_OP_LAYOUTS});
  ASSERT_EQ(k.desc().attr_count, 1u);
  EXPECT_STREQ(k.desc().attrs[0].name, "alpha");
  EXPECT_EQ(k.desc().attrs[0].default_value.as.f64, 1.0);
  const Shape in[] = {Shape{4, 3, 2}};
  EXPECT_EQ(k.infer("act", k.resolve_attrs({}, "act"), in).dst, (Shape{4, 3, 2}));
}

// The dst-based backward only works for alpha >= 0 (oneDNN's rule for elu_use_dst_for_bwd).
TEST(Elu, RejectsNegativeAlpha) {
  const OpKernel& k = builtin_registry().op("elu");
  const Shape in[] = {Shape{2, 3}};
  expect_error([&] { k.infer("elu_neg", k.resolve_attrs({{"alpha", AttrValue(-0.5)}}, "elu_neg"), in); },
               ErrorCode::kInvalid, {"elu_neg", "alpha", ">= 0", "-0.5"});
}

}  // namespace
}  // namespace plexus::test
