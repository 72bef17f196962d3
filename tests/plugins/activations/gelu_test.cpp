// gelu: both PyTorch variants (erf and tanh) against double formulas, flags, attributes.
#include "support/gradcheck.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

namespace plexus::test {
namespace {

// approximate = "none": dst = x Phi(x) = 0.5 x (1 + erf(x / sqrt 2)).
std::vector<double> gelu_erf_ref(const RefArgs& a) {
  std::vector<double> dst(a.src[0]);
  for (double& x : dst) x = 0.5 * x * (1 + std::erf(x / std::numbers::sqrt2));
  return dst;
}

// approximate = "tanh": dst = 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).
std::vector<double> gelu_tanh_ref(const RefArgs& a) {
  const double k = std::sqrt(2 / std::numbers::pi);
  std::vector<double> dst(a.src[0]);
  for (double& x : dst) x = 0.5 * x * (1 + std::tanh(k * (x + 0.044715 * x * x * x)));
  return dst;
}

// GELU is smooth: U(-4, 4) covers both tails and the bend near 0.
void fill_wide(size_t, std::span<float> v, std::mt19937& rng) { fill_uniform(v, rng, -4.f, 4.f); }

OpCase gelu_case(const std::string& approximate, Shape s, uint32_t seed = 42) {
  OpCase c{.op = "gelu",
           .inputs = {s},
           .reference = approximate == "tanh" ? RefForward(gelu_tanh_ref) : RefForward(gelu_erf_ref),
           .fill = fill_wide,
           .seed = seed};
  if (!approximate.empty()) c.attrs = {{"approximate", AttrValue(approximate)}};
  return c;
}

TEST(Gelu, ErfGradcheckAndReference) {
  const OpCase cases[] = {gelu_case("none", {1, 1}),  gelu_case("none", {1, 7}),        gelu_case("none", {3, 5}),
                          gelu_case("none", {17, 13}, 3), gelu_case("none", {2, 3, 4, 5}), gelu_case("none", {9}),
                          gelu_case("", {4, 6}, 11)};  // the default is "none"
  for (const OpCase& c : cases) check_op(c);
}

TEST(Gelu, TanhGradcheckAndReference) {
  const OpCase cases[] = {gelu_case("tanh", {1, 1}),      gelu_case("tanh", {1, 7}), gelu_case("tanh", {3, 5}),
                          gelu_case("tanh", {17, 13}, 3), gelu_case("tanh", {2, 3, 4, 5}),
                          gelu_case("tanh", {1, 3, 5, 7}, 9)};
  for (const OpCase& c : cases) check_op(c);
}

// The two variants differ by up to 4.7e-4 (at |x| = 2.7), so each must pick its own formula.
TEST(Gelu, VariantsAreDistinct) {
  const OpKernel& k = builtin_registry().op("gelu");
  const Shape in[] = {Shape{1, 1}};
  const Tensor x = Tensor::from({1, 1}, std::vector<float>{-2.7f});
  auto run = [&](const std::string& a) {
    auto inst = k.create("g", k.resolve_attrs({{"approximate", AttrValue(a)}}, "g"), in);
    return inst->forward(std::vector<Tensor>{x}, {}, true).data()[0];
  };
  RefArgs ref;
  ref.src = {{-2.7}};
  EXPECT_NEAR(run("none"), gelu_erf_ref(ref)[0], 1e-6);
  EXPECT_NEAR(run("tanh"), gelu_tanh_ref(ref)[0], 1e-6);
  EXPECT_GT(std::abs(gelu_erf_ref(ref)[0] - gelu_tanh_ref(ref)[0]), 1e-4);
}

TEST(Gelu, DeclaresWhatBackwardReads) {
  const OpKernel& k = builtin_registry().op("gelu");
  EXPECT_EQ(k.kind(), PLX_KIND_ACTIVATION);
  EXPECT_EQ(k.desc().flags, uint32_t{PLX_OP_SAVES_SRC | PLX_OP_LAYOUTS});
  ASSERT_EQ(k.desc().attr_count, 1u);
  EXPECT_STREQ(k.desc().attrs[0].name, "approximate");
  EXPECT_STREQ(k.desc().attrs[0].default_value.as.str, "none");
}

TEST(Gelu, UnknownApproximationListsTheKnownOnes) {
  const OpKernel& k = builtin_registry().op("gelu");
  const Shape in[] = {Shape{2, 3}};
  expect_error(
      [&] { k.infer("g_bad", k.resolve_attrs({{"approximate", AttrValue(std::string("erf"))}}, "g_bad"), in); },
      ErrorCode::kInvalid, {"g_bad", "approximate", "'erf'", "none", "tanh"});
}

}  // namespace
}  // namespace plexus::test
