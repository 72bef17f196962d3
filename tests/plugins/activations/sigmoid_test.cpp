// sigmoid: gradients and reference on several shapes, flags.
#include "support/gradcheck.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace plexus::test {
namespace {

std::vector<double> sigmoid_ref(const RefArgs& a) {
  std::vector<double> dst(a.src[0]);
  for (double& x : dst) x = 1.0 / (1.0 + std::exp(-x));
  return dst;
}

OpCase sigmoid_case(Shape s, uint32_t seed = 42) {
  return {.op = "sigmoid", .inputs = {s}, .reference = sigmoid_ref, .seed = seed};
}

TEST(Sigmoid, GradcheckAndReference) {
  const OpCase cases[] = {sigmoid_case({1, 1}), sigmoid_case({1, 7}), sigmoid_case({3, 5}),
                          sigmoid_case({17, 13}, 3), sigmoid_case({2, 3, 4}), sigmoid_case({9}),
                          sigmoid_case({1, 1, 1, 5})};
  for (const OpCase& c : cases) check_op(c);
}

TEST(Sigmoid, DeclaresWhatBackwardReads) {
  const OpKernel& k = builtin_registry().op("sigmoid");
  EXPECT_EQ(k.kind(), PLX_KIND_ACTIVATION);
  EXPECT_EQ(k.desc().metric, nullptr);
  EXPECT_EQ(k.desc().flags, uint32_t{PLX_OP_SAVES_DST});
  const Shape in[] = {Shape{4, 3, 2}};
  EXPECT_EQ(k.infer("act", k.resolve_attrs({}, "act"), in).dst, (Shape{4, 3, 2}));
}

// Large inputs saturate without NaN, in both directions.
TEST(Sigmoid, SaturatesCleanly) {
  const OpKernel& k = builtin_registry().op("sigmoid");
  const Shape in[] = {Shape{4}};
  auto inst = k.create("act", k.resolve_attrs({}, "act"), in);
  const Tensor src[] = {Tensor::from({4}, std::vector<float>{-100.f, -30.f, 30.f, 100.f})};
  const Tensor y = inst->forward(src, {}, true);
  EXPECT_NEAR(y.data()[0], 0.0, 1e-12);
  EXPECT_NEAR(y.data()[1], 0.0, 1e-12);
  EXPECT_FLOAT_EQ(y.data()[2], 1.0f);
  EXPECT_FLOAT_EQ(y.data()[3], 1.0f);
}

}  // namespace
}  // namespace plexus::test
