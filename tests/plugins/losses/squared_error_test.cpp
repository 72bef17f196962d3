// squared_error: gradients (both inputs), reference, metric and shape errors.
#include "support/gradcheck.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace plexus::test {
namespace {

std::vector<double> squared_error_ref(const RefArgs& a) {
  double sum = 0;
  for (size_t i = 0; i < a.src[0].size(); ++i) {
    const double d = a.src[0][i] - a.src[1][i];
    sum += 0.5 * d * d;
  }
  return {sum / static_cast<double>(a.src_shapes[0][0])};
}

OpCase squared_error_case(Shape s, uint32_t seed = 42) {
  return {.op = "squared_error", .inputs = {s, s}, .reference = squared_error_ref, .seed = seed};
}

TEST(SquaredError, GradcheckAndReference) {
  const OpCase cases[] = {squared_error_case({1, 1}),  squared_error_case({1, 7}),
                          squared_error_case({3, 5}),  squared_error_case({17, 13}, 5),
                          squared_error_case({4}),     squared_error_case({2, 3, 4})};
  for (const OpCase& c : cases) check_op(c);
}

TEST(SquaredError, MismatchedTargetNamesTheNodeAndBothShapes) {
  const OpKernel& k = builtin_registry().op("squared_error");
  EXPECT_EQ(k.kind(), PLX_KIND_LOSS);
  EXPECT_NE(k.desc().metric, nullptr);
  const Shape in[] = {Shape{4, 3}, Shape{4, 2}};
  try {
    k.infer("loss_node", k.resolve_attrs({}, "loss_node"), in);
    FAIL() << "expected plexus::Error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_EQ(e.code(), ErrorCode::kInvalid);
    EXPECT_NE(m.find("loss_node"), std::string::npos) << m;
    EXPECT_NE(m.find("[4, 3]"), std::string::npos) << m;
    EXPECT_NE(m.find("[4, 2]"), std::string::npos) << m;
  }
}

TEST(SquaredError, MetricComparesArgmaxForClassTargets) {
  const OpKernel& k = builtin_registry().op("squared_error");
  const Shape in[] = {Shape{3, 3}, Shape{3, 3}};
  auto inst = k.create("loss", k.resolve_attrs({}, "loss"), in);
  const Tensor y = Tensor::from({3, 3}, std::vector<float>{0.1f, 0.7f, 0.2f, 0.9f, 0.05f, 0.05f, 0.3f, 0.3f, 0.4f});
  const Tensor t = Tensor::from({3, 3}, std::vector<float>{0, 1, 0, 0, 0, 1, 0, 0, 1});
  EXPECT_EQ(inst->metric(y, t), (std::pair<int64_t, int64_t>{2, 3}));

  const Shape flat[] = {Shape{3}, Shape{3}};
  auto regression = k.create("loss", k.resolve_attrs({}, "loss"), flat);
  const Tensor v = Tensor::from({3}, std::vector<float>{1, 2, 3});
  EXPECT_EQ(regression->metric(v, v), (std::pair<int64_t, int64_t>{0, 0}));
}

}  // namespace
}  // namespace plexus::test
