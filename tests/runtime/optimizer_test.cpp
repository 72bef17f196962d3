// The runtime side of optimizers: schedules, clipping, weight decay, parallel
// chunked steps, and option errors. The kernels' own formulas are tested in
// tests/plugins/optimizers/.
#include <plexus/error.hpp>
#include <plexus/optimizer.hpp>

#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace plexus {
namespace {

using test::expect_error;
using test::same_bits;

LrSchedule schedule(const std::string& kind) {
  LrSchedule s;
  s.kind = kind;
  s.lr = 0.5;
  return s;
}

TEST(LrSchedule, EachFormulaAtChosenSteps) {
  LrSchedule c = schedule("constant");
  for (int64_t t : {0, 1, 999}) EXPECT_DOUBLE_EQ(c.at(t), 0.5);

  LrSchedule st = schedule("step");
  st.step_size = 10;
  st.gamma = 0.5;
  EXPECT_DOUBLE_EQ(st.at(0), 0.5);
  EXPECT_DOUBLE_EQ(st.at(9), 0.5);
  EXPECT_DOUBLE_EQ(st.at(10), 0.25);
  EXPECT_DOUBLE_EQ(st.at(35), 0.5 * 0.125);
  st.gamma = 0;  // default 0.1
  EXPECT_NEAR(st.at(20), 0.5 * 0.01, 1e-15);

  LrSchedule ex = schedule("exponential");
  ex.gamma = 0.9;
  EXPECT_DOUBLE_EQ(ex.at(0), 0.5);
  EXPECT_NEAR(ex.at(7), 0.5 * std::pow(0.9, 7), 1e-15);

  LrSchedule co = schedule("cosine");
  co.warmup = 4;
  co.total = 104;
  co.lr_min = 0.1;
  EXPECT_DOUBLE_EQ(co.at(0), 0.5 * 1 / 4);
  EXPECT_DOUBLE_EQ(co.at(3), 0.5);
  EXPECT_DOUBLE_EQ(co.at(4), 0.5);                       // start of the cosine
  EXPECT_NEAR(co.at(54), 0.1 + 0.4 * 0.5, 1e-12);        // half way
  EXPECT_NEAR(co.at(104), 0.1, 1e-12);                   // the end
  EXPECT_NEAR(co.at(29), 0.1 + 0.4 * 0.5 * (1 + std::cos(M_PI * 25 / 100)), 1e-12);

  LrSchedule inv = schedule("inv_sqrt");
  EXPECT_DOUBLE_EQ(inv.at(0), 0.5);
  EXPECT_DOUBLE_EQ(inv.at(3), 0.25);
  EXPECT_NEAR(inv.at(99), 0.05, 1e-15);

  LrSchedule course = schedule("course");
  course.lipschitz = 4;
  course.total = 400;
  for (int64_t t : {0, 17, 399}) EXPECT_DOUBLE_EQ(course.at(t), 1.0 / (4 * 20));
}

TEST(OptimizerConfig, SplitsSharedOptionsFromKernelHyperparameters) {
  AttrMap all{{"lr", AttrValue(0.2)},          {"lr_schedule", AttrValue(std::string("step"))},
              {"lr_step", AttrValue(int64_t{5})}, {"clip_norm", AttrValue(int64_t{1})},
              {"rho", AttrValue(0.8)}};
  OptimizerConfig c = OptimizerConfig::parse(all);
  EXPECT_EQ(c.schedule.kind, "step");
  EXPECT_EQ(c.schedule.step_size, 5);
  EXPECT_DOUBLE_EQ(c.schedule.lr, 0.2);
  EXPECT_DOUBLE_EQ(c.clip_norm, 1.0);
  ASSERT_EQ(c.kernel.size(), 1u);
  EXPECT_EQ(c.kernel.begin()->first, "rho");
  OptimizerConfig back = OptimizerConfig::parse(c.to_map());
  EXPECT_EQ(back.schedule.step_size, 5);
  EXPECT_EQ(back.kernel.size(), 1u);
}

TEST(OptimizerConfig, BadOptionsAreClearErrors) {
  auto parse = [](const char* key, AttrValue v) { return OptimizerConfig::parse({{key, v}}); };
  expect_error([&] { parse("lr_schedule", AttrValue(std::string("linear"))); }, ErrorCode::kInvalid,
               {"'lr_schedule'", "'linear'", "cosine"});
  expect_error([&] { parse("lr", AttrValue(0.0)); }, ErrorCode::kInvalid, {"'lr'", "positive"});
  expect_error([&] { parse("lr_step", AttrValue(1.5)); }, ErrorCode::kInvalid, {"'lr_step'", "integer"});
  expect_error([&] { parse("clip_norm", AttrValue(std::string("big"))); }, ErrorCode::kInvalid, {"'clip_norm'", "number"});
  expect_error([&] { parse("lr_schedule", AttrValue(std::string("course"))); }, ErrorCode::kInvalid, {"lr_lipschitz"});
}

struct Sgd {
  Runtime rt;
  explicit Sgd(int threads) : rt([&] {
    RuntimeOptions o;
    o.threads = threads;
    return o;
  }()) {}
};

TEST(Optimizer, ClippingThenWeightDecayThenStep) {
  Sgd s(1);
  const std::vector<std::pair<std::string, Shape>> shapes{{"a", Shape{2}}, {"b", Shape{1}}};
  Optimizer opt(s.rt, s.rt.registry().optimizer("sgd"),
                {{"lr", AttrValue(0.1)}, {"clip_norm", AttrValue(1.0)}, {"weight_decay", AttrValue(0.5)}}, shapes);
  std::map<std::string, Tensor> params{{"a", Tensor::from(Shape{2}, std::vector<float>{1, 2})},
                                       {"b", Tensor::from(Shape{1}, std::vector<float>{-4})}};
  // Global norm of (3, 0, 4) is 5: clipped to 1 gives (0.6, 0, 0.8).
  std::map<std::string, Tensor> grads{{"a", Tensor::from(Shape{2}, std::vector<float>{3, 0})},
                                      {"b", Tensor::from(Shape{1}, std::vector<float>{4})}};
  opt.step(0, params, grads);
  const double k = 1.0 / (5.0 + 1e-6);
  EXPECT_NEAR(params["a"].data()[0], 1 - 0.1 * (3 * k + 0.5 * 1), 1e-6);
  EXPECT_NEAR(params["a"].data()[1], 2 - 0.1 * (0 + 0.5 * 2), 1e-6);
  EXPECT_NEAR(params["b"].data()[0], -4 - 0.1 * (4 * k + 0.5 * -4), 1e-6);
}

TEST(Optimizer, NoClippingBelowTheNorm) {
  Sgd s(1);
  Optimizer opt(s.rt, s.rt.registry().optimizer("sgd"), {{"lr", AttrValue(1.0)}, {"clip_norm", AttrValue(10.0)}},
                {{"a", Shape{2}}});
  std::map<std::string, Tensor> params{{"a", Tensor::zeros(Shape{2})}};
  std::map<std::string, Tensor> grads{{"a", Tensor::from(Shape{2}, std::vector<float>{3, 4})}};
  opt.step(0, params, grads);
  EXPECT_FLOAT_EQ(params["a"].data()[0], -3);
  EXPECT_FLOAT_EQ(params["a"].data()[1], -4);
}

TEST(Optimizer, ChunkedParallelStepEqualsSerial) {
  // 300,001 elements: several 64K chunks, on 2 threads vs 1.
  const Shape big{300001};
  Tensor p0 = test::random_tensor(big, 1), g0 = test::random_tensor(big, 2);
  Tensor out[2];
  for (int threads : {1, 2}) {
    Sgd s(threads);
    Optimizer opt(s.rt, s.rt.registry().optimizer("sgd"), {{"lr", AttrValue(0.01)}}, {{"w", big}, {"v", Shape{3}}});
    std::map<std::string, Tensor> params{{"w", p0.clone()}, {"v", Tensor::zeros(Shape{3})}};
    std::map<std::string, Tensor> grads{{"w", g0.clone()}, {"v", Tensor::full(Shape{3}, 1)}};
    opt.step(0, params, grads);
    out[threads - 1] = params["w"];
    for (int64_t i = 0; i < big[0]; i += 9973)
      EXPECT_EQ(params["w"].data()[i], p0.data()[i] - 0.01f * g0.data()[i]) << i;
  }
  EXPECT_TRUE(same_bits(out[0], out[1]));
}

TEST(Optimizer, UnknownKernelHyperparameterListsKnownOnes) {
  Sgd s(1);
  expect_error([&] { Optimizer(s.rt, s.rt.registry().optimizer("sgd"), {{"beta", AttrValue(0.9)}}, {}); },
               ErrorCode::kInvalid, {"optimizer 'sgd'", "unknown attribute 'beta'"});
}

}  // namespace
}  // namespace plexus
