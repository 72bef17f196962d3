// Shared checks for optimizer kernels, so each optimizer test is a list of cases:
//
//   check_declaration("rmsprop", "r <- tau r", {"r"}, {{"tau", AttrValue(0.99)}, {"delta", AttrValue(1e-8)}});
//   check_reference({.optimizer = "rmsprop", .hparams = {{"tau", AttrValue(0.9)}},
//                    .reference = [](int64_t, double lr, double g, double& theta, std::span<double> r) {
//                      r[0] = 0.9 * r[0] + 0.1 * g * g;
//                      theta -= lr * g / (1e-8 + std::sqrt(r[0]));
//                    }});
//   check_ranges(rmsprop_case);
//
// The kernel comes from builtin_registry() and is driven the way the runtime
// drives it: state Tensors filled with each slot's declared init_value and
// passed in declaration order, one OptimizerKernel::step per step t = 0, 1, ...
// with a scheduled lr and a fresh seeded gradient.
#ifndef PLEXUS_TESTS_OPTIM_CHECK_HPP
#define PLEXUS_TESTS_OPTIM_CHECK_HPP

#include "support/test_support.hpp"

#include <gtest/gtest.h>
#include <plexus/kernel.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace plexus::test {

/// One element's update in double, written from the formula independently of
/// the kernel: step t (from 0), learning rate, gradient, the parameter value
/// and this element's state slots in declaration order (both read-write).
using OptimReference = std::function<void(int64_t t, double lr, double g, double& theta, std::span<double> state)>;

struct OptimCase {
  std::string optimizer;
  AttrMap hparams;  // the rest keep their declared defaults
  OptimReference reference;
  double lr = 0.05;  // step t uses lr (1 - t / 200), a schedule the runtime would hand over
  uint64_t seed = 1;
};

namespace optim_detail {

inline double lr_at(const OptimCase& c, int64_t t) { return c.lr * (1.0 - static_cast<double>(t) / 200.0); }

/// N(0, 1) gradients, fresh per step; every 7th value is exactly 0 (the delta path).
inline Tensor gradient(const Shape& s, uint64_t seed, int64_t t) {
  std::mt19937_64 rng(seed * 1000003u + static_cast<uint64_t>(t));
  std::normal_distribution<float> d(0.0f, 1.0f);
  Tensor g = Tensor::empty(s);
  for (int64_t i = 0; i < g.numel(); ++i) g.data()[i] = (i + t) % 7 == 0 ? 0.0f : d(rng);
  return g;
}

inline Tensor initial_param(const Shape& s, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  Tensor p = Tensor::empty(s);
  for (float& v : p.span()) v = d(rng);
  return p;
}

/// What the runtime allocates for one parameter: each declared slot, filled.
inline std::vector<Tensor> fresh_state(const OptimizerKernel& k, const Shape& s) {
  std::vector<Tensor> state;
  for (uint32_t j = 0; j < k.desc().state_count; ++j)
    state.push_back(Tensor::full(s, static_cast<float>(k.desc().states[j].init_value)));
  return state;
}

inline bool same_bits_in(const Tensor& a, const Tensor& b, int64_t begin, int64_t end) {
  return std::memcmp(a.data() + begin, b.data() + begin, static_cast<size_t>(end - begin) * sizeof(float)) == 0;
}

/// Declared default `want` as written by the test, compared with the plugin's.
inline bool same_default(const plx_value& v, const AttrValue& want) {
  const auto& w = want.get();
  if (const double* d = std::get_if<double>(&w)) return v.type == PLX_VALUE_F64 && v.as.f64 == *d;
  if (const bool* b = std::get_if<bool>(&w)) return v.type == PLX_VALUE_BOOL && (v.as.boolean != 0) == *b;
  if (const int64_t* i = std::get_if<int64_t>(&w)) return v.type == PLX_VALUE_I64 && v.as.i64 == *i;
  return false;
}

// Tolerance: |kernel - reference| <= 1e-5 * scale, for the parameter and every
// state slot of every element, after every step (the first included, where
// the bias correction is largest). scale = the largest |reference| this value
// has had so far (its initial value included), not max(1, |current|):
//  - the kernel rounds to f32 (2^-24 ~ 6e-8 relative) a few times per step.
//    The gradients do not depend on theta, so nothing feeds errors back; they
//    only add up. After 100 steps that is ~1e-6 of the values' magnitude in
//    practice (a random walk; at most 1.4e-6 over the cases of these tests)
//    and ~100 * 2^-24 ~ 6e-6 if every rounding pointed the same way. An
//    error made when a value was large stays when the value later passes
//    near 0 (theta crossing 0, m1 changing sign); the running maximum keeps
//    the bound sound there, where |current| would be flaky;
//  - no floor of 1: states like m1 ~ 0.1 g or r ~ g*g would hide a formula
//    error of 1e-5 absolute under a floor of 1. A value that has been exactly 0
//    throughout (zero gradients) must stay exactly 0;
//  - a formula error (a missing (1 - b), b^t for b^(t+1), a wrong dampening)
//    moves some value by 1e-3 relative or far more within the first steps.
inline constexpr double kOptimTolerance = 1e-5;

}  // namespace optim_detail

