// identity: gradients and reference on several shapes, flags.
#include "support/gradcheck.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace plexus::test {
namespace {

std::vector<double> identity_ref(const RefArgs& a) {
  std::vector<double> dst(a.src[0]);
  for (double& x : dst) x = x;
  return dst;
}

OpCase identity_case(Shape s, uint32_t seed = 42) {
  return {.op = "identity", .inputs = {s}, .reference = identity_ref, .seed = seed};
}

TEST(Identity, GradcheckAndReference) {
  const OpCase cases[] = {identity_case({1, 1}), identity_case({1, 7}), identity_case({3, 5}),
                          identity_case({17, 13}, 3), identity_case({2, 3, 4}), identity_case({9}),
                          identity_case({1, 1, 1, 5})};
  for (const OpCase& c : cases) check_op(c);
}

TEST(Identity, DeclaresWhatBackwardReads) {
  const OpKernel& k = builtin_registry().op("identity");
  EXPECT_EQ(k.kind(), PLX_KIND_ACTIVATION);
  EXPECT_EQ(k.desc().metric, nullptr);
  EXPECT_EQ(k.desc().flags, uint32_t{0});
  const Shape in[] = {Shape{4, 3, 2}};
  EXPECT_EQ(k.infer("act", k.resolve_attrs({}, "act"), in).dst, (Shape{4, 3, 2}));
}

}  // namespace
}  // namespace plexus::test
