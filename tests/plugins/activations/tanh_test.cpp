// tanh: gradients and reference on several shapes, flags.
#include "support/gradcheck.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace plexus::test {
namespace {

std::vector<double> tanh_ref(const RefArgs& a) {
  std::vector<double> dst(a.src[0]);
  for (double& x : dst) x = std::tanh(x);
  return dst;
}

OpCase tanh_case(Shape s, uint32_t seed = 42) {
  return {.op = "tanh", .inputs = {s}, .reference = tanh_ref, .seed = seed};
}

TEST(Tanh, GradcheckAndReference) {
  const OpCase cases[] = {tanh_case({1, 1}), tanh_case({1, 7}), tanh_case({3, 5}),
                          tanh_case({17, 13}, 3), tanh_case({2, 3, 4}), tanh_case({9}),
                          tanh_case({1, 1, 1, 5})};
  for (const OpCase& c : cases) check_op(c);
}

TEST(Tanh, DeclaresWhatBackwardReads) {
  const OpKernel& k = builtin_registry().op("tanh");
  EXPECT_EQ(k.kind(), PLX_KIND_ACTIVATION);
  EXPECT_EQ(k.desc().metric, nullptr);
  EXPECT_EQ(k.desc().flags, uint32_t{PLX_OP_SAVES_DST | PLX_OP_LAYOUTS});
  const Shape in[] = {Shape{4, 3, 2}};
  EXPECT_EQ(k.infer("act", k.resolve_attrs({}, "act"), in).dst, (Shape{4, 3, 2}));
}

}  // namespace
}  // namespace plexus::test
