// softmax_cross_entropy: gradients, reference, stability, labels, metric, and
// a linear -> loss graph on a tape.
#include "support/gradcheck.hpp"

#include <plexus/tape.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace plexus::test {
namespace {

// Mean over rows of log(sum_c exp(x_c)) - x_label, written naively.
std::vector<double> cross_entropy_ref(const RefArgs& a) {
  const size_t n = static_cast<size_t>(a.src_shapes[0][0]), c = static_cast<size_t>(a.src_shapes[0][1]);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    double z = 0;
    for (size_t k = 0; k < c; ++k) z += std::exp(a.src[0][i * c + k]);
    sum += std::log(z) - a.src[0][i * c + static_cast<size_t>(a.src[1][i])];
  }
  return {sum / static_cast<double>(n)};
}

OpCase cross_entropy_case(int64_t n, int64_t c, uint32_t seed = 42) {
  Filler fill = [c](size_t input, std::span<float> v, std::mt19937& rng) {
    if (input == 0) return fill_uniform(v, rng, -3.f, 3.f);
    std::uniform_int_distribution<int64_t> label(0, c - 1);
    for (float& x : v) x = static_cast<float>(label(rng));
  };
  return {.op = "softmax_cross_entropy", .inputs = {Shape{n, c}, Shape{n}}, .reference = cross_entropy_ref,
          .fill = fill, .discrete_inputs = {1}, .seed = seed};
}

TEST(SoftmaxCrossEntropy, GradcheckAndReference) {
  const OpCase cases[] = {cross_entropy_case(1, 1), cross_entropy_case(1, 7), cross_entropy_case(3, 5),
                          cross_entropy_case(17, 13, 4), cross_entropy_case(4, 2)};
  for (const OpCase& c : cases) check_op(c);
}

std::shared_ptr<OpInstance> cross_entropy_instance(int64_t n, int64_t c) {
  const OpKernel& k = builtin_registry().op("softmax_cross_entropy");
  const Shape in[] = {Shape{n, c}, Shape{n}};
  return k.create("ce_loss", k.resolve_attrs({}, "ce_loss"), in);
}

TEST(SoftmaxCrossEntropy, StableForLargeLogitsAndNoTargetGradient) {
  auto inst = cross_entropy_instance(1, 3);
  const Tensor src[] = {Tensor::from({1, 3}, std::vector<float>{1000.f, 1001.f, 1002.f}),
                        Tensor::from({1}, std::vector<float>{0.f})};
  const Tensor loss = inst->forward(src, {}, true);
  const double lse = 2 + std::log(std::exp(-2.0) + std::exp(-1.0) + 1.0);
  EXPECT_NEAR(loss.data()[0], lse, 1e-4);
  Tensor diff[] = {Tensor::empty({1, 3}), Tensor::full({1}, 7.f)};
  inst->backward(src, {}, Tensor(), Tensor::full({1}, 1.f), diff, {});
  EXPECT_NEAR(diff[0].data()[0], std::exp(-lse) - 1, 1e-6);  // softmax(x)[0] - 1
  EXPECT_EQ(diff[1].data()[0], 0.f);  // labels are discrete
}

TEST(SoftmaxCrossEntropy, RejectsOutOfRangeAndFractionalLabels) {
  auto inst = cross_entropy_instance(2, 3);
  for (float bad : {3.f, -1.f, 1.5f}) {
    const Tensor src[] = {Tensor::full({2, 3}, 0.f), Tensor::from({2}, std::vector<float>{0.f, bad})};
    try {
      inst->forward(src, {}, true);
      ADD_FAILURE() << "label " << bad << " accepted";
    } catch (const Error& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find("ce_loss"), std::string::npos) << m;
      EXPECT_NE(m.find("target[1]"), std::string::npos) << m;
      EXPECT_NE(m.find("0..2"), std::string::npos) << m;
    }
  }
}

TEST(SoftmaxCrossEntropy, RejectsBadShapes) {
  const OpKernel& k = builtin_registry().op("softmax_cross_entropy");
  const Shape in[] = {Shape{4, 3}, Shape{4, 3}};
  try {
    k.infer("ce_loss", k.resolve_attrs({}, "ce_loss"), in);
    FAIL() << "expected plexus::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ce_loss"), std::string::npos) << e.what();
  }
}

TEST(SoftmaxCrossEntropy, MetricIsArgmaxAgreement) {
  auto inst = cross_entropy_instance(3, 3);
  const Tensor x = Tensor::from({3, 3}, std::vector<float>{0, 5, 1, 2, 1, 0, 0, 0, 9});
  const Tensor y = Tensor::from({3}, std::vector<float>{1, 1, 2});
  EXPECT_EQ(inst->metric(x, y), (std::pair<int64_t, int64_t>{2, 3}));
}

// loss(linear(x), y) on a tape: dL/dW = 1/N sum_n (softmax(z_n) - onehot(y_n)) x_n^T.
TEST(SoftmaxCrossEntropy, LinearClassifierOnTape) {
  const Registry& reg = builtin_registry();
  const int64_t n = 5, in = 4, c = 3;
  const Shape x_shape[] = {Shape{n, in}};
  auto fc = reg.op("linear").create("fc", reg.op("linear").resolve_attrs({{"out_features", AttrValue(c)}}, "fc"),
                                    x_shape);
  auto loss = cross_entropy_instance(n, c);
  std::mt19937 rng(11);
  Tensor x = Tensor::empty({n, in}), w = Tensor::empty({c, in}), b = Tensor::empty({c});
  fill_uniform(x.span(), rng);
  fill_uniform(w.span(), rng);
  fill_uniform(b.span(), rng);
  const Tensor y = Tensor::from({n}, std::vector<float>{0, 2, 1, 1, 0});

  Tape tape;
  const Value vx = tape.leaf(x), vw = tape.leaf(w, true), vb = tape.leaf(b, true), vy = tape.leaf(y);
  const Value fc_in[] = {vx}, fc_params[] = {vw, vb};
  const Value z = apply(tape, fc, fc_in, fc_params, true);
  const Value loss_in[] = {z, vy};
  tape.backward(apply(tape, loss, loss_in, {}, true));

  std::vector<double> want(static_cast<size_t>(c * in), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    std::vector<double> p(static_cast<size_t>(c));
    double total = 0;
    for (int64_t k = 0; k < c; ++k) {
      double s = b.data()[k];
      for (int64_t j = 0; j < in; ++j) s += double{w.data()[k * in + j]} * x.data()[i * in + j];
      total += p[static_cast<size_t>(k)] = std::exp(s);
    }
    for (int64_t k = 0; k < c; ++k) {
      const double g = (p[static_cast<size_t>(k)] / total - (k == static_cast<int64_t>(y.data()[i]))) / n;
      for (int64_t j = 0; j < in; ++j) want[static_cast<size_t>(k * in + j)] += g * x.data()[i * in + j];
    }
  }
  const Tensor gw = tape.grad(vw);
  ASSERT_TRUE(gw.defined());
  for (size_t k = 0; k < want.size(); ++k) EXPECT_NEAR(gw.data()[k], want[k], 1e-5) << k;
}

}  // namespace
}  // namespace plexus::test
