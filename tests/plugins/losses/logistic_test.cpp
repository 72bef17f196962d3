// logistic: gradients, reference, stability, label checks and metric.
#include "support/gradcheck.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace plexus::test {
namespace {

std::vector<double> logistic_ref(const RefArgs& a) {
  double sum = 0;
  for (size_t n = 0; n < a.src[1].size(); ++n) sum += std::log(1.0 + std::exp(-a.src[1][n] * a.src[0][n]));
  return {sum / static_cast<double>(a.src[1].size())};
}

// Scores U(-scale, scale), labels -1 or +1.
Filler scores_and_labels(float scale) {
  return [scale](size_t input, std::span<float> v, std::mt19937& rng) {
    if (input == 0) return fill_uniform(v, rng, -scale, scale);
    std::bernoulli_distribution positive(0.5);
    for (float& x : v) x = positive(rng) ? 1.f : -1.f;
  };
}

OpCase logistic_case(Shape src, float scale = 2.f, uint32_t seed = 42) {
  return {.op = "logistic", .inputs = {src, Shape{src[0]}}, .reference = logistic_ref,
          .fill = scores_and_labels(scale), .discrete_inputs = {1}, .seed = seed};
}

TEST(Logistic, GradcheckAndReference) {
  const OpCase cases[] = {logistic_case({1}),     logistic_case({1, 1}),        logistic_case({7}),
                          logistic_case({17, 1}), logistic_case({13}, 6.f, 9)};
  for (const OpCase& c : cases) check_op(c);
}

std::shared_ptr<OpInstance> logistic_instance(int64_t n) {
  const OpKernel& k = builtin_registry().op("logistic");
  const Shape in[] = {Shape{n}, Shape{n}};
  return k.create("logit_loss", k.resolve_attrs({}, "logit_loss"), in);
}

TEST(Logistic, StableForLargeMargins) {
  auto inst = logistic_instance(2);
  const Tensor src[] = {Tensor::from({2}, std::vector<float>{100.f, -100.f}),
                        Tensor::from({2}, std::vector<float>{-1.f, -1.f})};
  const Tensor loss = inst->forward(src, {}, true);
  EXPECT_NEAR(loss.data()[0], (100.0 + std::log1p(std::exp(-100.0))) / 2, 1e-4);
  Tensor diff[] = {Tensor::empty({2}), Tensor()};
  inst->backward(src, {}, Tensor(), Tensor::full({1}, 1.f), diff, {});
  EXPECT_NEAR(diff[0].data()[0], 0.5, 1e-6);  // -b sigmoid(-b s) / N = sigmoid(100) / 2
  EXPECT_NEAR(diff[0].data()[1], 0.0, 1e-6);
}

TEST(Logistic, RejectsLabelsOtherThanPlusMinusOne) {
  auto inst = logistic_instance(3);
  const Tensor src[] = {Tensor::from({3}, std::vector<float>{0.1f, 0.2f, 0.3f}),
                        Tensor::from({3}, std::vector<float>{1.f, 0.f, -1.f})};
  try {
    inst->forward(src, {}, true);
    FAIL() << "expected plexus::Error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("logit_loss"), std::string::npos) << m;
    EXPECT_NE(m.find("-1 or +1"), std::string::npos) << m;
    EXPECT_NE(m.find("target[1]"), std::string::npos) << m;
  }
}

TEST(Logistic, RejectsBadShapes) {
  const OpKernel& k = builtin_registry().op("logistic");
  const Shape wide[] = {Shape{4, 2}, Shape{4}};
  const Shape short_target[] = {Shape{4, 1}, Shape{3}};
  for (auto shapes : {std::span<const Shape>(wide), std::span<const Shape>(short_target)}) {
    try {
      k.infer("logit_loss", k.resolve_attrs({}, "logit_loss"), shapes);
      ADD_FAILURE() << "expected plexus::Error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("logit_loss"), std::string::npos) << e.what();
    }
  }
}

TEST(Logistic, MetricIsSignAgreement) {
  auto inst = logistic_instance(4);
  const Tensor s = Tensor::from({4}, std::vector<float>{0.5f, -0.2f, 0.f, 3.f});
  const Tensor b = Tensor::from({4}, std::vector<float>{1.f, 1.f, -1.f, -1.f});
  EXPECT_EQ(inst->metric(s, b), (std::pair<int64_t, int64_t>{2, 4}));
}

}  // namespace
}  // namespace plexus::test
