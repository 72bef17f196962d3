// One harness for every plugin op: adding a test case is adding one OpCase.
//
//   check_op({.op = "linear", .attrs = {{"out_features", AttrValue(int64_t{4})}},
//             .inputs = {Shape{3, 5}}, .reference = linear_ref});
//
// For the case's op from builtin_registry() it
//  (a) runs the real plugin through OpKernel::create -> OpInstance::forward /
//      backward on seeded random inputs and parameters, handing backward only
//      what the op's PLX_OP_SAVES_* flags promise, and gradient buffers that
//      start as NaN (so an unwritten gradient fails);
//  (b) checks the analytic gradient of every input and parameter against
//      central finite differences of the f32 op itself (loose tolerance); the
//      objective is J = sum(dst * R) for a random R, so diff_dst = R;
//  (c) compares dst and every gradient with the case's naive double-precision
//      reference (tight tolerance, relative to the largest reference value of
//      that tensor). Reference gradients are central differences of the double
//      reference with a small step (error ~1e-9), so a case only writes its
//      forward formula.
// Inputs listed in `discrete_inputs` (class labels) get no gradient: backward
// receives them as absent, which also checks that the op never writes them.
#ifndef PLEXUS_TESTS_GRADCHECK_HPP
#define PLEXUS_TESTS_GRADCHECK_HPP

#include "support/test_support.hpp"

#include <gtest/gtest.h>
#include <plexus/kernel.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace plexus::test {

/// What a reference sees: every tensor flattened row-major, in double.
struct RefArgs {
  std::vector<std::vector<double>> src;
  std::vector<std::vector<double>> params;
  std::vector<Shape> src_shapes;
  std::vector<Shape> param_shapes;
};
using RefForward = std::function<std::vector<double>(const RefArgs&)>;
/// Fills the values of input `input`; the default is U(-1, 1).
using Filler = std::function<void(size_t input, std::span<float> values, std::mt19937& rng)>;

struct OpCase {
  std::string op = {};
  AttrMap attrs = {};
  std::vector<Shape> inputs = {};
  RefForward reference = {};
  Filler fill = {};
  Filler param_fill = {};  // fills parameter j (index = j); the default is U(-1, 1)
  std::vector<size_t> discrete_inputs = {};
  uint32_t seed = 42;
  bool training = true;    // the mode forward runs in
  uint64_t call_seed = 7;  // ForwardContext::seed() of every forward call
  double ref_tol = 1e-5;   // (c), relative to the largest reference magnitude (at least 1)
  double fd_tol = 1e-2;    // (b), |analytic - numeric| <= fd_tol * (1 + |numeric|)
  double fd_step = 1e-2;   // (b), f32 central-difference step
};

/// U(lo, hi) for every value.
inline void fill_uniform(std::span<float> v, std::mt19937& rng, float lo = -1.f, float hi = 1.f) {
  std::uniform_real_distribution<float> d(lo, hi);
  for (float& x : v) x = d(rng);
}

/// Magnitudes in [band, 1] with a random sign: keeps inputs away from a kink at 0.
inline void fill_away_from_zero(std::span<float> v, std::mt19937& rng, float band = 0.1f) {
  std::uniform_real_distribution<float> mag(band, 1.f);
  std::bernoulli_distribution sign(0.5);
  for (float& x : v) x = sign(rng) ? mag(rng) : -mag(rng);
}

namespace detail {

inline std::string case_label(const OpCase& c) {
  std::string s = c.op + "(";
  for (size_t i = 0; i < c.inputs.size(); ++i) s += (i ? ", " : "") + c.inputs[i].str();
  for (const auto& [k, v] : c.attrs) s += ", " + k + "=" + v.str();
  return s + ")";
}

inline std::vector<double> to_double(const Tensor& t) { return {t.data(), t.data() + t.numel()}; }

/// Expects |got - want| <= tol(want) elementwise; reports the first few misses.
inline void expect_close(const std::string& what, std::span<const float> got, std::span<const double> want,
                         const std::function<double(double)>& tol) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int misses = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double err = std::abs(static_cast<double>(got[i]) - want[i]);
    if (err <= tol(want[i])) continue;  // NaN fails here
    if (++misses <= 5)
      ADD_FAILURE() << what << "[" << i << "]: got " << got[i] << ", expected " << want[i] << " (error " << err
                    << ", tolerance " << tol(want[i]) << ")";
  }
  EXPECT_EQ(misses, 0) << what << ": " << misses << " of " << got.size() << " elements out of tolerance";
}

inline double max_abs(std::span<const double> v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::abs(x));
  return m;
}

}  // namespace detail