/// 100 steps on a 37-element and on a 1-element parameter, compared after
/// every step with `c.reference` run in double on the same f32 gradients.
inline void check_reference(const OptimCase& c, int64_t steps = 100) {
  using namespace optim_detail;
  const OptimizerKernel& k = builtin_registry().optimizer(c.optimizer);
  const ResolvedAttrs h = k.resolve_hparams(c.hparams);
  const size_t slots = k.desc().state_count;
  for (const Shape& s : {Shape{37}, Shape{1}}) {
    const size_t n = static_cast<size_t>(s.numel());
    Tensor p = initial_param(s, c.seed);
    std::vector<Tensor> state = fresh_state(k, s);
    std::vector<double> ref(n * (slots + 1));  // element i: theta, then its slots
    for (size_t i = 0; i < n; ++i) {
      ref[i * (slots + 1)] = p.data()[i];
      for (size_t j = 0; j < slots; ++j) ref[i * (slots + 1) + 1 + j] = k.desc().states[j].init_value;
    }
    std::vector<double> scale(ref.size());
    for (size_t v = 0; v < ref.size(); ++v) scale[v] = std::abs(ref[v]);
    const Tensor p0 = p.clone();
    for (int64_t t = 0; t < steps; ++t) {
      const Tensor g = gradient(s, c.seed, t);
      const double lr = lr_at(c, t);
      k.step("w", t, lr, h, p, g, state, 0, s.numel());
      for (size_t i = 0; i < n; ++i) {
        double* r = &ref[i * (slots + 1)];
        c.reference(t, lr, g.data()[i], r[0], std::span<double>(r + 1, slots));
        for (size_t v = 0; v <= slots; ++v) {
          const double got = v == 0 ? double{p.data()[i]} : double{state[v - 1].data()[i]};
          const double want = r[v];
          double& sc = scale[i * (slots + 1) + v];
          sc = std::max(sc, std::abs(want));
          if (!(std::abs(got - want) <= kOptimTolerance * sc)) {
            const std::string what = v == 0 ? "theta" : "state '" + std::string(k.desc().states[v - 1].name) + "'";
            ADD_FAILURE() << c.optimizer << " on " << s.str() << " elements, step " << t << ", element " << i << ", "
                          << what
                          << ": kernel " << got << ", reference " << want << ", |diff| " << std::abs(got - want)
                          << " > " << kOptimTolerance << " * " << sc;
            return;
          }
        }
      }
    }
    EXPECT_FALSE(same_bits(p, p0)) << c.optimizer << ": the parameter never moved";
  }
}

