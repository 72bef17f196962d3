// leaky_relu: gradients and reference on several shapes and slopes, flags, attributes.
#include "support/gradcheck.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace plexus::test {
namespace {

// dst = x if x > 0, else slope x.
RefForward leaky_relu_ref(double slope) {
  return [slope](const RefArgs& a) {
    std::vector<double> dst(a.src[0]);
    for (double& x : dst) x = x > 0 ? x : slope * x;
    return dst;
  };
}

OpCase leaky_relu_case(Shape s, double slope = 0.01, uint32_t seed = 42) {
  return {.op = "leaky_relu",
          .attrs = {{"negative_slope", AttrValue(slope)}},
          .inputs = {s},
          .reference = leaky_relu_ref(slope),
          // The kink is at 0: keep inputs at least 0.1 from it (fd_step is 0.01).
          .fill = [](size_t, std::span<float> v, std::mt19937& rng) { fill_away_from_zero(v, rng); },
          .seed = seed};
}

TEST(LeakyRelu, GradcheckAndReference) {
  const OpCase cases[] = {leaky_relu_case({1, 1}),          leaky_relu_case({1, 7}),
                          leaky_relu_case({3, 5}),          leaky_relu_case({17, 13}, 0.01, 3),
                          leaky_relu_case({2, 3, 4, 5}),    leaky_relu_case({1, 3, 5, 7}, 0.2),
                          leaky_relu_case({9}, 0.0),        leaky_relu_case({4, 6}, -0.5),
                          leaky_relu_case({3, 7}, 1.5, 7)};
  for (const OpCase& c : cases) check_op(c);
}

TEST(LeakyRelu, DefaultSlopeIsPyTorchs) {
  const OpKernel& k = builtin_registry().op("leaky_relu");
  EXPECT_EQ(k.kind(), PLX_KIND_ACTIVATION);
  EXPECT_EQ(k.desc().flags, uint32_t{PLX_OP_SAVES_SRC | PLX_OP_LAYOUTS});
  ASSERT_EQ(k.desc().attr_count, 1u);
  EXPECT_STREQ(k.desc().attrs[0].name, "negative_slope");
  EXPECT_EQ(k.desc().attrs[0].default_value.as.f64, 0.01);
  const Shape in[] = {Shape{2, 3}};
  auto inst = k.create("act", k.resolve_attrs({}, "act"), in);
  const Tensor x = Tensor::from({2, 3}, std::vector<float>{-1, 2, -300, 4, 0, -0.5f});
  const Tensor y = inst->forward(std::vector<Tensor>{x}, {}, true);
  const std::vector<float> want{-0.01f, 2, -3, 4, 0, -0.005f};
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(y.data()[i], want[static_cast<size_t>(i)]) << i;
}

TEST(LeakyRelu, RejectsNonFiniteSlope) {
  const OpKernel& k = builtin_registry().op("leaky_relu");
  const Shape in[] = {Shape{2, 3}};
  expect_error([&] { k.infer("lr_bad", k.resolve_attrs({{"negative_slope", AttrValue(NAN)}}, "lr_bad"), in); },
               ErrorCode::kInvalid, {"lr_bad", "negative_slope"});
}

}  // namespace
}  // namespace plexus::test
