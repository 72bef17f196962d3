// soft_threshold: gradients (src and theta) and reference, known values, shapes, flags.
#include "support/gradcheck.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace plexus::test {
namespace {

// dst = sign(v) max(|v| - theta, 0) in double, src seen as [N, D].
std::vector<double> soft_threshold_ref(const RefArgs& a) {
  const std::vector<double>& v = a.src[0];
  const std::vector<double>& theta = a.params[0];
  const size_t units = a.src_shapes[0][0] == 0 ? 1 : v.size() / static_cast<size_t>(a.src_shapes[0][0]);
  std::vector<double> dst(v.size());
  for (size_t k = 0; k < v.size(); ++k) {
    const double t = theta.size() == 1 ? theta[0] : theta[k % units];
    const double m = std::max(std::abs(v[k]) - t, 0.0);
    dst[k] = v[k] > 0 ? m : (v[k] < 0 ? -m : 0.0);
  }
  return dst;
}

OpCase soft_threshold_case(Shape s, bool per_unit, uint32_t seed = 42) {
  return {.op = "soft_threshold",
          .attrs = {{"per_unit", AttrValue(per_unit)}},
          .inputs = {s},
          .reference = soft_threshold_ref,
          // Kinks at |v| = theta, theta in [0.05, 0.3]: magnitudes either in the dead
          // zone [0, 0.02] or in [0.35, 1], at least 0.03 from any kink (fd_step 0.01).
          .fill =
              [](size_t, std::span<float> v, std::mt19937& rng) {
                std::bernoulli_distribution dead(0.3), sign(0.5);
                std::uniform_real_distribution<float> small(0.f, 0.02f), large(0.35f, 1.f);
                for (float& x : v) {
                  const float m = dead(rng) ? small(rng) : large(rng);
                  x = sign(rng) ? m : -m;
                }
              },
          .param_fill = [](size_t, std::span<float> t, std::mt19937& rng) { fill_uniform(t, rng, 0.05f, 0.3f); },
          .seed = seed};
}

TEST(SoftThreshold, GradcheckAndReference) {
  for (bool per_unit : {false, true}) {
    const OpCase cases[] = {
        soft_threshold_case({1, 1}, per_unit),     soft_threshold_case({1, 7}, per_unit),
        soft_threshold_case({3, 5}, per_unit),     soft_threshold_case({17, 13}, per_unit, 3),
        soft_threshold_case({2, 3, 4}, per_unit),  soft_threshold_case({5, 2, 1, 3}, per_unit, 7),
        soft_threshold_case({0, 5}, per_unit),     soft_threshold_case({0, 2, 3}, per_unit),
    };
    for (const OpCase& c : cases) check_op(c);
  }
}

struct Shrunk {
  std::vector<float> dst, diff_src, diff_theta;
};

// Forward and backward on one [1, 5] row with the given theta and diff_dst.
Shrunk shrink_once(bool per_unit, const std::vector<float>& v, const std::vector<float>& theta,
                   const std::vector<float>& diff) {
  const OpKernel& k = builtin_registry().op("soft_threshold");
  const int64_t d = static_cast<int64_t>(v.size());
  const Shape in[] = {Shape{1, d}};
  auto inst = k.create("shrink", k.resolve_attrs({{"per_unit", AttrValue(per_unit)}}, "shrink"), in);
  const std::vector<Tensor> src{Tensor::from({1, d}, v)};
  const std::vector<Tensor> params{Tensor::from({static_cast<int64_t>(theta.size())}, theta)};
  const Tensor dst = inst->forward(src, params, true);
  std::vector<Tensor> diff_src{Tensor::full({1, d}, NAN)};
  std::vector<Tensor> diff_params{Tensor::full(params[0].shape(), NAN)};
  inst->backward(src, params, Tensor(), Tensor::from({1, d}, diff), diff_src, diff_params);
  auto vec = [](const Tensor& t) { return std::vector<float>(t.data(), t.data() + t.numel()); };
  return {vec(dst), vec(diff_src[0]), vec(diff_params[0])};
}

TEST(SoftThreshold, KnownValues) {
  const std::vector<float> v{-2, -0.5f, 0, 0.5f, 2}, diff{1, 2, 3, 4, 5};
  const Shrunk r = shrink_once(false, v, {1}, diff);
  EXPECT_EQ(r.dst, (std::vector<float>{-1, 0, 0, 0, 1}));
  EXPECT_EQ(r.diff_src, (std::vector<float>{1, 0, 0, 0, 5}));
  EXPECT_EQ(r.diff_theta, (std::vector<float>{-(-1 + 5)}));  // -sign(v) diff_dst where |v| > theta

  const Shrunk p = shrink_once(true, v, {1, 0.25f, 1, 0.25f, 3}, diff);
  EXPECT_EQ(p.dst, (std::vector<float>{-1, -0.25f, 0, 0.25f, 0}));
  EXPECT_EQ(p.diff_src, (std::vector<float>{1, 2, 0, 4, 0}));
  EXPECT_EQ(p.diff_theta, (std::vector<float>{1, 2, 0, -4, 0}));
}

// A negative theta is taken as written: every nonzero value moves away from 0.
TEST(SoftThreshold, NegativeThetaFollowsTheFormula) {
  const Shrunk r = shrink_once(false, {-2, -0.5f, 0, 0.5f, 2}, {-1}, {1, 2, 3, 4, 5});
  EXPECT_EQ(r.dst, (std::vector<float>{-3, -1.5f, 0, 1.5f, 3}));
  EXPECT_EQ(r.diff_src, (std::vector<float>{1, 2, 3, 4, 5}));
  EXPECT_EQ(r.diff_theta, (std::vector<float>{-(-1 - 2 + 4 + 5)}));
}

// The vectorized loops against the definition, element by element, on rows
// long enough for the vector bodies and their tails (37 units): +-0, +-inf,
// NaN, subnormals and values on the kink |v| = theta, with NaN and inf in
// diff_dst of dead units (which must still pass exactly +0). Bit-equal: the
// same float formula, theta's gradient summed in double in the same order.
TEST(SoftThreshold, VectorLoopsMatchTheDefinitionOnSpecialValues) {
  const float inf = INFINITY, nan = NAN, sub = 1e-40f;
  const float specials[] = {0.0f, -0.0f, inf, -inf, nan, sub, -sub, 0.25f, -0.25f, 1.0f, -3.0f, 0.1f};
  const int64_t batch = 3, units = 37;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> any(-1.0f, 1.0f);
  std::vector<float> v(batch * units), diff(batch * units), theta_units(units);
  for (size_t k = 0; k < v.size(); ++k) {
    v[k] = k % 3 == 0 ? specials[k / 3 % std::size(specials)] : any(rng);
    diff[k] = k % 7 == 0 ? (k % 2 ? nan : inf) : any(rng);
  }
  for (int64_t j = 0; j < units; ++j) theta_units[j] = j % 5 == 0 ? -0.5f : (j % 5 == 1 ? 0.25f : 0.1f * j / units);
  auto same = [](float a, float b) { return (std::isnan(a) && std::isnan(b)) || std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b); };
  for (const bool per_unit : {false, true}) {
    SCOPED_TRACE(per_unit ? "per unit" : "scalar theta");
    const std::vector<float> theta = per_unit ? theta_units : std::vector<float>{0.25f};
    const OpKernel& k = builtin_registry().op("soft_threshold");
    const Shape in[] = {Shape{batch, units}};
    auto inst = k.create("st", k.resolve_attrs({{"per_unit", AttrValue(per_unit)}}, "st"), in);
    const std::vector<Tensor> src{Tensor::from({batch, units}, v)};
    const std::vector<Tensor> params{Tensor::from({static_cast<int64_t>(theta.size())}, theta)};
    const Tensor dst = inst->forward(src, params, true);
    std::vector<Tensor> diff_src{Tensor::full({batch, units}, 7.0f)};
    std::vector<Tensor> diff_params{Tensor::full(params[0].shape(), 7.0f)};
    inst->backward(src, params, Tensor(), Tensor::from({batch, units}, diff), diff_src, diff_params);

    std::vector<double> acc(units, 0.0);
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t j = 0; j < units; ++j) {
        const size_t i = static_cast<size_t>(n * units + j);
        const float t = per_unit ? theta[j] : theta[0];
        const float m = std::abs(v[i]) - t;
        const float want = m > 0.0f ? (v[i] > 0.0f ? m : (v[i] < 0.0f ? -m : 0.0f)) : 0.0f;
        EXPECT_TRUE(same(dst.data()[i], want)) << "dst at " << i << ": v " << v[i] << ", got " << dst.data()[i];
        const bool pass = std::abs(v[i]) > t;
        EXPECT_TRUE(same(diff_src[0].data()[i], pass ? diff[i] : 0.0f)) << "diff_src at " << i;
        const float sign = v[i] > 0.0f ? 1.0f : (v[i] < 0.0f ? -1.0f : 0.0f);
        acc[j] -= static_cast<double>(sign * diff[i] * (pass ? 1.0f : 0.0f));
      }
    if (per_unit) {
      for (int64_t j = 0; j < units; ++j)
        EXPECT_TRUE(same(diff_params[0].data()[j], static_cast<float>(acc[j]))) << "diff_theta at " << j;
    } else {
      double sum = 0.0;
      for (double a : acc) sum += a;
      EXPECT_TRUE(same(diff_params[0].data()[0], static_cast<float>(sum)));
    }
  }
}

