// softmax over the last axis: gradients and reference on several shapes.
#include "support/gradcheck.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace plexus::test {
namespace {

std::vector<double> softmax_ref(const RefArgs& a) {
  const Shape& s = a.src_shapes[0];
  const size_t c = static_cast<size_t>(s[s.ndim() - 1]);
  std::vector<double> dst(a.src[0].size());
  for (size_t row = 0; row < dst.size() / c; ++row) {
    const double* x = a.src[0].data() + row * c;
    double total = 0;
    for (size_t k = 0; k < c; ++k) total += std::exp(x[k]);
    for (size_t k = 0; k < c; ++k) dst[row * c + k] = std::exp(x[k]) / total;
  }
  return dst;
}

OpCase softmax_case(Shape s, uint32_t seed = 42) {
  return {.op = "softmax", .inputs = {s}, .reference = softmax_ref, .seed = seed};
}

TEST(Softmax, GradcheckAndReference) {
  const OpCase cases[] = {softmax_case({1, 1}), softmax_case({1, 7}),     softmax_case({3, 5}),
                          softmax_case({17, 13}, 3), softmax_case({2, 3, 4}), softmax_case({9}),
                          softmax_case({0, 4})};
  for (const OpCase& c : cases) check_op(c);
}

TEST(Softmax, DeclaresWhatBackwardReadsAndRejectsScalars) {
  const OpKernel& k = builtin_registry().op("softmax");
  EXPECT_EQ(k.desc().flags, uint32_t{PLX_OP_SAVES_DST});
  const Shape scalar[] = {Shape{}};
  try {
    k.infer("probs", k.resolve_attrs({}, "probs"), scalar);
    FAIL() << "expected plexus::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("probs"), std::string::npos) << e.what();
  }
}

// Large logits do not overflow: rows still sum to 1.
TEST(Softmax, StableForLargeLogits) {
  const OpKernel& k = builtin_registry().op("softmax");
  const Shape in[] = {Shape{2, 3}};
  auto inst = k.create("probs", k.resolve_attrs({}, "probs"), in);
  const Tensor src[] = {Tensor::from({2, 3}, std::vector<float>{1000, 1001, 1002, -1000, -1000, -1000})};
  const Tensor y = inst->forward(src, {}, true);
  const double e0 = std::exp(-2.0), e1 = std::exp(-1.0), z = e0 + e1 + 1;
  EXPECT_NEAR(y.data()[0], e0 / z, 1e-6);
  EXPECT_NEAR(y.data()[1], e1 / z, 1e-6);
  EXPECT_NEAR(y.data()[2], 1 / z, 1e-6);
  for (int k2 = 3; k2 < 6; ++k2) EXPECT_NEAR(y.data()[k2], 1.0 / 3, 1e-6);
}

}  // namespace
}  // namespace plexus::test