/// Steps on [0, k) then [k, n) are bit-identical to steps on [0, n), for split
/// points k at both ends (empty ranges) and inside; the first call of a split
/// leaves [k, n) of the parameter and of every state slot untouched.
inline void check_ranges(const OptimCase& c) {
  using namespace optim_detail;
  const OptimizerKernel& k = builtin_registry().optimizer(c.optimizer);
  const ResolvedAttrs h = k.resolve_hparams(c.hparams);
  const Shape s{37};
  Tensor whole = initial_param(s, c.seed), split = whole.clone();
  std::vector<Tensor> whole_state = fresh_state(k, s), split_state = fresh_state(k, s);
  const int64_t cuts[] = {18, 1, 36, 0, 37, 7};
  for (int64_t t = 0; t < 6; ++t) {
    const Tensor g = gradient(s, c.seed, t);
    const double lr = lr_at(c, t);
    const int64_t cut = cuts[t];
    k.step("w", t, lr, h, whole, g, whole_state, 0, 37);
    const Tensor before = split.clone();
    std::vector<Tensor> state_before;
    for (const Tensor& st : split_state) state_before.push_back(st.clone());
    k.step("w", t, lr, h, split, g, split_state, 0, cut);
    EXPECT_TRUE(same_bits_in(split, before, cut, 37)) << c.optimizer << ": [0, " << cut << ") changed the rest";
    for (size_t j = 0; j < split_state.size(); ++j)
      EXPECT_TRUE(same_bits_in(split_state[j], state_before[j], cut, 37))
          << c.optimizer << ": [0, " << cut << ") changed the rest of state " << j;
    k.step("w", t, lr, h, split, g, split_state, cut, 37);
    EXPECT_TRUE(same_bits(split, whole)) << c.optimizer << " step " << t << ": split at " << cut;
    for (size_t j = 0; j < split_state.size(); ++j)
      EXPECT_TRUE(same_bits(split_state[j], whole_state[j]))
          << c.optimizer << " step " << t << ": state " << j << " split at " << cut;
  }
}

/// The declaration: elementwise, a doc holding `formula`, exactly `states`
/// (LIKE_PARAM, init 0) and `hparams` with these defaults and one-line docs, in order.
inline void check_declaration(const std::string& name, const std::string& formula,
                              const std::vector<std::string>& states,
                              const std::vector<std::pair<std::string, AttrValue>>& hparams) {
  const plx_optimizer_desc& d = builtin_registry().optimizer(name).desc();
  EXPECT_EQ(d.flags, uint32_t{PLX_OPT_ELEMENTWISE}) << name;
  EXPECT_NE(std::string(d.doc).find(formula), std::string::npos) << name << " doc: " << d.doc;
  ASSERT_EQ(d.state_count, states.size()) << name;
  for (size_t j = 0; j < states.size(); ++j) {
    EXPECT_EQ(std::string(d.states[j].name), states[j]) << name << " state " << j;
    EXPECT_EQ(d.states[j].shape_rule, PLX_STATE_LIKE_PARAM) << name << " state " << states[j];
    EXPECT_EQ(d.states[j].init_value, 0.0) << name << " state " << states[j];
  }
  ASSERT_EQ(d.hparam_count, hparams.size()) << name;
  for (size_t j = 0; j < hparams.size(); ++j) {
    const plx_hparam_desc& hp = d.hparams[j];
    EXPECT_EQ(std::string(hp.name), hparams[j].first) << name << " hparam " << j;
    EXPECT_TRUE(optim_detail::same_default(hp.default_value, hparams[j].second))
        << name << " hparam " << hp.name << ": default " << value_to_string(hp.default_value) << ", expected "
        << hparams[j].second.str();
    const std::string doc = hp.doc ? hp.doc : "";
    EXPECT_FALSE(doc.empty()) << name << " hparam " << hp.name;
    EXPECT_EQ(doc.find('\n'), std::string::npos) << name << " hparam " << hp.name << ": doc is not one line";
  }
}

/// One step with `hparams` fails with kInvalid and a message holding every part.
inline void check_rejects(const std::string& name, const AttrMap& hparams, const std::vector<std::string>& parts) {
  const OptimizerKernel& k = builtin_registry().optimizer(name);
  Tensor p = Tensor::zeros({3});
  const Tensor g = Tensor::full({3}, 1.0f);
  std::vector<Tensor> state = optim_detail::fresh_state(k, p.shape());
  expect_error([&] { k.step("fc1.weights", 0, 0.1, k.resolve_hparams(hparams), p, g, state, 0, 3); },
               ErrorCode::kInvalid, parts);
}

}  // namespace plexus::test

#endif