/// Runs (a), (b) and (c) for one case; failures name the case.
inline void check_op(const OpCase& c) {
  SCOPED_TRACE(detail::case_label(c));
  const OpKernel& kernel = builtin_registry().op(c.op);
  const ResolvedAttrs attrs = kernel.resolve_attrs(c.attrs, "gradcheck");
  const std::shared_ptr<OpInstance> inst = kernel.create("gradcheck", attrs, c.inputs);
  std::mt19937 rng(c.seed);

  // Tensors: inputs then parameters. `diff` marks the ones that get a gradient.
  std::vector<Tensor> src, params;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    src.push_back(Tensor::empty(c.inputs[i]));
    c.fill ? c.fill(i, src.back().span(), rng) : fill_uniform(src.back().span(), rng);
  }
  for (const Shape& s : inst->shapes().params) {
    params.push_back(Tensor::empty(s));
    c.param_fill ? c.param_fill(params.size() - 1, params.back().span(), rng) : fill_uniform(params.back().span(), rng);
  }
  auto discrete = [&](size_t i) {
    return std::find(c.discrete_inputs.begin(), c.discrete_inputs.end(), i) != c.discrete_inputs.end();
  };

  // (a) forward and backward through the plugin.
  Tensor workspace;  // what the op keeps from forward for backward (ABI 1.1), if anything
  const Tensor dst = inst->forward(src, params, c.training, c.call_seed, &workspace);
  Tensor r = Tensor::empty(dst.shape());
  fill_uniform(r.span(), rng);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<Tensor> diff_src(src.size()), diff_params(params.size());
  for (size_t i = 0; i < src.size(); ++i)
    if (!discrete(i)) diff_src[i] = Tensor::full(src[i].shape(), nan);
  // State parameters (running statistics) take no gradient: backward sees them absent.
  auto is_state = [&](size_t j) { return kernel.param_is_state(static_cast<uint32_t>(j)); };
  for (size_t j = 0; j < params.size(); ++j)
    if (!is_state(j)) diff_params[j] = Tensor::full(params[j].shape(), nan);
  const uint32_t flags = kernel.desc().flags;
  std::vector<Tensor> saved_src(src.size());
  if (flags & PLX_OP_SAVES_SRC) saved_src = src;
  inst->backward(saved_src, params, (flags & PLX_OP_SAVES_DST) ? dst : Tensor(), r, diff_src, diff_params,
                 workspace);

  // Every differentiable tensor with its analytic gradient, by name.
  struct Wrt {
    std::string name;
    Tensor value, grad;
    bool is_param;
    size_t index;
  };
  std::vector<Wrt> wrt;
  for (size_t i = 0; i < src.size(); ++i)
    if (!discrete(i)) wrt.push_back({std::string("diff_src(") + kernel.desc().inputs[i] + ")", src[i], diff_src[i],
                                     false, i});
  for (size_t j = 0; j < params.size(); ++j)
    if (!is_state(j))
      wrt.push_back({std::string("diff_") + kernel.desc().params[j].name, params[j], diff_params[j], true, j});

  // (b) against finite differences of the f32 op.
  const auto objective_f32 = [&] {
    const Tensor d = inst->forward(src, params, c.training, c.call_seed);
    double j = 0;
    for (int64_t k = 0; k < d.numel(); ++k) j += static_cast<double>(d.data()[k]) * r.data()[k];
    return j;
  };
  for (Wrt& w : wrt) {
    std::vector<double> numeric(static_cast<size_t>(w.value.numel()));
    for (int64_t k = 0; k < w.value.numel(); ++k) {
      float& v = w.value.data()[k];
      const float v0 = v;
      v = static_cast<float>(v0 + c.fd_step);
      const double hp = static_cast<double>(v) - v0, jp = objective_f32();
      v = static_cast<float>(v0 - c.fd_step);
      const double hm = static_cast<double>(v0) - v, jm = objective_f32();
      v = v0;
      numeric[static_cast<size_t>(k)] = (jp - jm) / (hp + hm);
    }
    detail::expect_close("finite differences vs " + w.name, w.grad.span(), numeric,
                         [&](double n) { return c.fd_tol * (1 + std::abs(n)); });
  }

  // (c) against the double reference.
  RefArgs ref;
  for (const Tensor& t : src) {
    ref.src.push_back(detail::to_double(t));
    ref.src_shapes.push_back(t.shape());
  }
  for (const Tensor& t : params) {
    ref.params.push_back(detail::to_double(t));
    ref.param_shapes.push_back(t.shape());
  }
  const std::vector<double> ref_dst = c.reference(ref);
  const double dst_scale = std::max(1.0, detail::max_abs(ref_dst));
  detail::expect_close("dst vs reference", dst.span(), ref_dst, [&](double) { return c.ref_tol * dst_scale; });
  const auto objective_ref = [&] {
    const std::vector<double> d = c.reference(ref);
    double j = 0;
    for (size_t k = 0; k < d.size(); ++k) j += d[k] * r.data()[k];
    return j;
  };
  for (Wrt& w : wrt) {
    std::vector<double>& v = w.is_param ? ref.params[w.index] : ref.src[w.index];
    std::vector<double> want(v.size());
    for (size_t k = 0; k < v.size(); ++k) {
      const double v0 = v[k], h = 1e-6 * std::max(1.0, std::abs(v0));
      v[k] = v0 + h;
      const double jp = objective_ref();
      v[k] = v0 - h;
      const double jm = objective_ref();
      v[k] = v0;
      want[k] = (jp - jm) / (2 * h);
    }
    const double scale = std::max(1.0, detail::max_abs(want));
    detail::expect_close(w.name + " vs reference", w.grad.span(), want, [&](double) { return c.ref_tol * scale; });
  }
}

}  // namespace plexus::test

#endif