TEST(SoftThreshold, InfersShapesAndDeclaresItself) {
  const OpKernel& k = builtin_registry().op("soft_threshold");
  EXPECT_EQ(k.kind(), PLX_KIND_LAYER);
  EXPECT_EQ(k.desc().flags, uint32_t{PLX_OP_SAVES_SRC});
  ASSERT_EQ(k.desc().attr_count, 1u);
  EXPECT_STREQ(k.desc().attrs[0].name, "per_unit");
  EXPECT_EQ(k.desc().attrs[0].default_value.as.boolean, 0);
  ASSERT_EQ(k.desc().param_count, 1u);
  EXPECT_STREQ(k.desc().params[0].name, "theta");
  EXPECT_EQ(k.desc().params[0].default_init, PLX_INIT_CONSTANT);
  EXPECT_EQ(k.desc().params[0].default_init_value, 0.1);

  const Shape in[] = {Shape{8, 2, 5}};
  const InferResult s = k.infer("st", k.resolve_attrs({}, "st"), in);
  EXPECT_EQ(s.dst, (Shape{8, 2, 5}));
  ASSERT_EQ(s.params.size(), 1u);
  EXPECT_EQ(s.params[0], (Shape{1}));

  const InferResult u = k.infer("st", k.resolve_attrs({{"per_unit", AttrValue(true)}}, "st"), in);
  EXPECT_EQ(u.dst, (Shape{8, 2, 5}));
  EXPECT_EQ(u.params[0], (Shape{10}));
}

TEST(SoftThreshold, RankOneSrcNamesTheNode) {
  const OpKernel& k = builtin_registry().op("soft_threshold");
  const Shape vec[] = {Shape{7}};
  expect_error([&] { k.infer("st_rank", k.resolve_attrs({}, "st_rank"), vec); }, ErrorCode::kInvalid,
               {"st_rank", "rank >= 2", "[7]"});
}

}  // namespace
}  // namespace plexus::test
