// logistic: gradients, reference, stability, label checks and metric.
#include "support/gradcheck.hpp"

#include <gtest/gtest.h>

#include <algorithm>
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

// The loss and gradient run their own exp and log1p (vectorized double
// polynomials). Per sample, over margins from -800 to 800, from tiny to
// where e^z leaves double's range, and NaN: each float result is within an
// ulp of std::exp / std::log1p in double, rounded to float.
TEST(Logistic, MatchesLibmPerSampleToAFloatUlp) {
  std::vector<float> scores;
  for (float v : {0.f, 1e-30f, 1e-8f, 1e-3f, 0.1f, 0.5f, 0.6931f, 1.f, 2.f, 5.f, 10.f, 17.f, 20.f, 36.f, 40.f, 80.f,
                  100.f, 300.f, 700.f, 709.f, 746.f, 800.f})
    for (float sign : {1.f, -1.f}) scores.push_back(sign * v);
  for (int i = 0; i < 200; ++i) scores.push_back(-30.f + 0.3f * static_cast<float>(i) + 0.0123f);
  const auto n = static_cast<int64_t>(scores.size());
  auto within_ulp = [](float got, double want) {
    const auto w = static_cast<float>(want);
    return got == w || got == std::nextafter(w, INFINITY) || got == std::nextafter(w, -INFINITY);
  };
  for (const float label : {1.f, -1.f}) {
    SCOPED_TRACE("label " + std::to_string(label));
    // Gradient: the whole sweep as one batch, with scale 1 / n.
    auto inst = logistic_instance(n);
    const Tensor src[] = {Tensor::from({n}, scores), Tensor::full({n}, label)};
    Tensor diff[] = {Tensor::empty({n}), Tensor()};
    inst->backward(src, {}, Tensor(), Tensor::full({1}, 1.f), diff, {});
    // Loss: one sample per call, so the mean is the sample's own softplus.
    auto one = logistic_instance(1);
    for (int64_t i = 0; i < n; ++i) {
      const double z = -static_cast<double>(label) * scores[static_cast<size_t>(i)];
      const double softplus = std::max(z, 0.0) + std::log1p(std::exp(-std::abs(z)));
      const double sigmoid = z >= 0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z));
      const double grad = -static_cast<double>(label) * sigmoid / static_cast<double>(n);
      EXPECT_TRUE(within_ulp(diff[0].data()[i], grad)) << "score " << scores[static_cast<size_t>(i)] << ": got "
                                                       << diff[0].data()[i] << ", libm " << grad;
      const Tensor src1[] = {Tensor::full({1}, scores[static_cast<size_t>(i)]), Tensor::full({1}, label)};
      const float loss = one->forward(src1, {}, true).data()[0];
      EXPECT_TRUE(within_ulp(loss, softplus)) << "score " << scores[static_cast<size_t>(i)] << ": got " << loss
                                              << ", libm " << softplus;
    }
  }
  auto inst = logistic_instance(1);
  const Tensor nan_src[] = {Tensor::full({1}, NAN), Tensor::full({1}, 1.f)};
  EXPECT_TRUE(std::isnan(inst->forward(nan_src, {}, true).data()[0]));
  Tensor diff[] = {Tensor::empty({1}), Tensor()};
  inst->backward(nan_src, {}, Tensor(), Tensor::full({1}, 1.f), diff, {});
  EXPECT_TRUE(std::isnan(diff[0].data()[0]));
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
